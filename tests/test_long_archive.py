"""A long archive stays cheap: ``export``, ``site`` and ``history`` hold no more memory at
80 snapshots than at 20 (they stream over the snapshots), and their output is right.

The archives are made from one real crawl of the replica, written again through the
snapshot writer with a small change a day (``bench/long_archive.py``). Each command runs
in a child process that reports its own peak memory (``VmHWM``, see tests/memory.py).
Before the streaming, ``export`` grew by about 0.4 MB a snapshot: 24 MB over the 60
snapshots between the two archives, against the bound of 10 MB here. Broken on purpose,
with the records of every snapshot kept, export grew by 24 MB between 20 and 80 snapshots
(33 MB between 30 and 120), and history with every snapshot view kept by 34 MB between 30
and 120.
"""

import csv
import io
from pathlib import Path

import pytest

from bench.long_archive import make_archive, run_command
from pilotarchive.replica.server import ReplicaServer
from tests.helpers import crawl

SMALL, LARGE = 20, 80
GROWTH_LIMIT_KB = 10 * 1024  # for all 60 snapshots more: 0.17 MB a snapshot at most


@pytest.fixture(scope="module")
def archives(tmp_path_factory) -> dict[int, Path]:
    root = tmp_path_factory.mktemp("long")
    with ReplicaServer(port=0) as replica:
        replica.set_version("2015-06")
        base = crawl(replica, root / "crawled", "--target", "tem").snapshot
    made = {}
    for size in (SMALL, LARGE):
        made[size] = root / f"archive-{size}"
        make_archive(base, made[size], size)
        run_command(["identity", "--output", str(made[size])])  # the register, built once
    return made


def _peaks(archive: Path, work: Path) -> dict[str, int]:
    out = str(archive)
    argvs = {
        "export": ["export", "--output", out, "--to", str(work / "dataset")],
        "site": ["site", "--output", out, "--to", str(work / "site")],
        "history": ["history", "Iisalmi", "--output", out],
    }
    work.mkdir()
    return {name: run_command(argv)["peak_kb"] for name, argv in argvs.items()}


def test_memory_does_not_grow_with_the_number_of_snapshots(archives, tmp_path: Path) -> None:
    small = _peaks(archives[SMALL], tmp_path / "small")
    large = _peaks(archives[LARGE], tmp_path / "large")
    for name in small:
        growth = large[name] - small[name]
        assert growth < GROWTH_LIMIT_KB, (
            f"{name}: {small[name] // 1024} MB at {SMALL} snapshots, "
            f"{large[name] // 1024} MB at {LARGE}"
        )
    # What was streamed is all there: a snapshot row per snapshot, a change every day.
    text = (tmp_path / "large" / "dataset" / "snapshots.csv").read_text(encoding="utf-8")
    assert len(list(csv.DictReader(io.StringIO(text)))) == LARGE
    diffs = list((tmp_path / "large" / "site" / "diffs").glob("*.html"))
    assert len(diffs) == LARGE - 1
