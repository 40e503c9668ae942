"""The same content under several markups: the layouts a crawl of the real site may meet.

The real page will not look like our replica, so the replica serves its content in more
than one markup and the extraction is scored on each (bench/accuracy.py):

- ``table`` (default): the 2014 table layout. Navigation in a left cell, the article in
  the middle cell, the "Lisätietoja:" box in a right-hand side column: outside the content
  area, as on the real page (the seed's "Lisätietoja:" comes after "Tulosta sivu").
- ``div``: a div layout with the box right after the print link, after the article's
  container, with no container of its own.
- ``2016``: a 2016-style redesign (portlets, a heading per pilot with labelled lines, the
  box in a sidebar portlet, names before titles), no text versions.
- ``cms``: a modern CMS (``header``/``main``/``article``/``aside``/``footer``, a definition
  list per pilot, schema.org ``Person`` microdata, ``hreflang`` alternates only for the
  translations that exist), no text versions.

Every layout says the same facts (content.py); each phrases the separate project in
another of the ways ministry writers do (``content.PROJECT_SENTENCES``). The text versions
(``/text.phtml``) are served in the 2014 layouts and keep their own plain markup. The
broken site versions (``2014-11-19-redesign``, ``-empty``) stay broken in every layout.
"""

from html import escape

from pilotarchive.replica.content import FURTHER_INFORMATION, LanguageState, Person
from pilotarchive.replica.markup import (
    LABELS,
    PHONE_LABEL,
    UPDATED,
    Layout,
    PageParts,
    date_and_print,
    head,
    language_menu,
    modern_nav,
    site_footer,
)
from pilotarchive.replica.portals import PORTAL_LAYOUTS
from pilotarchive.replica.render import (
    UI,
    _email,
    _header,
    _municipalities,
    _nav,
    _person,
    _phone,
    _pilot_contact,
    written_date,
)

__all__ = ["DEFAULT_LAYOUT", "LAYOUTS", "Layout", "PageParts"]
DEFAULT_LAYOUT = "table"


def _classic_people(language: str) -> str:
    """The persons as the 2014 page wrote them, each language its own way."""
    e = escape
    ui = UI[language]
    alho, anttonen = FURTHER_INFORMATION
    if language == "fi":
        people = "".join(
            f"<p>{e(_person(p, 'fi', order))}<br>\npuh. {p.phone}</p>\n"
            for p, order in ((alho, "tfg"), (anttonen, "tf,g"))
        )
    elif language == "sv":
        people = "".join(
            f"<p>{e(_person(p, 'sv', 'tgf'))}, tfn {p.phone}, {e(_email(p, 'sv', '(at)'))}</p>\n"
            for p in FURTHER_INFORMATION
        )
    else:
        people = "".join(
            f"<p>{e(_person(p, 'en', 'tgf'))}<br>\ntel. {_phone(p, 'en')}</p>\n"
            for p in FURTHER_INFORMATION
        )
    note = f"<p>{e(ui['email_note'])}</p>\n" if ui["email_note"] else ""
    return people + note


# -- 2014: the table layout (default) ---------------------------------------------------


def _table_box(language: str) -> str:
    heading = escape(UI[language]["more"])
    return f'<div class="laatikko">\n<h3>{heading}</h3>\n{_classic_people(language)}</div>'


def _table_page(parts: PageParts) -> str:
    ref, ui = parts.ref, UI[parts.ref.language]
    doctype = '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">'
    side = f'<td id="oikea" valign="top" width="200">\n{parts.box}\n</td>' if parts.box else ""
    return (
        f"{head(parts, doctype)}<body>\n"
        '<table id="sivu" width="980" cellspacing="0" cellpadding="0" border="0">\n'
        f'<tr><td colspan="3">{_header(ref, parts.languages)}</td></tr>\n'
        f'<tr><td id="vasen" valign="top" width="180">{_nav(ref.language, False)}</td>\n'
        f'<td id="content" valign="top">\n<h1>{escape(parts.title)}</h1>\n{parts.body}\n'
        f"{date_and_print(parts)}\n</td>\n{side}</tr>\n"
        f'<tr><td colspan="3"><div id="footer">{escape(ui["ministry"])} | PL 32, 00023 '
        "Valtioneuvosto</div></td></tr>\n</table>\n</body></html>\n"
    )


# -- 2014: the div layout, the box after the print link ----------------------------------


def _div_box(language: str) -> str:
    heading = escape(UI[language]["more"])
    return f'<p class="otsikko"><strong>{heading}</strong></p>\n{_classic_people(language)}'


def _div_page(parts: PageParts) -> str:
    ref, ui = parts.ref, UI[parts.ref.language]
    doctype = (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">'
    )
    return (
        f"{head(parts, doctype)}<body>\n{_header(ref, parts.languages)}\n"
        f'<div id="wrapper">\n{_nav(ref.language, False)}\n'
        f'<div id="content">\n<h1>{escape(parts.title)}</h1>\n{parts.body}\n'
        f"{date_and_print(parts)}\n</div>\n{parts.box}</div>\n"
        f'<div id="footer">{escape(ui["ministry"])} | PL 32, 00023 Valtioneuvosto</div>\n'
        "</body></html>\n"
    )


# -- a 2016-style redesign ---------------------------------------------------------------


def _headed_pilots(state: LanguageState, language: str) -> str:
    """A heading per pilot, its fields as labelled lines."""
    coordinator, towns, contact = LABELS[language]
    return "".join(
        f"<h3>{escape(p.themes[language])}</h3>\n"
        f"<p>{coordinator}: {escape(p.coordinators[language])}<br>\n"
        f"{towns}: {escape(_municipalities(p, language))}<br>\n"
        f"{contact}: {escape(_pilot_contact(p, language))}</p>\n"
        for p in state.pilots
    )


def _name_first(person: Person, language: str) -> str:
    return (
        f"<p><strong>{escape(person.given)} {escape(person.family)}</strong><br>\n"
        f"{escape(person.titles[language])}<br>\n{PHONE_LABEL[language]} "
        f"{_phone(person, language)}"
        + (f"<br>\n{escape(_email(person, language, '(at)'))}" if language == "sv" else "")
        + "</p>\n"
    )


def _portlet_box(language: str) -> str:
    ui = UI[language]
    heading = {"fi": "Lisätietoja antavat", "sv": "Mer information", "en": "More information"}
    people = "".join(_name_first(p, language) for p in FURTHER_INFORMATION)
    note = f"<p>{escape(ui['email_note'])}</p>\n" if ui["email_note"] else ""
    return (
        '<div class="portlet">\n<div class="portlet-topper"><h2 class="portlet-title">'
        f"<span>{heading[language]}</span></h2></div>\n"
        f'<div class="portlet-content">\n{people}{note}</div>\n</div>'
    )


def _2016_page(parts: PageParts) -> str:
    ref, ui = parts.ref, UI[parts.ref.language]
    language = ref.language
    date_line = ""
    if parts.updated is not None:
        date_line = (
            f'<p class="article-date">{UPDATED[language]} '
            f"{written_date(parts.updated, language)}</p>\n"
        )
    footer = site_footer(language, 'class="site-footer"')
    return (
        f'{head(parts)}<body>\n<header class="site-header">\n'
        f'<ul class="language-menu">{language_menu(parts, False)}</ul>\n'
        f'<div class="logo">{escape(ui["ministry"])}</div>\n'
        f'<nav class="main-nav">{modern_nav(language)}</nav>\n</header>\n'
        '<div class="container"><div class="row">\n<div class="col-md-8">\n'
        '<div class="portlet-body journal-content-article" role="main">\n'
        f"<h1>{escape(parts.title)}</h1>\n{parts.body}\n{date_line}</div>\n</div>\n"
        f'<div class="col-md-4">\n{parts.box}\n</div>\n</div></div>\n'
        f"{footer}\n</body></html>\n"
    )


# -- a modern CMS: main, article, aside, microdata ---------------------------------------


def _microdata_person(person: Person, language: str) -> str:
    return (
        '<li itemscope itemtype="https://schema.org/Person">'
        f'<span itemprop="jobTitle">{escape(person.titles[language])}</span> '
        f'<span itemprop="name">{escape(person.given)} {escape(person.family)}</span><br>\n'
        f'<a itemprop="telephone" href="tel:+358{person.phone[1:].replace(" ", "")}">'
        f"{_phone(person, language)}</a><br>\n"
        f'<a itemprop="email" href="mailto:{person.email}">{escape(person.email)}</a></li>\n'
    )


def _cms_box(language: str) -> str:
    heading = {"fi": "Yhteyshenkilöt", "sv": "Kontaktpersoner", "en": "Contacts"}
    people = "".join(_microdata_person(p, language) for p in FURTHER_INFORMATION)
    return (
        f'<aside class="contacts" aria-labelledby="yhteyshenkilot">\n'
        f'<h2 id="yhteyshenkilot">{heading[language]}</h2>\n<ul class="people">\n{people}</ul>\n'
        "</aside>"
    )


def _dl_pilots(state: LanguageState, language: str) -> str:
    """A section per pilot: its theme as heading, its fields as a definition list, its
    contact with schema.org Person microdata around the written contact line."""
    coordinator, towns, contact = LABELS[language]
    return "".join(
        f'<section class="pilot">\n<h3>{escape(p.themes[language])}</h3>\n<dl>\n'
        f"<dt>{coordinator}</dt><dd>{escape(p.coordinators[language])}</dd>\n"
        f"<dt>{towns}</dt><dd>{escape(_municipalities(p, language))}</dd>\n"
        f'<dt>{contact}</dt><dd itemscope itemtype="https://schema.org/Person">'
        f"{escape(_pilot_contact(p, language))}</dd>\n</dl>\n</section>\n"
        for p in state.pilots
    )


def _cms_page(parts: PageParts) -> str:
    ref, ui = parts.ref, UI[parts.ref.language]
    language = ref.language
    alternates = "".join(
        f'<link rel="alternate" hreflang="{lang}" href="{escape(target.url)}">\n'
        for lang, target in parts.languages.items()
        if target is not None and target.page_id == ref.page_id
    )
    meta = ""
    if parts.updated is not None:
        when = written_date(parts.updated, language)
        meta = (
            f'<p class="meta">{UPDATED[language]} '
            f'<time datetime="{parts.updated.isoformat()}">{when}</time></p>\n'
        )
    page_head = head(PageParts(**{**parts.__dict__, "extra_head": parts.extra_head + alternates}))
    footer = site_footer(language, 'role="contentinfo"')
    return (
        f'{page_head}<body>\n<a class="skip-link" href="#main">{escape(ui["pilots"])}</a>\n'
        '<header role="banner">\n'
        f'<nav class="language-switcher" aria-label="{language}"><ul>'
        f"{language_menu(parts, True)}</ul></nav>\n"
        f'<p class="logo">{escape(ui["ministry"])}</p>\n'
        f'<nav aria-label="menu">{modern_nav(language)}</nav>\n</header>\n'
        f'<div class="page">\n<main id="main">\n<article>\n<header>\n'
        f"<h1>{escape(parts.title)}</h1>\n{meta}</header>\n{parts.body}\n</article>\n"
        f"{parts.box}\n</main>\n</div>\n"
        f"{footer}\n</body></html>\n"
    )


LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (
        Layout(
            "table",
            "2014 table layout: the 'Lisätietoja:' box in a right-hand side column, outside "
            "the content cell, as on the real page (default).",
            text_versions=True,
            project="seed",
            page=_table_page,
            box=_table_box,
        ),
        Layout(
            "div",
            "2014 div layout: the box right after the print link, after the content's "
            "container, with no container of its own.",
            text_versions=True,
            project="next-sentence",
            page=_div_page,
            box=_div_box,
        ),
        Layout(
            "2016",
            "2016-style redesign: portlets, a heading per pilot with labelled lines, the box "
            "in a sidebar portlet with names before titles; no text versions.",
            text_versions=False,
            project="coordinator-role",
            page=_2016_page,
            box=_portlet_box,
            pilot_list=_headed_pilots,
        ),
        Layout(
            "cms",
            "Modern CMS: main/article/aside, a definition list per pilot, schema.org Person "
            "microdata, hreflang alternates only for existing translations; no text versions.",
            text_versions=False,
            project="theme-and-responsible",
            page=_cms_page,
            box=_cms_box,
            pilot_list=_dl_pilots,
        ),
    )
}
LAYOUTS.update(PORTAL_LAYOUTS)  # the later portal's layouts (portals.py)
