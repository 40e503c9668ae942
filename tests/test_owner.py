"""An unfinished snapshot is removed only when its writer is provably gone.

Output folders may be shared between machines: another host's crawl has a pid that means
nothing here. The second host is made real with Linux namespaces (its own host name and
its own pids, as a second machine has), and by hand-written ``OWNER.json`` files for the
cases a namespace cannot stage (a reboot, a heartbeat that stopped long ago).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pilotarchive.archive.owner import OWNER, STALE_AFTER, Ownership, abandoned, boot_id
from pilotarchive.archive.snapshot import clean_stale, list_snapshots, snapshot_dir
from pilotarchive.replica.server import Fault, ReplicaServer
from tests.helpers import check_archive, crawl, start_crawl


def leftover(output: Path, owner: dict | None, *, age: float = 0.0) -> Path:
    folder = snapshot_dir(output) / ".tmp-20141119T120000.000000Z-4242"
    (folder / "records").mkdir(parents=True)
    (folder / "records" / "pages.jsonl").write_text("", encoding="utf-8")
    if owner is not None:
        (folder / OWNER).write_text(json.dumps(owner), encoding="utf-8")
    then = time.time() - age
    for path in [*folder.rglob("*"), folder]:
        os.utime(path, (then, then))
    return folder


ELSEWHERE = {"host": "archive-2.example", "boot_id": "another-machine", "pid": 4242}


def test_another_hosts_unfinished_snapshot_is_kept_while_it_beats(tmp_path: Path) -> None:
    folder = leftover(tmp_path, ELSEWHERE, age=STALE_AFTER / 2)
    assert clean_stale(tmp_path) == [] and folder.is_dir()
    os.utime(folder / OWNER, (time.time() - STALE_AFTER - 5,) * 2)  # its heartbeat stopped
    assert clean_stale(tmp_path) == [folder] and not folder.exists()


def test_this_host_before_a_reboot_is_judged_by_its_heartbeat(tmp_path: Path) -> None:
    owner = {"host": socket.gethostname(), "boot_id": "a-boot-before", "pid": os.getpid()}
    folder = leftover(tmp_path, owner)
    assert not abandoned(folder)  # the same name may be another machine's: wait for the beat
    os.utime(folder / OWNER, (time.time() - STALE_AFTER - 5,) * 2)
    assert abandoned(folder)


def test_a_live_pid_proves_nothing_the_lock_decides(tmp_path: Path) -> None:
    # This host, this boot, a pid that is alive (this test's own): but no one holds the
    # lock, so the writer is gone and the pid was reused.
    owner = {"host": socket.gethostname(), "boot_id": boot_id(), "pid": os.getpid()}
    folder = leftover(tmp_path, owner)
    assert clean_stale(tmp_path) == [folder]


def test_a_writer_on_this_host_is_kept_until_it_dies(tmp_path: Path) -> None:
    folder = snapshot_dir(tmp_path) / ".tmp-20141119T120000.000000Z-1"
    folder.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pilotarchive.archive.owner import Ownership; "
         f"Ownership(__import__('pathlib').Path({str(folder)!r})); print('held', flush=True); "
         "time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        old = time.time() - 10 * STALE_AFTER
        os.utime(folder / OWNER, (old, old))  # even a heartbeat long still: the lock is held
        assert clean_stale(tmp_path) == [] and folder.is_dir()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    assert clean_stale(tmp_path) == [folder]


def test_a_folder_of_an_earlier_release_waits_until_nothing_moves(tmp_path: Path) -> None:
    folder = leftover(tmp_path, None, age=60)
    assert clean_stale(tmp_path) == [] and folder.is_dir()
    leftover_age = time.time() - STALE_AFTER - 5
    for path in [*folder.rglob("*"), folder]:
        os.utime(path, (leftover_age, leftover_age))
    assert clean_stale(tmp_path) == [folder]


def test_the_writer_beats_and_its_file_does_not_reach_the_snapshot(tmp_path: Path) -> None:
    folder = tmp_path / "w"
    folder.mkdir()
    owner = Ownership(folder, beat=0.05)
    os.utime(folder / OWNER, (0, 0))
    deadline = time.monotonic() + 5
    while (folder / OWNER).stat().st_mtime == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (folder / OWNER).stat().st_mtime > 0, "the heartbeat never touched OWNER.json"
    owner.release(remove=True)
    assert not (folder / OWNER).exists()


def _second_host() -> list[str]:
    """A command prefix that runs a program as a second machine would: its own host name
    and its own pids (the first host's pids are not there)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run([unshare, "--pid", "--fork", "--uts", "--mount-proc", "true"],
                           capture_output=True)  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(f"namespaces not permitted here: {probe.stderr.decode()[:100]}")
    script = 'hostname archive-2; exec "$@"'
    return [unshare, "--pid", "--fork", "--uts", "--mount-proc", "sh", "-c", script, "sh"]


def test_a_second_hosts_crawl_leaves_the_first_ones_snapshot_alone(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    prefix = _second_host()
    replica.inject("/index.phtml?l=sv&s=4398", Fault(delay=8))
    first = start_crawl(replica, tmp_path, "-s", "DOWNLOAD_TIMEOUT=30")
    deadline = time.monotonic() + 20
    while not any(p.name.startswith(".tmp-") for p in snapshot_dir(tmp_path).glob(".tmp-*")):
        assert time.monotonic() < deadline and first.poll() is None, "the first crawl never began"
        time.sleep(0.05)
    second = subprocess.run(
        [*prefix, sys.executable, "-m", "pilotarchive", "crawl",
         f"{replica.url}/seutukaupunkipilotit", "--output", str(tmp_path), "--fast-loopback",
         "-s", "DOWNLOAD_TIMEOUT=30"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert "removed unfinished snapshot" not in second.stderr
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    snapshots = list_snapshots(tmp_path)
    assert len(snapshots) == 2
    for snapshot in snapshots:
        check_archive(snapshot.path)
        assert not (snapshot.path / OWNER).exists()


def test_a_killed_crawl_is_still_cleaned_by_the_next(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    crawl(replica, tmp_path)
    leftover_folder = snapshot_dir(tmp_path) / ".tmp-20141119T120000.000000Z-99"
    leftover_folder.mkdir()
    Ownership(leftover_folder).release()  # written by this host, its writer gone
    run = crawl(replica, tmp_path)
    assert leftover_folder.name in run.stderr and not leftover_folder.exists()
