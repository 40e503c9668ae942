"""Bytes to text with no mojibake.

Ministry pages of 2014 come in ISO-8859-1 with the charset only in a ``<meta>`` tag, in
UTF-8 declared in the header, and sometimes mislabelled (a server default of ISO-8859-1 on a
UTF-8 file). Valid multi-byte UTF-8 is almost never Latin-1 text by accident, so bytes that
decode as UTF-8 are read as UTF-8 whatever the label says; otherwise the declared charset is
used, with ISO-8859-1 read as Windows-1252 as browsers (WHATWG) do.

A UTF-8 page is not Latin-1 because one byte in it is bad (an editor pasted a Latin-1 "ä",
the body was cut in the middle of a character): reading all of it as Windows-1252 turns
every "ä" of the page into "Ã¤". So the evidence is counted: a body with more valid
multi-byte UTF-8 characters than invalid sequences, or declared UTF-8 with only a few bad
sequences, is read as UTF-8 with each bad sequence replaced by U+FFFD, and ``errors`` says
how many were replaced, so the record can say so.
"""

import codecs
import re
from dataclasses import dataclass

from bs4.dammit import EncodingDetector, UnicodeDammit

_WINDOWS_1252_ALIASES = {"iso8859-1", "latin-1", "iso-8859-1", "us-ascii", "ascii", "latin1"}


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    declared: str | None
    source: str  # "bom", "utf-8", "utf-8-repaired", "declared", "sniffed"
    errors: int = 0  # invalid byte sequences replaced by U+FFFD


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "charset" and value:
            return value.strip().strip("\"'")
    return None


def _normalise(name: str | None) -> str | None:
    if not name:
        return None
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return None
    if canonical in _WINDOWS_1252_ALIASES or name.lower() in _WINDOWS_1252_ALIASES:
        return "cp1252"
    return canonical


# Declared UTF-8 with up to this many bad sequences and no other evidence is still UTF-8
# (a truncated last character, a stray byte in an ASCII page); more, and nothing valid, is a
# single-byte page mislabelled as UTF-8 (every "ä" a bad byte).
FEW_ERRORS = 3
_REPLACEMENT = "\ufffd"
# A lead byte followed by a continuation byte: the start of a multi-byte UTF-8 character. A
# Latin-1 page has (almost) none, so without one the page is not tried as UTF-8 at all. One
# character class first, so the engine scans for it in C.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
_REPLACEMENT_BYTES = _REPLACEMENT.encode("utf-8")


def _lenient(body: bytes, codec: str) -> tuple[str, int]:
    """``body`` decoded with replacement, and the number of sequences replaced (a U+FFFD the
    page itself contains is not counted)."""
    text = body.decode(codec, "replace")
    genuine = body.count(_REPLACEMENT_BYTES) if codec == "utf-8" else 0
    return text, text.count(_REPLACEMENT) - genuine


def _non_ascii(text: str) -> int:
    return len(text) - len(text.encode("ascii", "ignore"))


def decode_html(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode an HTML body, preferring evidence in the order browsers use it."""
    header = charset_from_content_type(content_type)
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if body.startswith(bom):
            text, errors = _lenient(body[len(bom) :], name)
            return Decoded(text, name, header, "bom", errors)
    declared = header or EncodingDetector.find_declared_encoding(
        body[:4096], is_html=True, search_entire_document=False
    )
    try:
        return Decoded(body.decode("utf-8"), "utf-8", declared, "utf-8")
    except UnicodeDecodeError:
        pass
    encoding = _normalise(declared)
    if encoding == "utf-8" or _UTF8_SEQUENCE.search(body):
        repaired, errors = _lenient(body, "utf-8")
        valid = _non_ascii(repaired) - errors  # well-formed multi-byte characters
        if valid > errors or (encoding == "utf-8" and errors <= FEW_ERRORS):
            return Decoded(repaired, "utf-8", declared, "utf-8-repaired", errors)
    if encoding and encoding != "utf-8":
        text, errors = _lenient(body, encoding)
        return Decoded(text, encoding, declared, "declared", errors)
    dammit = UnicodeDammit(body, ["cp1252"], is_html=True)
    if dammit.unicode_markup is not None and dammit.original_encoding:
        return Decoded(dammit.unicode_markup, dammit.original_encoding, declared, "sniffed")
    text, errors = _lenient(body, "cp1252")
    return Decoded(text, "cp1252", declared, "sniffed", errors)
