"""What each snapshot's revisit records depend on: which original records, in which snapshots.

A revisit record stores the HTTP head only; its body is the original response it names
(``WARC-Refers-To``, with ``WARC-Refers-To-Target-URI``, ``WARC-Refers-To-Date`` and the
``WARC-Payload-Digest`` both share). Replay tools resolve it by looking the original up, so
a revisit whose original is gone, or no longer holds that payload, replays as nothing. The
truth is read from the WARC files themselves, not from the manifest's ``depends_on`` (which
is what the crawl believed when it wrote them): every response and revisit record's header
of every snapshot of the output folder is read, and each revisit is resolved.

Revisits are resolved across the whole output folder, never only within a target: a
snapshot of another target (or an untargeted crawl) that holds an original makes that
snapshot needed, and pruning or deleting it would break the revisit.
"""

import json
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warcio.exceptions import ArchiveLoadFailed

from pilotarchive.archive.read import QuietArchiveIterator
from pilotarchive.archive.snapshot import SnapshotInfo, list_snapshots

_READ_ERRORS = (OSError, EOFError, zlib.error, ArchiveLoadFailed, ValueError)


@dataclass(frozen=True)
class WarcEntry:
    """A response or revisit record, as its WARC header describes it."""

    snapshot: str
    filename: str
    offset: int
    record_id: str
    kind: str  # "response" or "revisit"
    target_uri: str
    date: str
    payload_digest: str | None
    refers_to: str | None = None  # a revisit's WARC-Refers-To
    refers_to_uri: str | None = None
    refers_to_date: str | None = None
    damaged: str | None = None  # the record's gzip member or digest fails: why

    @property
    def where(self) -> str:
        return f"{self.snapshot}/archive/{self.filename} offset {self.offset}"


@dataclass(frozen=True)
class Dependency:
    """One revisit and the original it resolved to, or why it did not resolve."""

    revisit: WarcEntry
    original: WarcEntry | None
    problem: str | None = None  # None: the revisit replays

    @property
    def dangling(self) -> bool:
        return self.problem is not None


@dataclass
class SnapshotScan:
    """The response and revisit records of one snapshot, and what could not be read."""

    info: SnapshotInfo
    responses: list[WarcEntry] = field(default_factory=list)
    revisits: list[WarcEntry] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # a WARC that stopped early, and why


def scan_warc(path: Path, snapshot: str) -> tuple[list[WarcEntry], str | None]:
    """The response and revisit records of a WARC (headers only, no digest checks), and why
    it could not be read to its end, or None."""
    out: list[WarcEntry] = []
    try:
        with path.open("rb") as fh:
            iterator = QuietArchiveIterator(fh)
            for record in iterator:
                kind = record.rec_type
                headers = record.rec_headers
                while record.content_stream().read(1 << 16):
                    pass  # the offset is known once the record is read
                if kind not in ("response", "revisit"):
                    continue
                out.append(
                    WarcEntry(
                        snapshot=snapshot,
                        filename=path.name,
                        offset=iterator.get_record_offset(),
                        record_id=headers.get_header("WARC-Record-ID") or "",
                        kind=kind,
                        target_uri=headers.get_header("WARC-Target-URI") or "",
                        date=headers.get_header("WARC-Date") or "",
                        payload_digest=headers.get_header("WARC-Payload-Digest"),
                        refers_to=headers.get_header("WARC-Refers-To"),
                        refers_to_uri=headers.get_header("WARC-Refers-To-Target-URI"),
                        refers_to_date=headers.get_header("WARC-Refers-To-Date"),
                    )
                )
    except _READ_ERRORS as exc:
        return out + _after_damage(path, snapshot, out), (
            f"{type(exc).__name__} after {len(out)} record(s)"
        )
    return out, None


def _after_damage(path: Path, snapshot: str, read: list[WarcEntry]) -> list[WarcEntry]:
    """The records past the point where warcio stopped, each gzip member read on its own
    (:func:`check.members`): a damaged record is listed as such, the rest as they are, so
    one bad byte does not make every later original look missing."""
    from pilotarchive.archive.check import members

    last = max((e.offset for e in read), default=-1)
    out = []
    for offset, head, why in members(path):
        if offset > last and (entry := _entry(head, snapshot, path.name, offset, why)):
            out.append(entry)
    return out


def _entry(
    head: bytes, snapshot: str, filename: str, offset: int, damaged: str | None = None
) -> WarcEntry | None:
    from pilotarchive.archive.check import head_fields

    fields = head_fields(head) if head.startswith(b"WARC/") else {}
    kind = fields.get("warc-type")
    if kind not in ("response", "revisit") or not fields.get("warc-record-id"):
        return None
    return WarcEntry(
        snapshot=snapshot,
        filename=filename,
        offset=offset,
        record_id=fields["warc-record-id"],
        kind=kind,
        target_uri=fields.get("warc-target-uri", ""),
        date=fields.get("warc-date", ""),
        payload_digest=fields.get("warc-payload-digest"),
        refers_to=fields.get("warc-refers-to"),
        refers_to_uri=fields.get("warc-refers-to-target-uri"),
        refers_to_date=fields.get("warc-refers-to-date"),
        damaged=damaged,
    )


def _head_at(fh: Any, offset: int) -> bytes:
    """The WARC header of the record (its own gzip member) at ``offset``, and no more."""
    fh.seek(offset)
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    out = b""
    while b"\r\n\r\n" not in out and len(out) < 1 << 16 and not inflater.eof:
        chunk = fh.read(1024)
        if not chunk:
            break
        out += inflater.decompress(chunk)
    return out


def scan_indexed(info: SnapshotInfo) -> SnapshotScan | None:
    """The snapshot's response and revisit headers, read at the offsets its CDXJ index
    lists, without decompressing the bodies (7x faster on the replica's pages); None when the
    index is missing or does not match the WARCs, and the WARCs must be read through.

    For listings only: ``prune``, ``bag`` and ``validate`` read every WARC through, so an
    index that left a record out can never hide a dependency from them."""
    archive = info.path / "archive"
    warcs = {w.name for w in archive.glob("*.warc.gz")}
    offsets: dict[str, list[int]] = {}
    try:
        for line in (archive / "index.cdxj").read_text(encoding="utf-8").splitlines():
            data = json.loads(line.split(" ", 2)[2])
            if data.get("mime") != "warc/request" and data.get("filename") in warcs:
                offsets.setdefault(data["filename"], []).append(int(data["offset"]))
    except (OSError, ValueError, IndexError, KeyError, TypeError):
        return None
    if set(offsets) != warcs:
        return None
    scan = SnapshotScan(info)
    try:
        for name, found in sorted(offsets.items()):
            with (archive / name).open("rb") as fh:
                for offset in sorted(set(found)):
                    entry = _entry(_head_at(fh, offset), info.id, name, offset)
                    if entry is not None:
                        (scan.revisits if entry.kind == "revisit" else scan.responses).append(entry)
    except (OSError, zlib.error):
        return None
    return scan


def scan_snapshot(info: SnapshotInfo, *, indexed: bool = False) -> SnapshotScan:
    if indexed and (scan := scan_indexed(info)) is not None:
        return scan
    scan = SnapshotScan(info)
    for warc in sorted((info.path / "archive").glob("*.warc.gz")):
        entries, problem = scan_warc(warc, info.id)
        for entry in entries:
            (scan.revisits if entry.kind == "revisit" else scan.responses).append(entry)
        if problem:
            scan.unreadable.append(f"archive/{warc.name}: not readable to its end ({problem})")
    return scan


class Originals:
    """Every response record of the scanned snapshots, by record id and by (URI, date)."""

    def __init__(self, scans: Iterable[SnapshotScan]) -> None:
        self.by_id: dict[str, WarcEntry] = {}
        self.by_uri_date: dict[tuple[str, str], WarcEntry] = {}
        for scan in scans:
            for entry in scan.responses:
                self.by_id.setdefault(entry.record_id, entry)
                self.by_uri_date.setdefault((entry.target_uri, entry.date), entry)
        # A revisit naming a revisit is wrong, but say so rather than "missing".
        self.revisit_ids: dict[str, WarcEntry] = {}

    def add_revisits(self, scans: Iterable[SnapshotScan]) -> None:
        for scan in scans:
            for entry in scan.revisits:
                self.revisit_ids.setdefault(entry.record_id, entry)

    def resolve(self, revisit: WarcEntry) -> Dependency:
        """The original a revisit stands for, checked as replay tools look it up."""
        original = None
        if revisit.refers_to:
            original = self.by_id.get(revisit.refers_to)
            if original is None and revisit.refers_to in self.revisit_ids:
                return Dependency(revisit, None, f"refers to {revisit.refers_to}, which is "
                                  "a revisit record, not an original response")  # fmt: skip
            if original is None:
                # Its snapshot may be gone, or its WARC damaged, cut or deleted (named
                # apart): either way no readable WARC of the folder holds it.
                return Dependency(revisit, None, f"original {revisit.refers_to} "
                                  f"({revisit.refers_to_uri}, {revisit.refers_to_date}) is in "
                                  "no readable WARC of the output folder")  # fmt: skip
        else:
            original = self.by_uri_date.get(
                (revisit.refers_to_uri or "", revisit.refers_to_date or "")
            )
            if original is None:
                return Dependency(revisit, None, f"no original response for "
                                  f"{revisit.refers_to_uri} at {revisit.refers_to_date} is in "
                                  "any snapshot of the output folder")  # fmt: skip
        if original.damaged:
            return Dependency(revisit, original, f"its original {original.record_id} at "
                              f"{original.where} is damaged ({original.damaged})")  # fmt: skip
        if original.payload_digest != revisit.payload_digest:
            return Dependency(revisit, original, f"payload digest {revisit.payload_digest} "
                              f"differs from its original's ({original.payload_digest} at "
                              f"{original.where})")  # fmt: skip
        if revisit.refers_to_uri and revisit.refers_to_uri != original.target_uri:
            return Dependency(revisit, original, f"WARC-Refers-To-Target-URI "
                              f"{revisit.refers_to_uri} is not its original's "
                              f"({original.target_uri} at {original.where})")  # fmt: skip
        if revisit.refers_to_date and revisit.refers_to_date != original.date:
            why = f"WARC-Refers-To-Date {revisit.refers_to_date} is not its original's"
            return Dependency(revisit, original, f"{why} ({original.date} at {original.where})")
        return Dependency(revisit, original)


@dataclass
class SnapshotDependencies:
    """What one snapshot's revisits need."""

    info: SnapshotInfo
    dependencies: list[Dependency]
    unreadable: list[str]

    @property
    def needs(self) -> Counter[str]:
        """Other snapshots holding originals, with how many revisits point into each."""
        return Counter(
            d.original.snapshot
            for d in self.dependencies
            if d.original is not None and not d.dangling and d.original.snapshot != self.info.id
        )

    @property
    def dangling(self) -> list[Dependency]:
        return [d for d in self.dependencies if d.dangling]

    def problems(self) -> list[str]:
        """The dangling revisits, each naming the file, offset, record and reason."""
        return [
            f"archive/{d.revisit.filename} revisit at offset {d.revisit.offset} "
            f"({d.revisit.record_id}, {d.revisit.target_uri}): dangling: {d.problem}"
            for d in self.dangling
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "revisits": len(self.dependencies),
            "depends_on": dict(sorted(self.needs.items())),
            "dangling": len(self.dangling),
        }


def archive_dependencies(
    output: Path, *, indexed: bool = False, through: Iterable[str] = ()
) -> dict[str, SnapshotDependencies]:
    """Every readable snapshot of the output folder with what its revisits depend on.

    All snapshots are read, whatever target they belong to: an original may be in any;
    also those whose manifest is damaged, whose WARCs may still hold originals.
    ``indexed``: read headers where the CDXJ indexes say (:func:`scan_indexed`), for a
    listing; anything that deletes or certifies reads the WARCs through. ``through``:
    snapshots read through even so (those being validated: every revisit of theirs must be
    seen; the others only lend originals, whose digests are re-computed where used, and an
    original the index left out shows as missing, never as present).
    """
    through = set(through)
    snapshots = list_snapshots(output, damaged=True)
    scans = [scan_snapshot(info, indexed=indexed and info.id not in through) for info in snapshots]
    originals = Originals(scans)
    originals.add_revisits(scans)
    return {
        scan.info.id: SnapshotDependencies(
            scan.info, [originals.resolve(r) for r in scan.revisits], scan.unreadable
        )
        for scan in scans
    }


def needed_closure(
    deps: dict[str, SnapshotDependencies], keep: Iterable[str]
) -> dict[str, set[str]]:
    """The snapshots ``keep`` need, directly or through what they need, each with the kept
    snapshots that need it (a revisit's original is always a response, so this is one step
    deep for archives pilotarchive wrote; the closure covers any other)."""
    needed_by: dict[str, set[str]] = {}
    todo = list(keep)
    seen = set(todo)
    while todo:
        ident = todo.pop()
        entry = deps.get(ident)
        if entry is None:
            continue
        for dep in entry.needs:
            needed_by.setdefault(dep, set()).add(ident)
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return needed_by


def dependents(deps: dict[str, SnapshotDependencies]) -> dict[str, set[str]]:
    """snapshot -> the snapshots whose revisits point into it."""
    out: dict[str, set[str]] = {}
    for ident, entry in deps.items():
        for dep in entry.needs:
            out.setdefault(dep, set()).add(ident)
    return out


def iter_dangling(deps: dict[str, SnapshotDependencies]) -> Iterator[tuple[str, str]]:
    for ident, entry in deps.items():
        for problem in entry.problems():
            yield ident, problem


def verify_original(snapshots_root: Path, original: WarcEntry) -> str | None:
    """Re-compute an original's digests where it lies (it may be another snapshot's, which
    a check of one snapshot would not read): why it no longer holds its payload, or None."""
    warc = snapshots_root / original.snapshot / "archive" / original.filename
    try:
        with warc.open("rb") as fh:
            fh.seek(original.offset)
            record = next(iter(QuietArchiveIterator(fh, check_digests=True)), None)
            if record is None:
                return f"no record at {original.where}"
            while record.raw_stream.read(1 << 16):
                pass
            if record.digest_checker.passed is False:
                return f"{original.where}: {'; '.join(record.digest_checker.problems)}"
    except _READ_ERRORS as exc:
        return f"{original.where}: cannot be read ({type(exc).__name__})"
    return None
