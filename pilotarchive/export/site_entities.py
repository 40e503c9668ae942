"""The site's pages of entities: one per pilot, person and page family with its versions
in every language and the changes that made them, and the index of them all."""

from collections.abc import Iterable, Iterator
from typing import Any

from pilotarchive.export.site_layout import KINDS, diff_file, h, page_frame, page_html, t, when
from pilotarchive.export.temporal import Source


def entity_label(table: str, row: dict[str, Any]) -> str:
    if table == "pilots":
        return str(row.get("theme") or row.get("coordinator") or row["id"])
    if table == "contacts":
        return str(row.get("name") or row["id"])
    return str(row.get("title") or row.get("final_url") or row["id"])


def shown_values(table: str, row: dict[str, Any]) -> list[tuple[str, str]]:
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


def entity_labels(table: str, by_time: Iterable[dict[str, Any]]) -> dict[str, str]:
    """The entity's name in each language, the newest version's (rows oldest first)."""
    labels: dict[str, str] = {}
    for row in by_time:
        labels[row["language"]] = entity_label(table, row)
    return labels


def entity_page(
    entity: str,
    table: str,
    labels: dict[str, str],
    versions: Iterable[dict[str, Any]],
    changes: Iterable[dict[str, Any]],
    sources: dict[str, Source],
    by_iso: dict[str, Source],
) -> Iterator[str]:
    """An entity's page in pieces, one row at a time: an entity that changed every week
    for years has a long page, which is never held whole. ``versions``: its rows by time
    then language; ``changes``: its changes in key order; ``sources`` by id and
    ``by_iso`` by time (the first with that time) name the snapshots a version starts and
    ends in."""
    kind = KINDS.get(entity.split("-", 1)[0], "Entities")
    title = labels.get("fi") or next(iter(labels.values()))
    before, after = page_frame(f"{title}: history", 1)
    yield before
    yield (
        f"<h1>{t(title, 'fi' if 'fi' in labels else next(iter(labels)))}</h1>\n"
        f'<p class="meta">{h(kind[:-1] if kind.endswith("s") else kind)} {h(entity)}; in '
        + ", ".join(f"{t(label, lang)} ({h(lang)})" for lang, label in sorted(labels.items()))
        + "</p>\n"
        "<h2>Versions</h2><p>One row per version and language, oldest first; a version lasts "
        "from the snapshot that first showed it until the one that showed it changed or gone."
        "</p><table><tr><th>language</th><th>from</th><th>until</th><th>values</th></tr>"
    )
    for row in versions:
        lang = row["language"]
        start = sources.get(row["first_snapshot"])
        until = '<span class="current">current</span>'
        if row.get("valid_to"):
            ended = by_iso.get(row["valid_to"])
            until = (
                f'<a href="../snapshots/{h(ended.id)}/index.html">{h(when(ended))}</a>'
                if ended
                else h(row["valid_to"])
            )
        values = "".join(
            f'<div><span class="meta">{h(k)}:</span> {t(v, lang)}</div>'
            for k, v in shown_values(table, row)
            if v
        )
        yield (
            f'\n<tr><td>{h(lang)}</td><td><a href="../snapshots/{h(row["first_snapshot"])}/'
            f'index.html">{h(when(start))}</a></td><td>{until}</td><td>{values}</td></tr>'
        )
    yield "\n</table>"
    header = False
    for c in changes:
        if not header:
            yield (
                "\n<h2>Changes</h2><table><tr><th>found in</th><th>language</th>"
                "<th>change</th><th>field</th><th>old</th><th>new</th></tr>"
            )
            header = True
        lang = c["language"]
        where = "" if c["rendering"] == "page" else " (text version)"
        yield (
            f'\n<tr><td><a href="../{diff_file(c["old_snapshot"], c["new_snapshot"])}">'
            f"{h(when(sources.get(c['new_snapshot'])))}</a></td><td>{h(lang)}{where}</td>"
            f"<td>{h(c['change'])}</td><td>{h(c['field'])}</td>"
            f'<td class="{"absent" if c["old"] is None else "old"}">'
            f"{t(c['old'] if c['old'] is not None else '(none)', lang)}</td>"
            f'<td class="{"absent" if c["new"] is None else "new"}">'
            f"{t(c['new'] if c['new'] is not None else '(none)', lang)}</td></tr>"
        )
    if header:
        yield "\n</table>"
    yield after


def entities_index(groups: dict[str, dict[str, dict[str, str]]]) -> str:
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
                f"{t(label, lang)} ({h(lang)})" for lang, label in sorted(labels.items())
            )
            parts.append(f'<li><a href="{h(entity)}.html">{names}</a></li>')
        parts.append("</ul>")
    return page_html("Pilots, persons and pages", "\n".join(parts), 1)
