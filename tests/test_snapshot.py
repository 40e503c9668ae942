"""The snapshot store: validation on write, rejection with errors, atomic commit, checks."""

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pilotarchive.archive.snapshot import (
    SnapshotWriter,
    clean_stale,
    list_snapshots,
    snapshot_dir,
    validate_snapshot,
)
from pilotarchive.cli import main
from pilotarchive.extract.page import extract_page
from pilotarchive.records.build import FetchFacts, build_records

PAGE = Path(__file__).parent / "golden" / "pages" / "replica-2014-11-19-fi.html"
URL = "http://www.tem.fi/index.phtml?s=4398"


class FixedClock:
    """Ticks one second per call, from a fixed start: output is the same on every run."""

    def __init__(self) -> None:
        self.now = datetime(2014, 11, 19, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def write_snapshot(output: Path, extra: list[dict] | None = None) -> Path:
    writer = SnapshotWriter(output, start_urls=[URL], scope="page", clock=FixedClock())
    page = extract_page(PAGE.read_bytes(), URL, headers={"Content-Type": "text/html"})
    writer.fetched += 1
    for record in build_records(page, FetchFacts(writer.snapshot_id, writer.retrieved_at)):
        writer.add(record)
    for record in extra or []:
        writer.add(record)
    return writer.commit()


def test_snapshot_layout_and_counts(tmp_path: Path) -> None:
    path = write_snapshot(tmp_path)
    assert path == snapshot_dir(tmp_path) / "20141119T120001.000000Z"
    assert sorted(p.name for p in (path / "records").iterdir()) == [
        "contacts.jsonl",
        "pages.jsonl",
        "pilots.jsonl",
    ]
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["counts"]["pilot"] == {"total": 5, "by_language": {"fi": 5}}
    assert manifest["counts"]["contact"]["total"] == 7
    assert set(manifest["files"]) == {
        "records/contacts.jsonl",
        "records/pages.jsonl",
        "records/pilots.jsonl",
    }
    assert validate_snapshot(path) == []
    assert [s.id for s in list_snapshots(tmp_path)] == ["20141119T120001.000000Z"]


def test_same_input_same_bytes(tmp_path: Path) -> None:
    a = write_snapshot(tmp_path / "a")
    b = write_snapshot(tmp_path / "b")
    for rel in (
        "manifest.json",
        "records/pages.jsonl",
        "records/pilots.jsonl",
        "records/contacts.jsonl",
    ):
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_invalid_record_is_rejected_with_its_errors(tmp_path: Path) -> None:
    page = extract_page(PAGE.read_bytes(), URL, headers={"Content-Type": "text/html"})
    bad = next(
        r
        for r in build_records(page, FetchFacts("20141119T120001Z", "2014-11-19T12:00:01Z"))
        if r["record_type"] == "contact"
    )
    bad = {**bad, "id": "contact-00000000000000ff", "email": "not an address", "phone": "12"}
    path = write_snapshot(tmp_path, extra=[bad])
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["rejected"] == 1
    rejected = [
        json.loads(x) for x in (path / "records" / "rejected.jsonl").read_text().splitlines()
    ]
    assert rejected[0]["record"]["id"] == "contact-00000000000000ff"
    pointers = {e["pointer"] for e in rejected[0]["errors"]}
    assert pointers == {"/email", "/phone"}
    assert all(e["message"] for e in rejected[0]["errors"])
    valid = (path / "records" / "contacts.jsonl").read_text()
    assert "contact-00000000000000ff" not in valid
    assert manifest["counts"]["contact"]["total"] == 7


def test_duplicate_id_is_rejected(tmp_path: Path) -> None:
    page = extract_page(PAGE.read_bytes(), URL, headers={"Content-Type": "text/html"})
    again = build_records(page, FetchFacts("20141119T120001Z", "2014-11-19T12:00:03Z"))[1]
    path = write_snapshot(tmp_path, extra=[again])
    rejected = (path / "records" / "rejected.jsonl").read_text()
    assert "duplicate id" in rejected


def test_validate_finds_damage(tmp_path: Path) -> None:
    path = write_snapshot(tmp_path)
    pilots = path / "records" / "pilots.jsonl"
    lines = pilots.read_text().splitlines()
    record = json.loads(lines[0])
    record["theme"] = ""
    pilots.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    (path / "records" / "stray.txt").write_text("?")
    problems = validate_snapshot(path)
    assert any("pilots.jsonl: sha256 differs" in p for p in problems)
    assert any(p.startswith("records/pilots.jsonl:1/theme") for p in problems)
    assert any("stray.txt: present but not listed" in p for p in problems)
    assert main(["validate", str(path)]) == 1
    assert main(["validate", "--output", str(tmp_path), "nope"]) == 2  # a usage error


def test_abort_and_stale_cleanup(tmp_path: Path) -> None:
    writer = SnapshotWriter(tmp_path, start_urls=[URL], scope="page", clock=FixedClock())
    assert writer.tmp.exists()
    writer.abort()
    assert list(snapshot_dir(tmp_path).iterdir()) == []
    stale = snapshot_dir(tmp_path) / ".tmp-20141119T120000Z-999999999"
    (stale / "records").mkdir(parents=True)
    assert clean_stale(tmp_path) == []  # no owner file, just made: a writer may be starting
    for path in (stale / "records", stale):
        os.utime(path, (0, 0))  # nothing has moved in it for decades
    assert clean_stale(tmp_path) == [stale]
    assert not stale.exists()
    assert list_snapshots(tmp_path) == []


def test_snapshot_ids_never_collide(tmp_path: Path) -> None:
    first = write_snapshot(tmp_path)
    second = write_snapshot(tmp_path)
    # The same clock reading twice: the second id is a microsecond later, never the same.
    assert (first.name, second.name) == ("20141119T120001.000000Z", "20141119T120001.000001Z")
    assert validate_snapshot(second) == []


@pytest.mark.parametrize("argv", [["snapshots"], ["snapshots", "--json"]])
def test_snapshots_command(tmp_path: Path, argv: list[str], capsys) -> None:
    write_snapshot(tmp_path)
    assert main([*argv, "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "20141119T120001.000000Z" in out and "5" in out


@pytest.mark.parametrize("version", ["1.0.0", "1.1.0", "1.2.0"])
def test_records_of_earlier_schema_versions_stay_valid(version: str) -> None:
    """Older snapshots keep validating against the schema version they were written with."""
    from pilotarchive.records.validate import errors_for, record_errors

    path = Path(__file__).parent / "golden" / "records" / f"fi-table-schema-{version}.json"
    records = json.loads(path.read_text(encoding="utf-8"))
    assert {r["schema_version"] for r in records} == {version}
    for record in records:
        assert record_errors(record) == [], record["id"]
    # ... and they are not valid under the current schema, which requires newer fields.
    assert errors_for(records[0], "page") != []
    broken = {**records[0], "status": "200"}
    assert record_errors(broken) != []


def test_manifest_of_an_earlier_version_stays_valid(tmp_path: Path) -> None:
    from pilotarchive.records.validate import errors_for, versioned

    manifest = json.loads((write_snapshot(tmp_path) / "manifest.json").read_text())
    # A 1.0.0 manifest had no archive, target, origin, skipped or notes, and second ids.
    new_fields = ("archive", "target", "origin", "skipped", "left_out", "notes", "health")
    old = {k: v for k, v in manifest.items() if k not in new_fields} | {
        "manifest_version": "1.0.0",
        "snapshot_id": "20141119T120001Z",
    }
    assert versioned("manifest", "1.0.0") == "manifest-1.0.0"
    assert errors_for(old, versioned("manifest", "1.0.0")) == []
    assert errors_for(old, "manifest") != []  # the current version requires "archive"


def test_manifest_1_2_0_stays_valid_and_1_4_0_lists_missing_versions(tmp_path: Path) -> None:
    from pilotarchive.records.validate import errors_for, versioned

    writer = SnapshotWriter(tmp_path, start_urls=[URL], scope="page", clock=FixedClock())
    page = extract_page(PAGE.read_bytes(), URL, headers={"Content-Type": "text/html"})
    writer.fetched += 1
    for record in build_records(page, FetchFacts(writer.snapshot_id, writer.retrieved_at)):
        writer.add(record)
    writer.no_such_version("http://www.tem.fi/index.phtml?l=en&s=4398", "en", URL, 404)
    manifest = json.loads((writer.commit() / "manifest.json").read_text())
    assert manifest["manifest_version"] == "1.4.0"
    assert manifest["no_such_version"] == [
        {"url": "http://www.tem.fi/index.phtml?l=en&s=4398", "version": "en",
         "guessed_from": URL, "status": 404}
    ]  # fmt: skip
    assert manifest["failures"] == []
    old = {k: v for k, v in manifest.items() if k != "no_such_version"}
    old["manifest_version"] = "1.2.0"
    old["snapshot_id"] = "20141119T120001Z"  # 1.2.0 manifests had ids to the second
    assert versioned("manifest", "1.2.0") == "manifest-1.2.0"
    assert errors_for(old, versioned("manifest", "1.2.0")) == []
