"""The site's layout: the page frame, its stylesheet, how text in a page's language is
marked, and where each kind of page lives. Every page of the site goes through
:func:`page_html`, so what belongs in every page's ``<head>`` is added in one place
(:func:`head_extras`)."""

import os
from html import escape
from pathlib import Path
from typing import Any

from pilotarchive.diff.render import ArchiveHref
from pilotarchive.export.temporal import Source

h = escape
GENERATOR = '<meta name="generator" content="pilotarchive">'
LANGUAGES = {"fi": "Finnish", "sv": "Swedish", "en": "English", "und": "language unknown"}
KINDS = {
    "pilot": "Pilots",
    "project": "Projects",
    "person": "Contact persons",
    "page": "Pages",
    "text": "Pages",
}
CSS = """body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em auto;
max-width:72em;padding:0 1em;color:#1b1b1b;line-height:1.4}a{color:#0b57a4}
nav{border-bottom:1px solid #ccc;padding-bottom:.4em;margin-bottom:1em}nav a{margin-right:1em}
h1{font-size:1.45em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}
h3{font-size:1.05em;margin-top:1.2em}table{border-collapse:collapse;width:100%;margin:.3em 0 1em}
td,th{border:1px solid #ddd;padding:.3em .5em;vertical-align:top;text-align:left}
th{background:#f3f3f3}.meta{color:#666;font-size:.88em}.healthy{color:#2e7d32}
.degraded,.damaged{color:#b26a00;font-weight:600}.current{font-weight:600}
.old{background:#fdecea}.new{background:#e8f5e9}.absent{color:#777;font-style:italic}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;white-space:pre-wrap}
.notice{background:#fff3cd;border:1px solid #e0b000;padding:.6em}code{font-size:.95em}
td .meta{font-weight:normal}
"""


def archive_page(snapshot_id: str, page_id: str) -> str:
    """Where the site shows one archived page, relative to the site's root."""
    return f"snapshots/{snapshot_id}/archive/{page_id}.html"


def archive_links(site: Path, base: Path) -> ArchiveHref:
    """Links from a page written in ``base`` to the archive views of the site in ``site``,
    for the pages the site has (None for the others)."""

    def href(ref: dict[str, Any], page_id: str) -> str | None:
        target = Path(site) / archive_page(ref["snapshot_id"], page_id)
        if not target.is_file():
            return None
        return Path(os.path.relpath(target.resolve(), Path(base).resolve())).as_posix()

    return href


def when(source: Source | None) -> str:
    return source.time.strftime("%Y-%m-%d %H:%M:%S UTC") if source and source.time else "?"


def t(text: Any, lang: str | None) -> str:
    """Page content in its own language."""
    value = "" if text is None else str(text)
    return f'<span lang="{h(lang)}">{h(value)}</span>' if lang and lang != "und" else h(value)


def head_extras(up: str) -> str:
    """What every page adds to its ``<head>`` after the stylesheet (``up``: the way from
    the page to the site's root, "" or "../.." and so on). Nothing yet: the place for a
    feed's ``<link rel="alternate">`` or any other link every page should carry, so that
    adding one touches this function only (the diff pages, made by ``diff.render``, have
    their own head)."""
    return ""


def page_frame(title: str, depth: int) -> tuple[str, str]:
    """What comes before a page's body and after it (a long page is written in pieces);
    ``depth``: how many folders below the site's root the page is written."""
    up = "../" * depth
    nav = (
        f'<nav><a href="{up}index.html">Snapshots</a><a href="{up}entities/index.html">'
        f'Pilots, persons and pages</a><a href="{up}downloads.html">Downloads</a></nav>'
    )
    before = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'{GENERATOR}<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{h(title)}</title><link rel="stylesheet" href="{up}style.css">'
        f"{head_extras(up)}</head>\n"
        f"<body>\n{nav}\n"
    )
    return before, "\n</body></html>\n"


def page_html(title: str, body: str, depth: int) -> str:
    """A page of the site: its frame, the navigation, and ``body``."""
    before, after = page_frame(title, depth)
    return before + body + after


def entity_file(entity: str) -> str:
    return f"entities/{entity}.html"


def diff_file(old: str, new: str) -> str:
    return f"diffs/{old}_{new}.html"
