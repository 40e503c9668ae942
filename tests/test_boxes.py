"""The page's own boxes of persons, wherever the layout puts them; the site's chrome never.

Each case is one markup of the same "further information" box (two persons) around the
same article. The 2014 page had the box after "Tulosta sivu", outside the article: a
reader of the marked content area alone loses it.
"""

import pytest

from pilotarchive.extract.page import extract_page

ARTICLE = (
    '<div id="content"><h1>Pilotit seutukaupunkien kehittämiseen</h1>'
    "<p>Työ- ja elinkeinoministeriö on käynnistänyt neljä pilottia.</p>"
    '<p class="paivitetty">Sivua viimeksi päivitetty: 19.11.2014</p>'
    '<p><a href="javascript:window.print()">Tulosta sivu</a></p></div>'
)
ALHO = "Neuvotteleva virkamies Alho Olli"
ANTTONEN = "Ylitarkastaja Anttonen, Lari"
PEOPLE = f"<p>{ALHO}<br>puh. 029 506 3591</p><p>{ANTTONEN}<br>puh. 029 504 7032</p>"
NOTE = "<p>Sähköpostiosoitteet ovat muotoa etunimi.sukunimi@tem.fi</p>"
EXPECTED = [
    ("Olli", "Alho", "Neuvotteleva virkamies", "+358295063591", "olli.alho@tem.fi"),
    ("Lari", "Anttonen", "Ylitarkastaja", "+358295047032", "lari.anttonen@tem.fi"),
]
HEADER = (
    '<div id="header"><a href="/index.phtml?l=sv&amp;s=4398">På svenska</a> '
    '<a href="/index.phtml?s=3">Yhteystiedot</a></div>'
)
FOOTER = (
    '<div id="footer"><h3>Yhteystiedot</h3><p>Kirjaamo Kaisa Kirjaaja, puh. 029 506 0000</p></div>'
)

LAYOUTS = {
    "side-column-table-cell": (
        f'<table><tr><td colspan="2">{HEADER}</td></tr><tr><td>{ARTICLE}</td>'
        f'<td class="oikea"><h3>Lisätietoja:</h3>{PEOPLE}{NOTE}</td></tr></table>'
    ),
    "after-the-print-link-no-container": (
        f'<div id="wrapper">{ARTICLE}<p><strong>Lisätietoja:</strong></p>{PEOPLE}{NOTE}</div>'
    ),
    "heading-in-a-title-div": (
        f'{ARTICLE}<div class="portlet"><div class="portlet-topper"><h2 class="title">'
        f'<span>Lisätietoja antavat</span></h2></div><div class="portlet-body">{PEOPLE}'
        f"{NOTE}</div></div>"
    ),
    "aside-with-its-own-header": (
        f"<main>{ARTICLE}</main><aside><header><h2>Yhteyshenkilöt</h2></header>{PEOPLE}{NOTE}"
        "</aside>"
    ),
    "inline-heading": (
        f"{ARTICLE}<p>Lisätietoja: {ALHO}, puh. 029 506 3591</p><p>{ANTTONEN}, "
        f"puh. 029 504 7032</p>{NOTE}"
    ),
    "definition-list": (
        f"{ARTICLE}<dl><dt>Lisätietoja</dt><dd>{ALHO}, puh. 029 506 3591</dd>"
        f"<dd>{ANTTONEN}, puh. 029 504 7032</dd><dd>{NOTE}</dd></dl>"
    ),
    "table-with-header-cell": (
        f"{ARTICLE}<table><tr><th>Lisätietoja</th></tr><tr><td>{PEOPLE}{NOTE}</td></tr></table>"
    ),
    "inside-the-content-area": (
        f'<div id="content"><h1>Pilotit</h1><p>Teksti.</p><div class="lisatietoja">'
        f"<h3>Lisätietoja:</h3>{PEOPLE}{NOTE}</div></div>"
    ),
    "box-before-the-article-in-one-container": (
        f'<div id="wrapper"><h3>Lisätietoja:</h3>{PEOPLE}{NOTE}{ARTICLE}</div>'
    ),
    "bold-heading-then-br": (
        f"{ARTICLE}<div class='box'><b>Lisätietoja:</b><br>{ALHO}<br>puh. 029 506 3591<br>"
        f"{ANTTONEN}<br>puh. 029 504 7032<br>{NOTE}</div>"
    ),
}


def page(body: str, lang: str = "fi") -> str:
    header = "" if 'id="header"' in body else HEADER
    return (
        f'<html lang="{lang}"><head><meta charset="utf-8"><title>Pilotit</title></head><body>'
        f"{header}{body}{FOOTER}</body></html>"
    )


def persons(html: str, lang: str = "fi") -> list[tuple]:
    extraction = extract_page(html.encode(), "http://www.tem.fi/index.phtml?s=4398")
    return [
        (
            c.person.given_name,
            c.person.family_name,
            c.person.title,
            c.phone,
            c.email,
        )
        for c in extraction.contacts
    ]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_box_is_found_wherever_it_stands(layout: str) -> None:
    assert persons(page(LAYOUTS[layout])) == EXPECTED


def test_the_sites_footer_and_navigation_stay_out() -> None:
    html = page(LAYOUTS["side-column-table-cell"])
    names = [p[1] for p in persons(html)]
    assert "Kirjaaja" not in names  # the footer's "Yhteystiedot" belongs to the site
    html = page(f"{ARTICLE}<nav><h2>Contact</h2><p>Senior Officer Lari Anttonen</p></nav>")
    assert persons(html) == []
    footer = f"{ARTICLE}<footer><h2>Contact</h2><p>Director Matti Virtanen</p></footer>"
    assert persons(page(footer)) == []


def test_a_box_ends_at_the_next_heading() -> None:
    html = page(
        f"{ARTICLE}<div class='side'><h3>Lisätietoja:</h3>{PEOPLE}{NOTE}"
        "<h3>Linkit</h3><p>Johtaja Matti Virtanen</p></div>"
    )
    assert [p[1] for p in persons(html)] == ["Alho", "Anttonen"]


def test_a_pilots_contact_field_is_not_a_box() -> None:
    html = page(
        '<div id="content"><h1>Pilotit</h1><dl><dt>Teema</dt><dd>Teollisuus</dd>'
        "<dt>Koordinaattori</dt><dd>Raahen kaupunki</dd><dt>Yhteyshenkilö</dt>"
        "<dd>elinkeinojohtaja Leena Mäkinen, puh. 044 439 3301</dd></dl>"
        "<p><strong>Contact:</strong> Leena Mäkinen</p></div>"
    )
    assert persons(html) == []


@pytest.mark.parametrize(
    ("lang", "heading", "people"),
    [
        ("sv", "Mer information", "Konsultativ tjänsteman Olli Alho, tfn 029 506 3591"),
        ("sv", "Ytterligare information:", "Konsultativ tjänsteman Olli Alho, tfn 029 506 3591"),
        ("sv", "Kontaktpersoner", "Konsultativ tjänsteman Olli Alho, tfn 029 506 3591"),
        ("en", "Further information", "Ministerial Adviser Olli Alho, tel. +358 29 506 3591"),
        ("en", "More information:", "Ministerial Adviser Olli Alho, tel. +358 29 506 3591"),
        ("en", "Contact", "Ministerial Adviser Olli Alho, tel. +358 29 506 3591"),
        ("en", "Contacts", "Ministerial Adviser Olli Alho, tel. +358 29 506 3591"),
    ],
)
def test_headings_in_every_language(lang: str, heading: str, people: str) -> None:
    html = page(f"{ARTICLE}<aside><h2>{heading}</h2><p>{people}</p></aside>", lang)
    assert [p[:2] + p[3:4] for p in persons(html, lang)] == [("Olli", "Alho", "+358295063591")]


def test_schema_org_person_microdata() -> None:
    person = (
        '<div itemscope itemtype="https://schema.org/Person">'
        '<span itemprop="jobTitle">Neuvotteleva virkamies</span> '
        '<span itemprop="name">Olli Alho</span> '
        '<a itemprop="telephone" href="tel:+358295063591">029 506 3591</a></div>'
        '<div itemscope itemtype="http://schema.org/Person">'
        '<span itemprop="jobTitle">Ylitarkastaja</span> '
        '<span itemprop="givenName">Lari</span> <span itemprop="familyName">Anttonen</span> '
        '<span itemprop="telephone">029 504 7032</span> '
        '<a itemprop="email" href="mailto:lari.anttonen@tem.fi">lari.anttonen(at)tem.fi</a>'
        '<span itemprop="worksFor" itemscope itemtype="https://schema.org/GovernmentOrganization">'
        '<span itemprop="name">Työ- ja elinkeinoministeriö</span></span></div>'
    )
    html = page(f"<main><article>{ARTICLE}</article><aside><h2>Lisätietoja antavat</h2>"
                f"{person}{NOTE}</aside></main>")  # fmt: skip
    assert persons(html) == EXPECTED


def test_an_update_date_outside_the_article_is_read() -> None:
    html = page(
        '<div class="meta">Päivitetty 19.11.2014</div><div id="content"><h1>Pilotit</h1>'
        "<p>Teksti.</p></div>"
    )
    extraction = extract_page(html.encode(), "http://www.tem.fi/index.phtml?s=4398")
    assert extraction.updated is not None
    assert (extraction.updated.date, extraction.updated.source) == ("2014-11-19", "text")


def test_a_title_on_the_line_after_the_name() -> None:
    html = page(
        f"{ARTICLE}<aside><h2>Lisätietoja antavat</h2><p><strong>Olli Alho</strong><br>"
        "Neuvotteleva virkamies<br>puh. 029 506 3591</p><p><strong>Lari Anttonen</strong><br>"
        f"Ylitarkastaja<br>puh. 029 504 7032</p>{NOTE}</aside>"
    )
    assert persons(html) == EXPECTED


def test_an_articles_own_header_is_part_of_the_text() -> None:
    html = page(
        '<main><article><header><h1>Pilotit</h1><p class="meta">Päivitetty 19.11.2014</p>'
        "</header><p>Teksti.</p></article></main>"
    )
    extraction = extract_page(html.encode(), "http://www.tem.fi/index.phtml?s=4398")
    assert extraction.updated is not None and extraction.updated.source == "text"


def test_a_heading_written_with_entities_is_found() -> None:
    html = page(f"{ARTICLE}<aside><h2>&nbsp;Lis&auml;tietoja&nbsp;</h2>{PEOPLE}{NOTE}</aside>")
    assert persons(html) == EXPECTED


@pytest.mark.parametrize(
    "heading",
    [
        "<h3 class='otsikko' data-x=y>Lisätietoja:</h3>",  # attributes of every quoting
        "<h3><!-- CMS: laatikko -->Lisätietoja:</h3>",  # a comment before the text
        '<h3 title="a<b">Lisätietoja:</h3>',  # a "<" inside an attribute
        "<H3>Lis&auml;tietoja:</H3>",  # upper-case tag, an entity in the label
    ],
    ids=["attributes", "comment", "lt-in-attribute", "upper-case-entity"],
)
def test_a_heading_is_found_however_its_tag_is_written(heading: str) -> None:
    """The first look finds a heading's element by the tag written before it; where that
    tag cannot be read from the source, every text node is looked at instead."""
    html = page(f"{ARTICLE}<div class='side'>{heading}{PEOPLE}{NOTE}</div>")
    assert persons(html) == EXPECTED
