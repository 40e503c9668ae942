"""Bytes to text with no mojibake.

Ministry pages of 2014 come in ISO-8859-1 with the charset only in a ``<meta>`` tag, in
UTF-8 declared in the header, and sometimes mislabelled (a server default of ISO-8859-1 on a
UTF-8 file). Valid multi-byte UTF-8 is almost never Latin-1 text by accident, so bytes that
decode as UTF-8 are read as UTF-8 whatever the label says; otherwise the declared charset is
used, with ISO-8859-1 read as Windows-1252 as browsers (WHATWG) do.
"""

import codecs
from dataclasses import dataclass

from bs4.dammit import EncodingDetector, UnicodeDammit

_WINDOWS_1252_ALIASES = {"iso8859-1", "latin-1", "iso-8859-1", "us-ascii", "ascii", "latin1"}


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    declared: str | None
    source: str  # "bom", "utf-8", "declared", "sniffed"


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


def decode_html(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode an HTML body, preferring evidence in the order browsers use it."""
    header = charset_from_content_type(content_type)
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if body.startswith(bom):
            return Decoded(body[len(bom) :].decode(name, "replace"), name, header, "bom")
    declared = header or EncodingDetector.find_declared_encoding(
        body[:4096], is_html=True, search_entire_document=False
    )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        return Decoded(text, "utf-8", declared, "utf-8")
    encoding = _normalise(declared)
    if encoding and encoding != "utf-8":
        return Decoded(body.decode(encoding, "replace"), encoding, declared, "declared")
    dammit = UnicodeDammit(body, ["cp1252"], is_html=True)
    if dammit.unicode_markup is not None and dammit.original_encoding:
        return Decoded(dammit.unicode_markup, dammit.original_encoding, declared, "sniffed")
    return Decoded(body.decode("cp1252", "replace"), "cp1252", declared, "sniffed")
