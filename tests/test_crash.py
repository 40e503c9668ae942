"""A crawl killed with SIGKILL at any point damages nothing and leaves nothing visible."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pilotarchive.archive.snapshot import list_snapshots, snapshot_dir, validate_snapshot
from pilotarchive.replica.server import Fault, ReplicaServer
from tests.helpers import crawl


def wait_for(predicate, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("slow_path", "seen_path"),
    [("/robots.txt", "/robots.txt"), ("/index.phtml?l=sv&s=4398", "/index.phtml?l=sv&s=4398")],
    ids=["before-any-page", "mid-crawl"],
)
def test_sigkill_leaves_earlier_snapshots_and_index_intact(
    replica: ReplicaServer, tmp_path: Path, slow_path: str, seen_path: str
) -> None:
    first = crawl(replica, tmp_path).snapshot
    index = tmp_path / "index.sqlite3"
    index_before = index.read_bytes()
    replica.set_version("2015-06")  # so the killed crawl has new payloads to write
    replica.inject(slow_path, Fault(delay=30))
    already = len(replica.requests)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pilotarchive",
            "crawl",
            f"{replica.url}/seutukaupunkipilotit",
            "--output",
            str(tmp_path),
            "--fast-loopback",
            "-s",
            "DOWNLOAD_TIMEOUT=60",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    wait_for(lambda: any(p == seen_path for _, p, _ in replica.requests[already:]))
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    # What the killed crawl left: a hidden temporary folder at most, nothing under a final name.
    leftovers = [p.name for p in snapshot_dir(tmp_path).iterdir() if p.name.startswith(".tmp-")]
    assert leftovers, "the killed crawl should have been writing"
    assert [s.path for s in list_snapshots(tmp_path)] == [first]
    assert validate_snapshot(first) == []
    assert index.read_bytes() == index_before
    db = sqlite3.connect(index)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    # The next crawl cleans up, says so, and succeeds.
    replica.clear_faults()
    run = crawl(replica, tmp_path)
    assert "removed unfinished snapshot(s) left by a killed run" in run.stderr
    assert leftovers[0] in run.stderr
    assert not [p for p in snapshot_dir(tmp_path).iterdir() if p.name.startswith(".tmp-")]
    assert [s.path for s in list_snapshots(tmp_path)] == [first, run.snapshot]
