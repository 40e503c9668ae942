"""Nothing lost: concurrent crawls, damaged earlier snapshots, damaged WARCs, a full disk.

Every test here failed before its fix: a second crawl in the same second lost its
snapshot, one damaged file stopped every later crawl, a damaged WARC silently dropped pages,
and a full disk left temporary files behind.
"""

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pilotarchive.archive.lock import (
    ANNOUNCE_AFTER,
    OUTPUT_LOCK,
    FileLock,
    output_lock,
    target_lock,
)
from pilotarchive.archive.snapshot import list_snapshots, validate_snapshot
from pilotarchive.exceptions import LockHeld
from pilotarchive.replica.server import ReplicaServer
from tests.helpers import crawl, load_manifest, load_records, run_cli, start_crawl
from tests.hostile import HostileServer, html_page

FI = "/index.phtml?s=4398"


def _popen(replica: ReplicaServer, output: Path) -> subprocess.Popen:
    return start_crawl(replica, output)


# -- 2. two crawls at once -------------------------------------------------------------------


def test_two_crawls_at_once_into_one_folder_keep_both(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    procs = [_popen(replica, tmp_path) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e for _, e in outs]
    paths = {Path(out.strip().splitlines()[-1]) for out, _ in outs}
    assert len(paths) == 3  # three crawls, three snapshots, whatever the clock said
    assert sorted(s.path for s in list_snapshots(tmp_path)) == sorted(paths)
    for path in paths:
        assert validate_snapshot(path) == []


def _opened(pid: int, path: Path, timeout: float = 60) -> bool:
    """Whether process ``pid`` opens ``path`` within ``timeout`` s: a crawl opens the lock
    file just before it tries the lock, so while the test holds it, an open file is a crawl
    waiting at it (an observable state, not a guess at how long a crawl takes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except FileNotFoundError:
            return False  # ended: never waited
        for fd in fds:
            try:
                if os.readlink(fd) == str(path):
                    return True
            except OSError:
                continue  # closed while listed
        time.sleep(0.05)
    return False


def test_a_crawl_waits_for_the_folder_lock(replica: ReplicaServer, tmp_path: Path) -> None:
    """A crawl that finds the folder's lock held (another crawl committing) waits its turn
    (documented choice: wait, not fail, so neither crawl is lost)."""
    crawl(replica, tmp_path)  # the folder exists, with a first snapshot
    lock = output_lock(tmp_path, wait=0).acquire()
    proc = _popen(replica, tmp_path)
    try:
        assert _opened(proc.pid, tmp_path / OUTPUT_LOCK), f"never at the lock: exit {proc.poll()}"
        # At the lock: a crawl that went past it would end or write now; held past the
        # second after which the waiting crawl says what it waits for.
        time.sleep(ANNOUNCE_AFTER + 0.5)
        assert proc.poll() is None, proc.communicate()
        assert len(list_snapshots(tmp_path)) == 1
    finally:
        lock.release()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert len(list_snapshots(tmp_path)) == 2
    # What it waited for was said once, with the holder (this test's process).
    said = [line for line in err.splitlines() if "waiting for the output folder" in line]
    assert len(said) == 1, err
    assert f"locked by pid {os.getpid()} on " in said[0] and "(up to 600 s)" in said[0]


def test_a_held_lock_names_its_holder(tmp_path: Path) -> None:
    with target_lock(tmp_path, "pilots"), pytest.raises(LockHeld) as held:
        target_lock(tmp_path, "pilots").acquire()
    assert "target 'pilots' is locked by pid" in str(held.value)
    assert "locks/pilots.lock" in str(held.value)
    # Released on exit, and by the kernel when a holder dies (fcntl locks).
    with FileLock(tmp_path / "locks" / "pilots.lock", wait=0):
        pass
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pilotarchive.archive.lock import target_lock; "
         f"target_lock({str(tmp_path)!r}, 'x').acquire(); print('held', flush=True); "
         "time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(LockHeld):
        target_lock(tmp_path, "x").acquire()
    holder.kill()
    holder.wait()
    target_lock(tmp_path, "x").acquire().release()


# -- 3. damaged earlier snapshots ------------------------------------------------------------


def _damage(kind: str, snapshot: Path) -> str:
    """Damage a snapshot the way disks and people do; return what the report must name."""
    pages = snapshot / "records" / "pages.jsonl"
    if kind == "garbled-line":
        lines = pages.read_bytes().splitlines(keepends=True)
        lines[1] = lines[1][:40] + b"\x00garbage\n"
        pages.write_bytes(b"".join(lines))
        return "pages.jsonl:2"
    if kind == "not-utf8":
        pages.write_bytes(pages.read_bytes().replace(b"Pilotit", b"Pil\xffotit", 1))
        return "pages.jsonl"
    if kind == "no-manifest":
        (snapshot / "manifest.json").unlink()
        return "manifest.json is missing"
    if kind == "garbled-manifest":
        (snapshot / "manifest.json").write_bytes(b'{"snapshot_id": ')
        return "manifest.json:1"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["garbled-line", "not-utf8", "no-manifest", "garbled-manifest"])
def test_a_damaged_snapshot_never_stops_the_next_crawl(
    replica: ReplicaServer, tmp_path: Path, kind: str
) -> None:
    first = crawl(replica, tmp_path).snapshot
    second = crawl(replica, tmp_path).snapshot
    named = _damage(kind, second)
    third = crawl(replica, tmp_path)
    manifest = load_manifest(third.snapshot)
    # The damaged one is named and skipped; the one before it is the baseline.
    assert any(second.name in n and named in n for n in manifest["notes"]), manifest["notes"]
    assert manifest["archive"]["previous_snapshot"] == first.name
    assert manifest["health"]["baseline"] == first.name
    assert manifest["counts"]["page"]["total"] == 6
    assert f"note: snapshot {second.name} is damaged" in third.stdout
    # Every command that reads snapshots says so in one line, never a traceback.
    listed = run_cli("snapshots", "--output", str(tmp_path))
    assert listed.returncode == 0
    damaged_lines = [x for x in listed.stdout.splitlines() if x.startswith(second.name)]
    if kind in ("no-manifest", "garbled-manifest"):
        assert damaged_lines == [damaged_lines[0]] and "DAMAGED" in damaged_lines[0]
        assert named in damaged_lines[0]
    as_json = [json.loads(x) for x in run_cli("snapshots", "--json", "--output",
                                                str(tmp_path)).stdout.splitlines()]  # fmt: skip
    assert [x["id"] for x in as_json] == [first.name, second.name, third.snapshot.name]
    for argv in (
        ["diff", first.name, second.name],
        ["diff", second.name, third.snapshot.name, "--format", "json"],
        ["wacz", second.name, "--file", str(tmp_path / "x.wacz")],
        ["validate", second.name],
    ):
        run = run_cli(*argv, "--output", str(tmp_path))
        assert run.returncode == 1, (argv, run.stdout, run.stderr)
        assert "Traceback" not in run.stderr
        assert named in run.stderr, (argv, run.stderr)
        assert not list(tmp_path.glob(".tmp-*")), argv
    # history walks the readable snapshots: the seed's English page names Heikkinen in the
    # first and the third; the damaged second is named once and skipped.
    history = run_cli("history", "Heikkinen", "--output", str(tmp_path))
    assert history.returncode == 0, history.stderr
    lines = history.stdout.splitlines()
    assert lines[0].startswith("history of person-") and lines[1:] == [
        f"  {first.name}  first seen",
        "      in en: Juha Heikkinen",
        f"  {third.snapshot.name}  present",
        f"      still there in the newest snapshot; present since {first.name}",
    ], history.stdout
    (said,) = history.stderr.splitlines()
    assert (
        said.startswith(f"pilotarchive: skipping damaged snapshot {second.name}: ")
        and named in said
    )
    # diff with no ids takes the two latest snapshots. A snapshot whose manifest is gone is
    # no snapshot: skipped with a note, the diff is first -> third. One whose records are
    # damaged is the latest but one: the diff fails naming the damage, never diffs around it.
    default_diff = run_cli("diff", "--output", str(tmp_path))
    (said,) = default_diff.stderr.splitlines()
    assert "Traceback" not in default_diff.stderr and named in said
    if kind in ("no-manifest", "garbled-manifest"):
        assert default_diff.returncode == 0, default_diff.stderr
        assert said.startswith(f"pilotarchive: skipping damaged snapshot {second.name}: ")
        assert default_diff.stdout.splitlines()[0] == (
            f"pilotarchive diff {first.name} -> {third.snapshot.name}: no changes; "
            "new snapshot HEALTHY"
        )
    else:
        assert default_diff.returncode == 1 and default_diff.stdout == ""
        assert said.startswith(f"pilotarchive: {second}/records/pages.jsonl:"), said


def test_a_garbage_index_is_moved_aside_and_rebuilt(replica: ReplicaServer, tmp_path: Path) -> None:
    first = crawl(replica, tmp_path).snapshot
    (tmp_path / "index.sqlite3").write_bytes(b"this is not a database" * 100)
    second = crawl(replica, tmp_path, "-s", "PILOTARCHIVE_CONDITIONAL=false")
    manifest = load_manifest(second.snapshot)
    assert any("digest index" in n and "rebuilt" in n for n in manifest["notes"])
    assert list(tmp_path.glob("index.sqlite3.damaged-*"))
    # Rebuilt from the page records: unchanged pages are still revisits of the first crawl.
    assert manifest["archive"]["revisits"]["identical_payload"] == 6
    assert first.name in manifest["archive"]["depends_on"]
    db = sqlite3.connect(tmp_path / "index.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


# -- 4. a damaged WARC -----------------------------------------------------------------------


def test_a_304_whose_archived_copy_is_damaged_is_fetched_again(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    first = crawl(replica, tmp_path).snapshot
    (warc,) = (first / "archive").glob("*.warc.gz")
    warc.write_bytes(warc.read_bytes()[: len(warc.read_bytes()) // 2])  # truncated
    second = crawl(replica, tmp_path)
    records = load_records(second.snapshot)
    assert len(records["pages"]) == 6, "no page may disappear"
    assert sum(len([p for p in records["pilots"] if p["page_id"] == pg["id"]]) > 0
               for pg in records["pages"]) == 6  # fmt: skip
    notes = load_manifest(second.snapshot)["notes"]
    # Its WARC no longer has its manifest's sha256: asked for without validators, so the
    # server answers in full (a 304 would need the damaged copy), said once.
    refetched = [n for n in notes if "is no evidence now" in n]
    assert refetched, notes
    assert refetched[0].startswith(f"snapshot {first.name} is no evidence now")
    assert load_manifest(second.snapshot)["archive"]["revisits"]["not_modified"] == 0
    assert validate_snapshot(second.snapshot) == []
    # And validate says the first one is damaged, instead of "valid".
    run = run_cli("validate", first.name, "--output", str(tmp_path))
    assert run.returncode == 1 and "sha256 differs from the manifest" in run.stderr
    assert "not found in archive/" in run.stderr


def test_no_revisit_points_into_a_warc_that_no_longer_verifies(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    """One flipped byte in a WARC whose records still read: the next crawls wrote their
    revisits (deduplicated and not modified) into it, and each was left out of the dataset
    for citing it, so every crawl the export advised made one more unusable snapshot. Now
    the payloads are archived in full (or asked for without validators), and said once."""
    first = crawl(replica, tmp_path).snapshot
    second = crawl(replica, tmp_path).snapshot
    refers = {(p.get("warc_refers_to") or {}).get("snapshot_id")
              for p in load_records(second)["pages"]}  # fmt: skip
    assert first.name in refers  # the case: the second crawl's revisits point into the first
    (warc,) = (first / "archive").glob("*.warc.gz")
    data = bytearray(warc.read_bytes())
    data[len(data) // 2] ^= 0x01
    warc.write_bytes(bytes(data))
    third = crawl(replica, tmp_path).snapshot
    records = load_records(third)
    assert len(records["pages"]) == 6
    refers = {(p.get("warc_refers_to") or {}).get("snapshot_id") for p in records["pages"]}
    assert first.name not in refers
    notes = [n for n in load_manifest(third)["notes"] if "is no evidence now" in n]
    assert len(notes) == 1 and notes[0].startswith(f"snapshot {first.name} is no evidence now")
    assert validate_snapshot(third) == []
    # The audit agrees with the export: the second cites the first's WARC, the third not.
    audit = run_cli("validate", "--all", "--output", str(tmp_path))
    assert audit.returncode == 1
    assert f"{second.name}  1 problem(s)" in audit.stdout and f"{third.name}  valid" in audit.stdout
    assert f"stand for records of snapshot {first.name}, which is no evidence now" in (
        audit.stdout + audit.stderr
    )
    run = run_cli("export", "--output", str(tmp_path), "--to", str(tmp_path / "d"))
    assert run.returncode == 0, run.stderr
    assert f"from 1 of 3 snapshots (newest {third.name})" in run.stdout
    # With every snapshot left out, the export names why (it said only "run crawl").
    (warc,) = (third / "archive").glob("*.warc.gz")
    warc.write_bytes(warc.read_bytes()[:-10])
    run = run_cli("export", "--output", str(tmp_path), "--to", str(tmp_path / "e"))
    assert run.returncode == 1 and f"damaged: {first.name}: " in run.stderr, run.stderr
    assert "`pilotarchive validate --all` names the damage" in run.stderr


def test_a_diff_that_cannot_read_a_body_says_so(hostile: HostileServer, tmp_path: Path) -> None:
    hostile.page("/", html_page("Sivu", "<p>Ensimmäinen versio tekstistä.</p>"))
    first = run_cli("crawl", f"{hostile.url}/", "--output", str(tmp_path), "--fast-loopback")
    hostile.page("/", html_page("Sivu", "<p>Toinen versio tekstistä.</p>"))
    second = run_cli("crawl", f"{hostile.url}/", "--output", str(tmp_path), "--fast-loopback")
    good = run_cli("diff", "--output", str(tmp_path))
    assert "Toinen versio" in good.stdout  # the text diff, read from both WARCs
    (warc,) = (first.snapshot / "archive").glob("*.warc.gz")
    page = load_records(first.snapshot)["pages"][0]
    data = bytearray(warc.read_bytes())
    middle = page["warc_offset"] + 60  # inside the page's response record
    data[middle : middle + 40] = b"\x00" * 40
    warc.write_bytes(bytes(data))
    bad = run_cli("diff", "--output", str(tmp_path))
    assert bad.returncode == 0, bad.stderr
    assert "no changes" not in bad.stdout.splitlines()[0]
    assert "cannot be compared" in bad.stdout and "Not compared" in bad.stdout
    as_json = json.loads(run_cli("diff", "--format", "json", "--output", str(tmp_path)).stdout)
    assert as_json["problems"] and as_json["problems"][0]["url"] == f"{hostile.url}/"
    assert second.returncode == 0


# -- 5. a full disk --------------------------------------------------------------------------


def _tmpfs_available() -> bool:
    probe = subprocess.run(
        ["unshare", "-Urm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt && echo ok"],
        capture_output=True, text=True,
    )  # fmt: skip
    return probe.stdout.strip() == "ok"


FULL_DISK = Path(__file__).with_name("full_disk.sh")


@pytest.mark.skipif(not _tmpfs_available(), reason="needs user namespaces to mount a tmpfs")
def test_a_full_disk_leaves_nothing_half_written(replica: ReplicaServer, tmp_path: Path) -> None:
    """A small tmpfs (in a user and mount namespace, no root needed) runs out of space."""
    mount = tmp_path / "disk"
    mount.mkdir()
    (tmp_path / "logs").mkdir()
    env = {"OUT": str(mount), "LOG": str(tmp_path / "logs"), "URL": replica.url,
           "PYTHON": sys.executable, "SIZE": "2m", "ROOM": "24", "PATH": "/usr/bin:/bin",
           "PYTHONWARNINGS": "ignore"}  # fmt: skip
    done = subprocess.run(["unshare", "-Urm", "sh", str(FULL_DISK)], env=env,
                          capture_output=True, text=True, timeout=180)  # fmt: skip
    facts = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    assert "FIRST-FAILED" not in done.stdout, done.stdout + done.stderr
    assert facts["crawl-exit"] == "1", facts
    assert "disk full writing" in facts["crawl-err"] and "writing ?" not in facts["crawl-err"]
    assert facts["first-valid"] == "0"  # the earlier snapshot is untouched
    assert ".tmp-" not in facts["snapshots"] and len(facts["snapshots"].split()) == 1, facts
    assert facts["diff-exit"] == "1" and "disk full writing" in facts["diff-err"], facts
    assert facts["wacz-exit"] == "1" and "disk full" in facts["wacz-err"], facts
    assert "Traceback" not in done.stdout
    assert ".tmp-" not in facts["left"] and "diff.html" not in facts["left"], facts
    assert "x.wacz" not in facts["left"], facts
    # The dataset export (its SQLite says "database or disk is full", no OSError).
    assert facts["export-exit"] == "1" and "disk full writing" in facts["export-err"], facts
    assert "Traceback" not in facts["export-err"]
    assert ".tmp-" not in facts["left-after-export"] and "ds" not in facts["left-after-export"]


# -- 7. referential integrity ----------------------------------------------------------------


def test_validate_finds_records_whose_page_is_missing(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    snapshot = crawl(replica, tmp_path).snapshot
    pages = snapshot / "records" / "pages.jsonl"
    lines = pages.read_text(encoding="utf-8").splitlines(keepends=True)
    gone = json.loads(lines[0])["id"]
    pages.write_text("".join(lines[1:]), encoding="utf-8")
    problems = validate_snapshot(snapshot)
    assert any(f"page_id {gone} is no page of this snapshot" in p for p in problems), problems


@pytest.mark.parametrize("named", ["/etc/passwd", "archive/nosuch.warc.gz", "records/pages.jsonl"])
def test_validate_refuses_an_archive_the_manifest_names_but_does_not_hold(
    named: str, replica: ReplicaServer, tmp_path: Path
) -> None:
    snapshot = crawl(replica, tmp_path).snapshot
    assert validate_snapshot(snapshot) == []
    file = snapshot / "manifest.json"
    manifest = json.loads(file.read_text(encoding="utf-8"))
    manifest["archive"]["warc_files"] = [named]
    file.write_text(json.dumps(manifest), encoding="utf-8")
    assert validate_snapshot(snapshot) == [
        f"manifest.json/archive: {named!r} is no listed file of this snapshot's archive/"
    ]


# -- 21. a broken layout after a healthy one -------------------------------------------------


def test_a_broken_layout_after_a_bigger_site_is_degraded(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    replica.set_version("2015-06")
    healthy = crawl(replica, tmp_path)
    replica.set_version("2014-11-19-redesign")
    broken = crawl(replica, tmp_path, expect=3)
    health = load_manifest(broken.snapshot)["health"]
    assert health["verdict"] == "degraded" and health["baseline"] == healthy.snapshot.name
    stated = [
        f for f in health["findings"] if "says it has 4 pilots and 0 were read" in f["message"]
    ]
    assert len(stated) == 3  # fi, sv, en graphic pages
    assert "HEALTHY" not in broken.stdout and "DEGRADED" in broken.stdout
    # The degraded snapshot is no baseline: the next healthy crawl is judged against 2015-06.
    replica.set_version("2015-06")
    again = crawl(replica, tmp_path)
    assert load_manifest(again.snapshot)["health"]["baseline"] == healthy.snapshot.name
    diff = run_cli("diff", broken.snapshot.name, again.snapshot.name, "--output", str(tmp_path))
    assert diff.returncode == 0


def test_the_same_page_losing_most_records_is_degraded(tmp_path: Path) -> None:
    """Judged with no stated count and no page gone empty: the page keeps its pilots and one
    contact, but eight persons of its box are no longer read while its text is mostly the
    same (one word changed). Before, that was reported as eight people removed. The lost
    persons are taken out of the second snapshot's records, as an extractor that no longer
    reads the box would leave them; the rule judges records and text, not the extractor."""
    from pilotarchive.diff.health import judge
    from pilotarchive.diff.load import load_snapshot

    names = ["Matti Virtanen", "Liisa Korhonen", "Pekka Nieminen", "Anna Mäkinen",
             "Juha Hämäläinen", "Sanna Laine", "Timo Heikkinen", "Kaisa Koskinen"]  # fmt: skip
    people = "".join(
        f"<p>Ylitarkastaja {n}, puh. 029 506 {3000 + i}</p>" for i, n in enumerate(names)
    )
    pilots = (
        "<ul><li><strong>Teema yksi</strong> – koordinaattorina Raahen kaupunki. "
        "Yhteyshenkilö: Olli Alho, puh. 040 123 4567</li>"
        "<li><strong>Teema kaksi</strong> – koordinaattorina Iisalmen kaupunki.</li></ul>"
    )
    hostile = HostileServer().__enter__()
    try:
        page = "<p>Pilotit alkavat {}.</p>" + pilots + "<h3>Lisätietoja:</h3>" + people
        hostile.page("/", html_page("Pilotit", page.format("keväällä")))
        first = run_cli("crawl", f"{hostile.url}/", "--output", str(tmp_path), "--fast-loopback")
        hostile.page("/", html_page("Pilotit", page.format("syksyllä")))
        second = run_cli("crawl", f"{hostile.url}/", "--output", str(tmp_path), "--fast-loopback")
    finally:
        hostile.__exit__()
    assert len(load_records(first.snapshot)["contacts"]) == 9, first.stderr
    contacts = second.snapshot / "records" / "contacts.jsonl"
    kept = [x for x in contacts.read_text(encoding="utf-8").splitlines(keepends=True)
            if '"pilot_contact"' in x]  # fmt: skip
    assert len(kept) == 1
    contacts.write_text("".join(kept), encoding="utf-8")
    health = judge(load_snapshot(first.snapshot), load_snapshot(second.snapshot))
    assert health["verdict"] == "degraded"
    (finding,) = health["findings"]
    assert finding["message"] == (
        "the page gave 11 records before and 3 now, while its text is mostly the same"
    )


def test_a_full_disk_names_where_even_when_the_system_names_no_file(tmp_path: Path) -> None:
    """A failed write() names no file (``OSError.filename`` is None): the crawl said
    "disk full writing ?". Its folder is named instead."""
    import errno

    from pilotarchive.archive.snapshot import os_error

    full = OSError(errno.ENOSPC, "No space left on device")
    assert str(os_error(full, tmp_path / ".tmp-x")) == f"disk full writing {tmp_path / '.tmp-x'}"
    assert str(os_error(full)) == "disk full writing the output folder"
    named = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "f"))
    assert str(os_error(named)) == f"disk full writing {tmp_path / 'f'}"
