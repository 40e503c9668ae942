"""Extraction throughput over the replica's pages, against a bare lxml parse of the same.

Run: ``python bench/extract.py [--repeat N]``. Prints pages per second for the full
extraction (``extract_page``: decoding, parsing, language, dates, contacts, pilots) and
for ``lxml.html.fromstring`` alone, measured in the same run, and their ratio. The target
is at least 2,000 pages per second on one core, so extraction never limits a crawl.
"""

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import lxml.html

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pilotarchive.extract.page import extract_page
from pilotarchive.replica.content import VERSIONS
from pilotarchive.replica.render import OTHER_PAGES, PageRef
from pilotarchive.replica.server import render

TARGET = 2000.0


def replica_pages() -> list[tuple[str, bytes, dict[str, str]]]:
    """Every HTML page of every replica version: pilots pages, text versions, the rest."""
    pages = []
    ids = [None, 1, 2, 3, 4398, *OTHER_PAGES]
    for version in VERSIONS.values():
        for lang in ("fi", "sv", "en"):
            for page_id in ids:
                for text in (False, True):
                    url = PageRef(lang, page_id, text).url
                    path, _, query = url.partition("?")
                    q = dict(p.split("=") for p in query.split("&") if p)
                    response = render(version, path, q)
                    if response.status == 200:
                        pages.append((f"http://www.tem.fi{url}", response.body, response.headers))
    return pages


def best_rate(fn: Callable[[], None], count: int, rounds: int) -> float:
    """Pages per second of the best of ``rounds`` runs (the least disturbed by the machine)."""
    times = []
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return count / min(times), statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="passes over the pages per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the best one counts")
    args = parser.parse_args()
    pages = replica_pages()
    count = len(pages) * args.repeat
    size = sum(len(b) for _, b, _ in pages) / len(pages)

    def baseline() -> None:
        for _ in range(args.repeat):
            for _, body, _ in pages:
                lxml.html.fromstring(body)

    def extraction() -> None:
        for _ in range(args.repeat):
            for url, body, headers in pages:
                extract_page(body, url, headers=headers)

    extraction()  # warm caches (compiled patterns) before measuring
    base_rate, _ = best_rate(baseline, count, args.rounds)
    rate, _ = best_rate(extraction, count, args.rounds)
    print(
        f"pages: {len(pages)} replica pages (mean {size / 1024:.1f} KiB), "
        f"{args.repeat} passes x {args.rounds} rounds, best round counts"
    )
    print(f"baseline lxml.html.fromstring: {base_rate:10.0f} pages/s")
    print(f"pilotarchive extract_page:     {rate:10.0f} pages/s")
    print(f"ratio extract_page / bare parse: {base_rate / rate:.1f}x the time of a bare parse")
    verdict = "meets" if rate >= TARGET else "MISSES"
    print(f"target {TARGET:.0f} pages/s per core: {verdict} ({rate / TARGET:.2f} of target)")
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
