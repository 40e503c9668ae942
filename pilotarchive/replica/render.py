"""HTML of the replica, in the manner of a 2014 Finnish government CMS.

Each language writes its pilot list in another form (Finnish: list items with a coordinator
phrase; Swedish: a table with header cells; English: labelled paragraphs), and the text
versions in yet others, so a crawl of the replica exercises every extractor path.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from html import escape
from urllib.parse import urlencode

from pilotarchive.replica.content import (
    ALHO,
    ANTTONEN,
    INTRO,
    LIST_HEADING,
    LIST_INTRO,
    MUNICIPALITY_NAMES_SV,
    NUMBER_WORD,
    OUTRO,
    PILOTS_PAGE_ID,
    PROJECT,
    PROJECT_CONTACT,
    PROJECT_SENTENCES,
    LanguageState,
    Person,
    PilotEntry,
    SiteVersion,
)

UI = {
    "fi": {
        "ministry": "työ- ja elinkeinoministeriö",
        "text": "Tekstiversio",
        "graphic": "Graafinen versio",
        "sitemap": "Sivukartta",
        "feedback": "Palaute",
        "contacts": "Yhteystiedot",
        "search": "Tarkennettu haku",
        "bigger": "Suurenna",
        "smaller": "Pienennä",
        "updated": "Sivua viimeksi päivitetty",
        "print": "Tulosta sivu",
        "more": "Lisätietoja:",
        "email_note": "Sähköpostiosoitteet ovat muotoa etunimi.sukunimi@tem.fi",
        "front": "Etusivu",
        "regions": "Alueiden kehittäminen",
        "urban": "Kaupunkipolitiikka",
        "growth": "Kasvusopimukset",
        "pilots": "Pilotit seutukaupunkien kehittämiseen",
        "partners": "Kumppanikunnat",
        "contact": "Yhteyshenkilö",
    },
    "sv": {
        "ministry": "arbets- och näringsministeriet",
        "text": "Textversion",
        "graphic": "Grafisk version",
        "sitemap": "Webbkarta",
        "feedback": "Respons",
        "contacts": "Kontaktuppgifter",
        "search": "Avancerad sökning",
        "bigger": "Förstora",
        "smaller": "Förminska",
        "updated": "Sidan senast uppdaterad",
        "print": "Skriv ut sidan",
        "more": "Ytterligare information:",
        "email_note": "",
        "front": "Startsida",
        "regions": "Regionutveckling",
        "urban": "Stadspolitik",
        "growth": "Tillväxtavtal",
        "pilots": "Pilotprojekt för utveckling av regionstäder",
        "partners": "Kommuner",
        "contact": "Kontaktperson",
    },
    "en": {
        "ministry": "Ministry of Employment and the Economy",
        "text": "Text version",
        "graphic": "Graphic version",
        "sitemap": "Sitemap",
        "feedback": "Feedback",
        "contacts": "Contact information",
        "search": "Advanced search",
        "bigger": "Enlarge",
        "smaller": "Reduce",
        "updated": "Page last updated",
        "print": "Print page",
        "more": "Further information:",
        "email_note": "E-mail addresses are in the format firstname.lastname@tem.fi",
        "front": "Front page",
        "regions": "Regional development",
        "urban": "Urban policy",
        "growth": "Growth agreements",
        "pilots": "Pilots for developing regional towns",
        "partners": "Partner municipalities",
        "contact": "Contact",
    },
}
LANGUAGE_LINK = {"fi": "Suomeksi", "sv": "På svenska", "en": "In English"}
# Other pages of the site, by CMS id: {language: (title, paragraph)}.
OTHER_PAGES: dict[int, dict[str, tuple[str, str]]] = {
    100: {
        "fi": (
            "Alueiden kehittäminen",
            "Alueiden kehittämisen tavoitteena on vahvistaa "
            "alueiden kilpailukykyä ja hyvinvointia koko maassa.",
        ),
        "sv": (
            "Regionutveckling",
            "Målet med regionutvecklingen är att stärka regionernas "
            "konkurrenskraft och välfärd i hela landet.",
        ),
        "en": (
            "Regional development",
            "The aim of regional development is to strengthen "
            "the competitiveness and well-being of regions throughout the country.",
        ),
    },
    101: {
        "fi": (
            "Kaupunkipolitiikka",
            "Kaupunkipolitiikalla tuetaan kaupunkiseutujen elinvoimaa ja yhteistyötä.",
        ),
        "sv": ("Stadspolitik", "Stadspolitiken stöder stadsregionernas livskraft och samarbete."),
        "en": (
            "Urban policy",
            "Urban policy supports the vitality and cooperation of urban regions.",
        ),
    },
    102: {
        "fi": (
            "Kasvusopimukset",
            "Valtio ja kaupunkiseudut ovat solmineet kasvusopimukset vuosille 2013-2015.",
        ),
        "sv": (
            "Tillväxtavtal",
            "Staten och stadsregionerna har ingått tillväxtavtal för åren 2013-2015.",
        ),
        "en": (
            "Growth agreements",
            "The State and urban regions have concluded growth agreements for 2013-2015.",
        ),
    },
}
SITEMAP_ID, FEEDBACK_ID, CONTACTS_ID = 1, 2, 3


@dataclass(frozen=True)
class PageRef:
    """Where a page lives; ``None`` id is the front page."""

    language: str
    page_id: int | None
    text: bool = False

    @property
    def url(self) -> str:
        query = {}
        if self.language != "fi":
            query["l"] = self.language
        if self.page_id is not None:
            query["s"] = str(self.page_id)
        script = "/text.phtml" if self.text else "/index.phtml"
        return script + ("?" + urlencode(query) if query else "")


def fi_date(d: date) -> str:
    return f"{d.day}.{d.month}.{d.year}"


def written_date(d: date, language: str) -> str:
    """Each language writes its update date its own way, as the real site did."""
    if language == "en":
        return d.strftime("%-d %B %Y")
    return fi_date(d)


def _phone(person: Person, language: str) -> str:
    national = person.phone
    if language == "en":
        return "+358 " + national[1:]
    return national


def _email(person: Person, language: str, style: str) -> str:
    local, domain = person.email.split("@")
    placeholder = {"fi": "etunimi.sukunimi", "sv": "fornamn.efternamn", "en": "firstname.lastname"}[
        language
    ]
    return {
        "explicit": person.email,
        "pattern": f"{placeholder}@{domain}",
        "(at)": f"{local}(at){domain}",
        "[at]": f"{local}[at]{domain}",
        " at ": f"{local} at {domain}",
        "ät": f"{local} ät {domain}",
    }[style]


# How each pilot's contact is written, per language: (name order, e-mail style, phone label).
CONTACT_STYLE = {
    "fi": {
        "industry": ("tgf", "pattern", "puh."),
        "wellbeing": ("tf,g", "(at)", "p."),
        "bilingual": ("tfg", "explicit", "puh."),
        "rural": ("tgf", "[at]", "puh."),
        "tourism": ("tf,g", "explicit", "puh."),
        "arctic": ("tfg", "(at)", "puh."),
    },
    "sv": {
        "industry": ("tgf", "pattern", "tfn"),
        "wellbeing": ("tgf", "(at)", "tfn"),
        "bilingual": ("tgf", "ät", "tfn"),
        "rural": ("tf,g", "[at]", "tfn"),
        "tourism": ("tgf", "explicit", "tfn"),
        "arctic": ("tf,g", "explicit", "tfn"),
    },
    "en": {
        "industry": ("tgf", "pattern", "tel."),
        "wellbeing": ("tgf", "(at)", "tel."),
        "bilingual": ("tgf", " at ", "tel."),
        "rural": ("tgf", "[at]", "tel."),
        "tourism": ("tgf", "explicit", "tel."),
        "arctic": ("tgf", "[at]", "tel."),
    },
}


def _person(person: Person, language: str, order: str) -> str:
    title = person.titles.get(language, "")
    name = {
        "tgf": f"{person.given} {person.family}",
        "tfg": f"{person.family} {person.given}",
        "tf,g": f"{person.family}, {person.given}",
    }[order]
    return f"{title} {name}".strip()


def _pilot_contact(entry: PilotEntry, language: str) -> str:
    order, email, phone_label = CONTACT_STYLE[language][entry.key]
    person = entry.contact
    return (
        f"{_person(person, language, order)}, {_email(person, language, email)}, "
        f"{phone_label} {_phone(person, language)}"
    )


def _municipalities(entry: PilotEntry, language: str) -> str:
    names = [
        MUNICIPALITY_NAMES_SV.get(m, m) if language == "sv" else m for m in entry.municipalities
    ]
    joiner = {"fi": " ja ", "sv": " och ", "en": " and "}[language]
    return ", ".join(names[:-1]) + joiner + names[-1]


def _pilot_list(state: LanguageState, language: str, text: bool) -> str:
    ui = UI[language]
    e = escape
    if language == "fi" and not text:
        items = "".join(
            f"<li><strong>{e(p.themes['fi'])}</strong> – koordinaattorina "
            f"{e(p.coordinators['fi'])}. {ui['partners']}: {e(_municipalities(p, 'fi'))}. "
            f"{ui['contact']}: {e(_pilot_contact(p, 'fi'))}</li>\n"
            for p in state.pilots
        )
        return f'<ul class="pilotit">\n{items}</ul>'
    if language == "fi":
        return "\n".join(
            f"<p>Teema: {e(p.themes['fi'])}<br>\nKoordinaattori: {e(p.coordinators['fi'])}<br>\n"
            f"Kunnat: {e(_municipalities(p, 'fi'))}<br>\n"
            f"Yhteyshenkilö: {e(_pilot_contact(p, 'fi'))}</p>"
            for p in state.pilots
        )
    if language == "sv" and not text:
        rows = "".join(
            f"<tr><td>{e(p.themes['sv'])}</td><td>{e(p.coordinators['sv'])}</td>"
            f"<td>{e(_municipalities(p, 'sv'))}</td><td>{e(_pilot_contact(p, 'sv'))}</td></tr>\n"
            for p in state.pilots
        )
        return (
            '<table class="pilottabell" border="1">\n<tr><th>Tema</th><th>Samordnare</th>'
            f"<th>Kommuner</th><th>Kontaktperson</th></tr>\n{rows}</table>"
        )
    if language == "sv":
        items = "".join(
            f"<li>{e(p.themes['sv'])}, som samordnas av {e(p.coordinators['sv'])}. "
            f"Kommuner: {e(_municipalities(p, 'sv'))}. "
            f"Kontaktperson: {e(_pilot_contact(p, 'sv'))}</li>\n"
            for p in state.pilots
        )
        return f"<ul>\n{items}</ul>"
    if not text:
        return "\n".join(
            f"<p><strong>Theme:</strong> {e(p.themes['en'])}<br>\n"
            f"<strong>Coordinator:</strong> {e(p.coordinators['en'])}<br>\n"
            f"<strong>Partner municipalities:</strong> {e(_municipalities(p, 'en'))}<br>\n"
            f"<strong>Contact:</strong> {e(_pilot_contact(p, 'en'))}</p>"
            for p in state.pilots
        )
    items = "".join(
        f"<li>{e(p.themes['en'])}, coordinated by the {e(p.coordinators['en'])}. "
        f"Partner municipalities: {e(_municipalities(p, 'en'))}. "
        f"Contact: {e(_pilot_contact(p, 'en'))}</li>\n"
        for p in state.pilots
    )
    return f"<ul>\n{items}</ul>"


def further_information(language: str) -> str:
    e = escape
    ui = UI[language]
    if language == "fi":
        people = "".join(
            f"<p>{e(_person(p, 'fi', order))}<br>\npuh. {p.phone}</p>\n"
            for p, order in ((ALHO, "tfg"), (ANTTONEN, "tf,g"))
        )
    elif language == "sv":
        people = "".join(
            f"<p>{e(_person(p, 'sv', 'tgf'))}, tfn {p.phone}, {e(_email(p, 'sv', '(at)'))}</p>\n"
            for p in (ALHO, ANTTONEN)
        )
    else:
        people = "".join(
            f"<p>{e(_person(p, 'en', 'tgf'))}<br>\ntel. {_phone(p, 'en')}</p>\n"
            for p in (ALHO, ANTTONEN)
        )
    note = f"<p>{e(ui['email_note'])}</p>\n" if ui["email_note"] else ""
    return f'<div class="lisatietoja">\n<h3>{e(ui["more"])}</h3>\n{people}{note}</div>'


def _header(ref: PageRef, languages: dict[str, PageRef | None]) -> str:
    """The top bar: other languages, text or graphic version, sitemap, feedback, contacts."""
    ui = UI[ref.language]
    links = []
    for lang in ("fi", "sv", "en"):
        target = languages.get(lang)
        if lang != ref.language and target is not None:
            links.append(f'<a href="{escape(target.url)}" lang="{lang}">{LANGUAGE_LINK[lang]}</a>')
    other = PageRef(ref.language, ref.page_id, not ref.text)
    links.append(f'<a href="{escape(other.url)}">{ui["graphic" if ref.text else "text"]}</a>')
    for page_id, key in (
        (SITEMAP_ID, "sitemap"),
        (FEEDBACK_ID, "feedback"),
        (CONTACTS_ID, "contacts"),
    ):
        links.append(
            f'<a href="{escape(PageRef(ref.language, page_id, ref.text).url)}">{ui[key]}</a>'
        )
    search = f'<a href="/haku/?l={ref.language}">{ui["search"]}</a>'
    return (
        f'<div id="header">\n<div class="toplinks">{" | ".join(links)} {search}</div>\n'
        f'<div class="fontsize"><a href="javascript:void(0)">{ui["bigger"]}</a> '
        f'<a href="javascript:void(0)">{ui["smaller"]}</a></div>\n'
        f'<div class="logo">{escape(ui["ministry"])}</div>\n</div>'
    )


def _nav(language: str, text: bool) -> str:
    ui = UI[language]
    items = [
        (None, ui["front"]),
        (100, ui["regions"]),
        (101, ui["urban"]),
        (PILOTS_PAGE_ID, ui["pilots"]),
        (102, ui["growth"]),
    ]
    lis = "".join(
        f'<li><a href="{escape(PageRef(language, pid, text).url)}">{escape(label)}</a></li>'
        for pid, label in items
    )
    return f'<div id="leftnav"><ul>{lis}</ul></div>'


def page_html(
    ref: PageRef,
    title: str,
    body: str,
    updated: date | None,
    languages: dict[str, PageRef | None],
    *,
    charset: str,
    extra_head: str = "",
    aside: str = "",
) -> str:
    ui = UI[ref.language]
    footer = ""
    if updated is not None:
        footer = (
            f'<p class="paivitetty">{ui["updated"]}: {written_date(updated, ref.language)}</p>\n'
        )
    footer += f'<p class="tulosta"><a href="javascript:window.print()">{ui["print"]}</a></p>'
    footer += f"\n{aside}" if aside else ""
    head_meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
    if ref.text:
        return (
            f'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">\n'
            f'<html lang="{ref.language}"><head>{head_meta}\n<title>{escape(title)}</title>'
            f"{extra_head}</head>\n<body>\n{_header(ref, languages)}\n"
            f'<div id="content">\n<h1>{escape(title)}</h1>\n{body}\n{footer}\n</div>\n'
            "</body></html>\n"
        )
    return (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        f'<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="{ref.language}" '
        f'lang="{ref.language}">\n<head>\n{head_meta}\n'
        f"<title>{escape(title)} - {escape(ui['ministry'])}</title>\n"
        '<link rel="stylesheet" type="text/css" href="/css/tem.css" />\n'
        f"{extra_head}</head>\n<body>\n{_header(ref, languages)}\n"
        f'<div id="wrapper">\n{_nav(ref.language, False)}\n'
        f'<div id="content">\n<h1>{escape(title)}</h1>\n{body}\n{footer}\n</div>\n</div>\n'
        f'<div id="footer">{escape(ui["ministry"])} | PL 32, 00023 Valtioneuvosto</div>\n'
        "</body></html>\n"
    )


def pilots_body(
    state: LanguageState,
    language: str,
    text: bool,
    pilot_list: Callable[[LanguageState, str], str] | None = None,
    project: str = "seed",
) -> str:
    """The pilots page's article: the seed's paragraphs, the list of pilots (in this
    module's per-language forms unless a layout gives ``pilot_list``), the project in the
    phrasing ``project`` names (content.PROJECT_SENTENCES), the closing paragraphs."""
    n = len(state.pilots)
    fill = {"n_word": NUMBER_WORD[language][n], "m": state.municipality_count}
    paras = "".join(f"<p>{escape(p.format(**fill))}</p>\n\n" for p in INTRO[language])
    outro = "".join(f"<p>{escape(p.format(**fill))}</p>\n\n" for p in OUTRO[language])
    sentence = PROJECT_SENTENCES[project][language].format(contact=PROJECT_CONTACT[language])
    return (
        f"{paras}<h2>{escape(LIST_HEADING[language])}</h2>\n"
        f"<p>{escape(LIST_INTRO[language].format(**fill))}</p>\n"
        f"{pilot_list(state, language) if pilot_list else _pilot_list(state, language, text)}\n"
        f"<p>{escape(sentence)}</p>\n\n{outro}"
    )


def pilots_title(language: str) -> str:
    return UI[language]["pilots"]


def version_languages(version: SiteVersion, page_id: int | None, text: bool) -> dict:
    """Which language versions a page links to in this site version."""
    out: dict[str, PageRef | None] = {}
    for lang in ("fi", "sv", "en"):
        if page_id == PILOTS_PAGE_ID and lang not in version.pages:
            out[lang] = PageRef(lang, None, text)  # old CMS: falls back to the front page
        else:
            out[lang] = PageRef(lang, page_id, text)
    return out


def broken_pilots_page(
    layout: str,
    ref: PageRef,
    state: LanguageState,
    languages: dict[str, PageRef | None],
    *,
    charset: str,
) -> str:
    """The pilots page after a redesign (cards, unknown classes) or with no content at all."""
    language = ref.language
    ui = UI[language]
    title = pilots_title(language)
    header = _header(ref, languages).replace('id="header"', 'class="site-header"')
    if layout == "empty":
        return (
            f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="{charset}">'
            f"<title>{escape(title)}</title></head>\n<body>\n{header}\n"
            '<div id="wrapper"><div id="content"></div></div>\n</body></html>\n'
        )
    n = len(state.pilots)
    fill = {"n_word": NUMBER_WORD[language][n], "m": state.municipality_count}
    intro = "".join(f"<p>{escape(p.format(**fill))}</p>\n" for p in INTRO[language])
    outro = "".join(f"<p>{escape(p.format(**fill))}</p>\n" for p in OUTRO[language])
    cards = "".join(
        f'<div class="card"><h3 class="card-title">{escape(p.themes[language])}</h3>'
        f'<div class="card-body"><span class="org">{escape(p.coordinators[language])}</span>'
        f'<ul class="towns">{"".join(f"<li>{escape(m)}</li>" for m in p.municipalities)}</ul>'
        f'<div class="person">{escape(_person(p.contact, language, "tgf"))}</div></div></div>\n'
        for p in state.pilots
    )
    # The same people, phones and e-mail note as before, in the new markup.
    label = {"fi": "puh.", "sv": "tfn", "en": "tel."}[language]
    people = "".join(
        f'<dl class="person"><dt>{escape(_person(p, language, "tgf"))}</dt>'
        f"<dd>{label} {_phone(p, language)}</dd>"
        + (f"<dd>{escape(_email(p, language, '(at)'))}</dd>" if language == "sv" else "")
        + "</dl>\n"
        for p in (ALHO, ANTTONEN)
    )
    if ui["email_note"]:
        people += f'<p class="note">{escape(ui["email_note"])}</p>\n'
    return (
        f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="{charset}">'
        f"<title>{escape(title)}</title></head>\n<body>\n{header}\n"
        f'<div class="layout">{_nav(language, False).replace("leftnav", "sidebar")}\n'
        f'<article class="page-body">\n<h1>{escape(title)}</h1>\n<div class="lead">{intro}</div>\n'
        f'<section class="pilot-cards">\n{cards}</section>\n'
        f"<p>{escape(PROJECT[language])}</p>\n{outro}"
        f'<div class="meta">{ui["updated"]}: {written_date(state.updated, language)}</div>\n'
        f'<aside class="people"><h2>{escape(ui["more"])}</h2>\n{people}</aside>\n'
        "</article></div>\n</body></html>\n"
    )
