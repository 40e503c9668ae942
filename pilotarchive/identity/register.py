"""The entity register of a target: which pilot, project, person and page every record of
every snapshot was, kept as state beside the snapshots.

An entity's id is minted once, when it is first seen, and never recomputed: a pilot whose
coordinator changes stays the pilot it was. Each new snapshot's records are assigned to
the entities of the last healthy snapshot before it (:mod:`pilotarchive.identity.assign`);
a degraded snapshot is assigned too, but never becomes the baseline of the next one, so
what its broken extraction lost does not end an entity.

On disk, under ``output/identity/<target>/`` (``_untargeted`` for crawls without one):

* ``register.json``: the snapshots assigned, in time order, and every entity with its kind,
  label, first and last snapshot;
* ``snapshots/<snapshot id>.json``: that snapshot's assignment, every record id with its
  entity, how it was matched (unchanged, changed, twin, new) and the score, the entities
  that ended and began, and notes where a near match was not taken (ended + new).

Every file is written whole or not at all (write, fsync, rename). The register is built
the first time a command needs it and brought up to date after each new snapshot; when
the snapshots no longer agree with it (one deleted, an older one backfilled in between),
it is built again from the start, in time order, which gives the same ids for the same
archive: a new entity's id is taken from what its first record said (as ``entity_id`` was
before the register, so an unchanged archive keeps its ids), made unique with a suffix.
"""

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pilotarchive.archive.lock import FileLock
from pilotarchive.archive.names import target_name_problem
from pilotarchive.archive.snapshot import (
    ANY_TARGET,
    TMP_PREFIX,
    SnapshotInfo,
    read_manifest,
    snapshot_dir,
    write_atomic,
)
from pilotarchive.exceptions import SnapshotDamaged, SnapshotError, UsageError
from pilotarchive.identity.assign import KINDS, Assignment, assign_snapshot
from pilotarchive.identity.records import identity_records
from pilotarchive.records.entities import compute_entity

REGISTER_VERSION = 1
FOLDER = "identity"
UNTARGETED = "_untargeted"
KIND_OF_RECORD = {"page": "page", "pilot": "pilot", "contact": "person"}


def _place_key(text: str) -> str | None:
    """A town's municipality code through the gazetteer (today's, so that an old name and
    its successor are one place), or None for a name it does not know."""
    from pilotarchive.identity.gazetteer import resolve

    found = resolve(text)
    return found.current.code if found is not None and found.current else None


@dataclass
class Entity:
    kind: str  # "pilot", "project", "person", "page"
    label: str
    first_snapshot: str
    last_snapshot: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "label": self.label, "first_snapshot": self.first_snapshot,
                "last_snapshot": self.last_snapshot}  # fmt: skip


@dataclass
class Register:
    """One target's register, in memory: the snapshot ids assigned and the entities."""

    root: Path  # output/identity/<target>
    target: str | None
    snapshots: list[str] = field(default_factory=list)
    baselines: dict[str, str | None] = field(default_factory=dict)  # snapshot -> its baseline
    health: dict[str, str] = field(default_factory=dict)
    entities: dict[str, Entity] = field(default_factory=dict)

    @property
    def file(self) -> Path:
        return self.root / "register.json"

    def assignment_file(self, snapshot_id: str) -> Path:
        return self.root / "snapshots" / f"{snapshot_id}.json"

    def assignment(self, snapshot_id: str) -> dict[str, Any]:
        """A snapshot's assignment as written (record id -> [entity id, how, score])."""
        try:
            data = json.loads(self.assignment_file(snapshot_id).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SnapshotError(
                f"the entity register has no readable assignment for {snapshot_id} "
                f"({exc}); rebuild it with `pilotarchive identity --rebuild`"
            ) from exc
        return dict(data)

    def entity_of(self, snapshot_id: str) -> dict[str, str]:
        """Record id -> entity id for one snapshot."""
        return {rid: v[0] for rid, v in self.assignment(snapshot_id)["records"].items()}

    def save(self) -> None:
        body = {
            "register_version": REGISTER_VERSION,
            "target": self.target,
            "snapshots": [
                {
                    "id": s,
                    "health": self.health.get(s, "unknown"),
                    "baseline": self.baselines.get(s),
                }
                for s in self.snapshots
            ],
            "entities": {e: self.entities[e].as_dict() for e in sorted(self.entities)},
        }
        text = json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True)
        write_atomic(self.file, (text + "\n").encode("utf-8"))


def _folder(output: Path, target: str | None) -> Path:
    if target and (problem := target_name_problem(target)):  # the name becomes a path
        raise UsageError(problem)
    return Path(output) / FOLDER / (target or UNTARGETED)


def _load(root: Path, target: str | None) -> Register:
    register = Register(root, target)
    try:
        data = json.loads(register.file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return register
    except (OSError, ValueError):
        return Register(root, target)  # garbled: built again
    if data.get("register_version") != REGISTER_VERSION:
        return Register(root, target)
    for item in data.get("snapshots", []):
        register.snapshots.append(item["id"])
        register.health[item["id"]] = item.get("health", "unknown")
        register.baselines[item["id"]] = item.get("baseline")
    for ident, e in data.get("entities", {}).items():
        register.entities[ident] = Entity(e["kind"], e["label"], e["first_snapshot"],
                                          e["last_snapshot"])  # fmt: skip
    return register


def _records(info: SnapshotInfo) -> dict[str, list[dict[str, Any]]]:
    """A snapshot's records by type, cut to what identity reads."""
    return identity_records(info.path)


def _label(kind: str, record: dict[str, Any]) -> str:
    if kind == "contact":
        return str(record.get("name") or "")
    if kind == "page":
        return str(record.get("title") or record.get("final_url") or "")
    return str(record.get("theme") or record.get("coordinator") or "")


def _verdict(info: SnapshotInfo) -> str:
    return str((info.manifest.get("health") or {}).get("verdict") or "unknown")


class _Minter:
    """Ids for new entities: first a placeholder, then, once every kind of the snapshot is
    assigned, the id its first record's content gives (unique with a suffix)."""

    def __init__(self, taken: Iterable[str]) -> None:
        self.taken = set(taken)
        self.count = 0
        # The suffix each base was last given: the ids taken only grow, so the next free
        # one is never below it. Counting from 2 every time was quadratic: one person named
        # in the boxes of 256 pages tried 33,000 ids, and 12,800 pages 80 million.
        self.last: dict[str, int] = {}

    def placeholder(self, label: str) -> str:
        self.count += 1
        return f"\x00new:{label}:{self.count}"

    def final(self, kind: str, record: dict[str, Any]) -> str:
        base = compute_entity(kind, record)
        n = self.last.get(base, 1)
        ident = base if n == 1 else f"{base}-{n}"
        while ident in self.taken:
            n += 1
            ident = f"{base}-{n}"
        self.last[base] = n
        self.taken.add(ident)
        return ident


def _assign(
    register: Register,
    info: SnapshotInfo,
    current: dict[str, list[dict[str, Any]]],
    baseline: str | None,
    previous: Mapping[str, Mapping[str, list[dict[str, Any]]]],
) -> None:
    body = _match(register, info.id, _verdict(info), current, baseline, previous)
    text = json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True)
    write_atomic(register.assignment_file(info.id), (text + "\n").encode("utf-8"))
    register.snapshots.append(info.id)
    register.health[info.id] = _verdict(info)
    register.baselines[info.id] = baseline


def _match(
    register: Register,
    snapshot_id: str,
    verdict: str,
    current: dict[str, list[dict[str, Any]]],
    baseline: str | None,
    previous: Mapping[str, Mapping[str, list[dict[str, Any]]]],
) -> dict[str, Any]:
    """One snapshot's assignment (what its file holds); new entities enter ``register``."""
    minter = _Minter(register.entities)
    results: dict[str, Assignment] = assign_snapshot(
        previous, current, new_id=minter.placeholder, place_key=_place_key
    )
    # A page that now answers 404 says nothing of what it was (no title, no links, not even
    # which rendering): it is the entity its URL was.
    by_url = {
        str(r.get("url")): entity
        for entity, rows in previous.get("page", {}).items()
        for r in rows
        if r.get("url")
    }
    # Placeholders to real ids, from the first record of each new entity, in record order.
    rename: dict[str, str] = {}
    for kind in KINDS:
        for record, match in zip(current.get(kind, ()), results[kind].matches, strict=True):
            if not match.entity_id.startswith("\x00new:") or match.entity_id in rename:
                continue
            was = by_url.get(str(record.get("url"))) if kind == "page" else None
            if was is not None and (record.get("status") or 0) >= 400:
                rename[match.entity_id] = was
            else:
                rename[match.entity_id] = minter.final(kind, record)
    records: dict[str, list[Any]] = {}
    began: list[str] = []
    notes: list[str] = []
    for kind in KINDS:
        result = results[kind]
        for record, match in zip(current.get(kind, ()), result.matches, strict=True):
            entity = rename.get(match.entity_id, match.entity_id)
            score = None if match.score is None else round(match.score, 3)
            records[str(record.get("id"))] = [entity, match.how, score]
            known = register.entities.get(entity)
            if known is None:
                kind_name = KIND_OF_RECORD[kind]
                if kind == "pilot":
                    kind_name = str(record.get("kind") or "pilot")
                register.entities[entity] = Entity(kind_name, _label(kind, record), snapshot_id,
                                                   snapshot_id)  # fmt: skip
                began.append(entity)
            else:
                known.last_snapshot = snapshot_id
                if record.get("language") == "fi" or not known.label:
                    known.label = _label(kind, record) or known.label
        notes += [n.text for n in result.notes]
    ended = sorted({e for kind in KINDS for e in results[kind].ended})
    body: dict[str, Any] = {
        "snapshot_id": snapshot_id,
        "baseline": baseline,
        "health": verdict,
        "records": dict(sorted(records.items())),
        "began": sorted(set(began)),
        "ended": ended,
        "notes": [n.replace("\x00", "") for n in notes],
    }
    for key, value in rename.items():
        body["notes"] = [n.replace(key.replace("\x00", ""), value) for n in body["notes"]]
    return body


def _previous(
    register: Register, baseline: str | None, infos: Mapping[str, SnapshotInfo]
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The baseline's records grouped by kind and entity, as assign wants them."""
    if baseline is None:
        return {}
    entity_of = register.entity_of(baseline)
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for kind, rows in _records(infos[baseline]).items():
        by_entity = grouped.setdefault(kind, {})
        for row in rows:
            entity = entity_of.get(str(row.get("id")))
            if entity is not None:
                by_entity.setdefault(entity, []).append(row)
    return grouped


def _listing(output: Path) -> Iterator[SnapshotInfo]:
    """``list_snapshots(output, damaged=True)`` with each manifest cut, as it is read, to
    what the register reads (target, health verdict): a thousand whole manifests held at
    once grew every command that reads the register by some 13 KB a snapshot."""
    root = snapshot_dir(output)
    for entry in sorted(root.iterdir(), key=lambda e: e.name) if root.is_dir() else ():
        if entry.name.startswith(TMP_PREFIX) or not entry.is_dir():
            continue
        try:
            manifest = read_manifest(entry)
        except SnapshotDamaged as exc:
            yield SnapshotInfo(entry, {}, str(exc))
            continue
        verdict = (manifest.get("health") or {}).get("verdict")
        yield SnapshotInfo(entry, {"target": manifest.get("target"),
                                   "health": {"verdict": verdict}})  # fmt: skip


def _target_snapshots(output: Path, target: str | None) -> list[SnapshotInfo]:
    return [info for info in _listing(output) if not info.damaged and info.target == target]


def ensure_register(
    output: Path, target: Any = ANY_TARGET, *, rebuild: bool = False, wait: float = 600
) -> Register:
    """The register of ``target``, brought up to date with its snapshots (built from the
    first snapshot when there is none, when ``rebuild``, or when the snapshots no longer
    agree with it). ``ANY_TARGET``: the one target of the output folder. ``wait``: seconds
    to wait for its lock (a ``reextract`` holds it while it rebuilds the register)."""
    output = Path(output)
    if target is ANY_TARGET:
        targets = {info.target for info in _listing(output)}
        if len(targets) > 1:
            names = ", ".join(sorted(t or "(none)" for t in targets))
            raise UsageError(
                f"the snapshots belong to several targets ({names}); choose one with --target"
            )
        target = next(iter(targets)) if targets else None
    root = _folder(output, target)
    (root / "snapshots").mkdir(parents=True, exist_ok=True)
    with FileLock(root / ".lock", wait=wait, what=f"the entity register of {target or 'crawls'}"):
        infos = _target_snapshots(output, target)
        ids = [info.id for info in infos]
        register = Register(root, target) if rebuild else _load(root, target)
        if register.snapshots != ids[: len(register.snapshots)]:
            register = Register(root, target)  # a snapshot gone or one older came in
        if register.snapshots and not all(
            register.assignment_file(s).is_file() for s in register.snapshots
        ):
            register = Register(root, target)
        by_id = {info.id: info for info in infos}
        todo = ids[len(register.snapshots) :]
        if not todo:
            return register
        for ident in todo:
            info = by_id[ident]
            baseline = _baseline_of(register)
            previous = _previous(register, baseline, by_id)
            _assign(register, info, _records(info), baseline, previous)
        _prune_files(register)
        register.save()
        return register


def _baseline_of(register: Register) -> str | None:
    """The snapshot a new one is assigned against: the last one not degraded."""
    return next(
        (s for s in reversed(register.snapshots) if register.health.get(s) != "degraded"), None
    )


def preview(
    output: Path,
    target: str | None,
    snapshot_id: str,
    current: dict[str, list[dict[str, Any]]],
    *,
    wait: float = 600,
) -> dict[str, str]:
    """Record id -> entity id for a snapshot not yet committed (a crawl's, or a snapshot's
    new derivation), against the register brought up to date with the committed ones.

    Nothing is written: once the snapshot is in place, :func:`ensure_register` assigns it
    the same way (same baseline, same records; assignment reads neither ``entity_id`` nor
    the fingerprint), so the ids the records carry are the register's.
    """
    register = ensure_register(output, target, wait=wait)
    baseline = _baseline_of(register)
    infos = {info.id: info for info in _target_snapshots(Path(output), target)}
    previous = _previous(register, baseline, infos) if baseline in infos else {}
    body = _match(register, snapshot_id, "unknown", current, baseline, previous)
    return {rid: v[0] for rid, v in body["records"].items()}


def forget(output: Path, target: str | None) -> None:
    """Drop the register of ``target`` (its files are derived state): the next command
    builds it again from the snapshots, which ``reextract`` changed."""
    root = _folder(output, target)
    if not root.is_dir():
        return
    with FileLock(root / ".lock", wait=600, what=f"the entity register of {target or 'crawls'}"):
        Path(root / "register.json").unlink(missing_ok=True)


class Rebuild:
    """The register of a target built again in time order while some of its snapshots are
    derived again (``reextract``): each re-derived snapshot's records are assigned against
    the register as the snapshots before it left it, exactly as the next
    :func:`ensure_register` will assign them, so the ids the records carry are the
    register's. ``register.json`` is removed first: a run killed half-way leaves a register
    that is simply built again by the next command. The register's own lock is held from
    :meth:`open` to :meth:`close` (others wait for it, a crawl's commit for a few seconds
    only); the caller takes the output folder's lock for each snapshot it swaps."""

    def __init__(self, output: Path, target: str | None) -> None:
        self.output = Path(output)
        self.target = target
        root = _folder(self.output, target)
        (root / "snapshots").mkdir(parents=True, exist_ok=True)
        self.register = Register(root, target)
        self.lock = FileLock(root / ".lock", wait=600,
                             what=f"the entity register of {target or 'crawls'}")  # fmt: skip
        self.infos: dict[str, SnapshotInfo] = {}

    def open(self) -> list[SnapshotInfo]:
        """Take the register's lock, drop its file; the target's snapshots, oldest first."""
        self.lock.acquire()
        self.register.file.unlink(missing_ok=True)
        infos = _target_snapshots(self.output, self.target)
        self.infos = {info.id: info for info in infos}
        return infos

    def preview(self, snapshot_id: str, current: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
        """Record id -> entity id for a snapshot's new records, nothing kept."""
        import copy

        saved = copy.deepcopy(self.register.entities)
        baseline = _baseline_of(self.register)
        previous = _previous(self.register, baseline, self.infos)
        try:
            body = _match(self.register, snapshot_id, "unknown", current, baseline, previous)
        finally:
            self.register.entities = saved
        return {rid: v[0] for rid, v in body["records"].items()}

    def add(self, info: SnapshotInfo) -> None:
        """The snapshot (as it now is on disk) assigned and kept in the register."""
        self.infos[info.id] = info
        baseline = _baseline_of(self.register)
        _assign(self.register, info, _records(info), baseline,
                _previous(self.register, baseline, self.infos))  # fmt: skip

    def close(self, *, save: bool = True) -> None:
        try:
            if save:
                _prune_files(self.register)
                self.register.save()
        finally:
            self.lock.release()


def _prune_files(register: Register) -> None:
    """Assignment files of snapshots no longer in the register (a rebuild after a delete)."""
    keep = {f"{s}.json" for s in register.snapshots}
    folder = register.root / "snapshots"
    for path in folder.glob("*.json") if folder.is_dir() else ():
        if path.name not in keep:
            os.unlink(path)


def timeline_of(register: Register, entity: str) -> Iterator[tuple[str, list[str]]]:
    """For one entity, each snapshot that saw it and the record ids that were it."""
    for snapshot in register.snapshots:
        records = register.assignment(snapshot)["records"]
        ids = sorted(rid for rid, v in records.items() if v[0] == entity)
        if ids:
            yield snapshot, ids
