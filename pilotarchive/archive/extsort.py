"""Sorting text files by line in bounded memory: cut into sorted runs, merge the runs.

A crawl of 100,000 pages writes some 300,000 record lines and as many CDXJ lines; sorting
either in memory held hundreds of megabytes at the end of a crawl that had stayed small
all along. Runs hold at most ``CHUNK_LINES`` lines or ``CHUNK_CHARS`` characters.
"""

import heapq
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path

CHUNK_LINES = 20_000
CHUNK_CHARS = 8 << 20  # page records are long: a run of 20,000 was 60 MB of text


def _chunk(lines: Iterator[str]) -> list[str]:
    chunk: list[str] = []
    size = 0
    for line in lines:
        chunk.append(line)
        size += len(line)
        if len(chunk) >= CHUNK_LINES or size >= CHUNK_CHARS:
            break
    return chunk


def sorted_lines(
    inputs: Iterable[Path], work: Path, key: Callable[[str], str] | None = None
) -> Iterator[str]:
    """The lines of ``inputs`` (UTF-8 files; missing ones are skipped), sorted by ``key``
    (the line itself by default), stable. Run files go into ``work``, a folder made for
    the purpose and removed when the iterator is exhausted or closed."""
    work.mkdir(exist_ok=True)
    try:
        runs: list[Path] = []
        for source in inputs:
            if not source.exists():
                continue
            with source.open(encoding="utf-8", newline="") as fh:
                while chunk := _chunk(fh):
                    chunk.sort(key=key)
                    run = work / f"run-{len(runs)}"
                    with run.open("w", encoding="utf-8", newline="") as out:
                        out.writelines(chunk)
                    runs.append(run)
                    del chunk
        with ExitStack() as stack:
            handles = [stack.enter_context(r.open(encoding="utf-8", newline="")) for r in runs]
            yield from heapq.merge(*handles, key=key)
    finally:
        shutil.rmtree(work, ignore_errors=True)
