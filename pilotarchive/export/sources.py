"""The snapshots of one target as the export reads them: listed one at a time with their
manifests cut to what the dataset and the site say of them, read to know whether they can
be used, their records held only while they are being read."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pilotarchive.archive.snapshot import (
    ANY_TARGET,
    ArchiveChecks,
    SnapshotInfo,
    check_readable,
    iter_records,
    snapshot_dir,
    snapshot_time,
)
from pilotarchive.exceptions import SnapshotDamaged, SnapshotError, UsageError

FAILURE_COUNT = "failure_count"  # in a slimmed manifest: how many failures it listed


def iso_time(ts: datetime) -> str:
    """ISO 8601, UTC, always with microseconds, so times sort as text and compare as bytes."""
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Source:
    """One snapshot as the export sees it. Its records (``pages``, ``records``) are held
    only while it is being read (:func:`load`); ``info.manifest`` keeps only what the
    tables, the site and the citation say of it (:func:`slim_manifest`)."""

    info: SnapshotInfo
    time: datetime | None
    health: str  # healthy, degraded, damaged, unknown (made before health was judged)
    note: str | None = None
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    loaded: bool = True  # False: the records are on disk, read again when needed

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def used(self) -> bool:
        return self.health in ("healthy", "unknown")

    @property
    def iso(self) -> str:
        return iso_time(self.time) if self.time else ""

    def release(self) -> None:
        """Let the records go (they are read again from the snapshot when needed)."""
        if self.info.path.is_dir():  # a source made in memory (a test) keeps its records
            self.pages, self.records, self.loaded = {}, {}, False


def slim_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """What the dataset and the site say of a snapshot, and no more: a thousand whole
    manifests (file lists, settings, skipped URLs, findings) held at once grew memory by
    some 15 KB a snapshot. The page of a snapshot reads its whole manifest again."""
    keep = ("snapshot_id", "target", "origin", "started_at", "finished_at", "rejected",
            "start_urls")  # fmt: skip
    slim = {k: manifest[k] for k in keep if k in manifest}
    health = manifest.get("health")
    if isinstance(health, dict):
        slim["health"] = {k: health[k] for k in ("verdict", "baseline") if k in health}
        if health.get("verdict") == "degraded" and "findings" in health:
            slim["health"]["findings"] = health["findings"]  # the note says why
    counts = manifest.get("counts")
    if isinstance(counts, dict):
        slim["counts"] = {
            kind: ({"total": c["total"]} if isinstance(c, dict) and "total" in c else {})
            for kind, c in counts.items()
        }
    if isinstance(manifest.get("failures"), list):
        slim[FAILURE_COUNT] = len(manifest["failures"])
    if isinstance(manifest.get("software"), dict):
        slim["software"] = {"version": manifest["software"].get("version")}
    if isinstance(manifest.get("settings"), dict) and "operator" in manifest["settings"]:
        slim["settings"] = {"operator": manifest["settings"]["operator"]}
    archive = manifest.get("archive")
    if isinstance(archive, dict) and "warc_files" in archive:  # the citation's operator
        slim["archive"] = {"warc_files": archive["warc_files"]}
    if isinstance(manifest.get("files"), dict):
        slim["files"] = {k: v for k, v in manifest["files"].items() if k.endswith(".warc.gz")}
    return slim


def iter_infos(output: Path) -> Iterator[SnapshotInfo]:
    """``list_snapshots(output, damaged=True)`` one at a time, each manifest slimmed as it
    is read, so that listing a thousand snapshots never holds a thousand manifests."""
    from pilotarchive.diff.history import iter_infos as each_snapshot

    for info in each_snapshot(output):
        yield info if info.damaged else SnapshotInfo(info.path, slim_manifest(info.manifest))


def _choose_target(infos: list[SnapshotInfo], target: Any) -> list[SnapshotInfo]:
    if target is not ANY_TARGET:
        chosen = [i for i in infos if i.damaged or i.target == target]
        if not any(not i.damaged for i in chosen):
            known = sorted({str(i.target) for i in infos if not i.damaged})
            raise UsageError(
                f"no snapshots of target {target!r}; the targets here are: "
                f"{', '.join(known) or 'none'}"
            )
        return chosen
    targets = sorted({str(i.target) for i in infos if not i.damaged and i.target is not None})
    untargeted = any(not i.damaged and i.target is None for i in infos)
    if len(targets) + untargeted > 1:
        names = ", ".join(targets + (["(none)"] if untargeted else []))
        raise UsageError(
            f"the snapshots belong to several targets ({names}), whose histories do not mix; "
            "choose one with --target NAME"
        )
    return infos


def _revisits_checked(
    info: SnapshotInfo, pages: list[dict[str, Any]], evidence: ArchiveChecks
) -> None:
    """A revisit stands for another snapshot's record (perhaps another target's:
    deduplication once crossed targets): if that snapshot's WARCs no longer verify (or it
    is gone), the values read from it have no evidence either, and the snapshot is left
    out and named as one whose records are damaged."""
    for page in pages:
        original = page.get("warc_refers_to")
        other = original.get("snapshot_id") if isinstance(original, dict) else None
        if isinstance(other, str) and other != info.id and (why := evidence.problem(other)):
            raise SnapshotDamaged(
                f"{info.path}: its revisit of {page.get('final_url')} stands for a record of "
                f"snapshot {other}, which is no evidence now: {why}"
            )


def _load(info: SnapshotInfo, evidence: ArchiveChecks | None = None) -> Source:
    """``evidence``: check the archive files' sums too, this snapshot's and those its
    revisits stand for (the first read of a snapshot)."""
    time = snapshot_time(info.id)
    if info.damaged:
        return Source(info, time, "damaged", info.damaged)
    if time is None:
        return Source(info, None, "damaged", f"{info.path}: the folder name is no snapshot id")
    health = (info.manifest.get("health") or {}).get("verdict") or "unknown"
    note = None
    if health == "degraded":  # read all the same: the site shows what it held
        findings = info.manifest["health"].get("findings") or []
        why = "; ".join(
            dict.fromkeys(
                f"{f.get('kind')} [{f.get('language') or '-'}]: {f.get('message')}"
                for f in findings
            )
        )
        note = f"degraded: {why}" if why else "degraded"
    source = Source(info, time, health, note)
    try:
        manifest = check_readable(info.path)
        if evidence is not None and (damage := evidence.problem(info.id, manifest)):
            raise SnapshotDamaged(damage)
        records: dict[str, list[dict[str, Any]]] = {"page": [], "pilot": [], "contact": []}
        for name, n, record, error in iter_records(info.path):
            if record is None:
                raise SnapshotDamaged(f"{info.path / 'records' / name}:{n}: {error}")
            records.setdefault(str(record.get("record_type")), []).append(record)
        if evidence is not None:
            _revisits_checked(info, records["page"], evidence)
    except SnapshotDamaged as exc:
        return Source(info, time, "damaged", str(exc))
    source.pages = {p["id"]: p for p in records["page"]}
    source.records = records
    return source


def load(source: Source) -> Source:
    """The source with its records read (again) from its snapshot."""
    if not source.loaded:
        again = _load(source.info)  # its evidence was checked when it was first read
        if again.health == "damaged":  # changed on disk since it was first read
            raise SnapshotDamaged(str(again.note))
        source.pages, source.records, source.loaded = again.pages, again.records, True
    return source


def load_sources(
    output: Path, target: Any = ANY_TARGET, on_read: Callable[[Source], None] | None = None
) -> list[Source]:
    """Every snapshot of the target, in time order, each read once to know whether it can
    be used, then let go (``on_read`` sees it while its records are held)."""
    infos = list(iter_infos(output))
    if not infos:
        raise SnapshotError(f"no snapshots under {snapshot_dir(output)}; run `pilotarchive crawl`")
    infos = _choose_target(infos, target)
    far = datetime.max.replace(tzinfo=None)

    def when(info: SnapshotInfo) -> tuple[datetime, str]:
        ts = snapshot_time(info.id)
        return (ts.replace(tzinfo=None) if ts else far), info.id

    infos.sort(key=when)  # oldest first: the first page that answered gives its identity
    sources = []
    evidence = ArchiveChecks(output)
    for info in infos:
        source = _load(info, evidence)
        if on_read is not None:
            on_read(source)
        source.release()
        sources.append(source)
    sources.sort(key=lambda s: ((s.time.replace(tzinfo=None) if s.time else far), s.id))
    if not any(s.used for s in sources):
        # Named here, since nothing else is said: a crawl is no help while each new snapshot
        # is left out for the same reason (a damaged WARC its revisits pointed into).
        damaged = [s for s in sources if s.health == "damaged"]
        said = "".join(f"; damaged: {s.id}: {s.note}" for s in damaged[:3])
        more = f" (and {len(damaged) - 3} more)" if len(damaged) > 3 else ""
        raise SnapshotError(
            f"no healthy snapshot to export under {snapshot_dir(output)} "
            f"({len(sources)} degraded or damaged{said}{more}); "
            + (
                "`pilotarchive validate --all` names the damage, then crawl again"
                if damaged
                else "run `pilotarchive crawl`"
            )
        )
    return sources
