"""The digest index: which payloads are already archived, and where.

A response whose payload digest is in the index is written as a ``revisit`` record instead
of again in full. The index lives in ``output/index.sqlite3`` and only ever names records of
committed snapshots: a crawl stages its digests and adds them in one transaction after its
snapshot has been renamed into place, so a crawl killed at any point leaves the index as it
was (SQLite's journal makes the transaction itself atomic).
"""

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pilotarchive.exceptions import SnapshotError

INDEX_FILE = "index.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS payloads (
    digest TEXT NOT NULL,
    target_uri TEXT NOT NULL,
    date TEXT NOT NULL,
    record_id TEXT NOT NULL,
    snapshot_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    offset INTEGER NOT NULL,
    PRIMARY KEY (digest, target_uri, snapshot_id)
);
CREATE INDEX IF NOT EXISTS payloads_snapshot ON payloads (snapshot_id);
"""
# Before revisits were kept within a target, one original per (digest, URL) was kept: the
# first snapshot's, whichever target it was of. Such an index is rebuilt in place, rows kept.
_OLD_KEY = "PRIMARY KEY (digest, target_uri)"
_MIGRATE = """
ALTER TABLE payloads RENAME TO payloads_before_targets;
DROP INDEX IF EXISTS payloads_snapshot;
"""
_FIELDS = ("payload_digest", "target_uri", "date", "record_id", "snapshot_id", "filename", "offset")


class Staged:
    """The originals a crawl archived in full, by payload digest, until its snapshot is
    committed and they join the index.

    Kept as tuples, not dicts: a site crawl stages one for each distinct payload, and at a
    hundred thousand pages a dict apiece was 30 MB of the crawl's memory.
    """

    __slots__ = ("_by_digest",)

    def __init__(self, originals: Iterable[dict[str, Any]] = ()) -> None:
        self._by_digest: dict[str, tuple[Any, ...]] = {}
        for original in originals:
            self.add(original)

    def add(self, original: dict[str, Any]) -> None:
        self._by_digest[original["payload_digest"]] = tuple(original[f] for f in _FIELDS[1:])

    def get(self, digest: str) -> dict[str, Any] | None:
        row = self._by_digest.get(digest)
        return dict(zip(_FIELDS, (digest, *row), strict=True)) if row is not None else None

    def values(self) -> Iterator[dict[str, Any]]:
        for digest, row in self._by_digest.items():
            yield dict(zip(_FIELDS, (digest, *row), strict=True))

    __iter__ = values

    def __len__(self) -> int:
        return len(self._by_digest)


class DigestIndex:
    def __init__(self, output: Path) -> None:
        self._within = False
        self.path = Path(output) / INDEX_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._migrate()
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise SnapshotError(
                f"the digest index {self.path} is unreadable ({exc}); move it aside and the "
                "next crawl rebuilds it (archiving every payload in full once)"
            ) from exc

    def _migrate(self) -> None:
        row = self._db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'payloads'"
        ).fetchone()
        if not row or _OLD_KEY not in row[0]:
            return
        self._db.execute("BEGIN")
        try:
            for statement in _MIGRATE.strip().split(";\n"):
                self._db.execute(statement.strip().rstrip(";"))
            for statement in _SCHEMA.strip().split(";\n"):
                self._db.execute(statement.strip().rstrip(";"))
            self._db.execute("INSERT INTO payloads SELECT * FROM payloads_before_targets")
            self._db.execute("DROP TABLE payloads_before_targets")
            self._db.execute("COMMIT")
        except sqlite3.DatabaseError:
            self._db.execute("ROLLBACK")
            raise

    def within(self, snapshot_ids: Iterable[str]) -> None:
        """Find originals only in these snapshots: the crawl's own target's.

        A revisit into another target's snapshot (or an untargeted crawl's) would leave this
        target's archive unreplayable once those were deleted or pruned, and the target's
        WACZ, bag or prune could not stand on their own. A payload first archived by another
        target is therefore archived in full once more, in this target's snapshot.
        """
        self._db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS within_snapshots (snapshot_id TEXT PRIMARY KEY)"
        )
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM within_snapshots")
            self._db.executemany(
                "INSERT OR IGNORE INTO within_snapshots VALUES (?)", ((s,) for s in snapshot_ids)
            )
        self._within = True

    @classmethod
    def open_or_rebuild(
        cls, output: Path, snapshots: list[Path]
    ) -> tuple["DigestIndex", str | None]:
        """The index; a damaged one is moved aside and rebuilt from the snapshots' pages.

        The rebuilt index knows every page's original response (what page records name);
        other payloads (robots.txt, stylesheets) are archived in full once more. Returns
        the index and a note saying what was done, or None.
        """
        try:
            index = cls(output)
            index.check_or_raise()
            return index, None
        except (SnapshotError, sqlite3.DatabaseError) as exc:
            path = Path(output) / INDEX_FILE
            aside = path.with_name(
                f"{INDEX_FILE}.damaged-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
            )
            path.replace(aside)
            for suffix in ("-journal", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            index = cls(output)
            added = index.add(originals_from_pages(snapshots))
            return index, (
                f"the digest index {path} was damaged ({exc.__cause__ or exc}); moved aside "
                f"to {aside.name} and rebuilt from the snapshots' page records "
                f"({added} payloads)"
            )

    def check_or_raise(self) -> None:
        try:
            problems = self.check()
            self._db.execute("SELECT COUNT(*) FROM payloads").fetchone()
        except sqlite3.DatabaseError as exc:
            raise SnapshotError(str(exc)) from exc
        if problems:
            raise SnapshotError("; ".join(problems))

    def lookup(self, digest: str, uri: str) -> dict[str, Any] | None:
        """The original of a payload: same URL first, else any URL (a URL-agnostic revisit),
        in the snapshots of :meth:`within` when it was called."""
        within = (
            " AND snapshot_id IN (SELECT snapshot_id FROM within_snapshots)" if self._within else ""
        )
        row = self._db.execute(
            "SELECT digest, target_uri, date, record_id, snapshot_id, filename, offset "
            f"FROM payloads WHERE digest = ?{within} ORDER BY target_uri = ? DESC, date LIMIT 1",
            (digest, uri),
        ).fetchone()
        return dict(zip(_FIELDS, row, strict=True)) if row else None

    def add(self, originals: Iterable[dict[str, Any]]) -> int:
        """Add originals of a committed snapshot, all or none; streamed (a site crawl stages
        a hundred thousand of them)."""
        count = 0
        before = self._db.execute("SELECT coalesce(max(rowid), 0) FROM payloads").fetchone()[0]

        def rows() -> Iterator[tuple[Any, ...]]:
            nonlocal count
            for o in originals:
                count += 1
                yield tuple(o[f] for f in _FIELDS)

        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR IGNORE INTO payloads VALUES (?, ?, ?, ?, ?, ?, ?)", rows()
            )
            if self._within:  # a snapshot this run committed is of its own target
                self._db.execute(
                    "INSERT OR IGNORE INTO within_snapshots SELECT DISTINCT snapshot_id "
                    "FROM payloads WHERE snapshot_id NOT IN (SELECT snapshot_id FROM "
                    "within_snapshots) AND rowid > ?",
                    (before,),
                )
        return count

    def prune(self, existing_snapshots: set[str]) -> int:
        """Forget originals whose snapshot was deleted, so no revisit points at nothing."""
        known = {r[0] for r in self._db.execute("SELECT DISTINCT snapshot_id FROM payloads")}
        gone = sorted(known - existing_snapshots)
        with self._db:
            self._db.execute("BEGIN")
            for snapshot_id in gone:
                self._db.execute("DELETE FROM payloads WHERE snapshot_id = ?", (snapshot_id,))
        return len(gone)

    def check(self) -> list[str]:
        result = self._db.execute("PRAGMA integrity_check").fetchone()[0]
        return [] if result == "ok" else [f"{self.path}: {result}"]

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM payloads").fetchone()[0]

    def close(self) -> None:
        self._db.close()


def originals_from_pages(snapshots: list[Path]) -> list[dict[str, Any]]:
    """The original response records that the page records of ``snapshots`` name."""
    out = []
    for path in snapshots:
        try:
            lines = (path / "records" / "pages.jsonl").read_bytes().splitlines()
        except OSError:
            continue
        for raw in lines:
            try:
                page = json.loads(raw)
            except ValueError:
                continue  # a damaged line: its payload is archived again, nothing worse
            if page.get("warc_record_type") != "response" or not page.get("warc_payload_digest"):
                continue
            out.append(
                {
                    "payload_digest": page["warc_payload_digest"],
                    "target_uri": page["final_url"],
                    "date": page.get("warc_date") or "",
                    "record_id": page["warc_record_id"],
                    "snapshot_id": path.name,
                    "filename": page["warc_filename"],
                    "offset": page["warc_offset"],
                }
            )
    return out
