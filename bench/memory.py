"""Peak memory of a whole-site crawl, against a small crawl and a bare start in the same run.

Run: ``python bench/memory.py [--pages N] [--workers W]``. The synthetic ministry site
(N pages per language, about 6 N pages with the text versions; the default 3,334 gives
20,000 pages of 15-30 KiB) is written as files and served by Debian's nginx on 127.0.0.1
(else Twisted's static server, said in the output). Three runs, each under
``/usr/bin/time`` (peak RSS of the process and its children, the largest of them):

1. baseline: ``pilotarchive crawl`` of one page (interpreter, Scrapy, pilotarchive
   imported; what any crawl costs);
2. a crawl of about 2,000 pages of the same site (``--max-pages 2000``);
3. the whole site with ``--jobdir`` (the request queue on disk).

The figures are the peak RSS of each and the ratios 3/1 and 3/2: memory that grows with
the site shows as 3/2 far above 1. Target: the whole-site crawl stays under 300 MB peak RSS
(the script exits 1 when it does not).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawl import served_synthetic

LIMIT_MB = 300.0


def crawl(url: str, work: Path, max_pages: int, workers: int, jobdir: bool) -> dict:
    """One crawl under /usr/bin/time -v: pages, wall seconds, peak RSS (MB)."""
    out = work / "output"
    argv = [sys.executable, "-m", "pilotarchive", "crawl", url, "--scope", "site",
            "--max-pages", str(max_pages), "--output", str(out), "--fast-loopback",
            "-s", "CONCURRENT_REQUESTS=8", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]  # fmt: skip
    if jobdir:
        argv += ["--jobdir", str(work / "job")]
    if workers > 1:
        argv += ["--workers", str(workers)]
    stats = work / "time.txt"
    started = time.monotonic()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", "-o", str(stats), *argv], capture_output=True, text=True
    )
    wall = time.monotonic() - started
    if proc.returncode not in (0, 3):
        raise SystemExit(f"pilotarchive crawl failed: {proc.stderr.strip()[-800:]}")
    rss_kb = next(
        int(line.split(":")[1])
        for line in stats.read_text().splitlines()
        if "Maximum resident set size" in line
    )
    snapshot = Path(proc.stdout.strip().splitlines()[-1])
    manifest = json.loads((snapshot / "manifest.json").read_text())
    return {"pages": manifest["counts"]["page"]["total"], "wall": wall, "rss": rss_kb / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pages", type=int, default=3334, help="pages per language (3,334: 20,000 in all)"
    )
    parser.add_argument("--workers", type=int, default=1, help="pilotarchive --workers")
    args = parser.parse_args()
    started = time.monotonic()
    with served_synthetic(args.pages, "pa-memory-") as served:
        print(f"site: {served.pages:,} pages, mean {served.mean_kib:.1f} KiB, written "
              f"in {time.monotonic() - started:.0f} s, served by {served.server}")  # fmt: skip
        print(f"machine: {os.cpu_count()} cores; pilotarchive workers {args.workers}")
        runs = {}
        for key, max_pages, jobdir in (("1", 1, False), ("2", 2000, False),
                                       ("3", 10_000_000, True)):  # fmt: skip
            work = served.tmp / f"run-{key}"
            work.mkdir()
            runs[key] = crawl(served.url, work, max_pages, args.workers, jobdir)
    names = {
        "1": "1. baseline: a crawl of one page",
        "2": "2. a crawl of 2,000 pages",
        "3": "3. the whole site, --jobdir",
    }
    print(f"{'run':40} {'pages':>8} {'wall s':>8} {'pages/s':>8} {'peak RSS':>9}")
    for key, run in runs.items():
        rate = run["pages"] / run["wall"] if run["wall"] else 0.0
        print(f"{names[key]:40} {run['pages']:8,} {run['wall']:8.1f} {rate:8.1f} "
              f"{run['rss']:6.0f} MB")  # fmt: skip
    whole = runs["3"]["rss"]
    more = runs["3"]["pages"] / max(runs["2"]["pages"], 1)
    print(f"peak RSS 3/1: {whole / runs['1']['rss']:.2f}   3/2: {whole / runs['2']['rss']:.2f}"
          f"   ({more:.1f}x the pages of 2)")  # fmt: skip
    verdict = "meets" if whole < LIMIT_MB else "MISSES"
    print(f"target: the whole site under {LIMIT_MB:.0f} MB peak RSS: {verdict} ({whole:.0f} MB)")
    return 0 if whole < LIMIT_MB else 1


if __name__ == "__main__":
    sys.exit(main())
