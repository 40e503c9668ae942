"""Sorting record and index lines on disk: same answer as sorted(), bounded runs, no leftovers."""

import random
from pathlib import Path

import pytest

from pilotarchive.archive import extsort
from pilotarchive.archive.snapshot import sort_records


def test_runs_on_disk_give_what_sorted_gives(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(extsort, "CHUNK_LINES", 7)  # many runs
    monkeypatch.setattr(extsort, "CHUNK_CHARS", 200)
    rng = random.Random(5)
    lines = [f"{rng.choice('abcdef')}{rng.randrange(50):03d} é{n}\n" for n in range(500)]
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("".join(lines[:300]), encoding="utf-8")
    b.write_text("".join(lines[300:]), encoding="utf-8")
    work = tmp_path / "runs"
    key = lambda line: line[:4]  # noqa: E731 - stable on equal keys, as sorted() is
    got = list(extsort.sorted_lines([a, tmp_path / "missing.txt", b], work, key=key))
    assert got == sorted(lines, key=key)
    assert not work.exists()


def test_a_run_holds_no_more_than_its_bound(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(extsort, "CHUNK_CHARS", 1000)
    source = tmp_path / "long.txt"
    source.write_text("".join(f"{n:05d}{'x' * 300}\n" for n in range(40)), encoding="utf-8")
    work = tmp_path / "runs"
    merged = extsort.sorted_lines([source], work)
    first = next(merged)  # the runs are written, the merge has begun
    sizes = [len(r.read_text(encoding="utf-8")) for r in work.iterdir()]
    assert len(sizes) == 10 and max(sizes) <= 1000 + 306  # a run ends past its bound
    assert first.startswith("00000") and len(list(merged)) == 39
    assert not work.exists()


def test_duplicate_ids_are_rejected_and_a_failed_merge_leaves_nothing(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text('{"id":"p2","x":1}\n{"id":"p1","x":1}\n', encoding="utf-8")
    b.write_text('{"id":"p1","x":2}\n', encoding="utf-8")
    rejected: list[str] = []
    out = tmp_path / "out.jsonl"
    assert sort_records([a, b], out, rejected.append) == 2
    assert out.read_text(encoding="utf-8") == '{"id":"p1","x":1}\n{"id":"p2","x":1}\n'
    assert rejected == ['{"id":"p1","x":2}\n']

    def fail(line: str) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        sort_records([a, b], tmp_path / "again.jsonl", fail)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "b.jsonl", "out.jsonl"]
