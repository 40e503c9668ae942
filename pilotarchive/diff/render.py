"""A diff for people: plain text for a terminal or an e-mail, one self-contained HTML page.

Both say first whether the new snapshot is healthy, then the changes by language, each as
"field: old -> new", then what lags between languages, then the totals. The HTML page has
no external assets (styles inline) and is headed by the dates, the site and the titles of
the pages compared. It shows old and new side by side, an absent value greyed (so an
added record's "(none)" never reads as a removal, nor a gone page's 404 as news), and
links each change to the archived page: a replay URL when given a template (pywb's
``{timestamp}``/``{url}``), else the page's view in the archive site when one is built
(``archive_href``), else it names the WARC record without a link, never a whole WARC
file to download. A link that reaches another snapshot's bytes through a revisit says so.
"""

import json
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pilotarchive.exceptions import PilotarchiveError

LANGUAGE_NAMES = {"fi": "Finnish", "sv": "Swedish", "en": "English", None: "no language"}
KIND_WORDS = {
    "added": "added",
    "removed": "removed",
    "modified": "changed",
    "appeared": "appeared",
    "disappeared": "disappeared",
}


def show(value: Any) -> str:
    """A field value in a few words."""
    if value is None or value == [] or value == {}:
        return "(none)"
    if isinstance(value, dict):
        if "name" in value and "email" in value:  # a person
            extra = ", ".join(str(value[k]) for k in ("title", "email", "phone") if value.get(k))
            return f"{value['name']}" + (f" ({extra})" if extra else "")
        if "pilot_count" in value:  # programme facts
            years = value.get("years") or []
            span = f", {years[0]}-{years[-1]}" if years else ""
            return (f"{value.get('pilot_count')} pilots, {value.get('municipality_count')} "
                    f"municipalities{span}")  # fmt: skip
        return ", ".join(f"{k}: {v}" for k, v in sorted(value.items()))
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _headline(diff: dict[str, Any]) -> str:
    counts = {"added": 0, "removed": 0, "modified": 0, "appeared": 0, "disappeared": 0}
    for c in diff["changes"]:
        counts[c["kind"]] += 1
    parts = [f"{n} {KIND_WORDS[k]}" for k, n in counts.items() if n]
    return ", ".join(parts) if parts else "no changes"


def render_text(diff: dict[str, Any]) -> str:
    out = []
    health = diff["health"]
    out.append(f"pilotarchive diff {diff['old']['snapshot_id']} -> {diff['new']['snapshot_id']}: "
               f"{_headline(diff)}; new snapshot {health['verdict'].upper()}")  # fmt: skip
    if health["findings"]:
        out.append("")
        out.append("Health of the new snapshot:" if health["verdict"] == "healthy" else
                   "The new snapshot is DEGRADED; these are extraction problems, not changes "
                   "of the site:")  # fmt: skip
        for f in health["findings"]:
            where = f" [{f['language']}] {f['url']}" if f.get("url") else ""
            hidden = f.get("suppressed_removals")
            note = f" ({hidden} records not reported as removed)" if hidden else ""
            if f.get("fields_lost"):
                note += f" (no longer read: {', '.join(f['fields_lost'])})"
            out.append(f"  {f['severity']}: {f['kind']}{where}: {f['message']}{note}")
    language = object()
    for c in diff["changes"]:
        if c["language"] != language:
            language = c["language"]
            out.append("")
            out.append(f"{LANGUAGE_NAMES.get(language, language)} ({language or '-'}):")
        where = f" on {c['page_label']}" if c["record_type"] != "page" and c["page_label"] else ""
        out.append(f'  {c["record_type"]} "{c["label"]}" {KIND_WORDS[c["kind"]]}{where}')
        for f in c["fields"]:
            if f["field"] == "text":
                continue
            if c["kind"] == "appeared" and f["field"] == "status":
                continue
            out.append(f"      {f['field']}: {show(f['old'])} -> {show(f['new'])}")
        if c.get("matched_by") == "similarity":
            out.append(f"      (paired by similarity {c.get('similarity')}: was {c['old_id']})")
        for how in ("added", "removed"):
            items = (c.get("records") or {}).get(how) or []
            if items:
                out.append(f"      {how} with it: {'; '.join(items)}")
        for line in c.get("text_diff") or []:
            out.append(f"      | {line}")
    if diff.get("problems"):
        out.append("")
        out.append("Not compared (the diff is incomplete here):")
        for p in diff["problems"]:
            out.append(f"  {p['url']}: {p['message']}")
    if diff["not_fetched"]:
        out.append("")
        out.append("Not fetched this time (so nothing is known of them; not reported as removed):")
        for p in diff["not_fetched"]:
            out.append(f"  [{p['language'] or '-'}] {p['label']}  {p['url']}  ({p['reason']})")
    if diff["translation_lag"]:
        out.append("")
        out.append("Translation lag (changed in one language, not yet in another):")
        for lag in diff["translation_lag"]:
            out.append(f"  {lag['field']} of \"{lag['label']}\": changed in "
                       f"{', '.join(lag['changed_in'])} to {show(lag['value_here'])}; "
                       f"{lag['behind']} still has {show(lag['value_there'])}")  # fmt: skip
    out.append("")
    out.append(totals(diff))
    return "\n".join(out) + "\n"


def totals(diff: dict[str, Any]) -> str:
    """The closing line: per record type, how many were added, changed, ..., unchanged."""
    counts = "; ".join(
        f"{kind}s: " + ", ".join(f"{n} {KIND_WORDS.get(k, k)}" for k, n in c.items() if n)
        for kind, c in diff["summary"].items()
        if any(c.values())
    )
    return f"Totals: {counts or 'nothing compared'}"


def render_json(diff: dict[str, Any]) -> str:
    return json.dumps(diff, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#1b1b1b;
max-width:70em}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid
#ccc}table{border-collapse:collapse;width:100%;margin:.3em 0 1em}td,th{border:1px solid #ddd;
padding:.35em .5em;vertical-align:top;text-align:left}th{background:#f3f3f3}.old{background:
#fdecea}.new{background:#e8f5e9}.verdict-degraded{background:#fff3cd;border:1px solid #e0b000;
padding:.6em}.verdict-healthy{background:#e8f5e9;border:1px solid #7cb342;padding:.6em}
.kind{font-weight:600}.meta{color:#666;font-size:.85em}pre{background:#f7f7f7;padding:.5em;
overflow-x:auto}.absent{color:#777;font-style:italic;background:#f6f6f6}.before{background:#fff}
.gone{background:#fdecea;font-weight:600}.via{display:block;color:#8a5a00;font-size:.9em}
.pages{margin:.2em 0}
"""

ArchiveHref = Callable[[dict[str, Any], str], str | None]


def _when(ref: dict[str, Any] | None) -> str:
    """A snapshot's time in words, from its id (ids are UTC times)."""
    from pilotarchive.archive.snapshot import snapshot_time

    ident = (ref or {}).get("snapshot_id") or ""
    ts = snapshot_time(ident)
    return ts.strftime("%Y-%m-%d %H:%M UTC") if ts else ident


def context(diff: dict[str, Any]) -> dict[str, Any]:
    """What the heading needs beyond the diff: the site and the titles of the pages
    compared, read from the two snapshots when they are at hand (nothing when not)."""
    from pilotarchive.archive.snapshot import read_manifest

    sites: list[str] = []
    titles: dict[str, list[str]] = {}
    for side in ("new", "old"):
        path = Path(diff[side].get("path") or "")
        try:
            manifest = read_manifest(path)
            lines = (path / "records" / "pages.jsonl").read_text(encoding="utf-8").splitlines()
            pages = [json.loads(line) for line in lines]
        except (OSError, ValueError, PilotarchiveError):
            continue
        for url in manifest.get("start_urls") or []:
            host = urlsplit(url).netloc
            if host and host not in sites:
                sites.append(host)
        # The pilots pages first, then the others (a front page), each title once.
        for page in sorted(pages, key=lambda p: (-(p.get("pilot_count") or 0),
                                                 p.get("final_url") or "")):  # fmt: skip
            ok = page.get("status") == 200 and not page.get("is_text_version")
            if ok and page.get("title") and page.get("language"):
                known = titles.setdefault(page["language"], [])
                if page["title"] not in known:
                    known.append(page["title"])
    return {"sites": sites, "titles": dict(sorted(titles.items()))}


def _link(
    ref: dict[str, Any] | None,
    page_id: str | None,
    replay: str | None,
    archive_href: ArchiveHref | None,
) -> str:
    """Where the archived page can be seen, and whose bytes those are."""
    if not ref or not ref.get("url"):
        return ""
    h = escape
    original = ref.get("original") or {}
    via = ""
    if original and original.get("snapshot_id") != ref["snapshot_id"]:
        via = (
            f'<span class="via">a revisit: the bytes shown are those archived in snapshot '
            f"{h(original['snapshot_id'])} ({h(_when(original))})</span>"
        )
    text = f"snapshot of {_when(ref)}"
    if replay and ref.get("date"):
        stamp = "".join(ch for ch in ref["date"] if ch.isdigit())[:14]
        href = replay.format(timestamp=stamp, url=ref["url"])
        return f'<a href="{h(href)}">{h(text)} (replay)</a>{via}'
    href_found = archive_href(ref, page_id) if archive_href and page_id else None
    if href_found:
        return f'<a href="{h(href_found)}" title="{h(ref["snapshot_id"])}">{h(text)}</a>{via}'
    where = ""
    if original:
        where = f": {original['snapshot_id']}/archive/{original['filename']} @{original['offset']}"
    hint = "build the site (pilotarchive site) or give --replay-url to link"
    return f'<span title="{hint}">{h(text + where)}</span>{via}'


def _cells(kind: str, field: dict[str, Any]) -> str:
    """The old and new cells of a field, styled by what they mean, not by their column: an
    absent value is grey, a value that went away red, a new one green."""
    h = escape
    old, new = field["old"], field["new"]
    empty: tuple[Any, ...] = (None, [], {})
    old_cls = "absent" if old in empty else ("old" if kind in ("modified", "removed") else "before")
    new_cls = "absent" if new in empty else ("gone" if kind == "disappeared" else "new")
    new_text = show(new)
    if kind == "disappeared" and field["field"] == "status":
        new_text += " (page gone)"
    return (f'<td class="{old_cls}">{h(show(old))}</td>'
            f'<td class="{new_cls}">{h(new_text)}</td>')  # fmt: skip


def render_html(
    diff: dict[str, Any],
    replay: str | None = None,
    archive_href: ArchiveHref | None = None,
    about: dict[str, Any] | None = None,
    nav: str = "",
) -> str:
    """The page. ``archive_href(ref, page_id)`` gives the link to an archived page's view
    (relative to where the page is written) or None; ``about`` is :func:`context` (read
    from the snapshots when not given); ``nav`` is HTML put above the heading."""
    h = escape
    about = about if about is not None else context(diff)
    health = diff["health"]
    old_id, new_id = diff["old"]["snapshot_id"], diff["new"]["snapshot_id"]
    site = ", ".join(about.get("sites") or []) or "the site"
    titles = about.get("titles") or {}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Changes on {h(site)}, {h(_when(diff['old']))} to {h(_when(diff['new']))}"
        f"</title><style>{_CSS}</style></head><body>",
        nav,
        f"<h1>Changes on {h(site)} from {h(_when(diff['old']))} to {h(_when(diff['new']))}</h1>",
    ]
    if titles:
        parts.append(
            '<p class="pages">Pages compared: '
            + "; ".join(
                f'<span lang="{h(lang)}">{h(" / ".join(names))}</span> ({h(lang)})'
                for lang, names in titles.items()
            )
            + "</p>"
        )
    parts += [
        f'<p class="meta">Snapshots {h(old_id)} and {h(new_id)}.</p>',
        f'<p class="verdict-{h(health["verdict"])}" id="verdict">New snapshot: '
        f"<strong>{h(health['verdict'])}</strong>. {h(_headline(diff).capitalize())}.</p>",
    ]
    if health["findings"]:
        parts.append("<h2>Health findings</h2><table><tr><th>severity</th><th>finding</th>"
                     "<th>language</th><th>page</th><th>why</th></tr>")  # fmt: skip
        for f in health["findings"]:
            hidden = f.get("suppressed_removals")
            note = f" ({hidden} records not reported as removed)" if hidden else ""
            parts.append(f"<tr><td>{h(f['severity'])}</td><td>{h(f['kind'])}</td>"
                         f"<td>{h(f['language'] or '')}</td><td>{h(f['url'] or '')}</td>"
                         f"<td>{h(f['message'] + note)}</td></tr>")  # fmt: skip
        parts.append("</table>")
    language = object()
    for c in diff["changes"]:
        if c["language"] != language:
            language = c["language"]
            parts.append(f"<h2>{h(LANGUAGE_NAMES.get(language, str(language)))} "
                         f"({h(language or '-')})</h2>")  # fmt: skip
        old_link = _link(c["archive"]["old"], c.get("page_id"), replay, archive_href)
        new_link = _link(c["archive"]["new"], c.get("page_id"), replay, archive_href)
        lang = f' lang="{h(c["language"])}"' if c["language"] else ""
        parts.append(
            f'<table class="change" data-id="{h(c["id"])}"><tr><th colspan="3">'
            f'<span class="kind">{h(KIND_WORDS[c["kind"]])}</span> {h(c["record_type"])} '
            f"&ldquo;<span{lang}>{h(c['label'])}</span>&rdquo;"
            + (
                f' <span class="meta">on <span{lang}>{h(c["page_label"])}</span></span>'
                if c["page_label"] and c["record_type"] != "page"
                else ""
            )
            + "</th></tr><tr><th>field</th><th>old</th><th>new</th></tr>"
        )
        for f in c["fields"]:
            if f["field"] == "text":
                continue
            parts.append(f"<tr{lang}><td>{h(f['field'])}</td>{_cells(c['kind'], f)}</tr>")
        for how, css in (("removed", "old"), ("added", "new")):
            items = (c.get("records") or {}).get(how) or []
            if items:
                parts.append(f'<tr><td>records {how}</td><td colspan="2" class="{css}">'
                             f"{h('; '.join(items))}</td></tr>")  # fmt: skip
        if c.get("text_diff"):
            parts.append('<tr><td>text</td><td colspan="2"><pre>'
                         f"{h(chr(10).join(c['text_diff']))}</pre></td></tr>")  # fmt: skip
        parts.append(f'<tr class="meta"><td>archived</td><td>{old_link}</td><td>{new_link}</td>'
                     "</tr></table>")  # fmt: skip
    if diff["translation_lag"]:
        parts.append("<h2>Translation lag</h2><table><tr><th>what</th><th>changed in</th>"
                     "<th>to</th><th>behind</th><th>still</th></tr>")  # fmt: skip
        for lag in diff["translation_lag"]:
            parts.append(f"<tr><td>{h(lag['field'])} of {h(lag['label'])}</td>"
                         f"<td>{h(', '.join(lag['changed_in']))}</td>"
                         f'<td class="new">{h(show(lag["value_here"]))}</td>'
                         f"<td>{h(lag['behind'])}</td>"
                         f'<td class="old">{h(show(lag["value_there"]))}</td></tr>')  # fmt: skip
        parts.append("</table>")
    if diff.get("problems"):
        parts.append('<h2>Not compared</h2><p class="meta">The diff is incomplete here.</p><ul>')
        parts += [f"<li>{h(p['url'] or '')}: {h(p['message'])}</li>" for p in diff["problems"]]
        parts.append("</ul>")
    if diff["not_fetched"]:
        parts.append("<h2>Not fetched this time</h2><p class=\"meta\">Nothing is known of "
                     "them now; they are not reported as removed.</p><ul>")  # fmt: skip
        parts += [f"<li>[{h(p['language'] or '-')}] {h(p['label'])} {h(p['url'] or '')} "
                  f"({h(p['reason'])})</li>"
                  for p in diff["not_fetched"]]  # fmt: skip
        parts.append("</ul>")
    parts.append(f'<p id="totals">{h(totals(diff))}</p>')
    parts.append(f'<p class="meta">pilotarchive {h(diff["software"]["version"])}</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
