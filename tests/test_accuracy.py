"""bench/accuracy.py scores 100 % on every layout and language; it fails on a miss."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "accuracy.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=300
    )


def test_every_layout_and_language_scores_100_percent() -> None:
    done = run("--extract")
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line for line in done.stdout.splitlines() if line.endswith("%")]
    # table, text, div, 2016, cms, and the later portal's portal, details, tabs (portals.py)
    # x fi, sv, en; and "all"
    assert len(rows) == 25
    assert all(line.endswith("100.0%") for line in rows), done.stdout
    assert "misses: none" in done.stdout


def test_a_broken_version_is_scored_as_misses() -> None:
    done = run("--extract", "--version", "2014-11-19-redesign", "--layouts", "table")
    assert done.returncode == 1
    assert "table   fi" in done.stdout and "missed" in done.stdout
