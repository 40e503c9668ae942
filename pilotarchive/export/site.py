"""``build_site``: the archive as a static site of plain HTML and CSS.

Anyone can read it from ``file://`` or any static server: no JavaScript, no external
assets, one stylesheet in the site. Pages:

- ``index.html``: every snapshot with its time, health and counts;
- ``snapshots/<id>/index.html``: a snapshot's pages and records by language;
- ``snapshots/<id>/archive/<page id>.html``: one archived page as it was fetched (its WARC
  record, the text read from it and its HTML source, escaped); the diffs link here;
- ``diffs/<old>_<new>.html``: the HTML diff of each pair of consecutive healthy snapshots;
- ``entities/index.html`` and ``entities/<entity id>.html``: each pilot, person and page
  family with its versions in every language and the changes that made them;
- ``downloads.html``: the dataset files, the WACZ packages and the WARC files with size
  and sha256, linked where they are (relative links, so keep the site beside them, as
  ``output/site`` is, or serve the output folder with ``pilotarchive serve``).

Page content carries its own language (``lang``); the site's labels are English. A page
is written only when its bytes change, and a page depends only on what it shows (a
snapshot page on its snapshot, a diff on its pair), so rebuilding after one more snapshot
adds its pages and rewrites the index pages and the timelines of the entities it changed,
nothing else.
"""

import json
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from pilotarchive import __version__
from pilotarchive.archive.read import original_of
from pilotarchive.archive.snapshot import (
    ANY_TARGET,
    os_error,
    refuse_inside_snapshots,
    sha256_file,
    write_atomic,
)
from pilotarchive.diff.render import ArchiveHref, render_html, show
from pilotarchive.exceptions import PilotarchiveError, UsageError
from pilotarchive.export.feed import with_feed_links, write_feeds
from pilotarchive.export.identity import identity
from pilotarchive.export.marker import MARKER, absolute, check_ours, marker_bytes
from pilotarchive.export.temporal import Dataset, Source, build

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


@dataclass
class SiteResult:
    path: Path
    written: list[str] = field(default_factory=list)  # new or changed, relative paths
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    dataset: Dataset | None = None


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


def _when(source: Source | None) -> str:
    return source.time.strftime("%Y-%m-%d %H:%M:%S UTC") if source and source.time else "?"


def _t(text: Any, lang: str | None) -> str:
    """Page content in its own language."""
    value = "" if text is None else str(text)
    return f'<span lang="{h(lang)}">{h(value)}</span>' if lang and lang != "und" else h(value)


def _html(title: str, body: str, depth: int) -> str:
    up = "../" * depth
    nav = (
        f'<nav><a href="{up}index.html">Snapshots</a><a href="{up}entities/index.html">'
        f'Pilots, persons and pages</a><a href="{up}downloads.html">Downloads</a></nav>'
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'{GENERATOR}<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{h(title)}</title><link rel="stylesheet" href="{up}style.css"></head>\n'
        f"<body>\n{nav}\n{body}\n</body></html>\n"
    )


def _entity_file(entity: str) -> str:
    return f"entities/{entity}.html"


def _diff_file(old: str, new: str) -> str:
    return f"diffs/{old}_{new}.html"


class _Writer:
    """Writes a file only when its bytes change, and remembers every file of the site."""

    def __init__(self, root: Path, result: SiteResult) -> None:
        self.root, self.result = root, result
        self.made: set[str] = set()

    def put(self, rel: str, text: str) -> None:
        self.made.add(rel)
        path = self.root / rel
        data = with_feed_links(rel, text).encode("utf-8")
        try:
            if path.is_file() and path.read_bytes() == data:
                self.result.unchanged += 1
                return
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PilotarchiveError(f"cannot write {path}: {exc.strerror}") from exc
        write_atomic(path, data)
        self.result.written.append(rel)

    def prune(self, written_before: set[str] | None) -> None:
        """Remove pages of the site that are no longer made (a snapshot deleted): only pages
        the last build says it wrote (``written_before``; a site of a release before that
        list: its pages under the three folders), never a file someone else put there."""
        for sub in ("snapshots", "diffs", "entities"):
            for path in sorted((self.root / sub).rglob("*.html")):
                rel = path.relative_to(self.root).as_posix()
                ours = written_before is None or rel in written_before
                if rel not in self.made and ours:
                    path.unlink()
                    self.result.removed.append(rel)


# -- pages -----------------------------------------------------------------------------------


def _index(data: Dataset, source_url: str) -> str:
    used = {s.id for s in data.used}
    previous: dict[str, str] = {}
    last = None
    for s in data.used:
        if last:
            previous[s.id] = last
        last = s.id
    rows = []
    for s in reversed(data.sources):
        counts = (s.info.manifest.get("counts") or {}) if not s.info.damaged else {}
        n = {k: (counts.get(k) or {}).get("total", "") for k in ("page", "pilot", "contact")}
        readable = s.health != "damaged"
        name = (
            f'<a href="snapshots/{h(s.id)}/index.html">{h(_when(s))}</a>'
            if readable
            else h(_when(s))
        )
        change = ""
        if s.id in previous:
            change = f'<a href="{_diff_file(previous[s.id], s.id)}">changes</a>'
        elif s.id in used and s is data.used[0]:
            change = "first"
        note = "" if s.used else f'<div class="meta">{h(s.note or "")}</div>'
        rows.append(
            f'<tr><td>{name}<div class="meta">{h(s.id)}</div></td>'
            f"<td>{h(s.info.manifest.get('origin') or '')}</td>"
            f'<td class="{h(s.health)}">{h(s.health)}{note}</td>'
            f"<td>{n['page']}</td><td>{n['pilot']}</td><td>{n['contact']}</td>"
            f"<td>{change}</td></tr>"
        )
    newest = data.newest
    body = (
        "<h1>Pilots for developing regional towns: the archive</h1>"
        f"<p>Snapshots of <code>{h(source_url)}</code> (the Ministry of Employment and the "
        "Economy's page on the regional town pilots) in Finnish, Swedish and English, newest "
        "first. Degraded snapshots (an extraction problem, not a change of the site) are "
        "listed but are not compared or used as versions.</p>"
        f"<p>{len(data.sources)} snapshots, {len(data.used)} healthy; newest healthy: "
        f"{h(_when(newest))}.</p>"
        "<table><tr><th>snapshot (UTC)</th><th>origin</th><th>health</th><th>pages</th>"
        "<th>pilots</th><th>contacts</th><th>compared with the one before</th></tr>"
        + "\n".join(rows)
        + "</table>"
        f'<p class="meta">Made by pilotarchive {h(__version__)}.</p>'
    )
    return _html("pilotarchive: snapshots", body, 0)


def _person(value: Any) -> str:
    return show(value) if value else ""


def _snapshot(data: Dataset, s: Source, previous: Source | None, known: set[str]) -> str:
    """A snapshot's pages and records by language; ``known``: the entities with a page."""
    m = s.info.manifest
    ids = data.ids
    parts = [f"<h1>Snapshot of {h(_when(s))}</h1>"]
    parts.append(
        f'<p class="meta">Id {h(s.id)}; {h(m.get("origin") or "crawl")}'
        + (f", target {h(m['target'])}" if m.get("target") else "")
        + f"; started from {h(', '.join(m.get('start_urls') or []))}.</p>"
    )
    health = m.get("health") or {}
    parts.append(
        f'<p>Health: <span class="{h(s.health)}">{h(s.health)}</span>'
        + (f" (judged against {h(health['baseline'])})" if health.get("baseline") else "")
        + ".</p>"
    )
    if s.health == "degraded":
        parts.append(
            '<p class="notice">This snapshot is degraded: what follows is what the crawl '
            "could read, not the site's content. It is not compared and gives no versions.</p>"
        )
    if health.get("findings"):
        parts.append(
            "<ul>"
            + "".join(
                f"<li>{h(f.get('severity', ''))}: {h(f.get('kind', ''))} "
                f"[{h(f.get('language') or '-')}] {h(f.get('message', ''))}</li>"
                for f in health["findings"]
            )
            + "</ul>"
        )
    if previous is not None:
        parts.append(
            f'<p><a href="../../{_diff_file(previous.id, s.id)}">Changes since the '
            f"snapshot of {h(_when(previous))}</a></p>"
        )
    by_page: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for kind in ("pilot", "contact"):
        for record in s.records.get(kind, []):
            by_page[str(record.get("page_id"))][kind].append(record)

    def entity(kind: str, record: dict[str, Any]) -> str:
        found = ids.by_snapshot.get(s.id, {}).get((kind, record["id"])) if ids else None
        if found:
            return found[0]
        page = s.pages.get(str(record.get("page_id"))) if kind != "page" else record
        return identity(kind, record, page)[0]

    def linked(kind: str, record: dict[str, Any], text: str) -> str:
        """The record's name, linked to its entity's timeline when the site has one (an
        entity seen only in a degraded snapshot has none)."""
        ident = entity(kind, record)
        return f'<a href="../../{_entity_file(ident)}">{text}</a>' if ident in known else text

    languages = sorted({str(p.get("language") or "und") for p in s.pages.values()})
    for lang in languages:
        pages = sorted(
            (p for p in s.pages.values() if str(p.get("language") or "und") == lang),
            key=lambda p: (bool(p.get("is_text_version")), p.get("final_url") or ""),
        )
        parts.append(f'<h2 id="{h(lang)}">{h(LANGUAGES.get(lang, lang))} ({h(lang)})</h2>')
        parts.append(
            "<table><tr><th>page</th><th>rendering</th><th>status</th>"
            "<th>updated</th><th>pilots</th><th>contacts</th><th>archived</th></tr>"
        )
        for p in pages:
            rendering = "text version" if p.get("is_text_version") else "page"
            ok = (p.get("status") or 0) < 400
            title = _t(p.get("title") or p.get("final_url"), lang)
            if ok:
                title = linked("page", p, title)
            parts.append(
                f'<tr><td>{title}<div class="meta">{h(p.get("final_url") or "")}</div></td>'
                f"<td>{rendering}</td><td>{h(str(p.get('status')))}</td>"
                f"<td>{h(p.get('updated') or '')}</td><td>{h(str(p.get('pilot_count', '')))}</td>"
                f"<td>{h(str(p.get('contact_count', '')))}</td>"
                f'<td><a href="archive/{h(p["id"])}.html">archived page</a></td></tr>'
            )
        parts.append("</table>")
        for p in pages:
            records = by_page.get(p["id"])
            if not records:
                continue
            rendering = " (text version)" if p.get("is_text_version") else ""
            parts.append(f"<h3>On {_t(p.get('title'), lang)}{rendering}</h3>")
            pilots = sorted(records.get("pilot", []), key=lambda r: r.get("position") or 0)
            if pilots:
                parts.append(
                    f'<table lang="{h(lang)}"><tr lang="en"><th>pilot</th>'
                    "<th>coordinator</th><th>contact</th><th>municipalities</th></tr>"
                )
                for r in pilots:
                    parts.append(
                        f"<tr><td>{linked('pilot', r, h(r.get('theme') or ''))}</td>"
                        f"<td>{h(r.get('coordinator') or '')}"
                        f"</td><td>{h(_person(r.get('contact')))}</td>"
                        f"<td>{h(', '.join(r.get('municipalities') or []))}</td></tr>"
                    )
                parts.append("</table>")
            contacts = sorted(records.get("contact", []), key=lambda r: r.get("name") or "")
            if contacts:
                parts.append(
                    f'<table lang="{h(lang)}"><tr lang="en"><th>person</th>'
                    "<th>title</th><th>e-mail</th><th>phone</th><th>role</th></tr>"
                )
                for r in contacts:
                    parts.append(
                        f"<tr><td>{linked('contact', r, h(r.get('name') or ''))}</td>"
                        f"<td>{h(r.get('title') or '')}</td>"
                        f"<td>{h(r.get('email') or '')}</td><td>{h(r.get('phone') or '')}</td>"
                        f'<td lang="en">{h(r.get("role") or "")}</td></tr>'
                    )
                parts.append("</table>")
    return _html(f"Snapshot of {_when(s)}", "\n".join(parts), 2)


def _archive_view(s: Source, page: dict[str, Any], snapshots_dir: Path) -> str:
    from pilotarchive.archive.read import read_payload
    from pilotarchive.diff.compare import text_lines

    lang = str(page.get("language") or "und")
    original = original_of(page, s.id)
    rows = [
        ("URL requested", h(page.get("url") or "")),
        ("final URL", h(page.get("final_url") or "")),
        ("status", h(str(page.get("status")))),
        ("fetched", h(page.get("warc_date") or page.get("retrieved_at") or "")),
        ("content type", h(page.get("content_type") or "")),
        ("WARC file", h(f"{s.id}/archive/{page.get('warc_filename') or ''}")),
        (
            "WARC record",
            h(
                f"{page.get('warc_record_id') or ''} ({page.get('warc_record_type')}"
                f", offset {page.get('warc_offset')})"
            ),
        ),
        ("payload digest", h(page.get("warc_payload_digest") or "")),
    ]
    notes = []
    if original and original["snapshot_id"] != s.id:
        notes.append(
            '<p class="notice">This fetch was archived as a revisit: the server sent the same '
            f"bytes as before (or said 304 Not Modified). The bytes shown are those of the "
            f'response archived in <a href="../../{h(original["snapshot_id"])}/index.html">'
            f"snapshot {h(original['snapshot_id'])}</a> ({h(original.get('date') or '')}, "
            f"record {h(original['record_id'])}).</p>"
        )
    text = source = ""
    if original is None:
        notes.append("<p>No body was archived for this fetch.</p>")
    else:
        try:
            body = read_payload(snapshots_dir, original)
            from pilotarchive.extract.encoding import decode_html

            source = decode_html(body, page.get("content_type")).text
            lines = text_lines(body, page)
            text = "".join(f"<p>{h(line)}</p>" for line in lines)
        except PilotarchiveError as exc:
            notes.append(f'<p class="notice">The archived bytes cannot be read: {h(str(exc))}</p>')
        except Exception as exc:  # a body that is no HTML: show its source only
            notes.append(f"<p>The text could not be read from it ({h(type(exc).__name__)}).</p>")
    body_html = (
        f"<h1>Archived page: {_t(page.get('title') or page.get('final_url'), lang)}</h1>"
        f'<p class="meta">In the snapshot of {h(_when(s))} '
        f'(<a href="../index.html">{h(s.id)}</a>), language {h(lang)}.</p>'
        + "".join(notes)
        + "<table>"
        + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
        + "</table>"
        + (f'<h2>Text</h2><div lang="{h(lang)}">{text}</div>' if text else "")
        + (
            f"<h2>HTML source</h2><details><summary>show the page's HTML as archived "
            "(not rendered: it would load assets from the live site)</summary>"
            f'<pre lang="{h(lang)}">{h(source)}</pre></details>'
            if source
            else ""
        )
    )
    return _html(f"Archived page {page.get('title') or page.get('final_url')}", body_html, 3)


def _label(table: str, row: dict[str, Any]) -> str:
    if table == "pilots":
        return str(row.get("theme") or row.get("coordinator") or row["id"])
    if table == "contacts":
        return str(row.get("name") or row["id"])
    return str(row.get("title") or row.get("final_url") or row["id"])


def _values(table: str, row: dict[str, Any]) -> list[tuple[str, str]]:
    if table == "pilots":
        contact = row.get("contact_name") or ""
        if contact and row.get("contact_title"):
            contact += f" ({row['contact_title']})"
        return [
            ("theme", row.get("theme") or ""),
            ("coordinator", row.get("coordinator") or ""),
            ("contact", contact),
            ("municipalities", ", ".join(row.get("municipalities") or [])),
        ]
    if table == "contacts":
        return [(k, str(row.get(k) or "")) for k in ("name", "title", "email", "phone", "role")]
    programme = ""
    if row.get("programme_pilot_count") is not None:
        programme = (
            f"{row['programme_pilot_count']} pilots, "
            f"{row.get('programme_municipality_count')} municipalities"
        )
    return [
        ("title", row.get("title") or ""),
        ("updated", row.get("updated") or ""),
        ("status", str(row.get("status") or "")),
        ("programme", programme),
    ]


def _entity(
    entity: str,
    versions: list[tuple[str, dict[str, Any]]],
    changes: list[dict[str, Any]],
    when: dict[str, Source],
) -> str:
    table = versions[0][0]
    labels: dict[str, str] = {}
    for _, row in sorted(versions, key=lambda v: v[1]["valid_from"]):
        labels[row["language"]] = _label(table, row)
    kind = KINDS.get(entity.split("-", 1)[0], "Entities")
    title = labels.get("fi") or next(iter(labels.values()))
    parts = [
        f"<h1>{_t(title, 'fi' if 'fi' in labels else next(iter(labels)))}</h1>",
        f'<p class="meta">{h(kind[:-1] if kind.endswith("s") else kind)} {h(entity)}; in '
        + ", ".join(f"{_t(label, lang)} ({h(lang)})" for lang, label in sorted(labels.items()))
        + "</p>",
        "<h2>Versions</h2><p>One row per version and language, oldest first; a version lasts "
        "from the snapshot that first showed it until the one that showed it changed or gone."
        "</p><table><tr><th>language</th><th>from</th><th>until</th><th>values</th></tr>",
    ]
    for _, row in sorted(versions, key=lambda v: (v[1]["valid_from"], v[1]["language"])):
        lang = row["language"]
        start = when.get(row["first_snapshot"])
        until = '<span class="current">current</span>'
        if row.get("valid_to"):
            ended = next((s for s in when.values() if s.iso == row["valid_to"]), None)
            until = (
                f'<a href="../snapshots/{h(ended.id)}/index.html">{h(_when(ended))}</a>'
                if ended
                else h(row["valid_to"])
            )
        values = "".join(
            f'<div><span class="meta">{h(k)}:</span> {_t(v, lang)}</div>'
            for k, v in _values(table, row)
            if v
        )
        parts.append(
            f'<tr><td>{h(lang)}</td><td><a href="../snapshots/{h(row["first_snapshot"])}/'
            f'index.html">{h(_when(start))}</a></td><td>{until}</td><td>{values}</td></tr>'
        )
    parts.append("</table>")
    if changes:
        parts.append(
            "<h2>Changes</h2><table><tr><th>found in</th><th>language</th>"
            "<th>change</th><th>field</th><th>old</th><th>new</th></tr>"
        )
        for c in changes:
            lang = c["language"]
            where = "" if c["rendering"] == "page" else " (text version)"
            parts.append(
                f'<tr><td><a href="../{_diff_file(c["old_snapshot"], c["new_snapshot"])}">'
                f"{h(_when(when.get(c['new_snapshot'])))}</a></td><td>{h(lang)}{where}</td>"
                f"<td>{h(c['change'])}</td><td>{h(c['field'])}</td>"
                f'<td class="{"absent" if c["old"] is None else "old"}">'
                f"{_t(c['old'] if c['old'] is not None else '(none)', lang)}</td>"
                f'<td class="{"absent" if c["new"] is None else "new"}">'
                f"{_t(c['new'] if c['new'] is not None else '(none)', lang)}</td></tr>"
            )
        parts.append("</table>")
    return _html(f"{title}: history", "\n".join(parts), 1)


def _entities_index(groups: dict[str, dict[str, dict[str, str]]]) -> str:
    parts = [
        "<h1>Pilots, persons and pages</h1><p>Each across its languages; follow one to "
        "its versions and changes.</p>"
    ]
    for kind in ("pilot", "project", "person", "page"):
        entities = groups.get(kind) or {}
        if not entities:
            continue
        parts.append(f"<h2>{h(KINDS[kind])}</h2><ul>")
        for entity, labels in sorted(entities.items(), key=lambda e: sorted(e[1].values())):
            names = "; ".join(
                f"{_t(label, lang)} ({h(lang)})" for lang, label in sorted(labels.items())
            )
            parts.append(f'<li><a href="{h(entity)}.html">{names}</a></li>')
        parts.append("</ul>")
    return _html("Pilots, persons and pages", "\n".join(parts), 1)


def _size(n: int) -> str:
    return f"{n:,} bytes"


def _downloads(root: Path, dataset_dir: Path, wacz: list[Path], data: Dataset) -> str:
    def link(path: Path) -> str:
        return h(Path(os.path.relpath(path.resolve(), root.resolve())).as_posix())

    parts = ["<h1>Downloads</h1>"]
    files = sorted(p for p in dataset_dir.iterdir() if p.is_file()) if dataset_dir.is_dir() else []
    files = [p for p in files if not p.name.startswith(".")]
    parts.append(
        f"<h2>Dataset</h2><p>Every version of every pilot, contact person and page; "
        f"CSV, JSON Lines, SQLite, a data package and CITATION.cff "
        f"(<code>{h(str(dataset_dir))}</code>).</p>"
    )
    if files:
        parts.append("<table><tr><th>file</th><th>size</th><th>sha256</th></tr>")
        for p in files:
            parts.append(
                f'<tr><td><a href="{link(p)}">{h(p.name)}</a></td>'
                f"<td>{_size(p.stat().st_size)}</td><td><code>{sha256_file(p)}</code>"
                "</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>Not exported yet: run <code>pilotarchive export</code>.</p>")
    parts.append("<h2>WACZ</h2><p>For ReplayWeb.page or pywb.</p>")
    if wacz:
        parts.append("<table><tr><th>file</th><th>size</th><th>sha256</th></tr>")
        for p in wacz:
            parts.append(
                f'<tr><td><a href="{link(p)}">{h(p.name)}</a></td>'
                f"<td>{_size(p.stat().st_size)}</td><td><code>{sha256_file(p)}</code>"
                "</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append(
            "<p>None yet: run <code>pilotarchive wacz --file output/pilots.wacz</code>.</p>"
        )
    parts.append(
        "<h2>WARC files</h2><p>Every fetch of every snapshot, as received (sha256 "
        "from the snapshot's manifest).</p><table><tr><th>snapshot</th><th>file</th>"
        "<th>size</th><th>sha256</th></tr>"
    )
    for s in reversed(data.sources):
        listed = s.info.manifest.get("files") or {}
        for rel, entry in sorted(listed.items()):
            if rel.endswith(".warc.gz"):
                path = s.info.path / rel
                parts.append(
                    f'<tr><td>{h(_when(s))} <span class="{h(s.health)}">{h(s.health)}</span>'
                    f'</td><td><a href="{link(path)}">{h(Path(rel).name)}</a></td>'
                    f"<td>{_size(int(entry.get('bytes') or 0))}</td>"
                    f"<td><code>{h(entry.get('sha256') or '')}</code></td></tr>"
                )
    parts.append("</table>")
    return _html("Downloads", "\n".join(parts), 0)


# -- the build -------------------------------------------------------------------------------


# Every entry a site holds at its top: a folder holding only these is a site.
SITE_ENTRIES = frozenset(
    {"index.html", "style.css", "downloads.html", "snapshots", "diffs", "entities", "feeds", MARKER}
)


def _check_destination(to: Path) -> None:
    """The site prunes its pages in ``to``: only a folder the site itself wrote is used, and
    never through a symbolic link inside it (pruning would delete, and writing would
    write, in the folder the link points to)."""
    check_ours(to, "site", SITE_ENTRIES, what="site", proof=("index.html", GENERATOR.encode()))
    if to.is_symlink():
        return  # the site folder itself may be a link the user made: it is the site
    for folder, dirs, files in os.walk(to):
        for name in [*dirs, *files]:
            if os.path.islink(os.path.join(folder, name)):
                link = Path(folder, name)
                raise UsageError(
                    f"{link} is a symbolic link inside the site folder; the site is not "
                    "written through links: remove it or give another --to"
                )


def _written_before(root: Path) -> set[str] | None:
    """The pages the last build wrote, as its marker lists them (None: an older site)."""
    try:
        listed = json.loads((root / MARKER).read_text(encoding="utf-8")).get("pages")
    except (OSError, ValueError, AttributeError):
        return None
    return {str(p) for p in listed} if isinstance(listed, list) else None


def build_site(
    output: Path,
    to: Path | None = None,
    *,
    target: Any = ANY_TARGET,
    dataset_dir: Path | None = None,
    wacz: Iterable[Path] | None = None,
    dataset: Dataset | None = None,
) -> SiteResult:
    """Build or update the site in ``to`` (default ``output/site``) from the snapshots under
    ``output``; ``dataset_dir`` (default ``output/dataset``) and ``wacz`` (default: the
    ``*.wacz`` files in ``output``) are listed on the downloads page."""
    output = Path(output)
    root = absolute(Path(to) if to is not None else output / "site")
    refuse_inside_snapshots(root, "--to", output)
    _check_destination(root)
    data = dataset if dataset is not None else build(output, target)
    dataset_dir = Path(dataset_dir) if dataset_dir is not None else output / "dataset"
    packages = sorted(Path(p) for p in wacz) if wacz is not None else sorted(output.glob("*.wacz"))
    result = SiteResult(root, dataset=data)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(exc, root) from exc  # a place that cannot be written: a failure
    written_before = _written_before(root)
    out = _Writer(root, result)
    # Marked first (a build that dies half-way leaves a folder that is still ours), with
    # the pages the last build wrote, so that they can still be pruned later.
    tops = SITE_ENTRIES - {MARKER}
    out.put(MARKER, marker_bytes("site", tops, pages=sorted(written_before or ())).decode())
    out.put("style.css", CSS)
    from pilotarchive.export.package import source_url

    when = {s.id: s for s in data.sources}
    known = {row["entity_id"] for t in ("pilots", "contacts", "pages") for row in data.rows[t]}
    previous: Source | None = None
    for s in data.sources:
        if s.health == "damaged":
            continue
        html = _snapshot(data, s, previous if s.used else None, known)
        out.put(f"snapshots/{s.id}/index.html", html)
        for page in s.pages.values():
            out.put(archive_page(s.id, page["id"]), _archive_view(s, page, s.info.path.parent))
        if s.used:
            previous = s
    for (old, new), diff in data.diffs.items():
        rel = _diff_file(old, new)
        href = archive_links(root, (root / rel).parent)
        nav = (
            '<p class="meta"><a href="../index.html">Snapshots</a> · '
            '<a href="../entities/index.html">Pilots, persons and pages</a></p>'
        )
        out.put(rel, render_html(diff, None, href, nav=nav))
    versions: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for table in ("pilots", "contacts", "pages"):
        for row in data.rows[table]:
            versions[row["entity_id"]].append((table, row))
    changes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in data.rows["changes"]:
        changes[c["entity_id"]].append(c)
    groups: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
    for entity, rows in versions.items():
        out.put(_entity_file(entity), _entity(entity, rows, changes.get(entity, []), when))
        labels: dict[str, str] = {}
        for table, row in sorted(rows, key=lambda r: r[1]["valid_from"]):
            labels[row["language"]] = _label(table, row)
        groups[entity.split("-", 1)[0].replace("text", "page")][entity] = labels
    out.put("entities/index.html", _entities_index(groups))
    write_feeds(
        out.put, output, data.diffs.items(), data.sources[0].info.target if data.sources else None
    )
    out.put("downloads.html", _downloads(root, dataset_dir, packages, data))
    out.put("index.html", _index(data, source_url(data)))
    out.prune(written_before)
    pages = sorted(p for p in out.made if "/" in p)
    out.put(MARKER, marker_bytes("site", tops, pages=pages).decode())
    return result
