"""Snapshots on disk: built under a temporary name, renamed into place when complete.

``output/snapshots/<id>/`` holds ``manifest.json`` and ``records/*.jsonl``. A reader never
sees a half-written snapshot: everything is written under ``.tmp-<id>-<pid>``, fsynced, and
renamed in one step. A crawl that dies leaves only the ``.tmp-`` folder, which the next run
removes.

Snapshot ids are UTC times to the microsecond (``20261128T154357.123456Z``), allocated under
the output folder's lock so that two crawls started in the same instant still get two ids;
ids of earlier versions (``20261128T154357Z``, ``...Z-1``) stay valid. The commit (judging
the health, renaming, updating the digest index) runs under the same lock, so concurrent
crawls into one folder never lose a snapshot: the second one waits its turn.
"""

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from pilotarchive import __version__
from pilotarchive.archive.extsort import sorted_lines
from pilotarchive.archive.lock import output_lock
from pilotarchive.archive.names import target_name_problem
from pilotarchive.archive.owner import Ownership, abandoned
from pilotarchive.exceptions import (
    DiskFull,
    SnapshotDamaged,
    SnapshotError,
    SnapshotInvalid,
    UsageError,
)
from pilotarchive.records.ids import fingerprint
from pilotarchive.records.validate import errors_for, record_errors, schema_version, versioned

RECORD_FILES = {"page": "pages.jsonl", "pilot": "pilots.jsonl", "contact": "contacts.jsonl"}
REJECTED_FILE = "rejected.jsonl"
TMP_PREFIX = ".tmp-"
Clock = Callable[[], datetime]


SNAPSHOT_ID = re.compile(r"^\d{8}T\d{6}(?:\.\d{1,6})?Z(?:-\d+)?$")
LOCK_WAIT = 600.0  # seconds a commit waits for another crawl's commit before giving up


def utc_now() -> datetime:
    return datetime.now(UTC)


def make_snapshot_id(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def snapshot_time(snapshot_id: str) -> datetime | None:
    """The time an id names (ids are UTC times), or None for a name that is not an id."""
    m = re.match(r"^(\d{8}T\d{6})(?:\.(\d{1,6}))?Z", snapshot_id)
    if not m:
        return None
    ts = datetime.strptime(m.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    return ts + timedelta(microseconds=int((m.group(2) or "0").ljust(6, "0")))


def os_error(exc: OSError, path: Path | str | None = None) -> DiskFull:
    """One line for an OS error while writing: "disk full" when it is, with the path."""
    # A failed write() names no file (exc.filename is None): the caller names the folder.
    where = path or exc.filename or "the output folder"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(f"disk full writing {where}")
    return DiskFull(f"cannot write {where}: {exc.strerror or exc}")


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def snapshot_dir(output: Path) -> Path:
    return Path(output) / "snapshots"


def refuse_inside_snapshots(path: Path, flag: str, output: Path | None = None) -> None:
    """Only a crawl and ``reextract`` write inside ``snapshots/`` (both atomically, under
    the output folder's lock): a diff, a package or a dataset written there (``diff --file
    output/snapshots/<id>/records/pilots.jsonl``) would overwrite the archive. Symbolic
    links are followed; any output folder's snapshots count."""
    target = Path(os.path.abspath(path)).resolve()
    if output is not None:
        snapshots = Path(os.path.abspath(snapshot_dir(output))).resolve()
        if target == snapshots or snapshots in target.parents:
            raise UsageError(f"{flag} {path}: inside the archive's snapshots/, which only a "
                             "crawl and reextract write; give a path outside it")  # fmt: skip
    for folder in (target, *target.parents):
        name = folder.name
        if folder.parent.name == "snapshots" and (
            SNAPSHOT_ID.match(name) or name.startswith(TMP_PREFIX)
        ):
            raise UsageError(
                f"{flag} {path}: inside snapshot {name}, which only a crawl and reextract "
                "write; give a path outside snapshots/"
            )


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write-then-rename, so ``path`` is either absent, old or complete.

    Any failure (a folder where the file should be, a missing parent, a full disk) removes
    the temporary file and raises :class:`DiskFull` naming the path.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise UsageError(f"{path.parent} does not exist; create it or give another file name")
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise os_error(exc, path) from exc


def clean_stale(output: Path) -> list[Path]:
    """Remove what killed runs left (``.tmp-*`` folders) whose writers are provably gone
    (:mod:`pilotarchive.archive.owner`: never on a pid alone, the folder may be another
    host's); return what was removed."""
    root = snapshot_dir(output)
    removed = []
    if root.is_dir():
        for entry in root.iterdir():
            if not entry.name.startswith(TMP_PREFIX) or not entry.is_dir():
                continue
            if resumable(entry):
                continue  # an interrupted crawl, kept for its JOBDIR to go on with
            if not abandoned(entry):
                continue  # a crawl, here or on another host, is writing it right now
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


RESUMABLE = "RESUMABLE"  # in an interrupted crawl's folder: the JOBDIR that resumes it


def resumable(folder: Path) -> bool:
    """An interrupted crawl's folder whose JOBDIR still exists (else it is stale)."""
    marker = folder / RESUMABLE
    try:
        jobdir = Path(marker.read_text(encoding="utf-8").strip())
    except OSError:
        return False
    return jobdir.is_dir()


def _taken_ids(root: Path) -> set[str]:
    """Ids of complete snapshots and of those being written."""
    taken = set()
    for entry in root.iterdir():
        name = entry.name
        if name.startswith(TMP_PREFIX):
            name = name[len(TMP_PREFIX) :].rsplit("-", 1)[0]
        taken.add(name)
    return taken


def allocate_snapshot(output: Path, started: datetime, snapshot_id: str | None = None,
                      ) -> tuple[str, Path]:  # fmt: skip
    """A new snapshot id and its temporary folder, unique among every crawl into ``output``.

    Done under the output folder's lock: two crawls started in the same microsecond get
    two ids (the second a microsecond later), never the same one.
    """
    root = snapshot_dir(output)
    try:
        root.mkdir(parents=True, exist_ok=True)
        with output_lock(output, wait=LOCK_WAIT):
            taken = _taken_ids(root)
            if snapshot_id is not None:
                if snapshot_id in taken:
                    raise SnapshotError(f"snapshot {snapshot_id} exists already in {root}")
                ident = snapshot_id
            else:
                ts = started
                ident = make_snapshot_id(ts)
                while ident in taken:
                    ts += timedelta(microseconds=1)
                    ident = make_snapshot_id(ts)
            tmp = root / f"{TMP_PREFIX}{ident}-{os.getpid()}"
            (tmp / "records").mkdir(parents=True)
    except OSError as exc:
        raise os_error(exc, root) from exc
    return ident, tmp


STATE_FILE = "part.json"  # what a worker or an interrupted crawl knows beyond its records


def _record_id(line: str) -> str:
    """A record line's id, without parsing it: lines are written with sorted keys and no
    spaces, and no key before ``id`` ends in ``id``."""
    start = line.find('"id":"') + 6
    return line[start : line.find('"', start)]


def sort_records(inputs: list[Path], output: Path, rejected: Callable[[str], None]) -> int:
    """Merge record files into ``output`` sorted by id, in bounded memory.

    Sorted in runs on disk (:mod:`extsort`), so a crawl of 100,000 pages never holds its
    records at once. A second record with an id
    already written (two workers met the same page) goes to ``rejected``. Returns the number
    of lines written.
    """
    work = output.with_name(f"{TMP_PREFIX}runs-{output.stem}")
    partial = output.with_name(f"{TMP_PREFIX}{output.name}")
    written, last = 0, None
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            for line in sorted_lines(inputs, work, key=_record_id):
                ident = _record_id(line)
                if ident == last:
                    rejected(line)
                    continue
                out.write(line)
                written, last = written + 1, ident
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return written


class RecordSink:
    """Where one crawl process puts its records and what it learns on the way.

    A single crawl writes into its snapshot's temporary folder; each worker of a crawl
    split over processes or machines writes into a part of it (``parts/<n>/``), merged
    when all are done; an interrupted crawl's sink is saved with its state and reopened.
    """

    def __init__(self, directory: Path, clock: Clock = utc_now, snapshot_id: str = "") -> None:
        self.directory = Path(directory)  # holds records/
        self.clock = clock
        self.snapshot_id = snapshot_id
        (self.directory / "records").mkdir(parents=True, exist_ok=True)
        self._files: dict[str, IO[str]] = {}
        self._ids: set[str] = set()
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.failures: list[dict[str, Any]] = []
        self.skipped: list[dict[str, Any]] = []
        self._skipped_keys: set[tuple[str, str]] = set()
        self.notes: list[str] = []
        self.missing_versions: list[dict[str, Any]] = []  # guesses answered 404/410
        self.rejected = 0
        self.fetched = 0
        self.usable_pages = 0  # pages read without error: none, and there is no snapshot
        self.unread: list[str] = []  # the first pages answered but not read, with why
        self.left_out = 0  # links the page budget left out (the first are in ``skipped``)
        self.write_error: DiskFull | None = None  # the first failed write; nothing after it
        self.append = False  # reopened after an interruption: files are appended to

    @property
    def retrieved_at(self) -> str:
        return iso(self.clock())

    def _file(self, name: str) -> IO[str]:
        if name not in self._files:
            mode = "a" if self.append else "w"
            self._files[name] = (self.directory / "records" / name).open(mode, encoding="utf-8")
        return self._files[name]

    def _write(self, name: str, line: str) -> None:
        if self.write_error is not None:
            return
        try:
            self._file(name).write(line)
        except OSError as exc:
            self.write_error = os_error(exc, self.directory / "records" / name)

    def add(self, record: dict[str, Any]) -> list[dict[str, str]]:
        """Validate and store a record; an invalid one goes to rejected.jsonl with its errors."""
        record["fingerprint"] = fingerprint(record)
        errors = record_errors(record)
        ident = record.get("id")
        if not errors and ident in self._ids:
            errors = [{"pointer": "/id", "message": f"duplicate id {ident} in this snapshot"}]
        if errors:
            self.reject(record, errors)
            return errors
        self._ids.add(str(ident))
        kind = record["record_type"]
        self.counts[kind][record.get("language") or "unknown"] += 1
        self._write(RECORD_FILES[kind], _dumps(record) + "\n")
        return []

    def reject(self, record: dict[str, Any], errors: list[dict[str, str]]) -> None:
        self.rejected += 1
        self._write(REJECTED_FILE, _dumps({"errors": errors, "record": record}) + "\n")

    def fail(self, url: str, reason: str, status: int | None = None) -> None:
        self.failures.append({"url": url, "reason": reason, "status": status})

    def skip(self, url: str, reason: str) -> None:
        """A URL deliberately not fetched (budget spent, out of scope, already fetched);
        once, also when a resumed crawl meets it again."""
        entry = {"url": url, "reason": reason}
        if (url, reason) not in self._skipped_keys:
            self._skipped_keys.add((url, reason))
            self.skipped.append(entry)

    def note(self, text: str) -> None:
        """Something the archivist should know about this snapshot (a damaged baseline)."""
        if text not in self.notes:
            self.notes.append(text)

    def no_such_version(self, url: str, version: str, guessed_from: str, status: int) -> None:
        """A version guessed by URL convention (no page links to it) that does not exist."""
        self.missing_versions.append(
            {"url": url, "version": version, "guessed_from": guessed_from, "status": status}
        )

    def close_files(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._files.clear()
        if self.write_error is not None:
            raise self.write_error

    def state(self) -> dict[str, Any]:
        """Everything but the records, to be merged (a worker) or restored (a resume)."""
        return {
            "counts": {k: dict(v) for k, v in self.counts.items()},
            "failures": self.failures,
            "skipped": self.skipped,
            "notes": self.notes,
            "rejected": self.rejected,
            "fetched": self.fetched,
            "usable_pages": self.usable_pages,
            "left_out": self.left_out,
            "no_such_version": self.missing_versions,
        }

    def absorb(self, state: dict[str, Any]) -> None:
        """Add another sink's state (a worker's part, or this crawl before its interruption)."""
        for kind, by_language in state.get("counts", {}).items():
            self.counts[kind].update(by_language)
        self.failures += state.get("failures", [])
        for entry in state.get("skipped", []):
            self.skip(entry["url"], entry["reason"])
        for note in state.get("notes", []):
            self.note(note)
        # Guesses no page links to, answered "no such version": a worker's or before a resume.
        self.missing_versions += state.get("no_such_version", [])
        for key in ("rejected", "fetched", "usable_pages", "left_out"):
            setattr(self, key, getattr(self, key) + int(state.get(key, 0)))

    def save_state(self, extra: dict[str, Any]) -> None:
        data = json.dumps({**self.state(), **extra}, ensure_ascii=False, sort_keys=True)
        write_atomic(self.directory / STATE_FILE, data.encode("utf-8"))


@dataclass
class SnapshotWriter(RecordSink):
    """Collects one crawl's records and commits them as a snapshot.

    ``target`` names the scheduled target the snapshot belongs to (targets sharing an
    output folder never diff against each other); ``origin`` says how it was made
    (``crawl``, or ``backfill`` from web-archive captures, whose id and times are given).
    """

    output: Path
    start_urls: list[str]
    scope: str
    max_pages: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    clock: Clock = utc_now
    target: str | None = None
    origin: str = "crawl"
    snapshot_id: str = ""  # given for a backfill; allocated otherwise
    started: datetime | None = None
    tmp: Path | None = None  # an existing temporary folder to reopen (a resumed crawl)

    def __post_init__(self) -> None:
        self.output = Path(self.output)
        if self.started is None:
            self.started = self.clock()
        if self.tmp is None:
            self.snapshot_id, self.tmp = allocate_snapshot(
                self.output, self.started, self.snapshot_id or None
            )
        try:
            self.owner = Ownership(self.tmp)  # held until renamed: no one takes it for stale
        except BlockingIOError:
            raise SnapshotError(f"{self.tmp} is being written by another process") from None
        except OSError as exc:
            raise os_error(exc, self.tmp) from exc
        RecordSink.__init__(self, self.tmp, self.clock, self.snapshot_id)
        self.finished: datetime | None = None
        self.parts: list[Path] = []  # workers' parts to merge at commit
        self.derivation: dict[str, Any] | None = None  # the manifest's: release and rules
        self.deriver: Any = None  # the pilotarchive.derive.Derivation of this crawl
        self.archive_summary: dict[str, Any] = {
            "warc_files": [],
            "cdxj": None,
            "records": {},
            "payload_bytes": 0,
            "revisits": {"identical_payload": 0, "not_modified": 0},
            "dedup": False,
            "conditional_requests": False,
            "previous_snapshot": None,
        }

    @property
    def path(self) -> Path:
        assert self.tmp is not None
        return self.tmp

    def _finish_files(self) -> None:
        self.close_files()
        for name in RECORD_FILES.values():
            own = self.path / "records" / name
            inputs = [own, *(part / "records" / name for part in self.parts)]
            # Sorted by id so that two crawls of an unchanged site give identical files.
            sort_records(inputs, own, self._duplicate)
        for part in self.parts:
            rejected = part / "records" / REJECTED_FILE
            if rejected.exists():
                with (self.path / "records" / REJECTED_FILE).open("a", encoding="utf-8") as fh:
                    fh.write(rejected.read_text(encoding="utf-8"))
        shutil.rmtree(self.path / "parts", ignore_errors=True)

    def _duplicate(self, line: str) -> None:
        record = json.loads(line)
        self.counts[record["record_type"]][record.get("language") or "unknown"] -= 1
        self.rejected += 1
        error = {"pointer": "/id", "message": f"duplicate id {record['id']} in this snapshot"}
        with (self.path / "records" / REJECTED_FILE).open("a", encoding="utf-8") as fh:
            fh.write(_dumps({"errors": [error], "record": record}) + "\n")

    def manifest(self, finished: datetime) -> dict[str, Any]:
        from scrapy import __version__ as scrapy_version  # the crawler is Scrapy; record it

        assert self.started is not None
        files = {}
        for path in sorted(self.path.rglob("*")):
            if path.is_file():
                rel = path.relative_to(self.path).as_posix()
                files[rel] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
        skipped = sorted(self.skipped, key=lambda f: (f["url"], f["reason"]))
        return {
            "manifest_version": schema_version("manifest"),
            "snapshot_id": self.snapshot_id,
            "target": self.target,
            "origin": self.origin,
            "software": {"name": "pilotarchive", "version": __version__, "scrapy": scrapy_version},
            "start_urls": self.start_urls,
            "scope": self.scope,
            "max_pages": self.max_pages,
            "started_at": iso(self.started),
            "finished_at": iso(finished),
            "settings": self.settings,
            "counts": {
                kind: {
                    "total": sum(self.counts[kind].values()),
                    "by_language": dict(sorted(self.counts[kind].items())),
                }
                for kind in RECORD_FILES
            },
            "fetched": self.fetched,
            "rejected": self.rejected,
            "failures": sorted(self.failures, key=lambda f: (f["url"], f["reason"])),
            "skipped": skipped,
            "left_out": self.left_out,
            "notes": self.notes,
            "no_such_version": sorted(self.missing_versions, key=lambda m: m["url"]),
            "archive": self.archive_summary,
            "files": files,
            **({"derivation": self.derivation} if self.derivation else {}),
        }

    def commit(
        self,
        judge: Callable[[Path, dict[str, Any]], dict[str, Any] | None] | None = None,
        on_committed: Callable[[Path], None] | None = None,
        entities: Callable[[Path], None] | None = None,
    ) -> Path:
        """Write the manifest, make everything durable, rename into place.

        Under the output folder's lock: ``entities`` may rewrite the finished records
        (the register's entity ids, assigned against the snapshots committed before this
        one), ``judge`` sees them (folder and manifest so far) and may return the
        snapshot's health, which the manifest then records; ``on_committed`` runs once the
        snapshot is in place (the digest index is told about it there), before another
        crawl may commit. On any failure the temporary folder is removed and nothing
        appears under the final name.
        """
        try:
            self._finish_files()
            with output_lock(self.output, wait=LOCK_WAIT):
                self.owner.release(remove=True)  # not part of the snapshot
                if entities is not None:
                    entities(self.path)
                self.finished = self.finished or self.clock()
                manifest = self.manifest(self.finished)
                if judge is not None and (health := judge(self.path, manifest)):
                    manifest["health"] = health
                problems = [
                    f"{e['pointer']}: {e['message']}" for e in errors_for(manifest, "manifest")
                ]
                if problems:
                    raise SnapshotError(
                        "the manifest does not match its schema: " + "; ".join(problems)
                    )
                data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True)
                write_atomic(self.path / "manifest.json", (data + "\n").encode("utf-8"))
                for path in self.path.rglob("*"):
                    if path.is_file():
                        with path.open("rb") as fh:
                            os.fsync(fh.fileno())
                final = snapshot_dir(self.output) / self.snapshot_id
                os.rename(self.path, final)
                fsync_dir(final.parent)
                from pilotarchive.archive.ledger import record

                record(self.output, "committed", [self.snapshot_id], manifest.get("target"))
                if on_committed is not None:
                    on_committed(final)
                return final
        except OSError as exc:
            self.abort()
            raise os_error(exc, None if exc.filename else self.path) from exc
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        for fh in self._files.values():
            with contextlib.suppress(OSError):  # a full disk fails the flush; the folder goes
                fh.close()
        shutil.rmtree(self.path, ignore_errors=True)
        self.owner.release()


def fsync_dir(path: Path) -> None:
    """Make a rename or removal inside ``path`` durable (the folder's entry list on disk)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class SnapshotInfo:
    path: Path
    manifest: dict[str, Any]
    damaged: str | None = None  # why the snapshot cannot be read, naming file and line

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def target(self) -> str | None:
        return self.manifest.get("target")


ANY_TARGET = object()


def read_manifest(path: Path) -> dict[str, Any]:
    """A snapshot's manifest, or :class:`SnapshotDamaged` saying what is wrong with it."""
    file = Path(path) / "manifest.json"
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise SnapshotDamaged(f"{path}: manifest.json is missing") from None
    except OSError as exc:
        raise SnapshotDamaged(f"{file}: cannot read ({exc.strerror})") from exc
    try:
        manifest = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SnapshotDamaged(f"{file}: not UTF-8 at byte {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise SnapshotDamaged(f"{file}:{exc.lineno}: not JSON ({exc.msg})") from exc
    if not isinstance(manifest, dict):
        raise SnapshotDamaged(f"{file}: not a JSON object")
    target = manifest.get("target")
    if target is not None and (problem := target_name_problem(target)):
        raise SnapshotDamaged(f"{file}: target: {problem}")  # it would become a path
    return manifest


def list_snapshots(
    output: Path, *, target: Any = ANY_TARGET, damaged: bool = False
) -> list[SnapshotInfo]:
    """Complete snapshots, oldest first (ids are times).

    ``target`` keeps those of one target (None: snapshots made without one). Snapshots
    whose manifest cannot be read are left out, or listed with ``damaged`` set when
    ``damaged=True`` (the ``snapshots`` command shows them; nothing is silently omitted).
    """
    root = snapshot_dir(output)
    if not root.is_dir():
        return []
    out = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.startswith(TMP_PREFIX) or not entry.is_dir():
            continue
        try:
            manifest = read_manifest(entry)
        except SnapshotDamaged as exc:
            if damaged:
                out.append(SnapshotInfo(entry, {}, str(exc)))
            continue
        if target is not ANY_TARGET and manifest.get("target") != target:
            continue
        out.append(SnapshotInfo(entry, manifest))
    return out


def resolve_snapshot(output: Path, ref: str | None) -> Path:
    """A snapshot id, a path, or None for the latest."""
    if ref:
        if len(ref) > 4096 or "\0" in ref:
            raise UsageError(f"{ref[:40]!r}...: not a snapshot id or path")
        path = Path(ref)
        try:
            if path.is_dir() and (path / "manifest.json").exists():
                return path
            candidate = snapshot_dir(output) / ref
            if SNAPSHOT_ID.match(ref) and candidate.is_dir():
                return candidate
        except OSError as exc:  # a name too long for the file system, say
            raise UsageError(f"{ref[:40]!r}: not a snapshot id or path ({exc.strerror})") from exc
        raise UsageError(  # a value as typed that names nothing: exit 2, as the README says
            f"no snapshot {ref[:80]!r} (looked for a folder and for an id under "
            f"{snapshot_dir(output)}); `pilotarchive snapshots` lists them"
        )
    snapshots = list_snapshots(output)
    if not snapshots:
        raise SnapshotError(f"no snapshots under {snapshot_dir(output)}; run `pilotarchive crawl`")
    return snapshots[-1].path


def iter_records(path: Path) -> Iterator[tuple[str, int, dict[str, Any] | None, str | None]]:
    """``(file, line number, record or None, why not)`` for every record line.

    Lines are decoded one by one, so a garbled line or a byte that is not UTF-8 is named by
    its line and the rest of the file is still read.
    """
    for name in RECORD_FILES.values():
        file = path / "records" / name
        if not file.exists():
            continue
        with file.open("rb") as fh:
            for n, raw in enumerate(fh, 1):
                try:
                    record = json.loads(raw.decode("utf-8"))
                except UnicodeDecodeError as exc:
                    yield name, n, None, f"not UTF-8 at byte {exc.start} of the line"
                    continue
                except json.JSONDecodeError as exc:
                    yield name, n, None, f"not JSON: {exc}"
                    continue
                if not isinstance(record, dict):
                    yield name, n, None, "not a JSON object"
                    continue
                yield name, n, record, None


def listed_state(file: Path, entry: dict[str, Any]) -> str | None:
    """How a file stands against its manifest entry: "missing", "differs" (size, then
    sha256), or None when it has the bytes listed. Each caller words it."""
    if not file.is_file():
        return "missing"
    if file.stat().st_size != entry.get("bytes", file.stat().st_size):
        return "differs"
    return "differs" if sha256_file(file) != entry.get("sha256") else None


def archive_damage(path: Path, manifest: dict[str, Any] | None = None) -> str | None:
    """Why the snapshot's WARC and index files are no evidence now, or None: each file its
    manifest lists under ``archive/`` must be there with the bytes and sha256 it lists.

    Records cite a WARC record as the evidence of each value, and a revisit (deduplicated
    or not modified) cites a record of another snapshot: a WARC that no longer verifies is
    no evidence for any of them. ``wacz`` and ``bag`` refuse such a snapshot, ``export`` and
    ``site`` leave it out, and a crawl never writes a revisit into it."""
    try:
        listed = (manifest if manifest is not None else read_manifest(path)).get("files") or {}
    except SnapshotDamaged as exc:
        return str(exc)
    for rel, entry in sorted(listed.items()):
        if not rel.startswith("archive/"):
            continue
        file = path / rel
        state = listed_state(file, entry)
        if state == "missing":
            return f"{file}: listed in the manifest but missing"
        if state == "differs":
            return (
                f"{file}: changed or damaged (sha256 differs from the manifest); "
                "`pilotarchive validate` names every such file"
            )
    return None


class ArchiveChecks:
    """:func:`archive_damage` for the snapshots of one output folder, each asked once (a
    file's sha256 is read whole; a revisit's original may be any earlier snapshot's)."""

    def __init__(self, output: Path) -> None:
        self.folder = snapshot_dir(output)
        self.known: dict[str, str | None] = {}

    def problem(self, snapshot_id: str, manifest: dict[str, Any] | None = None) -> str | None:
        if snapshot_id not in self.known:
            self.known[snapshot_id] = archive_damage(self.folder / snapshot_id, manifest)
        return self.known[snapshot_id]


def check_readable(path: Path) -> dict[str, Any]:
    """The manifest of a snapshot fit to be a baseline, or :class:`SnapshotDamaged`.

    Cheaper than :func:`validate_snapshot` (no schema or WARC checks): the manifest reads,
    every record file has the sha256 the manifest lists, and every line is a JSON object.
    """
    manifest = read_manifest(path)
    listed = manifest.get("files") or {}
    for name, n, _record, error in iter_records(path):  # first: it names the line
        if error:
            raise SnapshotDamaged(f"{path / 'records' / name}:{n}: {error}")
    for name in RECORD_FILES.values():
        rel = f"records/{name}"
        file = path / rel
        if rel in listed:
            state = listed_state(file, listed[rel])
            if state == "missing":
                raise SnapshotDamaged(f"{file}: listed in the manifest but missing")
            if state == "differs":
                raise SnapshotDamaged(f"{file}: changed or damaged (sha256 differs)")
    return manifest


def validate_snapshot(path: Path) -> list[str]:
    """Every problem found: manifest schema, file checksums, record schemas, ids, counts."""
    problems: list[str] = []
    try:
        manifest = read_manifest(path)
    except SnapshotDamaged as exc:
        return [str(exc)]
    schema = versioned("manifest", manifest.get("manifest_version"))
    problems += [
        f"manifest.json{e['pointer']}: {e['message']}" for e in errors_for(manifest, schema)
    ]
    listed = manifest.get("files", {})
    for rel, entry in sorted(listed.items()):
        file = path / rel
        state = listed_state(file, entry)
        if state == "missing":
            problems.append(f"{rel}: listed in the manifest but missing")
        elif state == "differs":
            problems.append(f"{rel}: sha256 differs from the manifest (file changed or damaged)")
    for file in sorted(path.rglob("*")):
        rel = file.relative_to(path).as_posix()
        if file.is_symlink():  # its bytes live elsewhere, and may change or go there
            problems.append(
                f"{rel}: a symbolic link (to {os.readlink(file)}); a snapshot holds its own files"
            )
        elif file.is_file() and rel != "manifest.json" and rel not in listed:
            problems.append(f"{rel}: present but not listed in the manifest")
    # What the manifest says the archive is must be files of this snapshot's archive/ that
    # the manifest lists (and so checks): "/etc/passwd" there was carried from release to
    # release unread.
    archive = manifest.get("archive")
    if isinstance(archive, dict):
        named = [
            *(archive.get("warc_files") or []),
            *([archive["cdxj"]] if archive.get("cdxj") else []),
        ]
        for name in named:
            if not (isinstance(name, str) and name.startswith("archive/") and name in listed):
                problems.append(
                    f"manifest.json/archive: {name!r} is no listed file of this snapshot's archive/"
                )
    seen: set[str] = set()
    counts: dict[str, int] = Counter()
    pages: list[tuple[str, dict[str, Any]]] = []
    children: list[tuple[str, dict[str, Any]]] = []
    for name, n, record, error in iter_records(path):
        where = f"records/{name}:{n}"
        if record is None:
            problems.append(f"{where}: {error}")
            continue
        for e in record_errors(record):
            problems.append(f"{where}{e['pointer']}: {e['message']}")
        if record.get("id") in seen:
            problems.append(f"{where}: duplicate id {record.get('id')}")
        seen.add(str(record.get("id")))
        if record.get("snapshot_id") != manifest.get("snapshot_id"):
            problems.append(
                f"{where}: snapshot_id {record.get('snapshot_id')!r} is not this snapshot's"
            )
        counts[record.get("record_type", "?")] += 1
        if record.get("record_type") == "page":
            pages.append((where, record))
        else:
            children.append((where, record))
    page_ids = {page.get("id") for _, page in pages}
    pilot_ids = {r.get("id") for _, r in children if r.get("record_type") == "pilot"}
    for where, record in children:
        if record.get("page_id") not in page_ids:
            problems.append(f"{where}: page_id {record.get('page_id')} is no page of this snapshot")
        if record.get("pilot_id") and record["pilot_id"] not in pilot_ids:
            problems.append(f"{where}: pilot_id {record['pilot_id']} is no pilot of this snapshot")
    problems += _check_archive(path, pages)
    for kind, entry in manifest.get("counts", {}).items():
        if counts.get(kind, 0) != entry.get("total"):
            problems.append(
                f"manifest.json/counts/{kind}: says {entry.get('total')}, records "
                f"hold {counts.get(kind, 0)}"
            )
    return problems


def _check_archive(path: Path, pages: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Every WARC record's fields and digests, and every page's way to its record."""
    from pilotarchive.archive.check import check_warc

    problems: list[str] = []
    by_file: dict[str, dict[str, dict[str, Any]]] = {}
    for warc in sorted((path / "archive").glob("*.warc.gz")):
        found, records = check_warc(warc, f"archive/{warc.name}")
        problems += found
        by_file[warc.name] = records
    for where, page in pages:
        ident = page.get("warc_record_id")
        if not ident:
            continue
        record = by_file.get(page.get("warc_filename") or "", {}).get(ident)
        if record is None:
            problems.append(
                f"{where}: WARC record {ident} not found in archive/{page.get('warc_filename')}"
            )
        elif record["offset"] != page.get("warc_offset") or record["target_uri"] != page.get(
            "final_url"
        ):
            problems.append(
                f"{where}: WARC record {ident} is at offset {record['offset']} for "
                f"{record['target_uri']}, not as the record says"
            )
    return problems


def check_snapshot(path: Path) -> None:
    problems = validate_snapshot(path)
    if problems:
        raise SnapshotInvalid(str(path), problems)
