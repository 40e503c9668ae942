"""What every layout of the replica shares: the parts of a page, the layout record, and the
site chrome (head, language menu, navigation, footer) the modern layouts draw alike."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from html import escape

from pilotarchive.replica.content import LanguageState
from pilotarchive.replica.render import LANGUAGE_LINK, UI, PageRef, _nav, written_date

LABELS = {  # field labels of a pilot entry, per language: coordinator, towns, contact
    "fi": ("Koordinaattori", "Kunnat", "Yhteyshenkilö"),
    "sv": ("Samordnare", "Kommuner", "Kontaktperson"),
    "en": ("Coordinator", "Municipalities", "Contact"),
}
UPDATED = {"fi": "Päivitetty", "sv": "Uppdaterad", "en": "Updated"}
PHONE_LABEL = {"fi": "puh.", "sv": "tfn", "en": "tel."}
SWITCHBOARD = {"fi": "vaihde", "sv": "växel", "en": "switchboard"}


@dataclass(frozen=True)
class PageParts:
    """What one graphic page says, for a layout to mark up."""

    ref: PageRef
    title: str
    body: str
    updated: date | None
    languages: dict[str, PageRef | None]
    charset: str
    extra_head: str = ""
    box: str = ""  # the further-information box, in the layout's markup (pilots pages)


@dataclass(frozen=True)
class Layout:
    name: str
    description: str
    text_versions: bool  # whether /text.phtml pages exist (and are linked)
    project: str  # which of content.PROJECT_SENTENCES the pilots page uses
    page: Callable[[PageParts], str]
    box: Callable[[str], str]
    pilot_list: Callable[[LanguageState, str], str] | None = None  # None: render.py's forms
    box_heading: dict[str, str] = field(default_factory=dict)


def head(parts: PageParts, doctype: str = "<!DOCTYPE html>") -> str:
    ui = UI[parts.ref.language]
    return (
        f'{doctype}\n<html lang="{parts.ref.language}">\n<head>\n'
        f'<meta http-equiv="Content-Type" content="text/html; charset={parts.charset}">\n'
        f"<title>{escape(parts.title)} - {escape(ui['ministry'])}</title>\n"
        '<link rel="stylesheet" type="text/css" href="/css/tem.css">\n'
        f"{parts.extra_head}</head>\n"
    )


def date_and_print(parts: PageParts) -> str:
    ui = UI[parts.ref.language]
    out = ""
    if parts.updated is not None:
        when = written_date(parts.updated, parts.ref.language)
        out = f'<p class="paivitetty">{ui["updated"]}: {when}</p>\n'
    return out + f'<p class="tulosta"><a href="javascript:window.print()">{ui["print"]}</a></p>'


def language_menu(parts: PageParts, only_existing: bool) -> str:
    """Language links with hreflang; ``only_existing`` leaves out a translation the page
    does not have (instead of linking to that language's front page)."""
    ref = parts.ref
    items = []
    for lang in ("fi", "sv", "en"):
        target = parts.languages.get(lang)
        if lang == ref.language or target is None:
            continue
        if only_existing and target.page_id != ref.page_id:
            continue
        items.append(
            f'<li><a href="{escape(target.url)}" hreflang="{lang}" lang="{lang}">'
            f"{LANGUAGE_LINK[lang]}</a></li>"
        )
    return "".join(items)


def modern_nav(language: str) -> str:
    return _nav(language, False).replace('<div id="leftnav">', "").replace("</div>", "")


def site_footer(language: str, attrs: str) -> str:
    ui = UI[language]
    return (
        f"<footer {attrs}><h2>{escape(ui['contacts'])}</h2><p>{escape(ui['ministry'])}, "
        f"PL 32, 00023 Valtioneuvosto, {SWITCHBOARD[language]} 029 506 0000</p></footer>"
    )
