"""Control characters from outside: removed from what is extracted, escaped where printed.

A page title holding ESC (a raw byte, or ``&#27;`` that the HTML parser turns into one) is
an instruction to a terminal: ``ESC[2K`` erases a line (it could hide a DEGRADED line),
OSC 8 makes a clickable link, and a CR returns to the start of the line to overwrite it.
Text taken from a page therefore loses its C0 and C1 control characters (TAB and line
breaks are whitespace, and kept) when the page is parsed, which the page record notes; and
everything the CLI prints goes through :class:`TerminalSafe`, which shows any control
character that is still there (an old record, an HTTP header, a name from Redis) as
``\\x1b`` instead of sending it.
"""

import re
from typing import Any, TextIO

# C0 but TAB, LF and CR; DEL; C1 (0x80-0x9f: 0x9b is CSI on 8-bit terminals).
_C0 = [c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)]
_CONTROL_CODES = [*_C0, 0x7F, *range(0x80, 0xA0)]
_REMOVE = dict.fromkeys(_CONTROL_CODES)
_SHOW: dict[int, str] = {c: f"\\x{c:02x}" for c in (*_CONTROL_CODES, 0x0D)}  # and CR
# Bidirectional formatting (Trojan Source): a right-to-left override makes a terminal show
# text in another order than it is. Kept in records (a page in Arabic may need them),
# shown as \u202e where printed.
_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_SHOW.update({c: f"\\u{c:04x}" for c in _BIDI})
CONTROL = re.compile("[" + "".join(f"\\x{c:02x}" for c in _CONTROL_CODES) + "]")
# A numeric reference the HTML parser turns into a control character: &#27; &#x1B; &#0;
# (&#128;-&#159; are read as Windows-1252 letters by HTML parsers, and are safe).
_REFERENCE = re.compile(
    r"&#(?:[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])(?![0-9a-fA-F])"
    r"|0*(?:[0-8]|1[124-9]|2\d|3[01]|127)(?!\d))"
)


def may_hold_controls(source: str) -> bool:
    """A cheap look at decoded HTML: can its parsed text hold a control character?"""
    return bool(CONTROL.search(source) or _REFERENCE.search(source))


def strip_controls(text: str) -> tuple[str, int]:
    """``text`` without control characters, and how many were removed."""
    cleaned = text.translate(_REMOVE)
    return cleaned, len(text) - len(cleaned)


# What XML 1.0 does not allow at all (surrogates, U+FFFE, U+FFFF); the C0 controls it
# refuses are in _REMOVE already.
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` fit for an XML 1.0 or HTML document: without control characters (as
    :func:`strip_controls`) and without the characters XML does not allow.

    For what the site and the feed write from records: a record made before control
    characters were stripped (or by a path that missed it) must not make a feed that no
    reader parses.
    """
    return _NOT_XML.sub("", text.translate(_REMOVE))


def printable(text: str) -> str:
    """``text`` as a terminal shows it and does not obey it."""
    return text.translate(_SHOW)


class TerminalSafe:
    """A text stream that escapes control characters; ``raw`` is the stream beneath, for the
    one writer that means its CR (the progress line, with text it made itself)."""

    def __init__(self, stream: TextIO) -> None:
        self.raw = stream

    def write(self, text: str) -> int:
        self.raw.write(printable(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def raw_stream(stream: Any) -> TextIO:
    """The stream beneath a :class:`TerminalSafe` (or the stream itself)."""
    return stream.raw if isinstance(stream, TerminalSafe) else stream
