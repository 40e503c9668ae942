"""What recrawling an unchanged site costs on disk, with and without deduplication.

Run: ``python bench/storage.py [--recrawls 30]``. Serves the replica, crawls it once, then
``--recrawls`` more times with nothing changed, in three configurations measured in the same
run: the default (conditional requests and payload deduplication), deduplication without
conditional requests, and neither. For each it reports what the recrawls added, as a
percentage of what the first crawl wrote: the WARC payload (HTTP bodies stored in full),
the WARC files as a whole (record headers too), and everything under ``output/`` (records,
manifests, indexes). The target is at most 2 % for the WARC payload of the default
configuration: an unchanged page must cost a revisit record, not its bytes again.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pilotarchive.replica.server import ReplicaServer

TARGET_PERCENT = 2.0
CONFIGS = {
    "dedup + conditional (default)": [],
    "dedup, no conditional requests": ["-s", "PILOTARCHIVE_CONDITIONAL=0"],
    "no dedup, no conditional": ["-s", "PILOTARCHIVE_CONDITIONAL=0", "-s", "PILOTARCHIVE_DEDUP=0"],
}


def crawl(url: str, output: Path, extra: list[str]) -> Path:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pilotarchive",
            "crawl",
            url,
            "--output",
            str(output),
            "--fast-loopback",
            *extra,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode:
        raise SystemExit(f"crawl failed: {run.stderr.strip()}")
    return Path(run.stdout.strip().splitlines()[-1])


def sizes(output: Path, snapshots: list[Path]) -> dict[str, int]:
    payload = warc = 0
    for snap in snapshots:
        payload += json.loads((snap / "manifest.json").read_text())["archive"]["payload_bytes"]
        warc += sum(p.stat().st_size for p in (snap / "archive").glob("*.warc.gz"))
    total = sum(p.stat().st_size for p in output.rglob("*") if p.is_file())
    return {"payload": payload, "warc": warc, "output": total}


def measure(url: str, recrawls: int, extra: list[str]) -> tuple[dict, dict, float]:
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "output"
        first = crawl(url, output, extra)
        base = sizes(output, [first])
        start = time.perf_counter()
        later = [crawl(url, output, extra) for _ in range(recrawls)]
        seconds = (time.perf_counter() - start) / recrawls
        after = sizes(output, [first, *later])
    added = {k: after[k] - base[k] for k in base}
    return base, added, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recrawls", type=int, default=30)
    args = parser.parse_args()
    results = {}
    with ReplicaServer(port=0) as replica:
        url = f"{replica.url}/seutukaupunkipilotit"
        for name, extra in CONFIGS.items():
            results[name] = measure(url, args.recrawls, extra)
    print(f"replica {url}: 1 crawl, then {args.recrawls} recrawls of an unchanged site")
    print(
        f"{'configuration':34} {'first crawl (payload/WARC/output)':>36}   "
        f"{'recrawls added, % of first crawl':>34}   s/crawl"
    )
    for name, (base, added, seconds) in results.items():
        pct = {k: 100.0 * added[k] / base[k] if base[k] else 0.0 for k in base}
        print(
            f"{name:34} {base['payload']:>10,} / {base['warc']:>8,} / {base['output']:>9,} B"
            f"   payload {pct['payload']:7.2f} %  WARC {pct['warc']:7.1f} %  "
            f"output {pct['output']:7.1f} %   {seconds:5.2f}"
        )
    default = next(iter(results.values()))
    payload_pct = 100.0 * default[1]["payload"] / default[0]["payload"]
    verdict = "meets" if payload_pct <= TARGET_PERCENT else "MISSES"
    print(
        f"target: WARC payload added by the recrawls <= {TARGET_PERCENT} % of the first crawl "
        f"(default configuration): {verdict} ({payload_pct:.2f} %)"
    )
    return 0 if payload_pct <= TARGET_PERCENT else 1


if __name__ == "__main__":
    sys.exit(main())
