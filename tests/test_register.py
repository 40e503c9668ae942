"""The entity register of a target: built from the snapshots in time order, kept beside
them, brought up to date, rebuilt when the snapshots no longer agree with it."""

import json
import re
import shutil
from pathlib import Path

import pytest

from pilotarchive.archive.snapshot import list_snapshots
from pilotarchive.identity.register import ensure_register, timeline_of
from tests.helpers import load_records


@pytest.fixture
def output(archive: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "output"
    shutil.copytree(archive, copy)
    return copy


def files(register_root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(register_root).as_posix(): p.read_bytes()
        for p in sorted(register_root.rglob("*.json"))
    }


def test_every_record_of_every_snapshot_is_one_entity(output: Path) -> None:
    register = ensure_register(output)
    snapshots = [s.id for s in list_snapshots(output)]
    assert register.snapshots == snapshots
    for snapshot in snapshots:
        assigned = register.assignment(snapshot)["records"]
        records = load_records(output / "snapshots" / snapshot)
        ids = {r["id"] for rows in records.values() for r in rows}
        assert set(assigned) == ids
        assert all(v[0] in register.entities for v in assigned.values())
    # The bilingual pilot is one entity in every healthy snapshot, in fi, sv and en, page
    # and text, through its coordinator's change from Loviisa to Porvoo (2015-06).
    bilingual = {
        register.entity_of(s)[r["id"]]
        for s in snapshots
        if register.health[s] != "degraded"
        for r in load_records(output / "snapshots" / s)["pilots"]
        if re.search(r"Lovi|Porvoo|Borgå", r.get("coordinator") or "")
    }
    assert len(bilingual) == 1, bilingual
    (entity,) = bilingual
    seen = dict(timeline_of(register, entity))
    assert list(seen) == snapshots  # the degraded snapshot read it too
    coordinators = {
        r["coordinator"]
        for s in snapshots
        for r in load_records(output / "snapshots" / s)["pilots"]
        if r["id"] in seen[s] and r["language"] == "fi"
    }
    assert {"Loviisan kaupunki", "Porvoon kaupunki"} <= coordinators, coordinators


def test_a_degraded_snapshot_is_never_the_baseline(output: Path) -> None:
    register = ensure_register(output)
    snapshots = register.snapshots
    degraded = [s for s in snapshots if register.health[s] == "degraded"]
    assert len(degraded) == 1
    after = snapshots[snapshots.index(degraded[0]) + 1]
    assert register.baselines[after] == snapshots[snapshots.index(degraded[0]) - 1]
    # What the degraded snapshot's broken extraction lost did not end an entity.
    assert register.assignment(degraded[0])["ended"] == []


def test_brought_up_to_date_as_a_rebuild_would_make_it(output: Path) -> None:
    snapshots = sorted((output / "snapshots").iterdir())
    last = snapshots[-1]
    aside = output.parent / "aside"
    shutil.move(last, aside)
    ensure_register(output)  # three snapshots
    shutil.move(aside, last)
    register = ensure_register(output)  # the fourth added to it
    root = register.root
    incremental = files(root)
    rebuilt = ensure_register(output, rebuild=True)
    assert rebuilt.snapshots == register.snapshots
    assert files(root) == incremental  # the same ids, the same assignments, byte for byte


def test_a_deleted_snapshot_or_a_garbled_register_is_built_again(output: Path) -> None:
    register = ensure_register(output)
    first = register.snapshots[0]
    shutil.rmtree(output / "snapshots" / first)
    again = ensure_register(output)
    assert first not in again.snapshots and len(again.snapshots) == 3
    assert not again.assignment_file(first).exists()
    again.file.write_text("{not json", encoding="utf-8")
    assert ensure_register(output).snapshots == again.snapshots
    body = json.loads(again.file.read_text(encoding="utf-8"))
    assert body["register_version"] == 1 and len(body["snapshots"]) == 3


def test_ids_are_minted_once_and_never_recomputed(output: Path) -> None:
    """An entity keeps the id it was given when first seen, whatever its records say now;
    a new entity whose content would give an id already taken gets a suffix."""
    register = ensure_register(output)
    first = register.snapshots[0]
    entities = set(register.entity_of(first).values())
    # Every entity of the first snapshot that is still there later has the same id.
    for snapshot in register.snapshots[1:]:
        later = set(register.entity_of(snapshot).values())
        for entity in later & entities:
            assert register.entities[entity].first_snapshot == first
    assert all(e.first_snapshot <= e.last_snapshot for e in register.entities.values())


def test_a_page_that_answers_404_is_the_entity_its_url_was(output: Path) -> None:
    """2015-06: the Swedish text version is gone (404). Its record says nothing of what it
    was, not even its rendering; it is still the pilots page's family, not a new page."""
    register = ensure_register(output)
    last = register.snapshots[-1]
    pages = load_records(output / "snapshots" / last)["pages"]
    (gone,) = [p for p in pages if p["status"] == 404 and "text" in p["url"]]
    (pilots,) = [p for p in pages if p["language"] == "fi" and not p["is_text_version"]
                 and p["status"] == 200 and p.get("pilot_count")]  # fmt: skip
    entity_of = register.entity_of(last)
    assert entity_of[gone["id"]] == entity_of[pilots["id"]]
    assert register.assignment(last)["began"] == sorted(
        e for e in register.assignment(last)["began"] if not e.startswith("page-")
    )


def test_the_identity_command_lists_the_entities(output: Path) -> None:
    from tests.helpers import run_cli

    # The same listing from the run that builds the register as from any later one (the
    # entities' ids break ties of kind and first snapshot: found by a fresh-eyes pass).
    shutil.rmtree(output / "identity", ignore_errors=True)
    built, again = (run_cli("identity", "--output", str(output), "--json") for _ in range(2))
    assert built.stdout == again.stdout and built.stdout.count("\n") == 17
    run = run_cli("identity", "--output", str(output))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert lines[-1].startswith("17 entities over 4 snapshots")
    assert any("pilot-" in line and "Kaksikielisten" in line and ".. now" in line
               for line in lines)  # fmt: skip
    listed = [json.loads(line) for line in run_cli("identity", "--output", str(output),
                                                   "--json").stdout.splitlines()]  # fmt: skip
    assert len(listed) == 17 and all(e["first_snapshot"] <= e["last_snapshot"] for e in listed)
    manifest = next((output / "snapshots").glob("2*/manifest.json"))
    data = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps({**data, "target": "other"}), encoding="utf-8")
    run = run_cli("identity", "--output", str(output))
    assert run.returncode == 2 and "--target" in run.stderr


GOLDEN = Path(__file__).parent / "golden" / "pages" / "replica-2014-11-19-fi.html"
URL = "http://www.tem.fi/index.phtml?s=4398"


def _snapshot(output: Path, html: bytes, day: int) -> Path:
    from datetime import UTC, datetime, timedelta

    from pilotarchive.archive.snapshot import SnapshotWriter
    from pilotarchive.extract.page import extract_page
    from pilotarchive.records.build import FetchFacts, build_records

    when = datetime(2014, 11, 19, tzinfo=UTC) + timedelta(days=day)
    writer = SnapshotWriter(output, start_urls=[URL], scope="page", clock=lambda: when)
    page = extract_page(html, URL, headers={"Content-Type": "text/html; charset=iso-8859-1"})
    writer.fetched += 1
    for record in build_records(page, FetchFacts(writer.snapshot_id, writer.retrieved_at)):
        writer.add(record)
    return writer.commit()


def test_the_diff_keeps_a_pilot_whose_theme_coordinator_and_partners_change(
    tmp_path: Path,
) -> None:
    """Three things of one pilot change at once: reworded, another coordinator, a partner
    town more. Its content gives another id; the register keeps the one it had, and the
    diff reports a modification of that entity, paired through the register."""
    from pilotarchive.diff.compare import diff_paths

    page = GOLDEN.read_bytes()
    first = _snapshot(tmp_path, page, 0)
    changed = (
        page.replace("rakennemuutos ja uudet".encode("latin-1"), b"murros ja uudet")
        .replace(b"koordinaattorina Raahen kaupunki", b"koordinaattorina Ylivieskan kaupunki")
        .replace(b"Nivala ja Oulainen", "Nivala, Oulainen ja Haapajärvi".encode("latin-1"))
    )
    assert changed.count(b"Ylivieskan kaupunki") == 1
    second = _snapshot(tmp_path, changed, 1)
    diff = diff_paths(first, second)
    (change,) = [c for c in diff["changes"] if c["record_type"] == "pilot"]
    register = ensure_register(tmp_path)
    (before,) = [
        register.entity_of(first.name)[r["id"]]
        for r in load_records(first)["pilots"]
        if r["theme"].startswith("Teollisuuden")
    ]
    assert change["kind"] == "modified" and change["matched_by"] == "entity"
    assert change["entity_id"] == before
    assert {f["field"] for f in change["fields"]} == {"theme", "coordinator", "municipalities"}
    assert register.assignment(second.name)["began"] == []


def _before_and_after(output: Path) -> None:
    """Two snapshots of the golden page: the industry pilot reworded, with another
    coordinator and a partner town more in the second (its content gives another id)."""
    page = GOLDEN.read_bytes()
    _snapshot(output, page, 0)
    changed = page.replace(b"koordinaattorina Raahen", b"koordinaattorina Ylivieskan")
    changed = changed.replace(b"Nivala ja Oulainen", b"Nivala, Oulainen ja Pyh\xe4joki")
    _snapshot(output, changed.replace(b"rakennemuutos ja uudet", b"murros ja uudet"), 1)


def test_history_follows_the_pilot_through_the_change(tmp_path: Path) -> None:
    from tests.helpers import run_cli

    _before_and_after(tmp_path)
    run = run_cli("history", "Teollisuuden murros", "--output", str(tmp_path),
                  "--format", "json")  # fmt: skip
    assert run.returncode == 0, run.stderr
    events = json.loads(run.stdout)["events"]
    # Still there in the newest snapshot: "present" (it said "last seen" before issue 21).
    assert [e["what"] for e in events] == ["first seen", "changed", "present"], events
    (changed,) = [e for e in events if e["what"] == "changed"]
    fields = {f["field"] for c in changed["changes"] for f in c["fields"]}
    assert fields == {"theme", "coordinator", "municipalities"}
    # The same entity by its old name: one entity, not two.
    assert json.loads(run_cli("history", "rakennemuutos ja uudet", "--output", str(tmp_path),
                              "--format", "json").stdout)["entity_id"] == json.loads(
        run.stdout)["entity_id"]  # fmt: skip


def test_the_dataset_shows_one_entity_with_two_adjoining_versions(tmp_path: Path) -> None:
    from pilotarchive.export.temporal import build

    _before_and_after(tmp_path)
    rows = [r for r in build(tmp_path).rows["pilots"] if r["theme"].startswith("Teollisuuden")]
    assert len({r["entity_id"] for r in rows}) == 1, rows
    first, second = sorted(rows, key=lambda r: r["valid_from"])
    assert first["valid_to"] == second["valid_from"] and second["valid_to"] is None
    assert (first["coordinator"], second["coordinator"]) == (
        "Raahen kaupunki", "Ylivieskan kaupunki"
    )  # fmt: skip


def test_history_walks_one_target(output: Path) -> None:
    """Two targets in one folder are two archives: history names them and needs --target,
    and with it walks that target's snapshots only."""
    from tests.helpers import run_cli

    first = sorted((output / "snapshots").glob("2*/manifest.json"))[0]
    data = json.loads(first.read_text(encoding="utf-8"))
    first.write_text(json.dumps({**data, "target": "other"}), encoding="utf-8")
    run = run_cli("history", "Kaksikielisten", "--output", str(output))
    assert run.returncode == 2 and "several targets" in run.stderr and "--target" in run.stderr
    run = run_cli("history", "Kaksikielisten", "--output", str(output), "--target", "other",
                  "--format", "json")  # fmt: skip
    assert run.returncode == 0, run.stderr
    seen = {e["snapshot_id"] for e in json.loads(run.stdout)["events"]}
    assert seen == {first.parent.name}
