"""Every version of every entity, from the snapshots: the tables of the dataset.

A snapshot is a full picture of the site at one time; researchers want the history. This
module walks the healthy snapshots of one target in time order and turns them into rows:

- **pilots, contacts, pages**: one row per version of an entity per language. A version
  starts when something the record says changes (its fingerprint fields), not at every
  crawl, and lasts until the first healthy snapshot that shows it changed or gone.
- **One row per language, not per rendering.** The ministry publishes each page twice per
  language, the graphic page and its text version, saying the same. A row takes its
  values from the graphic page, or from the text version while only that one gave the
  entity (``rendering`` says which), so counting rows never counts a pilot twice. What the
  text version alone said differently is in ``changes``, whose rows name their rendering.
- **Not fetched is not gone.** A page the crawl did not fetch tells nothing; its entities'
  versions go on. A page that answered (404 included) without the entity ends it.
- **Stable rows.** A row's values are fixed when its version starts; only ``valid_to`` and
  ``last_snapshot`` are filled when a later snapshot ends it. Degraded snapshots are
  listed in ``snapshots`` and never give or end a version; damaged ones are named and
  skipped.
- **Streaming.** Snapshots are read one at a time, in time order, and let go once the
  next one has been compared with them: memory holds the open versions (one per entity and
  language), the two snapshots being compared, and one small line per snapshot, never
  the whole archive. Finished rows and the diffs go to a :class:`RowStore` on disk and are
  read back sorted, so a target with years of daily snapshots exports in flat memory and
  in time linear in its snapshots (``bench/long_archive.py``).
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pilotarchive.archive.read import original_of
from pilotarchive.archive.snapshot import (
    ANY_TARGET,
)
from pilotarchive.exceptions import PilotarchiveError, SnapshotDamaged
from pilotarchive.export.columns import CHANGES, CONTACTS, PAGES, PILOTS, Table
from pilotarchive.export.identity import identity
from pilotarchive.export.rowstore import Rows, RowStore
from pilotarchive.export.sources import (
    FAILURE_COUNT,
    Source,
    iso_time,
    iter_infos,
    load,
    load_sources,
    slim_manifest,
)
from pilotarchive.records.ids import comparable

__all__ = ["Dataset", "Identities", "Source", "Versions", "build", "iso_time", "iter_infos",
           "load", "load_sources", "slim_manifest", "versions"]  # fmt: skip

RENDERINGS = ("page", "text")  # preference order for a row's values
VERSION_TABLES = {"page": PAGES, "pilot": PILOTS, "contact": CONTACTS}
NO_LANGUAGE = "und"  # ISO 639-2 "undetermined": a key column cannot be empty


@dataclass
class Dataset:
    """The tables (read back sorted from their store, row by row) and what the export
    should say."""

    sources: list[Source]
    rows: Rows
    skipped: list[str]  # one line per snapshot not used, naming it and why
    target: str | None
    ids: "Identities | None" = None

    @property
    def used(self) -> list[Source]:
        return [s for s in self.sources if s.used]

    @property
    def newest(self) -> Source | None:
        used = self.used
        return used[-1] if used else None

    @property
    def store(self) -> RowStore:
        return self.rows.store


# -- identities -------------------------------------------------------------------------------


def _language(record: dict[str, Any]) -> str:
    return str(record.get("language") or NO_LANGUAGE)


def _ok(page: dict[str, Any] | None) -> bool:
    return page is not None and 0 < int(page.get("status") or 0) < 400


class Identities:
    """Entity and rendering of every record; an error page takes those its URL had when it
    answered (in any snapshot: the earliest), since a 404 says nothing of what it was."""

    def __init__(self, sources: Iterable[Source], register: Any = None) -> None:
        """``register``: the entity register (``diff.compare.Identity``); where it holds a
        snapshot, its entity ids are the dataset's, so a pilot whose coordinator, partners
        or theme changed stays one entity with versions that adjoin."""
        self.register = register
        self.pages: dict[str, tuple[str, str]] = {}
        for source in sources:
            self.learn(source)
        # Only the snapshots being compared: forgotten once the next pair is done.
        self.by_snapshot: dict[str, dict[tuple[str, str], tuple[str, str]]] = {}

    def learn(self, source: Source) -> None:
        """The identities of the source's pages that answered (the first seen wins)."""
        for page in source.pages.values():
            if _ok(page) and page["id"] not in self.pages:
                self.pages[page["id"]] = identity("page", page, page)

    def forget(self, snapshot_id: str) -> None:
        self.by_snapshot.pop(snapshot_id, None)

    def page(self, page: dict[str, Any]) -> tuple[str, str]:
        if not _ok(page) and page["id"] in self.pages:
            return self.pages[page["id"]]
        return identity("page", page, page)

    def of(self, source: Source, kind: str, record: dict[str, Any]) -> tuple[str, str]:
        if kind == "page":
            found = self.page(record)
        else:
            found = identity(kind, record, source.pages.get(str(record.get("page_id"))))
        held = self.register.of(source.id, record["id"]) if self.register is not None else None
        if held is not None:
            found = (held, found[1])
        self.by_snapshot.setdefault(source.id, {})[(kind, record["id"])] = found
        return found


# -- versions ---------------------------------------------------------------------------------


@dataclass
class _Held:
    record: dict[str, Any]
    page: dict[str, Any] | None  # the page record it was read from, for provenance
    pilot_entity: str | None = None  # a contact's pilot's entity in the snapshot it is from


@dataclass
class _Open:
    row: dict[str, Any]
    signature: str
    held: dict[str, _Held]
    last_seen: str


def _get(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("/"):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _provenance(held: _Held) -> dict[str, Any]:
    page = held.page or {}
    original = original_of(page, str(page.get("snapshot_id") or "")) if page else None
    return {
        "source_url": held.record.get("source_url"),
        "warc_filename": (original or {}).get("filename") or page.get("warc_filename"),
        "warc_record_id": (original or {}).get("record_id") or page.get("warc_record_id"),
    }


def _row(table: Table, key: tuple[str, str, str], held: _Held, rendering: str,
         source: Source, extra: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    _, entity, language = key
    head = {
        "entity_id": entity,
        "language": language,
        "valid_from": source.iso,
        "valid_to": None,
        "first_snapshot": source.id,
        "last_snapshot": None,
        "rendering": rendering,
        **_provenance(held),
        **extra,
    }
    return {
        c.name: head[c.name] if c.name in head else _get(held.record, c.field or c.name)
        for c in table.columns
    }


def _signature(record: dict[str, Any], rendering: str, extra: dict[str, Any]) -> str:
    view = {**comparable(record), "__rendering": rendering, **extra}
    return json.dumps(view, ensure_ascii=False, sort_keys=True, default=str)


def _observations(
    source: Source, ids: Identities
) -> tuple[dict[tuple[str, str, str], dict[str, _Held]], dict[str, str]]:
    """What the snapshot shows: (kind, entity, language) -> rendering -> record; and the
    entity of each pilot record (for the contacts' ``pilot_entity_id``)."""
    seen: dict[tuple[str, str, str], dict[str, _Held]] = {}

    def put(key: tuple[str, str, str], rendering: str, held: _Held) -> None:
        slot = seen.setdefault(key, {})
        # Two records of one entity on one page (a person in two roles): the first by id.
        if rendering not in slot or held.record["id"] < slot[rendering].record["id"]:
            slot[rendering] = held

    for page in source.pages.values():
        entity, rendering = ids.of(source, "page", page)
        if _ok(page):
            put(("page", entity, _language(page)), rendering, _Held(page, page))
    pilot_entities: dict[str, str] = {}
    for kind in ("pilot", "contact"):
        for record in source.records.get(kind, []):
            entity, rendering = ids.of(source, kind, record)
            if kind == "pilot":
                pilot_entities[record["id"]] = entity
            source_page = source.pages.get(str(record.get("page_id")))
            held = _Held(record, source_page)
            if kind == "contact" and record.get("pilot_id"):
                # Kept with the record: a version held on from this snapshot (its page not
                # fetched later) still names its pilot once this snapshot is let go.
                pilot = str(record["pilot_id"])
                mine = str(record.get("snapshot_id")) == source.id
                held.pilot_entity = pilot_entities.get(pilot) if mine else None
            put((kind, entity, _language(record)), rendering, held)
    return seen, pilot_entities


class Versions:
    """The rows of pilots, contacts and pages, made one used snapshot at a time: a row is
    given out (``on_row``) when the version it describes ends, the open ones at ``finish``."""

    def __init__(self, ids: Identities, on_row: Callable[[str, dict[str, Any]], None]) -> None:
        self.ids = ids
        self.on_row = on_row
        self.current: dict[tuple[str, str, str], _Open] = {}

    def _close(self, key: tuple[str, str, str], version: _Open, source: Source) -> None:
        version.row["valid_to"] = source.iso
        version.row["last_snapshot"] = version.last_seen
        self.on_row(VERSION_TABLES[key[0]].name, version.row)
        del self.current[key]

    def step(self, source: Source) -> None:
        ids, current = self.ids, self.current
        seen, pilot_entities = _observations(source, ids)
        fetched = set(source.pages)
        for key in sorted(set(current) | set(seen)):
            kind = key[0]
            before = current.get(key)
            held: dict[str, _Held] = {}
            for rendering in RENDERINGS:
                if rendering in seen.get(key, {}):
                    held[rendering] = seen[key][rendering]
                elif before and rendering in before.held:
                    was = before.held[rendering]
                    page_id = was.record["id"] if kind == "page" else was.record.get("page_id")
                    if page_id not in fetched:  # not fetched this time: nothing is known
                        held[rendering] = was
            if not held:
                if before:
                    self._close(key, before, source)
                continue
            rendering = next(r for r in RENDERINGS if r in held)
            primary = held[rendering]
            extra: dict[str, Any] = {}
            if kind == "contact":
                pilot = primary.record.get("pilot_id")
                extra["pilot_entity_id"] = (
                    pilot_entities.get(str(pilot)) or primary.pilot_entity if pilot else None
                )
            signature = _signature(primary.record, rendering, extra)
            if before and before.signature == signature:
                before.held = held
                if key in seen:
                    before.last_seen = source.id
                continue
            if before:
                self._close(key, before, source)
            row = _row(VERSION_TABLES[kind], key, primary, rendering, source, extra)
            current[key] = _Open(row, signature, held, source.id)

    def finish(self) -> None:
        for key, version in self.current.items():
            self.on_row(VERSION_TABLES[key[0]].name, version.row)
        self.current = {}


def versions(sources: list[Source], ids: Identities) -> dict[str, list[dict[str, Any]]]:
    """The rows of pilots, contacts and pages over the used snapshots, in time order (in
    memory: for a few sources, as the golden cases give them)."""
    done: dict[str, list[dict[str, Any]]] = {t.name: [] for t in VERSION_TABLES.values()}
    made = Versions(ids, lambda table, row: done[table].append(row))
    for source in sources:
        if source.used:
            made.step(load(source))
    made.finish()
    return done


# -- changes ----------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A changed value for a text column: text as is, anything else as compact JSON."""
    if value is None or value == [] or value == {}:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _note(change: dict[str, Any]) -> str | None:
    parts = []
    if change.get("matched_by") == "similarity":
        parts.append(f"paired by similarity {change.get('similarity')} with {change['old_id']}")
    for how in ("added", "removed"):
        items = (change.get("records") or {}).get(how) or []
        if items:
            parts.append(f"{how} with the page: {'; '.join(items)}")
    people = change.get("contact_records") or []
    if people:
        parts.append("contact records: " + "; ".join(f"{p['kind']} {p['name']}" for p in people))
    if change.get("text_diff"):
        parts.append("\n".join(change["text_diff"]))
    return "\n".join(parts) or None


def change_rows(
    old: Source, new: Source, ids: Identities, diff: dict[str, Any]
) -> list[dict[str, Any]]:
    """The field-level changes of one diff between consecutive used snapshots."""
    rows: dict[tuple[str, ...], dict[str, Any]] = {}
    for c in diff["changes"]:
        kind, rid = c["record_type"], c["id"]
        where = old if c["kind"] in ("removed", "disappeared") else new
        entity, rendering = ids.by_snapshot.get(where.id, {}).get(
            (kind, rid), (c["entity_id"], "page")
        )
        for f in c["fields"] or [{"field": "record", "old": None, "new": None}]:
            row = {
                "old_snapshot": old.id,
                "new_snapshot": new.id,
                "detected_at": new.iso,
                "record_type": kind,
                "entity_id": entity,
                "language": c["language"] or NO_LANGUAGE,
                "rendering": rendering,
                "record_id": rid,
                "change": c["kind"],
                "field": f["field"],
                "old": _text(f["old"]),
                "new": _text(f["new"]),
                "label": c["label"],
                "note": _note(c),
            }
            key = tuple(str(row[k]) for k in CHANGES.primary_key)
            if key in rows:  # the key begins with the pair: no other pair can repeat it,
                # and a record has one change of one entity in it
                raise PilotarchiveError(f"two changes with the key {key} (a bug)")
            rows[key] = row
    return list(rows.values())


# -- snapshots --------------------------------------------------------------------------------


def snapshot_rows(sources: list[Source]) -> list[dict[str, Any]]:
    rows = []
    for s in sources:
        m = s.info.manifest
        counts = m.get("counts") or {}
        health = m.get("health") or {}
        rows.append(
            {
                "snapshot_id": s.id,
                "time": s.iso or None,
                "target": m.get("target"),
                "origin": m.get("origin"),
                "started_at": m.get("started_at"),
                "finished_at": m.get("finished_at"),
                "health": s.health,
                "used": s.used,
                "health_baseline": health.get("baseline"),
                **{
                    name: (counts.get(kind) or {}).get("total") if counts else None
                    for name, kind in (
                        ("pages", "page"),
                        ("pilots", "pilot"),
                        ("contacts", "contact"),
                    )
                },
                "failures": (
                    m[FAILURE_COUNT]
                    if FAILURE_COUNT in m
                    else len(m["failures"])
                    if "failures" in m
                    else None
                ),
                "rejected": m.get("rejected"),
                "software_version": (m.get("software") or {}).get("version"),
                "start_urls": m.get("start_urls"),
                "note": s.note,
            }
        )
    return rows


# -- the whole walk ---------------------------------------------------------------------------


def windowed(identity: Any) -> Any:
    """The register's identity reading at most a few snapshots' assignments at a time."""
    from pilotarchive.diff.history import WindowedIdentity

    return None if identity is None else WindowedIdentity(identity.register)


def build(output: Path, target: Any = ANY_TARGET) -> Dataset:
    """Read the snapshots under ``output`` once, in time order, and compute every table
    into a row store: the versions as they end, the changes and the diff of each pair of
    consecutive used snapshots (kept for the site)."""
    from pilotarchive.diff.compare import diff_snapshots, identity_for
    from pilotarchive.diff.load import SnapshotView, load_snapshot

    output = Path(output)
    ids = Identities(())
    sources = load_sources(output, target, lambda s: ids.learn(s) if s.used else None)
    skipped = [f"skipping {s.health} snapshot {s.id}: {s.note}" for s in sources if not s.used]
    chosen = None if target is ANY_TARGET else target
    if chosen is None:
        chosen = next((s.info.target for s in sources if s.used), None)
    ids.register = windowed(identity_for(output, target))
    store = RowStore()
    made = Versions(ids, store.add)
    previous: tuple[Source, SnapshotView | None] | None = None
    for source in sources:
        if not source.used:
            continue
        made.step(load(source))
        view = None
        if previous is not None:
            old, old_view = previous
            try:
                old_view = old_view or load_snapshot(old.info.path)
                view = load_snapshot(source.info.path)
                diff = diff_snapshots(old_view, view, ids.register)
            except PilotarchiveError as exc:  # a WARC or record unreadable in the diff's way
                raise SnapshotDamaged(f"cannot diff {old.id} and {source.id}: {exc}") from exc
            store.add_diff(old.id, source.id, diff)
            for row in change_rows(old, source, ids, diff):
                store.add("changes", row)
            ids.forget(old.id)
            old.release()
        previous = (source, view)
    made.finish()
    if previous is not None:
        ids.forget(previous[0].id)
        previous[0].release()
    for row in snapshot_rows(sources):
        store.add("snapshots", row)
    return Dataset(sources, Rows(store), skipped, chosen, ids)
