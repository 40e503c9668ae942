"""Three layouts of a later ministry portal, none of them in the markup the 2014 page used.

A site that spans years is rebuilt more than once; these are the shapes its pilots page
takes after a CMS migration, each realistic and each saying the same facts (content.py):

- ``portal``: an accordion. Each pilot is a collapsible panel whose title is a toggle link
  (``<a href="#..." aria-expanded>``); the panel holds a small table of labelled rows
  (``<th scope="row">Koordinaattori</th><td>...``). The ministry's persons are a table
  with column headers (Nimi, Nimike, Puhelin, Sähköposti), family name first in Finnish;
  phones are ``tel:`` links without a label, e-mails obfuscated in a different way per
  language (``(at)``/``(dot)``, ``[at]``/``[dot]``, ``" at "``).
- ``details``: a ``details``/``summary`` per pilot; the coordinator is stated in a sentence
  ("Pilottia koordinoi Raahen kaupunki."), the other fields as "Label: value" lines with
  the title after the name; e-mails behind ``mailto:`` links whose text is a word
  ("sähköposti"). The persons are cards of lines: name, title, ``tel:`` link, e-mail.
- ``tabs``: a tab list of buttons and one ``role="tabpanel"`` per pilot, titled only by
  ``aria-labelledby`` (the button stands elsewhere), its fields in a two-column grid of
  ``div``s without colons ("Vastuutaho" | "Raahen kaupunki"), the towns as a list; the
  persons as a card grid, each card ``aria-labelledby`` its name, e-mails as the
  ``etunimi.sukunimi@`` pattern or ``[at]``/``[dot]``.

Every one has site chrome that must never become a record: a header with menus, a news
list beside the article, and a footer with the ministry's own address and switchboard.
"""

from html import escape

from pilotarchive.replica.content import FURTHER_INFORMATION, LanguageState, Person, PilotEntry
from pilotarchive.replica.markup import (
    Layout,
    PageParts,
    head,
    language_menu,
    modern_nav,
    site_footer,
)
from pilotarchive.replica.render import (
    UI,
    _email,
    _municipalities,
    _person,
    _phone,
    written_date,
)

e = escape
MODIFIED = {"fi": "Muokattu", "sv": "Ändrad", "en": "Last modified"}
NEWS = {  # a news list beside the article: chrome, not the page's facts
    "fi": ("Ajankohtaista", "Kasvusopimusten seuranta alkaa", "Kaupunkipolitiikan ohjelma"),
    "sv": ("Aktuellt", "Uppföljningen av tillväxtavtalen inleds", "Det stadspolitiska programmet"),
    "en": ("News", "Monitoring of growth agreements begins", "The urban policy programme"),
}


def _tel(person: Person, language: str) -> str:
    """A ``tel:`` link whose text is the number as the page writes it, with no label."""
    number = "+358" + person.phone[1:].replace(" ", "")
    return f'<a href="tel:{number}">{_phone(person, language)}</a>'


def _news(language: str) -> str:
    heading, first, second = NEWS[language]
    return (
        f'<aside class="news" aria-label="{e(heading)}"><h2>{e(heading)}</h2>\n<ul>'
        f'<li><a href="/index.phtml?s=102&amp;l={language}">{e(first)}</a> '
        "<span>12.11.2014</span></li>"
        f'<li><a href="/index.phtml?s=101&amp;l={language}">{e(second)}</a> '
        "<span>3.10.2014</span></li></ul></aside>"
    )


def _portal_page(parts: PageParts, shell: str) -> str:
    """The portal's chrome around the article: the same in the three layouts, but for the
    class of the wrapper."""
    ref, ui = parts.ref, UI[parts.ref.language]
    language = ref.language
    modified = ""
    if parts.updated is not None:
        modified = (
            f'<div class="article-meta"><span class="label">{MODIFIED[language]}</span> '
            f'<time datetime="{parts.updated.isoformat()}">'
            f"{written_date(parts.updated, language)}</time></div>\n"
        )
    footer = site_footer(language, 'class="region-footer"')
    return (
        f'{head(parts)}<body class="{shell}">\n'
        f'<a class="skip-links" href="#main-content">{e(ui["pilots"])}</a>\n'
        '<header class="region-header">\n'
        f'<ul class="language-switcher">{language_menu(parts, True)}</ul>\n'
        f'<div class="site-name">{e(ui["ministry"])}</div>\n'
        f'<nav class="main-menu" aria-label="menu">{modern_nav(language)}</nav>\n</header>\n'
        '<div class="layout-container">\n<main id="main-content" class="layout-main">\n'
        f'<div class="article">\n<h1 class="page-title">{e(parts.title)}</h1>\n{modified}'
        f"{parts.body}\n</div>\n{parts.box}\n</main>\n{_news(language)}\n</div>\n"
        f"{footer}\n</body></html>\n"
    )


# -- portal: accordion panels with labelled tables ---------------------------------------

ACCORDION_LABELS = {
    "fi": ("Koordinaattori", "Kunnat", "Yhteyshenkilö"),
    "sv": ("Samordnare", "Kommuner", "Kontaktperson"),
    "en": ("Coordinator", "Municipalities", "Contact person"),
}
# Each language obfuscates the addresses its own way, as editors of one site do.
OBFUSCATED = {"fi": ("(at)", "(dot)"), "sv": ("[at]", "[dot]"), "en": (" at ", ".")}


def _obfuscated(person: Person, language: str) -> str:
    at, dot = OBFUSCATED[language]
    local, domain = person.email.split("@")
    return f"{local}{at}{domain.replace('.', dot)}"


def _accordion_contact(person: Person, language: str) -> str:
    order = "tfg" if language == "fi" else "tgf"
    return (
        f"{e(_person(person, language, order))}<br>\n{_tel(person, language)}<br>\n"
        f"{e(_obfuscated(person, language))}"
    )


def _accordion_pilots(state: LanguageState, language: str) -> str:
    coordinator, towns, contact = ACCORDION_LABELS[language]
    items = []
    for n, p in enumerate(state.pilots, 1):
        panel = f"pilot-{n}"
        items.append(
            '<div class="accordion__item">\n<h3 class="accordion__heading">'
            f'<a class="accordion__toggle" href="#{panel}" role="button" aria-expanded="false" '
            f'aria-controls="{panel}">{e(p.themes[language])}</a></h3>\n'
            f'<div class="accordion__panel" id="{panel}" hidden>\n<table class="facts">\n'
            f'<tr><th scope="row">{coordinator}</th><td>{e(p.coordinators[language])}</td></tr>\n'
            f'<tr><th scope="row">{towns}</th><td>{e(_municipalities(p, language))}</td></tr>\n'
            f'<tr><th scope="row">{contact}</th>'
            f"<td>{_accordion_contact(p.contact, language)}</td></tr>\n"
            "</table>\n</div>\n</div>\n"
        )
    return f'<div class="accordion">\n{"".join(items)}</div>'


PERSON_COLUMNS = {
    "fi": ("Nimi", "Nimike", "Puhelin", "Sähköposti"),
    "sv": ("Namn", "Titel", "Telefon", "E-post"),
    "en": ("Name", "Title", "Phone", "E-mail"),
}
PERSONS_HEADING = {"fi": "Yhteystiedot", "sv": "Kontaktuppgifter", "en": "Contact information"}


def _person_table(language: str) -> str:
    """The ministry's persons by column; Finnish writes the family name first, English
    with a comma ("Alho, Olli")."""
    columns = "".join(f'<th scope="col">{c}</th>' for c in PERSON_COLUMNS[language])
    name = {"fi": "{f} {g}", "sv": "{g} {f}", "en": "{f}, {g}"}[language]
    rows = "".join(
        f"<tr><td>{e(name.format(f=p.family, g=p.given))}</td><td>{e(p.titles[language])}</td>"
        f"<td>{_tel(p, language)}</td><td>{e(_obfuscated(p, language))}</td></tr>\n"
        for p in FURTHER_INFORMATION
    )
    return (
        f'<section class="contact-table">\n<h2>{PERSONS_HEADING[language]}</h2>\n'
        f"<table>\n<thead><tr>{columns}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n"
        "</section>"
    )


# -- details: details/summary, a sentence and "Label: value" lines ------------------------

DETAILS_SENTENCE = {
    "fi": "Pilottia koordinoi {c}.",
    "sv": "Pilotprojektet samordnas av {c}.",
    "en": "The pilot is coordinated by the {c}.",
}
DETAILS_LABELS = {
    "fi": ("Kunnat", "Yhteyshenkilö", "sähköposti"),
    "sv": ("Kommuner", "Kontaktperson", "e-post"),
    "en": ("Municipalities", "Contact person", "e-mail"),
}


def _mailto(person: Person, text: str) -> str:
    return f'<a href="mailto:{person.email}">{e(text)}</a>'


def _details_pilots(state: LanguageState, language: str) -> str:
    towns, contact, mail = DETAILS_LABELS[language]
    return "".join(
        f'<details class="pilot">\n<summary>{e(p.themes[language])}</summary>\n'
        f"<p>{e(DETAILS_SENTENCE[language].format(c=p.coordinators[language]))}</p>\n"
        f"<p><b>{towns}:</b> {e(_municipalities(p, language))}</p>\n"
        f"<p><b>{contact}:</b> {e(p.contact.given)} {e(p.contact.family)}, "
        f"{e(p.contact.titles[language])}, {_tel(p.contact, language)}, "
        f"{_mailto(p.contact, mail)}</p>\n</details>\n"
        for p in state.pilots
    )


DETAILS_BOX = {"fi": "Lisätietoja", "sv": "Mer information", "en": "Further information"}


def _details_box(language: str) -> str:
    """Person cards of lines: the name, the title under it, a ``tel:`` link, the e-mail as
    ``(at)`` with spaces (fi, en) or a ``mailto:`` link that says only "e-post" (sv)."""
    people = []
    for p in FURTHER_INFORMATION:
        mail = (
            _mailto(p, DETAILS_LABELS[language][2])
            if language == "sv"
            else e(p.email.replace("@", " (at) "))
        )
        people.append(
            f'<div class="person">\n<p class="person__name"><strong>{e(p.given)} '
            f"{e(p.family)}</strong></p>\n<p>{e(p.titles[language])}</p>\n"
            f"<p>{_tel(p, language)}</p>\n<p>{mail}</p>\n</div>\n"
        )
    return (
        f'<section class="persons">\n<h2>{DETAILS_BOX[language]}</h2>\n{"".join(people)}</section>'
    )


# -- tabs: tab panels titled by aria-labelledby, a two-column grid, person cards -------

TAB_LABELS = {
    "fi": ("Vastuutaho", "Mukana olevat kunnat", "Yhteyshenkilö"),
    "sv": ("Huvudman", "Deltagande kommuner", "Kontaktperson"),
    "en": ("Lead", "Participating municipalities", "Contact person"),
}
TAB_EMAIL = {"fi": "pattern", "sv": "[at]", "en": "explicit"}


def _grid_row(label: str, value: str) -> str:
    return (
        f'<div class="field"><div class="field__label">{label}</div>'
        f'<div class="field__value">{value}</div></div>\n'
    )


def _tab_contact(entry: PilotEntry, language: str) -> str:
    person = entry.contact
    first, second = (
        (person.family, person.given) if language == "fi" else (person.given, person.family)
    )
    name = f"{first} {second}"
    address = _email(person, language, TAB_EMAIL[language])
    if language == "sv":
        address = address.replace(".fi", "[dot]fi")
    return (
        f"{e(name)}<br>\n{e(person.titles[language])}<br>\n{_tel(person, language)}<br>\n"
        f"{e(address)}"
    )


def _tab_pilots(state: LanguageState, language: str) -> str:
    lead, towns, contact = TAB_LABELS[language]
    tabs = "".join(
        f'<button role="tab" id="tab-{p.key}" aria-controls="panel-{p.key}" '
        f'aria-selected="{"true" if n == 0 else "false"}">{e(p.themes[language])}</button>\n'
        for n, p in enumerate(state.pilots)
    )
    panels = "".join(
        f'<div role="tabpanel" id="panel-{p.key}" aria-labelledby="tab-{p.key}"'
        f'{"" if n == 0 else " hidden"}>\n<div class="field-grid">\n'
        + _grid_row(lead, e(p.coordinators[language]))
        + _grid_row(
            towns,
            "<ul>" + "".join(f"<li>{e(t)}</li>" for t in _towns(p, language)) + "</ul>",
        )
        + _grid_row(contact, _tab_contact(p, language))
        + "</div>\n</div>\n"
        for n, p in enumerate(state.pilots)
    )
    label = UI[language]["pilots"]
    return (
        f'<div class="tabs">\n<div role="tablist" aria-label="{e(label)}">\n{tabs}</div>\n'
        f"{panels}</div>"
    )


def _towns(entry: PilotEntry, language: str) -> list[str]:
    joined = _municipalities(entry, language)
    last = {"fi": " ja ", "sv": " och ", "en": " and "}[language]
    head, _, tail = joined.rpartition(last)
    return [*head.split(", "), tail]


CARDS_HEADING = {"fi": "Lisätietoja antavat", "sv": "Kontaktpersoner", "en": "Contacts"}


def _card_box(language: str) -> str:
    """A grid of person cards, each labelled by its name's heading; a page-level e-mail
    note in Finnish, ``[at]``/``[dot]`` in Swedish, ``mailto:`` links in English."""
    cards = []
    for p in FURTHER_INFORMATION:
        ident = f"person-{p.family.lower()}"
        if language == "fi":
            mail = ""
        elif language == "sv":
            mail = f"<p>{e(p.email.replace('@', '[at]').replace('.fi', '[dot]fi'))}</p>"
        else:
            mail = f"<p>{_mailto(p, 'Send e-mail')}</p>"
        cards.append(
            f'<li class="card" aria-labelledby="{ident}">\n'
            f'<h3 id="{ident}" class="card__title">{e(p.given)} {e(p.family)}</h3>\n'
            f"<p>{e(p.titles[language])}</p>\n<p>{_tel(p, language)}</p>\n{mail}\n</li>\n"
        )
    note = UI[language]["email_note"] if language == "fi" else ""
    return (
        f'<section class="people" aria-labelledby="people-heading">\n'
        f'<h2 id="people-heading">{CARDS_HEADING[language]}</h2>\n'
        f'<ul class="card-grid">\n{"".join(cards)}</ul>\n'
        + (f"<p>{e(note)}</p>\n" if note else "")
        + "</section>"
    )


PORTAL_LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (
        Layout(
            "portal",
            "Portal after a CMS migration: accordion panels titled by toggle links, a "
            "labelled table per pilot, persons in a table with column headers, tel: links, "
            "e-mails obfuscated as (at)/(dot), [at]/[dot] and ' at '; no text versions.",
            text_versions=False,
            project="next-sentence",
            page=lambda parts: _portal_page(parts, "portal"),
            box=_person_table,
            pilot_list=_accordion_pilots,
        ),
        Layout(
            "details",
            "details/summary per pilot, the coordinator in a sentence, 'Label: value' lines "
            "with the title after the name, mailto: links worded 'sähköposti', person cards "
            "of lines; no text versions.",
            text_versions=False,
            project="coordinator-role",
            page=lambda parts: _portal_page(parts, "details"),
            box=_details_box,
            pilot_list=_details_pilots,
        ),
        Layout(
            "tabs",
            "Tab panels titled only by aria-labelledby, fields in a two-column grid of divs "
            "without colons, towns as a list, persons as a card grid; no text versions.",
            text_versions=False,
            project="seed",
            page=lambda parts: _portal_page(parts, "tabs"),
            box=_card_box,
            pilot_list=_tab_pilots,
        ),
    )
}
