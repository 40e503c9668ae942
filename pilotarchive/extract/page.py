"""Everything pilotarchive reads from one fetched page, in one pass.

This is the extraction stage's entry point: bytes and response facts in, a
:class:`PageExtraction` out. It knows nothing of Scrapy, so tests, benchmarks and a future
re-extraction of archived WARC records call it the same way the crawler does.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from pilotarchive.exceptions import ExtractionError
from pilotarchive.extract.boxes import find_boxes
from pilotarchive.extract.contacts import Contact, contact_from_microdata, parse_contact_block
from pilotarchive.extract.conventions import language_url, text_version_url
from pilotarchive.extract.dates import UpdateDate, date_from_http, date_from_meta, find_update_date
from pilotarchive.extract.document import Document, block_lines, is_site_chrome, parse_document
from pilotarchive.extract.encoding import decode_html
from pilotarchive.extract.language import detect_language, language_from_url, normalise_tag
from pilotarchive.extract.links import Link, Links, absolute, href_scheme
from pilotarchive.extract.notes import (
    MAX_CONTACTS_PER_PAGE,
    MAX_ENTRY_CHARS,
    MAX_PILOTS_PER_PAGE,
    PARSE_TRUNCATED,
    Note,
    cap_records,
    capped,
)
from pilotarchive.extract.patterns import Phrases, alternation, joined
from pilotarchive.extract.person_tables import person_tables
from pilotarchive.extract.phrases import (
    BOX_LABELS,
    GRAPHIC_VERSION_LINK_TEXTS,
    LANGUAGE_LINK_TEXTS,
    LANGUAGES,
    MUNICIPALITY_COUNT_PATTERNS,
    NUMBER_WORDS,
    PILOT_COUNT_PATTERNS,
    PILOT_FIELD_LABELS,
    TEXT_VERSION_LINK_TEXTS,
    UPDATE_LABELS,
    YEARS_PATTERNS,
)
from pilotarchive.extract.pilots import Pilot, extract_pilots

_META_DATES = ("dcterms.modified", "article:modified_time", "dc.date.modified", "last-modified")
# Without a box found by its markup, a line holding only a box heading starts the persons
# (the old text versions); words that also label a pilot's field ("Yhteyshenkilö",
# "Yhteystiedot": a dt, a table's column) do not.
_BLOCK_LABELS = {label for labels in BOX_LABELS.values() for label in labels} - set(
    PILOT_FIELD_LABELS
)
_UPDATE_LINE = Phrases(alternation(x for v in UPDATE_LABELS.values() for x in v))
_COMPILED = {
    name: {lang: Phrases(p) for lang, p in table.items()}
    for name, table in (
        ("pilots", PILOT_COUNT_PATTERNS),
        ("municipalities", MUNICIPALITY_COUNT_PATTERNS),
        ("years", YEARS_PATTERNS),
    )
}


@dataclass(slots=True)
class Programme:
    pilot_count: int | None
    municipality_count: int | None
    years: list[int]


@dataclass(slots=True)
class PageExtraction:
    url: str
    final_url: str
    status: int
    content_type: str | None
    content_sha256: str
    encoding: str | None = None
    encoding_errors: int = 0  # byte sequences not valid in ``encoding``, replaced by U+FFFD
    language: str | None = None
    language_source: str = "none"
    title: str | None = None
    updated: UpdateDate | None = None
    alternates: dict[str, str] = field(default_factory=dict)
    # Versions the page gives no link for, by URL convention: guesses, to be tried as such.
    guessed_alternates: dict[str, str] = field(default_factory=dict)
    guessed_text_version_url: str | None = None
    text_version_url: str | None = None
    graphic_version_url: str | None = None
    is_text_version: bool = False
    contacts: list[Contact] = field(default_factory=list)
    pilots: list[Pilot] = field(default_factory=list)
    programme: Programme | None = None
    links: Links | list[str] = field(default_factory=list)  # every link, only when asked for
    requisites: list[str] = field(default_factory=list)  # what the page loads, when asked for
    notes: list[Note] = field(default_factory=list)  # see extract/notes.py
    error: str | None = None


CONTROLS_NOTE = "control_characters"


def controls_message(removed: int) -> str:
    """The note of a page whose text lost control characters (by the generic reader or by
    the rules, which parse the page again)."""
    return (
        f"{removed} control character(s) (such as ESC, which a terminal obeys) removed from "
        "the page's text; the archived page keeps them"
    )


def is_html(content_type: str | None, body: bytes) -> bool:
    if content_type:
        media = content_type.split(";")[0].strip().lower()
        return media in ("text/html", "application/xhtml+xml")
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in head


def link_language(link: Link) -> str | None:
    """The language a link leads to, by hreflang, lang, its text, then its URL."""
    for value in (link.hreflang, link.lang):
        if lang := normalise_tag(value):
            return lang
    if lang := LANGUAGE_LINK_TEXTS.get(link.text.lower().strip(" |›»")):
        return lang
    return None


def _version_url(doc: Document, link: Link, what: str, extraction: PageExtraction) -> str | None:
    """The link's absolute URL when it is http(s); otherwise None, and a note saying so.

    A version link that is ``javascript:``, ``mailto:``, ``data:`` (in any case, with any
    spaces around it) is dropped, never the page: the page record stays valid.
    """
    url = absolute(doc.base_url, link.href)
    if url is None:
        scheme = href_scheme(link.href)
        reason = f"a {scheme}: URL" if scheme else "not a valid URL"
        shown = link.href if len(link.href) <= 80 else link.href[:77] + "..."
        extraction.notes.append(
            Note("link_dropped", f"the {what} link {shown!r} is {reason}, not http(s); not kept")
        )
    return url


def _alternates(doc: Document, final_url: str, language: str | None, extraction: PageExtraction):
    for link in doc.links:
        text = link.text.lower()
        if text in TEXT_VERSION_LINK_TEXTS:
            if extraction.text_version_url is None:
                extraction.text_version_url = _version_url(doc, link, "text version", extraction)
            continue
        if text in GRAPHIC_VERSION_LINK_TEXTS:
            if extraction.graphic_version_url is None:
                extraction.graphic_version_url = _version_url(
                    doc, link, "graphic version", extraction
                )
            continue
        if not (link.hreflang or link.lang or link.rel):  # most links: only a text to read
            lang = LANGUAGE_LINK_TEXTS.get(text.strip(" |›»"))
            if lang is None:
                if text not in LANGUAGES:
                    continue
                lang = language_from_url(absolute(doc.base_url, link.href) or "")
        elif link.rel and "alternate" in link.rel.split() and link.hreflang:
            lang = normalise_tag(link.hreflang)
        else:
            lang = link_language(link)
            if lang is None and text in LANGUAGES:
                lang = language_from_url(absolute(doc.base_url, link.href) or "")
        if (
            lang
            and lang != language
            and lang not in extraction.alternates
            and (url := _version_url(doc, link, f"{lang} version", extraction))
        ):
            extraction.alternates[lang] = url
    if language:
        extraction.alternates.setdefault(language, final_url)
    extraction.is_text_version = extraction.graphic_version_url is not None


def _guesses(extraction: PageExtraction) -> None:
    """Versions the page does not link to, by the site's URL conventions (marked guesses).

    Only for a page in a known language (the conventions swap its language marker), and a
    text version only for a page that is not one.
    """
    if extraction.language not in LANGUAGES:
        return
    linked = {*extraction.alternates.values(), extraction.final_url}
    for lang in LANGUAGES:
        if lang in extraction.alternates:
            continue
        url = language_url(extraction.final_url, lang)
        if url and url not in linked:
            extraction.guessed_alternates[lang] = url
    if not extraction.is_text_version and extraction.text_version_url is None:
        url = text_version_url(extraction.final_url)
        if url is not None and url not in linked:
            extraction.guessed_text_version_url = url


def _programme(lines: list[str], language: str | None) -> Programme | None:
    # The counts are stated in ordinary paragraphs: an overlong line is read in its first
    # part only (the pilot parsers note such lines), so nine searches stay cheap.
    if max(map(len, lines), default=0) > MAX_ENTRY_CHARS:
        lines = [capped(line, "a paragraph", None) for line in lines]
    text = joined(lines)
    # The counts and years are those of the pilots programme: a page that never speaks of
    # pilots ("pilotti", "pilotprojekt", "pilots") states none of them, and its "25 kuntaa"
    # counts something else. (Most pages of a site; the nine searches cost 0.8 ms a page.)
    if "ilot" not in text and "ILOT" not in text:  # "pilot", "Pilotit", "PILOTTIA"
        return None
    langs = [language] if language in LANGUAGES else list(LANGUAGES)
    pilot_count = municipality_count = None
    years: list[int] = []
    for lang in langs:
        if pilot_count is None and (m := _COMPILED["pilots"][lang].search(text)):
            word = m.group("n").lower()
            pilot_count = int(word) if word.isdigit() else NUMBER_WORDS.get(word)
        if municipality_count is None and (m := _COMPILED["municipalities"][lang].search(text)):
            municipality_count = int(m.group("n"))
        if not years and (m := _COMPILED["years"][lang].search(text)):
            years = list(range(int(m.group("a")), int(m.group("b")) + 1))
    if pilot_count is None and municipality_count is None and not years:
        return None
    return Programme(pilot_count, municipality_count, years)


# A person's line in a box ("Neuvotteleva virkamies Alho Olli, puh. 029 506 3591, ...") is
# short; a longer line is some other text that stands in the box, not read as a person.
PERSON_LINE_CHARS = 200


def _person_lines(lines: list[str], notes: list[Note] | None = None) -> list[str]:
    out = []
    for line in lines:
        if len(line) >= PERSON_LINE_CHARS:
            if notes is not None and len(line) > MAX_ENTRY_CHARS:
                what = f"a line of {len(line):,} characters in a box of persons"
                notes.append(Note("text_capped", f"{what} was not read as a person"))
            continue
        if not _UPDATE_LINE.match(line):
            out.append(line)
    return out


def _contact_lines(lines: list[str]) -> list[str]:
    for i, line in enumerate(lines):
        key = line.lower().rstrip(": ")
        if key in _BLOCK_LABELS:
            return _person_lines(lines[i + 1 :])
    return []


def footer_lines(doc: Document) -> list[str]:
    """The lines of the content's ``<footer>`` elements, which the lines walk leaves out as
    the site's chrome on a page without a sectioning element around them."""
    return [line for f in doc.content.iter("footer") for line in block_lines(f, False)]


def outside_lines(doc: Document) -> list[str]:
    """The page's lines outside its content area and outside the site's chrome: where a
    layout may print the update date ("Päivitetty" in a side column or under the title)."""
    body = doc.root.find("body")
    if body is None or doc.content is body:
        return []
    content = doc.content
    return block_lines(body, prune=lambda el: el is content or is_site_chrome(el, up=False))


def further_information(
    doc: Document, language: str | None, notes: list[Note] | None = None
) -> list[Contact]:
    """The persons of the page's boxes ("Lisätietoja:"), inside the content area or not.

    A box's schema.org ``Person`` items are read as such; otherwise its lines are. Without
    any box found by its markup, the persons after a heading line in the main text are read
    (text versions write the box as plain lines). A person named in two boxes counts once.
    """
    role = "further_information"
    contacts: list[Contact] = []
    tables = person_tables(doc, language, role)
    for _, found in tables:
        contacts.extend(found)
    page_patterns: list[str] = []
    for box in find_boxes(doc, frozenset(table for table, _ in tables)):
        found, patterns = parse_contact_block(_person_lines(box.lines, notes), language, role)
        page_patterns += patterns
        if box.people:
            found = [c for p in box.people if (c := contact_from_microdata(p, language, role))]
            if patterns:
                found = [c.with_pattern(patterns[0]) for c in found]
        contacts.extend(found)
    if tables and page_patterns:  # "etunimi.sukunimi@tem.fi" under a table of persons
        contacts = [c.with_pattern(page_patterns[0]) for c in contacts]
    if not contacts:
        contacts, _ = parse_contact_block(_contact_lines(doc.lines), language, role)
    seen: set[tuple[str, str]] = set()
    unique = []
    for contact in contacts:
        key = (contact.person.given_name.casefold(), contact.person.family_name.casefold())
        if key not in seen:
            seen.add(key)
            unique.append(contact)
    return unique


def extract_page(
    body: bytes,
    url: str,
    *,
    final_url: str | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    link_hint: str | None = None,
    with_links: bool = False,
    with_requisites: bool = False,
) -> PageExtraction:
    """Read a page. Never raises for bad input: problems go to ``error``.

    ``with_links`` also resolves every link on the page (for a site-wide crawl); a crawl of
    one page and its language versions does without that cost. ``with_requisites`` also
    lists what a browser loads with the page (extract/requisites.py), from the same parse.
    """
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    final_url = final_url or url
    content_type = headers.get("content-type")
    extraction = PageExtraction(
        url=url,
        final_url=final_url,
        status=status,
        content_type=content_type,
        content_sha256=hashlib.sha256(body).hexdigest(),
    )
    if not is_html(content_type, body):
        extraction.error = f"not HTML ({content_type or 'no content type'})"
        return extraction
    decoded = decode_html(body, content_type)
    extraction.encoding = decoded.encoding
    extraction.encoding_errors = decoded.errors
    if decoded.errors:
        declared = f" (declared {decoded.declared})" if decoded.declared else ""
        extraction.notes.append(
            Note(
                "encoding_errors",
                f"{decoded.errors} byte sequence(s) not valid {decoded.encoding} replaced by "
                f"U+FFFD; the rest of the page was read as {decoded.encoding}{declared}",
            )
        )
    elif decoded.source == "sniffed" and decoded.declared:
        # A charset no codec knows ("x-absurd-9999"): the encoding was guessed from the
        # bytes, which may be wrong (mojibake); said, so that it is never silent.
        extraction.notes.append(
            Note(
                "encoding_guessed",
                f"the page declares charset {decoded.declared!r}, which is no known encoding; "
                f"it was read as {decoded.encoding}, guessed from its bytes",
            )
        )
    try:
        doc = parse_document(
            decoded.text,
            final_url,
            body if decoded.source == "utf-8" else None,
            requisites=with_requisites,
        )
    except ExtractionError as exc:
        extraction.error = str(exc)
        return extraction
    if doc.controls_removed:
        extraction.notes.append(Note(CONTROLS_NOTE, controls_message(doc.controls_removed)))
    if doc.truncated:
        extraction.notes.append(Note(PARSE_TRUNCATED, doc.truncated))
    if with_links:
        extraction.links = Links(doc.base_url, [link.href for link in doc.links])
    if doc.requisites is not None:
        extraction.requisites = doc.requisites
    language, source = detect_language(
        html_lang=doc.html_lang,
        content_language=headers.get("content-language"),
        link_hint=link_hint,
        url=final_url,
        text=" ".join(doc.lines[:40]),
    )
    extraction.language, extraction.language_source = language, source
    extraction.title = doc.title
    _alternates(doc, final_url, language, extraction)
    if status >= 400:
        return extraction
    _guesses(extraction)
    extraction.updated = (
        find_update_date(doc.lines)
        or find_update_date(outside_lines(doc))
        or find_update_date(doc.dropped)  # a "page-footer" a page without <main> put it in
        or find_update_date(footer_lines(doc))  # an article's <footer class="entry-meta">
    )
    if extraction.updated is None:
        for name in _META_DATES:
            if name in doc.meta and (found := date_from_meta(name, doc.meta[name])):
                extraction.updated = found
                break
    if extraction.updated is None and "last-modified" in headers:
        extraction.updated = date_from_http(headers["last-modified"])
    extraction.contacts = further_information(doc, language, extraction.notes)
    extraction.programme = _programme(doc.lines, language)
    stated = extraction.programme.pilot_count if extraction.programme else None
    extraction.pilots = cap_records(
        extract_pilots(doc, language, extraction.notes, stated),
        MAX_PILOTS_PER_PAGE, "pilots", extraction.notes,
    )  # fmt: skip
    extraction.contacts = cap_records(
        extraction.contacts, MAX_CONTACTS_PER_PAGE, "contact persons", extraction.notes
    )
    return extraction
