"""Page content made safe for one line of a mail header.

A page title comes from the web; a CR or LF in it, raw or encoded (``%0d%0a``, ``&#13;``,
``\\u2028``), would start a new header in a naive mailer ("header injection") or break the
Subject over several lines. The title is decoded until nothing more decodes (so a doubly
encoded ``%250d`` is caught too), every control, format and line-separator character becomes
a space, and runs of spaces become one.
"""

import html
import re
import unicodedata
from urllib.parse import unquote

_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_PERCENT_ASCII = re.compile(r"%([0-7][0-9A-Fa-f])")
_ESCAPES = re.compile(
    r"\\(?:u([0-9A-Fa-f]{4})|x([0-9A-Fa-f]{2})|U([0-9A-Fa-f]{8})|([rnt]))"
)  # literal escapes as JSON or Python would write them: \u2028, \x0d, \r
_WHITESPACE = re.compile(r"\s+")
_LETTERS = {"r": "\r", "n": "\n", "t": "\t"}
MAX_ROUNDS = 5  # encodings nested deeper than this are not met in real pages


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1) or match.group(2) or match.group(3)
    if code:
        return chr(int(code, 16))
    return _LETTERS[match.group(4)]


def _decode_once(text: str) -> str:
    text = html.unescape(text)
    if _PERCENT.search(text):
        # Whole UTF-8 sequences when they are; otherwise at least the ASCII ones (%0d).
        text = unquote(text, errors="strict") if _valid_utf8(text) else _ascii_percent(text)
    return _ESCAPES.sub(_unescape, text)


def _ascii_percent(text: str) -> str:
    return _PERCENT_ASCII.sub(lambda m: chr(int(m.group(1), 16)), text)


def _valid_utf8(text: str) -> bool:
    try:
        unquote(text, errors="strict")
    except UnicodeDecodeError:
        return False
    return True


def _unsafe(ch: str) -> bool:
    # Cc: C0/C1 controls (CR, LF, NUL, NEL); Cf: format (zero-width, bidi overrides);
    # Zl/Zp: U+2028 and U+2029; Cs, Co, Cn: nothing printable.
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn")


def one_line(text: str | None, limit: int = 200) -> str:
    """``text`` as one clean line of at most ``limit`` characters."""
    if not text:
        return ""
    for _ in range(MAX_ROUNDS):
        decoded = _decode_once(text)
        if decoded == text:
            break
        text = decoded
    text = "".join(" " if _unsafe(ch) else ch for ch in text)
    text = _WHITESPACE.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text
