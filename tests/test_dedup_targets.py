"""Revisits and conditional requests stay within a target's own snapshots (issue 19)."""

import json
import sqlite3
from pathlib import Path

from pilotarchive.archive.dedup import INDEX_FILE, DigestIndex
from pilotarchive.archive.previous import PreviousSnapshot


def original(snapshot: str, digest: str = "sha1:AAAA", uri: str = "http://x/p") -> dict:
    return {
        "payload_digest": digest,
        "target_uri": uri,
        "date": f"2026-01-0{snapshot[-1]}T00:00:00Z",
        "record_id": f"<urn:uuid:{snapshot}>",
        "snapshot_id": snapshot,
        "filename": f"pilotarchive-{snapshot}.warc.gz",
        "offset": 0,
    }


def test_lookup_finds_only_the_targets_own_originals(tmp_path: Path) -> None:
    index = DigestIndex(tmp_path)
    # The same payload at the same URL, archived by another target first, then by ours:
    # both are kept (one original per URL and payload was kept before).
    index.add([original("demo1"), original("pilots2")])
    assert index.lookup("sha1:AAAA", "http://x/p")["snapshot_id"] == "demo1"  # unrestricted
    index.within(["pilots2", "pilots3"])
    assert index.lookup("sha1:AAAA", "http://x/p")["snapshot_id"] == "pilots2"
    index.within(["pilots9"])
    assert index.lookup("sha1:AAAA", "http://x/p") is None
    index.close()


def test_what_a_run_commits_joins_its_own_target(tmp_path: Path) -> None:
    """A backfill writes several snapshots of its target in one run: the second may revisit
    the first (the index's ``within`` grows with what it adds), never another target's."""
    index = DigestIndex(tmp_path)
    index.add([original("demo1", "sha1:DEMO")])
    index.within(["pilots2"])
    index.add([original("pilots3", "sha1:NEW", "http://x/q")])  # committed by this run
    assert index.lookup("sha1:NEW", "http://x/q")["snapshot_id"] == "pilots3"
    assert index.lookup("sha1:DEMO", "http://x/p") is None  # another target's stays out
    index.close()


def test_an_index_from_before_targets_is_migrated_with_its_rows(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / INDEX_FILE)
    db.executescript(
        "CREATE TABLE payloads (digest TEXT NOT NULL, target_uri TEXT NOT NULL, "
        "date TEXT NOT NULL, record_id TEXT NOT NULL, snapshot_id TEXT NOT NULL, "
        "filename TEXT NOT NULL, offset INTEGER NOT NULL, PRIMARY KEY (digest, target_uri));"
        "CREATE INDEX payloads_snapshot ON payloads (snapshot_id);"
    )
    row = original("demo1")
    db.execute("INSERT INTO payloads VALUES (?, ?, ?, ?, ?, ?, ?)", tuple(row.values()))
    db.commit()
    db.close()
    index = DigestIndex(tmp_path)
    assert index.count() == 1 and index.check() == []
    assert index.add([original("pilots2")]) == 1 and index.count() == 2  # no longer ignored
    index.close()


def snapshot_with_page(path: Path, bytes_in: str) -> Path:
    """A previous snapshot whose one page was a revisit of bytes in ``bytes_in``."""
    (path / "records").mkdir(parents=True)
    page = {
        "final_url": "http://x/p",
        "status": 200,
        "warc_record_id": "<urn:uuid:r>",
        "warc_record_type": "revisit",
        "warc_refers_to": original(bytes_in),
        "http_etag": '"e1"',
        "http_last_modified": None,
    }
    (path / "records" / "pages.jsonl").write_text(json.dumps(page) + "\n", encoding="utf-8")
    return path


def test_no_validators_for_a_page_whose_bytes_are_in_another_targets_snapshot(
    tmp_path: Path,
) -> None:
    path = snapshot_with_page(tmp_path / "pilots5", bytes_in="demo1")
    # A 304 would need a revisit into the demo's snapshot: the page is asked for in full.
    assert PreviousSnapshot(path, own={"pilots5", "pilots4"}).validators("http://x/p") == {}
    assert PreviousSnapshot(path, own={"pilots5", "demo1"}).validators("http://x/p") == {
        "If-None-Match": '"e1"'
    }
    assert PreviousSnapshot(path).validators("http://x/p") == {"If-None-Match": '"e1"'}
