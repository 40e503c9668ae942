"""The separate project and the pilots in every phrasing a ministry writer uses, fi, sv, en.

Each case is one way of saying the same facts: the theme (a noun phrase, never an inflected
fragment), the coordinator (an organisation's name in the nominative), the contact.
"""

import pytest

from pilotarchive.extract.page import extract_page
from pilotarchive.extract.pilots import parse_pilot_text
from pilotarchive.extract.project import nominative, parse_project

THEME = {
    "fi": "seutukaupunkien rakennemuutoksen hoito",
    "sv": "hantering av strukturomvandlingen i regionstäderna",
    "en": "managing structural change in regional towns",
}
SALO = {"fi": "Salon kaupunki", "sv": "Salo stad", "en": "City of Salo"}
FI_CONTACT = "(yhteystiedot Tommi Virtanen, etunimi.sukunimi@yrityssalo.fi)"
SV_CONTACT = "(kontaktperson Tommi Virtanen, fornamn.efternamn@yrityssalo.fi)"
EN_CONTACT = "(contact Tommi Virtanen, firstname.lastname@yrityssalo.fi)"

PROJECTS = [
    ("fi-seed", "fi", [
        "Lisäksi on käynnistetty seutukaupunkien rakennemuutoksen hoitoon keskittyvä erillinen "
        f"hanke, jota koordinoi Salon kaupunki {FI_CONTACT}."]),
    ("fi-coordinator-in-the-next-sentence", "fi", [
        "Lisäksi on käynnistetty erillinen hanke, joka keskittyy seutukaupunkien "
        f"rakennemuutoksen hoitoon. Sitä koordinoi Salon kaupunki {FI_CONTACT}."]),
    ("fi-next-paragraph", "fi", [
        "Lisäksi on käynnistetty seutukaupunkien rakennemuutoksen hoitoon keskittyvä erillinen "
        "hanke.", f"Hanketta koordinoi Salon kaupunki {FI_CONTACT}."]),
    ("fi-koordinaattorina-toimii", "fi", [
        "Seutukaupunkien rakennemuutoksen hoitoon keskittyvän erillisen hankkeen "
        f"koordinaattorina toimii Salon kaupunki {FI_CONTACT}."]),
    ("fi-teemana-vastuutahona", "fi", [
        "Lisäksi on käynnistetty erillinen hanke, jonka teemana on seutukaupunkien "
        f"rakennemuutoksen hoito. Hankkeen vastuutahona on Salon kaupunki {FI_CONTACT}."]),
    ("fi-active-voice", "fi", [
        "Salon kaupunki koordinoi erillistä hanketta, joka keskittyy seutukaupunkien "
        f"rakennemuutoksen hoitoon {FI_CONTACT}."]),
    ("fi-genitive-agent", "fi", [
        "Lisäksi on käynnistetty Salon kaupungin koordinoima erillinen hanke seutukaupunkien "
        f"rakennemuutoksen hoitoon {FI_CONTACT}."]),
    ("fi-koordinoijana", "fi", [
        "Lisäksi on käynnistetty erillinen hanke seutukaupunkien rakennemuutoksen hoitoon, "
        f"koordinoijana Salon kaupunki {FI_CONTACT}."]),
    ("sv-seed", "sv", [
        "Dessutom har ett separat projekt som fokuserar på hantering av strukturomvandlingen i "
        f"regionstäderna startats, som samordnas av Salo stad {SV_CONTACT}."]),
    ("sv-next-sentence", "sv", [
        "Dessutom har ett separat projekt för hantering av strukturomvandlingen i "
        f"regionstäderna startats. Det samordnas av Salo stad {SV_CONTACT}."]),
    ("sv-samordnare-ar", "sv", [
        "Ett separat projekt med inriktning på hantering av strukturomvandlingen i "
        f"regionstäderna har också startats. Samordnare är Salo stad {SV_CONTACT}."]),
    ("sv-active-voice", "sv", [
        "Salo stad samordnar dessutom ett separat projekt som fokuserar på hantering av "
        f"strukturomvandlingen i regionstäderna {SV_CONTACT}."]),
    ("sv-leds-av", "sv", [
        "Dessutom har ett separat projekt om hantering av strukturomvandlingen i "
        f"regionstäderna startats. Projektet leds av Salo stad {SV_CONTACT}."]),
    ("sv-med-som-samordnare", "sv", [
        "Dessutom har ett separat projekt för hantering av strukturomvandlingen i "
        f"regionstäderna startats med Salo stad som samordnare {SV_CONTACT}."]),
    ("en-seed", "en", [
        "In addition, a separate project focusing on managing structural change in regional "
        f"towns has been launched, coordinated by the City of Salo {EN_CONTACT}."]),
    ("en-next-sentence", "en", [
        "A separate project on managing structural change in regional towns has also been "
        f"launched. It is coordinated by the City of Salo {EN_CONTACT}."]),
    ("en-led-by", "en", [
        "In addition, a separate project, led by the City of Salo, focuses on managing "
        f"structural change in regional towns {EN_CONTACT}."]),
    ("en-the-coordinator-is", "en", [
        "A separate project focusing on managing structural change in regional towns has also "
        f"been launched. The coordinator is the City of Salo {EN_CONTACT}."]),
    ("en-active-voice", "en", [
        "The City of Salo coordinates a separate project focusing on managing structural "
        f"change in regional towns {EN_CONTACT}."]),
    ("en-with-as-coordinator", "en", [
        "A separate project on managing structural change in regional towns has been launched "
        f"with the City of Salo as coordinator {EN_CONTACT}."]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("language", "lines"), [c[1:] for c in PROJECTS], ids=[c[0] for c in PROJECTS]
)
def test_project_in_every_phrasing(language: str, lines: list[str]) -> None:
    notes: list = []
    project = parse_project(["Pilotit toteutetaan vuosina 2014 ja 2015.", *lines], language, notes)
    assert project is not None
    assert project.kind == "project"
    assert project.theme is not None and project.theme.casefold() == THEME[language]
    assert project.coordinator == SALO[language]
    assert project.contact is not None
    assert (project.contact.person.name, project.contact.email) == (
        "Tommi Virtanen",
        "tommi.virtanen@yrityssalo.fi",
    )
    assert notes == []


def test_an_unrecognised_theme_keeps_the_clause_and_says_so() -> None:
    notes: list = []
    project = parse_project(
        ["Lisäksi on käynnistetty erillinen hanke, jota koordinoi Salon kaupunki."], "fi", notes
    )
    assert project is not None and project.coordinator == "Salon kaupunki"
    assert project.theme == "erillinen hanke, jota koordinoi Salon kaupunki"
    assert [n.kind for n in notes] == ["theme_as_written"]


def test_no_coordinator_no_project() -> None:
    assert parse_project(["Erillinen hanke on vielä suunnitteilla."], "fi") is None


@pytest.mark.parametrize(
    ("inflected", "nominative_form"),
    [
        ("seutukaupunkien rakennemuutoksen hoitoon", "seutukaupunkien rakennemuutoksen hoito"),
        ("kaupunkien elinvoiman vahvistamiseen", "kaupunkien elinvoiman vahvistaminen"),
        ("seutujen väliseen yhteistyöhön", "seutujen väliseen yhteistyö"),
        ("matkailuun", "matkailu"),
        ("hyvinvointipalveluihin", "hyvinvointipalvelut"),
        ("elinkeinorakenteen kehitykseen", "elinkeinorakenteen kehitys"),
        ("työllisyyteen", "työllisyys"),
        ("alueen elinvoimaan", "alueen elinvoima"),
        ("rakennemuutoksen hoitamiseksi", "rakennemuutoksen hoitaminen"),
        ("vientiin", "vienti"),
    ],
)
def test_finnish_head_words_back_to_the_nominative(inflected: str, nominative_form: str) -> None:
    assert nominative(inflected) == nominative_form


PILOT = "Teollisuuden rakennemuutos ja uudet kasvualat"
PILOTS = [
    ("fi-koordinaattorina", "fi", f"{PILOT} – koordinaattorina Raahen kaupunki.",
     "Raahen kaupunki"),
    ("fi-jota-koordinoi", "fi", f"{PILOT}, jota koordinoi Raahen kaupunki.", "Raahen kaupunki"),
    ("fi-jonka-koordinaattorina-toimii", "fi",
     f"{PILOT}, jonka koordinaattorina toimii Raahen kaupunki.", "Raahen kaupunki"),
    ("fi-vastuutahona", "fi", f"{PILOT} (vastuutahona Raahen kaupunki)", "Raahen kaupunki"),
    ("fi-labelled-in-parentheses", "fi", f"{PILOT} (koordinaattori: Raahen kaupunki)",
     "Raahen kaupunki"),
    ("sv-som-samordnas-av", "sv", f"{PILOT}, som samordnas av Brahestads stad.", "Brahestads stad"),
    ("sv-samordnare-ar", "sv", f"{PILOT}; samordnare är Brahestads stad.", "Brahestads stad"),
    ("sv-leds-av", "sv", f"{PILOT}, som leds av Brahestads stad.", "Brahestads stad"),
    ("en-coordinated-by", "en", f"{PILOT}, coordinated by the City of Raahe.", "City of Raahe"),
    ("en-led-by", "en", f"{PILOT}, led by the City of Raahe.", "City of Raahe"),
    ("en-the-coordinator-is", "en", f"{PILOT}; the coordinator is the City of Raahe.",
     "City of Raahe"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("language", "text", "coordinator"), [c[1:] for c in PILOTS], ids=[c[0] for c in PILOTS]
)
def test_pilot_entry_in_every_phrasing(language: str, text: str, coordinator: str) -> None:
    pilot = parse_pilot_text(text, language)
    assert pilot is not None
    assert (pilot.theme, pilot.coordinator) == (PILOT, coordinator)


def _pilots(body: str, lang: str = "fi") -> list[tuple]:
    html = (
        f'<html lang="{lang}"><head><meta charset="utf-8"><title>T</title></head><body>'
        f'<div id="content"><h1>Pilotit</h1>{body}</div></body></html>'
    )
    page = extract_page(html.encode(), "http://www.tem.fi/index.phtml?s=4398")
    return [(p.theme, p.coordinator, p.municipalities, p.form) for p in page.pilots]


TOWNS = ["Raahe", "Kalajoki", "Ylivieska"]


def test_a_heading_per_pilot_with_labelled_lines() -> None:
    body = (
        "<h2>Piloteissa keskitytään ajankohtaisiin teemoihin</h2>"
        "<p>TEM on käynnistänyt neljä pilottia, joiden teemat ja koordinoivat tahot ovat "
        "seuraavat:</p>"
        f"<h3>{PILOT}</h3><p>Koordinaattori: Raahen kaupunki<br>Kunnat: Raahe, Kalajoki ja "
        "Ylivieska<br>Yhteyshenkilö: elinkeinojohtaja Leena Mäkinen, puh. 044 439 3301</p>"
        "<h3>Kaupunkien ja maaseudun vuorovaikutus</h3><p>Pilottia koordinoi Kokkolan "
        "kaupunki.</p>"
    )
    assert _pilots(body) == [
        (PILOT, "Raahen kaupunki", TOWNS, "headed"),
        ("Kaupunkien ja maaseudun vuorovaikutus", "Kokkolan kaupunki", [], "headed"),
    ]


def test_a_heading_per_pilot_with_a_definition_list() -> None:
    body = (
        f"<section><h3>{PILOT}</h3><dl><dt>Samordnare</dt><dd>Brahestads stad</dd>"
        "<dt>Kommuner</dt><dd>Raahe, Kalajoki och Ylivieska</dd><dt>Kontaktperson</dt>"
        "<dd>Näringslivsdirektör Leena Mäkinen, tfn 044 439 3301</dd></dl></section>"
    )
    assert _pilots(body, "sv") == [(PILOT, "Brahestads stad", TOWNS, "headed")]


def test_a_definition_list_with_the_theme_term() -> None:
    body = (
        f"<dl><dt>Theme</dt><dd>{PILOT}</dd><dt>Coordinator</dt><dd>City of Raahe</dd>"
        "<dt>Partner municipalities</dt><dd>Raahe, Kalajoki and Ylivieska</dd></dl>"
    )
    assert _pilots(body, "en") == [(PILOT, "City of Raahe", TOWNS, "labelled")]


def test_a_section_heading_above_entries_is_no_pilot() -> None:
    body = (
        "<h2>Piloteissa keskitytään ajankohtaisiin teemoihin</h2><p>Neljä pilottia:</p>"
        f"<section><h3>{PILOT}</h3><dl><dt>Koordinaattori</dt><dd>Raahen kaupunki</dd></dl>"
        "</section>"
    )
    assert _pilots(body) == [(PILOT, "Raahen kaupunki", [], "headed")]
