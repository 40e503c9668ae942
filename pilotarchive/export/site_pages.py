"""The site's pages of snapshots: the index of every snapshot, one page per snapshot with
its pages and records by language, one per archived page (its WARC record, text and
source), and the downloads page."""

import os
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pilotarchive import __version__
from pilotarchive.archive.read import original_of
from pilotarchive.archive.snapshot import sha256_file
from pilotarchive.diff.render import show
from pilotarchive.exceptions import PilotarchiveError
from pilotarchive.export.site_layout import (
    LANGUAGES,
    diff_file,
    entity_file,
    h,
    page_html,
    t,
    when,
)
from pilotarchive.export.temporal import Dataset, Source


def index_page(data: Dataset, source_url: str) -> str:
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
            f'<a href="snapshots/{h(s.id)}/index.html">{h(when(s))}</a>' if readable else h(when(s))
        )
        change = ""
        if s.id in previous:
            change = f'<a href="{diff_file(previous[s.id], s.id)}">changes</a>'
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
        f"{h(when(newest))}.</p>"
        "<table><tr><th>snapshot (UTC)</th><th>origin</th><th>health</th><th>pages</th>"
        "<th>pilots</th><th>contacts</th><th>compared with the one before</th></tr>"
        + "\n".join(rows)
        + "</table>"
        f'<p class="meta">Made by pilotarchive {h(__version__)}.</p>'
    )
    return page_html("pilotarchive: snapshots", body, 0)


def _person(value: Any) -> str:
    return show(value) if value else ""


def snapshot_page(
    s: Source,
    manifest: dict[str, Any],
    previous: Source | None,
    known: set[str],
    entity_of: Callable[[str, dict[str, Any]], str],
) -> str:
    """A snapshot's pages and records by language (``s`` with its records held);
    ``known``: the entities with a page; ``entity_of``: a record's entity."""
    m = manifest
    parts = [f"<h1>Snapshot of {h(when(s))}</h1>"]
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
            f'<p><a href="../../{diff_file(previous.id, s.id)}">Changes since the '
            f"snapshot of {h(when(previous))}</a></p>"
        )
    by_page: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for kind in ("pilot", "contact"):
        for record in s.records.get(kind, []):
            by_page[str(record.get("page_id"))][kind].append(record)

    def linked(kind: str, record: dict[str, Any], text: str) -> str:
        """The record's name, linked to its entity's timeline when the site has one (an
        entity seen only in a degraded snapshot has none)."""
        ident = entity_of(kind, record)
        return f'<a href="../../{entity_file(ident)}">{text}</a>' if ident in known else text

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
            title = t(p.get("title") or p.get("final_url"), lang)
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
            parts.append(f"<h3>On {t(p.get('title'), lang)}{rendering}</h3>")
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
    return page_html(f"Snapshot of {when(s)}", "\n".join(parts), 2)


def archive_view(s: Source, page: dict[str, Any], snapshots_dir: Path) -> str:
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
        f"<h1>Archived page: {t(page.get('title') or page.get('final_url'), lang)}</h1>"
        f'<p class="meta">In the snapshot of {h(when(s))} '
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
    return page_html(f"Archived page {page.get('title') or page.get('final_url')}", body_html, 3)


def _size(n: int) -> str:
    return f"{n:,} bytes"


def downloads_page(root: Path, dataset_dir: Path | None, wacz: list[Path], data: Dataset) -> str:
    """``dataset_dir`` None: the folder holds another target's dataset (not listed)."""

    def link(path: Path) -> str:
        return h(Path(os.path.relpath(path.resolve(), root.resolve())).as_posix())

    def file_table(paths: list[Path]) -> str:
        rows = [
            f'<tr><td><a href="{link(p)}">{h(p.name)}</a></td>'
            f"<td>{_size(p.stat().st_size)}</td><td><code>{sha256_file(p)}</code></td></tr>"
            for p in paths
        ]
        head = "<table><tr><th>file</th><th>size</th><th>sha256</th></tr>"
        return "\n".join([head, *rows, "</table>"])

    parts = ["<h1>Downloads</h1>"]
    files = (
        sorted(p for p in dataset_dir.iterdir() if p.is_file())
        if dataset_dir is not None and dataset_dir.is_dir()
        else []
    )
    files = [p for p in files if not p.name.startswith(".")]
    where = f" (<code>{h(str(dataset_dir))}</code>)" if dataset_dir is not None else ""
    parts.append(
        f"<h2>Dataset</h2><p>Every version of every pilot, contact person and page; "
        f"CSV, JSON Lines, SQLite, a data package and CITATION.cff{where}.</p>"
    )
    if files:
        parts.append(file_table(files))
    else:
        parts.append("<p>Not exported yet: run <code>pilotarchive export</code>.</p>")
    parts.append("<h2>WACZ</h2><p>For ReplayWeb.page or pywb.</p>")
    if wacz:
        parts.append(file_table(wacz))
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
                    f'<tr><td>{h(when(s))} <span class="{h(s.health)}">{h(s.health)}</span>'
                    f'</td><td><a href="{link(path)}">{h(Path(rel).name)}</a></td>'
                    f"<td>{_size(int(entry.get('bytes') or 0))}</td>"
                    f"<td><code>{h(entry.get('sha256') or '')}</code></td></tr>"
                )
    parts.append("</table>")
    return page_html("Downloads", "\n".join(parts), 0)
