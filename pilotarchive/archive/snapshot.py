"""Snapshots on disk: built under a temporary name, renamed into place when complete.

``output/snapshots/<id>/`` holds ``manifest.json`` and ``records/*.jsonl``. A reader never
sees a half-written snapshot: everything is written under ``.tmp-<id>``, fsynced, and renamed
in one step. A crawl that dies leaves only the ``.tmp-`` folder, which the next run removes.
"""

import hashlib
import json
import os
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pilotarchive import __version__
from pilotarchive.exceptions import SnapshotError, SnapshotInvalid
from pilotarchive.records.ids import fingerprint
from pilotarchive.records.validate import errors_for, record_errors, schema_version, versioned

RECORD_FILES = {"page": "pages.jsonl", "pilot": "pilots.jsonl", "contact": "contacts.jsonl"}
REJECTED_FILE = "rejected.jsonl"
TMP_PREFIX = ".tmp-"
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def snapshot_dir(output: Path) -> Path:
    return Path(output) / "snapshots"


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write-then-rename, so ``path`` is either absent, old or complete."""
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def clean_stale(output: Path) -> list[Path]:
    """Remove what killed runs left (``.tmp-*`` folders); return what was removed."""
    root = snapshot_dir(output)
    removed = []
    if root.is_dir():
        for entry in root.iterdir():
            if entry.name.startswith(TMP_PREFIX):
                pid = entry.name.rsplit("-", 1)[-1]
                if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
                    continue  # another crawl is writing it right now
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class SnapshotWriter:
    """Collects one crawl's records and commits them as a snapshot."""

    output: Path
    start_urls: list[str]
    scope: str
    max_pages: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    clock: Clock = utc_now

    def __post_init__(self) -> None:
        self.output = Path(self.output)
        self.started = self.clock()
        root = snapshot_dir(self.output)
        root.mkdir(parents=True, exist_ok=True)
        base = self.started.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.snapshot_id, n = base, 0
        while (root / self.snapshot_id).exists():
            n += 1
            self.snapshot_id = f"{base}-{n}"
        self.tmp = root / f"{TMP_PREFIX}{self.snapshot_id}-{os.getpid()}"
        (self.tmp / "records").mkdir(parents=True)
        self._files: dict[str, IO[str]] = {}
        self._ids: set[str] = set()
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.failures: list[dict[str, Any]] = []
        self.missing_versions: list[dict[str, Any]] = []  # guesses answered 404/410
        self.rejected = 0
        self.fetched = 0
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
    def retrieved_at(self) -> str:
        return iso(self.clock())

    def _file(self, name: str) -> IO[str]:
        if name not in self._files:
            self._files[name] = (self.tmp / "records" / name).open("w", encoding="utf-8")
        return self._files[name]

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
        self._file(RECORD_FILES[kind]).write(_dumps(record) + "\n")
        return []

    def reject(self, record: dict[str, Any], errors: list[dict[str, str]]) -> None:
        self.rejected += 1
        self._file(REJECTED_FILE).write(_dumps({"errors": errors, "record": record}) + "\n")

    def fail(self, url: str, reason: str, status: int | None = None) -> None:
        self.failures.append({"url": url, "reason": reason, "status": status})

    def no_such_version(self, url: str, version: str, guessed_from: str, status: int) -> None:
        """A version guessed by URL convention (no page links to it) that does not exist."""
        self.missing_versions.append(
            {"url": url, "version": version, "guessed_from": guessed_from, "status": status}
        )

    def _finish_files(self) -> None:
        for fh in self._files.values():
            fh.close()
        for name in RECORD_FILES.values():
            path = self.tmp / "records" / name
            if not path.exists():
                path.touch()
                continue
            # Sorted by id so that two crawls of an unchanged site give identical files.
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            lines.sort(key=lambda line: json.loads(line)["id"])
            path.write_text("".join(lines), encoding="utf-8")

    def manifest(self, finished: datetime) -> dict[str, Any]:
        from scrapy import __version__ as scrapy_version  # the crawler is Scrapy; record it

        files = {}
        for path in sorted(self.tmp.rglob("*")):
            if path.is_file():
                rel = path.relative_to(self.tmp).as_posix()
                files[rel] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
        return {
            "manifest_version": schema_version("manifest"),
            "snapshot_id": self.snapshot_id,
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
            "no_such_version": sorted(self.missing_versions, key=lambda m: m["url"]),
            "archive": self.archive_summary,
            "files": files,
        }

    def commit(self, judge: Callable[[Path, dict[str, Any]], dict[str, Any] | None] | None = None,
               ) -> Path:  # fmt: skip
        """Write the manifest, make everything durable, rename into place.

        ``judge`` sees the finished records (folder and manifest so far) and may return the
        snapshot's health, which the manifest then records.
        """
        self._finish_files()
        manifest = self.manifest(self.clock())
        if judge is not None and (health := judge(self.tmp, manifest)):
            manifest["health"] = health
        problems = [f"{e['pointer']}: {e['message']}" for e in errors_for(manifest, "manifest")]
        if problems:
            self.abort()
            raise SnapshotError("the manifest does not match its schema: " + "; ".join(problems))
        write_atomic(
            self.tmp / "manifest.json",
            (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode(
                "utf-8"
            ),
        )
        for path in self.tmp.rglob("*"):
            if path.is_file():
                with path.open("rb") as fh:
                    os.fsync(fh.fileno())
        final = snapshot_dir(self.output) / self.snapshot_id
        os.rename(self.tmp, final)
        _fsync_dir(final.parent)
        return final

    def abort(self) -> None:
        for fh in self._files.values():
            fh.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class SnapshotInfo:
    path: Path
    manifest: dict[str, Any]

    @property
    def id(self) -> str:
        return self.path.name


def list_snapshots(output: Path) -> list[SnapshotInfo]:
    """Complete snapshots, oldest first; folders without a readable manifest are skipped."""
    root = snapshot_dir(output)
    if not root.is_dir():
        return []
    out = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(TMP_PREFIX) or not entry.is_dir():
            continue
        try:
            manifest = json.loads((entry / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        out.append(SnapshotInfo(entry, manifest))
    return out


def resolve_snapshot(output: Path, ref: str | None) -> Path:
    """A snapshot id, a path, or None for the latest."""
    if ref:
        path = Path(ref)
        if path.is_dir() and (path / "manifest.json").exists():
            return path
        candidate = snapshot_dir(output) / ref
        if candidate.is_dir():
            return candidate
        raise SnapshotError(
            f"no snapshot {ref!r} (looked for a folder and for an id under "
            f"{snapshot_dir(output)}); `pilotarchive snapshots` lists them"
        )
    snapshots = list_snapshots(output)
    if not snapshots:
        raise SnapshotError(f"no snapshots under {snapshot_dir(output)}; run `pilotarchive crawl`")
    return snapshots[-1].path


def iter_records(path: Path) -> Iterator[tuple[str, int, dict[str, Any] | None, str | None]]:
    """``(file, line number, record or None, parse error or None)`` for every record line."""
    for name in RECORD_FILES.values():
        file = path / "records" / name
        if not file.exists():
            continue
        with file.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                try:
                    yield name, n, json.loads(line), None
                except json.JSONDecodeError as exc:
                    yield name, n, None, f"not JSON: {exc}"


def validate_snapshot(path: Path) -> list[str]:
    """Every problem found: manifest schema, file checksums, record schemas, ids, counts."""
    problems: list[str] = []
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return [f"manifest.json: cannot read: {exc}"]
    schema = versioned("manifest", manifest.get("manifest_version"))
    problems += [
        f"manifest.json{e['pointer']}: {e['message']}" for e in errors_for(manifest, schema)
    ]
    listed = manifest.get("files", {})
    for rel, entry in sorted(listed.items()):
        file = path / rel
        if not file.is_file():
            problems.append(f"{rel}: listed in the manifest but missing")
        elif sha256_file(file) != entry.get("sha256"):
            problems.append(f"{rel}: sha256 differs from the manifest (file changed or damaged)")
    for file in sorted(path.rglob("*")):
        rel = file.relative_to(path).as_posix()
        if file.is_file() and rel != "manifest.json" and rel not in listed:
            problems.append(f"{rel}: present but not listed in the manifest")
    seen: set[str] = set()
    counts: dict[str, int] = Counter()
    pages: list[tuple[str, dict[str, Any]]] = []
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
