"""An entity's timeline over all snapshots: first seen, each change, and either last seen
(then gone) or still present.

An entity is a pilot, a person or a page family across its languages (see ``entities``),
as the entity register keeps it. The timeline walks the snapshots oldest first and diffs
each with the one before, keeping the changes that touch the entity. A person's timeline
also says when they were replaced as a pilot's contact, or became one: the diff reports
that as a change of the pilot, whose contact records came and went with it.

The walk streams: two snapshots are held at a time (the one before and this one), and
the register's assignments of a few, so a target with a thousand snapshots is walked in
the memory of two, in time linear in its snapshots.
"""

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pilotarchive.archive.snapshot import (
    ANY_TARGET,
    TMP_PREFIX,
    SnapshotInfo,
    check_readable,
    read_manifest,
    snapshot_dir,
)
from pilotarchive.diff.compare import Identity, diff_snapshots, identity_for
from pilotarchive.diff.entities import entity_of
from pilotarchive.diff.load import SnapshotView, load_snapshot
from pilotarchive.exceptions import PilotarchiveError, SnapshotDamaged, UsageError
from pilotarchive.records.ids import normalise_text

_ORDER = {"first seen": 0, "changed": 1, "skipped": 1, "last seen": 2, "present": 2, "gone": 3}


@dataclass
class Event:
    snapshot_id: str
    what: str  # "first seen", "changed", "skipped", "last seen", "gone", "present"
    details: list[str] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)  # the diff's, for JSON

    def as_json(self) -> dict[str, Any]:
        """The event for ``history --format json``: the text lines and the changes."""
        from pilotarchive.archive.snapshot import iso, snapshot_time

        ts = snapshot_time(self.snapshot_id)
        return {
            "snapshot_id": self.snapshot_id,
            "time": iso(ts) if ts else None,
            "what": self.what,
            "details": self.details,
            "changes": self.changes,
        }


def _entity(identity: Identity | None, view: SnapshotView, kind: str, record: dict) -> str:
    """The register's entity of a record, or (no register) the one its content gives."""
    held = identity.of(view.id, record["id"]) if identity is not None else None
    return held or entity_of(kind, record)


def _entity_records(
    view: SnapshotView, entity: str, identity: Identity | None = None
) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for page in view.pages.values():
        if (page.get("status") or 0) >= 400:
            continue  # an error page is no instance of any page (its title is "404")
        if _entity(identity, view, "page", page) == entity:
            found.append(("page", page))
        for kind in ("pilot", "contact"):
            for record in view.records_of_page(kind, page["id"]):
                if _entity(identity, view, kind, record) == entity:
                    found.append((kind, record))
    return found


def one_target(output: Path, target: Any = ANY_TARGET) -> str | None:
    """The target whose snapshots a timeline walks: the one given, or the only one there.
    Snapshots of two targets are two archives: walked as one, the last crawl of one and the
    first of the other made a reversal that never happened."""
    if target is not ANY_TARGET:
        return str(target) if target is not None else None
    targets = {info.target for info in iter_infos(output) if not info.damaged}
    if len(targets) > 1:
        names = ", ".join(sorted(t or "(none)" for t in targets))
        raise UsageError(
            f"the snapshots belong to several targets ({names}); choose one with --target"
        )
    return next(iter(targets), None)


def find_entities(output: Path, query: str, target: Any = ANY_TARGET) -> dict[str, str]:
    """Entities whose theme, name, coordinator or title contains ``query``: id -> label."""
    needle = normalise_text(query)
    hits: dict[str, str] = {}
    chosen = one_target(output, target)
    identity = windowed(identity_for(output, chosen))
    for view in _views(output, target=chosen):
        for page in view.pages.values():
            if (page.get("status") or 0) >= 400:
                continue
            if needle in normalise_text(page.get("title")):
                hits.setdefault(_entity(identity, view, "page", page), page.get("title") or "")
            for kind, keys in (("pilot", ("theme", "coordinator")), ("contact", ("name",))):
                for record in view.records_of_page(kind, page["id"]):
                    if any(needle in normalise_text(record.get(k)) for k in keys):
                        hits.setdefault(_entity(identity, view, kind, record),
                                        record.get(keys[0]) or "")  # fmt: skip
    return hits


def iter_infos(output: Path) -> Iterator[SnapshotInfo]:
    """``list_snapshots(output, damaged=True)``, one snapshot at a time: a thousand
    manifests are never held at once."""
    root = snapshot_dir(output)
    if not root.is_dir():
        return
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.startswith(TMP_PREFIX) or not entry.is_dir():
            continue
        try:
            yield SnapshotInfo(entry, read_manifest(entry))
        except SnapshotDamaged as exc:
            yield SnapshotInfo(entry, {}, str(exc))


def _views(output: Path, warn: bool = False, target: Any = ANY_TARGET) -> Iterator[SnapshotView]:
    """Every readable snapshot (of ``target``), oldest first, one at a time; a damaged one
    is named on stderr and skipped."""
    for info in iter_infos(output):
        if target is not ANY_TARGET and not info.damaged and info.target != target:
            continue
        try:
            if info.damaged:
                raise SnapshotDamaged(info.damaged)
            check_readable(info.path)  # the record files' sums, as export and site check
            view = load_snapshot(info.path, info.manifest)
        except PilotarchiveError as exc:
            if warn:
                print(f"pilotarchive: skipping damaged snapshot {info.id}: {exc}", file=sys.stderr)
            continue
        yield view


def _with_pages(
    diff: dict[str, Any],
    old: SnapshotView,
    new: SnapshotView,
    entity: str,
    details: list[str],
    found: list[dict[str, Any]],
    identity: Identity | None = None,
) -> None:
    """The entity's records that came or went with a whole page: the diff lists them under
    the page ("added with it"), not as changes of their own, and a timeline must not miss
    the English page appearing with the pilot on it."""
    for c in diff["changes"]:
        if c["record_type"] != "page" or c["kind"] not in ("appeared", "disappeared"):
            continue
        how, side = ("added", new) if c["kind"] == "appeared" else ("removed", old)
        for kind in ("pilot", "contact"):
            for record in side.records_of_page(kind, c["id"]):
                if _entity(identity, side, kind, record) != entity:
                    continue
                found.append({
                    "record_type": kind, "kind": how, "id": record["id"],
                    "language": c["language"], "label": record.get("theme")
                    or record.get("name"), "page_label": c["label"], "fields": [],
                })  # fmt: skip
                details.append(f"[{c['language']}] {how} with the page {c['label']!r}, "
                               f"which {c['kind']}")  # fmt: skip


def _degraded(view: SnapshotView) -> Event | None:
    """A degraded snapshot is what the crawler could not read, not what the site said, so
    it is neither a step nor a baseline; it is listed."""
    if (view.health or {}).get("verdict") != "degraded":
        return None
    return Event(view.id, "skipped", [
        "a degraded snapshot: what the crawl could not read is no change of the site"
    ])  # fmt: skip


def _entity_by_id(identity: Identity | None, view: SnapshotView, kind: str, rid: str) -> str:
    held = identity.of(view.id, rid) if identity is not None else None
    if held:
        return held
    try:
        return entity_of(kind, view.record(kind, rid))
    except KeyError:
        return ""


def _as_contact(
    diff: dict[str, Any],
    old: SnapshotView,
    new: SnapshotView,
    entity: str,
    details: list[str],
    found: list[dict[str, Any]],
    identity: Identity | None = None,
) -> None:
    """A person replaced as a pilot's contact, or becoming one: the diff reports a change
    of the pilot whose contact records went and came with it, none of the person's own."""
    for c in diff["changes"]:
        people = c.get("contact_records") or []
        if c["record_type"] != "pilot" or not people:
            continue
        gone = [p for p in people if p["kind"] == "removed"]
        came = [p for p in people if p["kind"] == "added"]
        where = f" on {c['page_label']}" if c.get("page_label") else ""
        sides = (
            (gone, old, "replaced as contact", "replaced as the contact of", "by", " by ", came),
            (came, new, "became contact", "became the contact of", "replacing", ", replacing ",
             gone),
        )  # fmt: skip
        for people_here, side, kind, phrase, key, joiner, others in sides:
            names = [p["name"] for p in others]
            tail = joiner + ", ".join(names) if names else ""
            for person in people_here:
                if _entity_by_id(identity, side, "contact", person["id"]) != entity:
                    continue
                details.append(f"[{c['language']}] {phrase} {c['label']!r}{where}{tail}")
                found.append({"record_type": "contact", "kind": kind, "id": person["id"],
                              "language": c["language"], "label": person["name"],
                              "page_label": c.get("page_label"), "pilot": c["label"],
                              "pilot_id": c["id"], key: names, "fields": []})  # fmt: skip


def timeline(output: Path, entity: str, target: Any = ANY_TARGET) -> list[Event]:
    events: list[Event] = []
    chosen = one_target(output, target)
    seen_before = False
    last_seen: str | None = None
    since: str | None = None  # where the entity's present stretch began
    latest: str | None = None  # the newest healthy snapshot
    previous: SnapshotView | None = None
    identity: Identity | None = None
    for view in _views(output, warn=True, target=chosen):
        skipped = _degraded(view)
        if skipped is not None:
            if last_seen is not None:  # before the entity was first seen it says nothing of it
                events.append(skipped)
            continue
        if identity is None:
            identity = windowed(identity_for(output, chosen))
        present = _entity_records(view, entity, identity)
        if present and not seen_before:
            langs = sorted({r.get("language") or "-" for _, r in present})
            labels = sorted({r.get("theme") or r.get("name") or r.get("title") or ""
                             for _, r in present})  # fmt: skip
            details = [f"in {', '.join(langs)}: {'; '.join(labels)}"]
            found: list[dict[str, Any]] = []
            if previous is not None:  # a person who came as a pilot's new contact says so
                diff = diff_snapshots(previous, view, identity)
                _as_contact(diff, previous, view, entity, details, found, identity)
            events.append(Event(view.id, "first seen", details, found))
            seen_before = True
            since = view.id
        elif previous is not None and seen_before:
            diff = diff_snapshots(previous, view, identity)
            details = []
            found = []
            for c in diff["changes"]:
                if c["entity_id"] != entity:
                    continue
                found.append(
                    {
                        "record_type": c["record_type"],
                        "kind": c["kind"],
                        "id": c["id"],
                        "language": c["language"],
                        "label": c["label"],
                        "page_label": c.get("page_label"),
                        "fields": [f for f in c["fields"] if f["field"] != "text"],
                    }
                )
                fields = "; ".join(f"{f['field']}: {_short(f['old'])} -> {_short(f['new'])}"
                                   for f in c["fields"] if f["field"] != "text")  # fmt: skip
                where = f" on {c['page_label']}" if c.get("page_label") else ""
                details.append(f"[{c['language']}] {c['kind']}{where}: {fields}".rstrip(" :"))
            _as_contact(diff, previous, view, entity, details, found, identity)
            _with_pages(diff, previous, view, entity, details, found, identity)
            if details:
                events.append(Event(view.id, "changed", details, found))
            if not present and last_seen:
                events.append(Event(view.id, "gone", ["not in this snapshot"]))
                seen_before = False
        if present:
            last_seen = view.id
        previous = view
        latest = view.id
    if latest is None:
        raise UsageError(f"no snapshots under {output}; run `pilotarchive crawl` first")
    if not any(e.what != "skipped" for e in events):
        raise UsageError(f"entity {entity} is in no snapshot; search by name: "
                         "`pilotarchive history NAME`")  # fmt: skip
    if last_seen and last_seen == latest:
        # Still there: "last seen" would read as if it had gone after the newest snapshot.
        events.append(
            Event(latest, "present", [f"still there in the newest snapshot; present since {since}"])
        )
    elif last_seen:
        events.append(Event(last_seen, "last seen"))
    # In time order: "last seen" may lie before a later "gone".
    return sorted(events, key=lambda e: (e.snapshot_id, _ORDER.get(e.what, 1)))


def windowed(identity: Identity | None) -> "WindowedIdentity | None":
    """The register's identity reading at most a few snapshots' assignments at a time."""
    return None if identity is None else WindowedIdentity(identity.register)


def _short(value: Any) -> str:
    from pilotarchive.diff.render import show

    text = show(value)
    return text if len(text) <= 80 else text[:77] + "..."


class WindowedIdentity(Identity):
    """The register's identity holding the assignments of the last few snapshots only: a
    walk over the snapshots in time order asks of two at a time, and a thousand snapshots'
    assignments held at once made memory grow with the archive."""

    WINDOW = 4

    def of(self, snapshot_id: str, record_id: str) -> str | None:
        if snapshot_id not in self._cache:
            while len(self._cache) >= self.WINDOW:
                del self._cache[next(iter(self._cache))]
        return super().of(snapshot_id, record_id)
