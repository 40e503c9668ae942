"""Golden cases for each extraction part: a phrase in, the expected value out."""

import codecs

import pytest

from pilotarchive.extract.contacts import parse_contact_block, parse_contact_text
from pilotarchive.extract.dates import date_from_http, date_from_meta, find_update_date
from pilotarchive.extract.emails import find_emails, resolve_pattern
from pilotarchive.extract.encoding import decode_html
from pilotarchive.extract.language import detect_language, language_from_text
from pilotarchive.extract.names import parse_person
from pilotarchive.extract.phones import find_phones

DATES = [
    ("fi-seed", "Sivua viimeksi päivitetty: 19.11.2014", "2014-11-19", None),
    ("fi-paivitetty", "Päivitetty 19.11.2014", "2014-11-19", None),
    ("fi-klo", "Päivitetty: 19.11.2014 klo 14.20", "2014-11-19", "14:20"),
    ("fi-month-name", "Päivitetty 19. marraskuuta 2014", "2014-11-19", None),
    ("fi-padded", "Sivua viimeksi päivitetty: 03.10.2014", "2014-10-03", None),
    ("sv-sidan", "Sidan senast uppdaterad: 19.11.2014", "2014-11-19", None),
    ("sv-senast", "Senast uppdaterad 19 november 2014", "2014-11-19", None),
    ("en-page", "Page last updated: 19 November 2014", "2014-11-19", None),
    ("en-us-order", "Last updated: November 19, 2014", "2014-11-19", None),
    ("en-iso", "Last updated 2014-11-19", "2014-11-19", None),
    ("en-iso-time", "Updated: 2014-11-19 14:20", "2014-11-19", "14:20"),
]


@pytest.mark.parametrize(
    ("text", "iso", "clock"), [c[1:] for c in DATES], ids=[c[0] for c in DATES]
)
def test_update_date(text: str, iso: str, clock: str | None) -> None:
    found = find_update_date(["Tulosta sivu", text, "Lisätietoja:"])
    assert found is not None
    assert (found.date, found.time, found.source) == (iso, clock, "text")
    assert found.text == text


@pytest.mark.parametrize(
    "text", ["Tulosta sivu", "Updated regularly", "Päivitetty 31.2.2014", "Page last updated: soon"]
)
def test_no_update_date(text: str) -> None:
    assert find_update_date([text]) is None


def test_date_fallbacks() -> None:
    meta = date_from_meta("dcterms.modified", "2014-11-19T14:20:00+02:00")
    assert meta and (meta.date, meta.time, meta.source) == (
        "2014-11-19",
        "14:20",
        "meta:dcterms.modified",
    )
    http = date_from_http("Wed, 19 Nov 2014 12:20:00 GMT")
    assert http and (http.date, http.source) == ("2014-11-19", "http-last-modified")
    assert date_from_http("not a date") is None


NAMES = [
    (
        "fi-title-family-given",
        "Neuvotteleva virkamies Alho Olli",
        "fi",
        ("Neuvotteleva virkamies", "Olli", "Alho", "family-given"),
    ),
    (
        "fi-title-family-comma-given",
        "Ylitarkastaja Anttonen, Lari",
        "fi",
        ("Ylitarkastaja", "Lari", "Anttonen", "family-comma-given"),
    ),
    (
        "fi-title-given-family",
        "Ylitarkastaja Lari Anttonen",
        "fi",
        ("Ylitarkastaja", "Lari", "Anttonen", "given-family"),
    ),
    (
        "fi-lowercase-title",
        "elinkeinojohtaja Leena Mäkinen",
        "fi",
        ("elinkeinojohtaja", "Leena", "Mäkinen", "given-family"),
    ),
    (
        "fi-nen-ending-decides",
        "kehittämispäällikkö Heikkinen Juha",
        "fi",
        ("kehittämispäällikkö", "Juha", "Heikkinen", "family-given"),
    ),
    ("fi-no-title", "Tommi Virtanen", "fi", (None, "Tommi", "Virtanen", "given-family")),
    (
        "fi-double-given",
        "Projektipäällikkö Kaisa-Leena Mäntylä",
        "fi",
        ("Projektipäällikkö", "Kaisa-Leena", "Mäntylä", "given-family"),
    ),
    (
        "sv-title",
        "Konsultativ tjänsteman Olli Alho",
        "sv",
        ("Konsultativ tjänsteman", "Olli", "Alho", "given-family"),
    ),
    (
        "sv-comma",
        "Överinspektör Anttonen, Lari",
        "sv",
        ("Överinspektör", "Lari", "Anttonen", "family-comma-given"),
    ),
    (
        "sv-swedish-family",
        "Utvecklingsdirektör Eriksson Mikael",
        "sv",
        ("Utvecklingsdirektör", "Mikael", "Eriksson", "family-given"),
    ),
    (
        "en-title",
        "Ministerial Adviser Olli Alho",
        "en",
        ("Ministerial Adviser", "Olli", "Alho", "given-family"),
    ),
    (
        "en-senior-officer",
        "Senior Officer Lari Anttonen",
        "en",
        ("Senior Officer", "Lari", "Anttonen", "given-family"),
    ),
    (
        "en-three-tokens",
        "Director Anna Maria Virtanen",
        "en",
        ("Director", "Anna Maria", "Virtanen", "given-family"),
    ),
]


@pytest.mark.parametrize(
    ("text", "lang", "expected"), [c[1:] for c in NAMES], ids=[c[0] for c in NAMES]
)
def test_names(text: str, lang: str, expected: tuple) -> None:
    person = parse_person(text, lang)
    assert person is not None
    assert (person.title, person.given_name, person.family_name, person.order) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Tulosta sivu",
        "Lisätietoja:",
        "puh. 029 506 3591",
        "Sähköpostiosoitteet muotoa etunimi.sukunimi@tem.fi",
    ],
)
def test_not_names(text: str) -> None:
    assert parse_person(text, "fi") is None


def test_ambiguous_names_follow_the_blocks_convention() -> None:
    # "Aho Sami" alone is ambiguous in order only through the list; "Alho Olli" fixes the
    # block's order as family-given, so "Laine Pekka" (neither side known) follows it.
    contacts, _ = parse_contact_block(
        ["Neuvotteleva virkamies Alho Olli", "Johtaja Koski Ritari"], "fi", "further_information"
    )
    assert [(c.person.given_name, c.person.family_name) for c in contacts] == [
        ("Olli", "Alho"),
        ("Ritari", "Koski"),
    ]
    contacts, _ = parse_contact_block(
        ["Senior Officer Lari Anttonen", "Director Koski Ritari"], "en", "further_information"
    )
    assert contacts[1].person.given_name == "Koski"


EMAILS = [
    ("explicit", "olli.alho@tem.fi", "olli.alho@tem.fi", "explicit"),
    ("paren-at", "olli.alho(at)tem.fi", "olli.alho@tem.fi", "deobfuscated"),
    ("bracket-at", "olli.alho [at] tem.fi", "olli.alho@tem.fi", "deobfuscated"),
    ("space-at", "olli.alho at tem.fi", "olli.alho@tem.fi", "deobfuscated"),
    ("swedish-at", "olli.alho ät tem.fi", "olli.alho@tem.fi", "deobfuscated"),
    ("dot-words", "olli.alho(at)tem(dot)fi", "olli.alho@tem.fi", "deobfuscated"),
    # Dots hidden in the local part too (an unseen layout's): the given name was dropped.
    ("local-dot-words", "olli(dot)alho(at)tem(dot)fi", "olli.alho@tem.fi", "deobfuscated"),
    ("local-bracket-dots", "olli[dot]alho[at]tem[dot]fi", "olli.alho@tem.fi", "deobfuscated"),
    ("spaced-dots", "olli (dot) alho (at) tem (dot) fi", "olli.alho@tem.fi", "deobfuscated"),
    ("dot-words-bare", "olli dot alho at tem dot fi", "olli.alho@tem.fi", "deobfuscated"),
    ("finnish-words", "olli.alho ät tem piste fi", "olli.alho@tem.fi", "deobfuscated"),
    ("uppercase", "Olli.Alho@TEM.fi", "olli.alho@tem.fi", "explicit"),
]


@pytest.mark.parametrize(
    ("text", "address", "source"), [c[1:] for c in EMAILS], ids=[c[0] for c in EMAILS]
)
def test_emails(text: str, address: str, source: str) -> None:
    found = find_emails(f"Ylitarkastaja, {text}, puh. 029 506 3591")
    assert [(f.address, f.source) for f in found] == [(address, source)]


@pytest.mark.parametrize(
    ("pattern", "given", "family", "address"),
    [
        ("etunimi.sukunimi@raahe.fi", "Leena", "Mäkinen", "leena.makinen@raahe.fi"),
        ("fornamn.efternamn@tem.fi", "Åsa", "Öhman", "asa.ohman@tem.fi"),
        ("firstname.lastname@tem.fi", "Kaisa-Leena", "Mäntylä", "kaisa-leena.mantyla@tem.fi"),
        ("etunimi.sukunimi@yrityssalo.fi", "Tommi", "Virtanen", "tommi.virtanen@yrityssalo.fi"),
    ],
    ids=["fi-transliteration", "sv-placeholder", "en-hyphen", "seed-salo"],
)
def test_pattern_resolution(pattern: str, given: str, family: str, address: str) -> None:
    assert [f.pattern for f in find_emails(pattern)] == [pattern]
    assert resolve_pattern(pattern, given, family) == address


def test_page_level_pattern_applies_to_contacts_without_email() -> None:
    contacts, patterns = parse_contact_block(
        [
            "Neuvotteleva virkamies Alho Olli",
            "puh. 029 506 3591",
            "Ylitarkastaja Anttonen, Lari",
            "lari.anttonen(at)tem.fi",
            "Sähköpostiosoitteet muotoa etunimi.sukunimi@tem.fi",
        ],
        "fi",
        "further_information",
    )
    assert patterns == ["etunimi.sukunimi@tem.fi"]
    assert [(c.email, c.email_source) for c in contacts] == [
        ("olli.alho@tem.fi", "pattern"),
        ("lari.anttonen@tem.fi", "deobfuscated"),
    ]


PHONES = [
    ("puh-national", "puh. 029 506 3591", "+358295063591"),
    ("p-mobile", "p. 040 830 2711", "+358408302711"),
    ("tfn-international", "tfn +358 29 506 3591", "+358295063591"),
    ("tel-zero-in-parens", "tel. +358 (0)29 504 7032", "+358295047032"),
    ("puh-dashes", "puh. 044-439 3301", "+358444393301"),
    ("puh-no-space", "puh.0295063591", "+358295063591"),
    ("phone-word", "phone 040 806 5123", "+358408065123"),
    ("puhelin", "puhelin: 09 1606 3591", "+358916063591"),
    # Labels an unseen layout used, which were not known: the number was lost.
    ("telephone", "Telephone: 029 506 3591", "+358295063591"),
    ("mobile", "Mobile +358 40 830 2711", "+358408302711"),
    ("matkapuhelin", "matkapuhelin 040 830 2711", "+358408302711"),
    ("mobil", "mobil 040 830 2711", "+358408302711"),
]


@pytest.mark.parametrize(("text", "e164"), [c[1:] for c in PHONES], ids=[c[0] for c in PHONES])
def test_phones(text: str, e164: str) -> None:
    assert [p for p, _ in find_phones(f"Olli Alho, {text}, olli.alho@tem.fi")] == [e164]


def test_unlabelled_numbers_are_not_phones() -> None:
    assert find_phones("38 kuntaa vuosina 2014 ja 2015") == []


def test_contact_on_one_line() -> None:
    c = parse_contact_text(
        "Yhteyshenkilö: kehittämispäällikkö Heikkinen, Juha, "
        "juha.heikkinen(at)iisalmi.fi, p. 040 830 2711",
        "fi",
        "pilot_contact",
    )
    assert c is not None
    assert (c.person.name, c.person.title, c.email, c.phone) == (
        "Juha Heikkinen",
        "kehittämispäällikkö",
        "juha.heikkinen@iisalmi.fi",
        "+358408302711",
    )


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"html_lang": "fi-FI"}, ("fi", "html-lang")),
        ({"content_language": "sv"}, ("sv", "content-language")),
        ({"link_hint": "en"}, ("en", "link")),
        ({"url": "http://www.tem.fi/index.phtml?l=sv&s=1"}, ("sv", "url")),
        ({"url": "http://www.tem.fi/en/pilots"}, ("en", "url")),
        (
            {"text": "Pilotit perustuvat kaupunkien väliseen yhteistyöhön ja se on hyvä"},
            ("fi", "text"),
        ),
    ],
    ids=["html-lang", "content-language", "link", "query", "path", "text"],
)
def test_language(kwargs: dict, expected: tuple) -> None:
    args = {
        "html_lang": None,
        "content_language": None,
        "link_hint": None,
        "url": "http://www.tem.fi/x",
        "text": "",
    } | kwargs
    assert detect_language(**args) == expected


def test_language_from_text_per_language() -> None:
    assert language_from_text("Pilotprojekten bygger på samarbete mellan städer och är bra") == "sv"
    assert language_from_text("The pilots are based on cooperation between towns") == "en"


SEED = "Pilotit seutukaupunkien kehittämiseen – työ- ja elinkeinoministeriö"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (SEED.encode("utf-8"), "text/html; charset=utf-8"),
        (SEED.encode("cp1252"), "text/html; charset=iso-8859-1"),
        (SEED.encode("cp1252"), "text/html; charset=windows-1252"),
        (b'<meta charset="iso-8859-1">' + SEED.encode("cp1252"), "text/html"),
        (SEED.encode("utf-8"), "text/html; charset=iso-8859-1"),  # mislabelled by the server
        (SEED.encode("cp1252"), None),
        ("\ufeff".encode() + SEED.encode("utf-8"), None),
    ],
    ids=[
        "utf8-header",
        "latin1-header",
        "cp1252-header",
        "meta-only",
        "mislabelled-utf8",
        "undeclared-latin1",
        "bom",
    ],
)
def test_encodings_never_give_mojibake(body: bytes, content_type: str | None) -> None:
    text = decode_html(body, content_type).text
    assert SEED in text


def test_a_charset_no_codec_knows_is_said_when_the_encoding_is_guessed() -> None:
    """Found by an attacker's pass: a page declaring charset=x-absurd-9999 was read as
    macroman, guessed from its bytes, with no word of it (its title in mojibake)."""
    from pilotarchive.extract.page import extract_page

    body = b"<html><body><h1>" + SEED.encode("cp1252") + b"</h1></body></html>"
    page = extract_page(body, "http://127.0.0.1/p", headers={"Content-Type": "text/html; "
                        "charset=x-absurd-9999"})  # fmt: skip
    (note,) = [n for n in page.notes if n.kind == "encoding_guessed"]
    assert note.message.startswith("the page declares charset 'x-absurd-9999', which is no ")
    assert f"it was read as {page.encoding}, guessed from its bytes" in note.message
    known = extract_page(body, "http://127.0.0.1/p", headers={"Content-Type": "text/html"})
    assert [n.kind for n in known.notes if n.kind.startswith("encoding")] == []


HOSTILE_LINKS = [
    ("mixed-case-javascript", '<a href=" JaVaScRiPt:alert(2)" hreflang="sv">sv</a>', "sv version"),
    (
        "tab-inside-scheme",
        '<a href="java&#9;script:alert(1)" lang="sv">På svenska</a>',
        "sv version",
    ),
    ("newline-and-spaces", '<a href="\n  javascript:void(0)  " hreflang="en">EN</a>', "en version"),
    ("vbscript", '<a href="VBScript:msgbox(1)" hreflang="en">English</a>', "en version"),
    ("data-url", '<link rel="alternate" hreflang="sv" href="data:text/html,x">', "sv version"),
    ("mailto-language-text", '<a href="mailto:registratur@tem.fi">In English</a>', "en version"),
    ("tel-text-version", '<a href="tel:+358295060000">Tekstiversio</a>', "text version"),
    ("ftp", '<a href="ftp://www.tem.fi/sv/" hreflang="sv">sv</a>', "sv version"),
]


@pytest.mark.parametrize(
    ("link", "what"), [c[1:] for c in HOSTILE_LINKS], ids=[c[0] for c in HOSTILE_LINKS]
)
def test_non_web_version_links_are_dropped_and_noted(link: str, what: str) -> None:
    from pilotarchive.extract.page import extract_page
    from pilotarchive.records.build import FetchFacts, build_records
    from pilotarchive.records.validate import record_errors

    html = (
        '<html lang="fi"><head><title>T</title></head><body>'
        f'{link}<a href="/index.phtml?l=en&amp;s=1" hreflang="en">In English</a>'
        '<div id="content"><h1>Otsikko</h1><p>Teksti.</p></div></body></html>'
    )
    page = extract_page(html.encode(), "http://www.tem.fi/index.phtml?s=1")
    urls = [*page.alternates.values(), page.text_version_url, page.graphic_version_url]
    assert all(u is None or u.startswith("http://www.tem.fi/") for u in urls), urls
    assert page.alternates["fi"] == "http://www.tem.fi/index.phtml?s=1"
    if what == "en version":  # the good English link that follows is kept
        assert page.alternates["en"] == "http://www.tem.fi/index.phtml?l=en&s=1"
    assert [n.kind for n in page.notes] == ["link_dropped"]
    assert page.notes[0].message.startswith(f"the {what} link ")
    records = build_records(page, FetchFacts("20141119T000000Z", "2014-11-19T00:00:00Z"))
    assert [record_errors(r) for r in records] == [[]]  # the page record is never rejected


SEED_UTF8 = SEED.encode("utf-8")
BAD_BYTES = [
    # (id, body, content type, errors expected)
    ("declared-utf8-one-bad-byte", SEED_UTF8 + b" \xff", "text/html; charset=utf-8", 1),
    ("undeclared-one-bad-byte", b"Pilotit \x81 " + SEED_UTF8, None, 1),
    ("declared-latin1-really-utf8", SEED_UTF8 + b" \xe4", "text/html; charset=iso-8859-1", 1),
    ("meta-latin1-really-utf8", b'<meta charset="iso-8859-1">' + SEED_UTF8 + b"\xe4", None, 1),
    ("truncated-at-the-end", SEED_UTF8 + " kehittä".encode()[:-1], None, 1),
    ("bom-and-bad-byte", codecs.BOM_UTF8 + SEED_UTF8 + b"\xc3(", None, 1),
    ("latin1-byte-in-the-middle", SEED_UTF8 + b" ty\xf6 " + SEED_UTF8, None, 1),
    ("three-bad-in-ascii", b"Pilotit \xe4 \xe4 \xe4 " + SEED_UTF8, "text/html; charset=utf-8", 3),
    ("overlong-encoding", SEED_UTF8 + b" \xc0\xaf", "text/html; charset=utf-8", 2),
    ("surrogate-encoded", SEED_UTF8 + b" \xed\xa0\x80", "text/html; charset=utf-8", 3),
]


@pytest.mark.parametrize(
    ("body", "content_type", "errors"), [c[1:] for c in BAD_BYTES], ids=[c[0] for c in BAD_BYTES]
)
def test_utf8_with_a_few_bad_bytes_stays_utf8(
    body: bytes, content_type: str | None, errors: int
) -> None:
    decoded = decode_html(body, content_type)
    assert SEED in decoded.text  # no "kehittÃ¤miseen"
    assert "Ã" not in decoded.text
    assert (decoded.encoding, decoded.errors) == ("utf-8", errors)
    assert decoded.text.count("\ufffd") == errors


def test_a_genuine_replacement_character_is_not_an_error() -> None:
    decoded = decode_html("ä \ufffd".encode() + SEED_UTF8 + b"\xff", "text/html; charset=utf-8")
    assert decoded.errors == 1


@pytest.mark.parametrize(
    ("body", "content_type", "encoding"),
    [
        (SEED.encode("cp1252"), "text/html; charset=utf-8", "cp1252"),  # mislabelled Latin-1
        ((SEED + " äö ÄÖ").encode("cp1252"), None, "cp1252"),
    ],
    ids=["latin1-declared-utf8", "latin1-undeclared"],
)
def test_single_byte_pages_are_not_read_as_broken_utf8(
    body: bytes, content_type: str | None, encoding: str
) -> None:
    decoded = decode_html(body, content_type)
    assert SEED in decoded.text
    assert decoded.errors == 0 and decoded.encoding == encoding


def test_page_extraction_notes_the_replaced_bytes() -> None:
    from pilotarchive.extract.page import extract_page

    html = (
        '<html lang="fi"><head><meta charset="utf-8"><title>Pilotit</title></head><body>'
        '<div id="content"><h1>Pilotit seutukaupunkien kehittämiseen</h1>'
        "<p>Sivua viimeksi päivitetty: 19.11.2014</p></div></body></html>"
    ).encode()
    page = extract_page(html.replace(b"</h1>", b"\xe4</h1>"), "http://www.tem.fi/x")
    assert page.title == "Pilotit seutukaupunkien kehittämiseen\ufffd"
    assert (page.encoding, page.encoding_errors) == ("utf-8", 1)
    assert [n.kind for n in page.notes] == ["encoding_errors"]
    assert page.updated is not None and page.updated.date == "2014-11-19"


def test_programme_facts_belong_to_a_page_that_speaks_of_pilots() -> None:
    """ "25 kuntaa vuosina 2014-2015" on a page without pilots counts something else; the
    same words beside "neljä pilottia" are the programme's, in any case of letters."""
    from pilotarchive.extract.page import _programme

    assert _programme(["Hankkeessa on mukana 25 kuntaa vuosina 2014-2015."], "fi") is None
    found = _programme(
        ["TEM on käynnistänyt neljä PILOTTIA.", "Mukana on 25 kuntaa vuosina 2014-2015."], "fi"
    )
    assert found is not None
    assert (found.pilot_count, found.municipality_count, found.years) == (4, 25, [2014, 2015])
