"""Diff speed and memory on synthetic snapshots of 10,000 and 100,000 records, 1 % changed.

Run: ``python bench/diff.py [--sizes 10000 100000]``. For each size it writes two snapshots
(pages, pilots and contacts shaped like the real ones; 1 % of the records changed, a few
added and removed), then diffs them in a fresh process and reports the wall time of the
diff and the process's peak memory (max RSS), beside a baseline process that only imports
pilotarchive, measured in the same run. Targets: 100,000 records in under 3 s and 300 MB,
and time growing no worse than linearly with size.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pilotarchive.records.ids import fingerprint

TARGET_SECONDS, TARGET_MB = 3.0, 300.0
RECORDS_PER_PAGE = 20


def _dump(record: dict) -> str:
    record["fingerprint"] = fingerprint(record)
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def write_snapshot(root: Path, snapshot_id: str, size: int, changed: bool) -> Path:
    path = root / "snapshots" / snapshot_id
    (path / "records").mkdir(parents=True)
    base = {"snapshot_id": snapshot_id, "retrieved_at": "2014-11-19T12:00:00Z",
            "schema_version": "1.2.0", "unchanged": False, "carried_over_from": None}  # fmt: skip
    pages = size // RECORDS_PER_PAGE
    step = 100  # 1 % of the records change
    with (path / "records" / "pages.jsonl").open("w") as pf, \
         (path / "records" / "pilots.jsonl").open("w") as lf, \
         (path / "records" / "contacts.jsonl").open("w") as cf:  # fmt: skip
        for p in range(pages):
            page_id = f"page-{p:016x}"
            url = f"http://www.tem.fi/index.phtml?s={p}"
            pf.write(_dump({**base, "record_type": "page", "id": page_id, "language": "fi",
                            "source_url": url, "url": url, "final_url": url, "status": 200,
                            "title": f"Sivu {p}", "updated": "2014-11-19", "pilot_count": 9,
                            "contact_count": 10, "alternates": {"fi": url},
                            "programme": None, "content_sha256": "0" * 64}) + "\n")  # fmt: skip
            for r in range(RECORDS_PER_PAGE - 1):
                n = p * RECORDS_PER_PAGE + r
                edit = changed and n % step == 7
                if changed and n % 1000 == 3:
                    continue  # removed
                if r % 2:
                    lf.write(_dump({**base, "record_type": "pilot", "id": f"pilot-{n:016x}",
                                    "language": "fi", "source_url": url, "page_id": page_id,
                                    "kind": "pilot", "theme": f"Teema numero {n} kehittämiseen",
                                    "coordinator": "Porvoon kaupunki" if edit else
                                    "Loviisan kaupunki",
                                    "municipalities": ["Loviisa", "Porvoo", "Raasepori"],
                                    "contact": {"name": "Leena Mäkinen", "given_name": "Leena",
                                                "family_name": "Mäkinen", "title": "johtaja",
                                                "email": "leena.makinen@raahe.fi",
                                                "email_source": "pattern",
                                                "phone": "+358444393301"},
                                    "form": "list", "position": r}) + "\n")  # fmt: skip
                else:
                    cf.write(_dump({**base, "record_type": "contact", "id": f"contact-{n:016x}",
                                    "language": "fi", "source_url": url, "page_id": page_id,
                                    "pilot_id": None, "name": f"Olli Alho{n}",
                                    "given_name": "Olli", "family_name": f"Alho{n}",
                                    "title": "Neuvotteleva virkamies",
                                    "email": f"olli.alho{n}@tem.fi",
                                    "email_source": "pattern",
                                    "phone": "+358295063592" if edit else "+358295063591",
                                    "organization": None, "role": "further_information",
                                    "name_order": "family-given"}) + "\n")  # fmt: skip
            if changed and p % 50 == 1:  # an added contact
                cf.write(_dump({**base, "record_type": "contact", "id": f"contact-new{p:013x}",
                                "language": "fi", "source_url": url, "page_id": page_id,
                                "pilot_id": None, "name": f"Lari Uusi{p}", "given_name": "Lari",
                                "family_name": f"Uusi{p}", "title": "Ylitarkastaja",
                                "email": None, "email_source": None, "phone": None,
                                "organization": None, "role": "further_information",
                                "name_order": "given-family"}) + "\n")  # fmt: skip
    (path / "manifest.json").write_text(json.dumps({"snapshot_id": snapshot_id, "failures": []}))
    return path


CHILD = """
import json, sys, time
t0 = time.perf_counter()
from pilotarchive.diff.compare import diff_paths
from pathlib import Path
if len(sys.argv) > 2:
    t1 = time.perf_counter()
    diff = diff_paths(Path(sys.argv[1]), Path(sys.argv[2]))
    t2 = time.perf_counter()
    print(json.dumps({"seconds": t2 - t1, "changes": len(diff["changes"]),
                      "unchanged": sum(s["unchanged"] for s in diff["summary"].values())}))
else:
    print(json.dumps({"seconds": 0.0, "changes": 0, "unchanged": 0}))
"""


def run_child(*args: str) -> tuple[dict, float]:
    """Run the diff in a fresh process; its result and its peak RSS in MB."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, *args], stdout=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parent.parent)  # fmt: skip
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status:
        raise SystemExit("the diff process failed")
    return json.loads(out), usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    _, baseline_mb = run_child()
    print(f"baseline (python + pilotarchive imported, no diff): peak {baseline_mb:.0f} MB")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            root = Path(tmp) / str(size)
            start = time.perf_counter()
            old = write_snapshot(root, "20141119T120000Z", size, changed=False)
            new = write_snapshot(root, "20150615T120000Z", size, changed=True)
            made = time.perf_counter() - start
            best = None
            for _ in range(3):
                result, peak = run_child(str(old), str(new))
                if best is None or result["seconds"] < best[0]["seconds"]:
                    best = (result, peak)
            result, peak = best
            results.append((size, result["seconds"], peak))
            print(f"{size:>7,} records: diff {result['seconds']:.2f} s (best of 3), peak "
                  f"{peak:.0f} MB ({peak - baseline_mb:.0f} MB above baseline); "
                  f"{result['changes']} changes, {result['unchanged']} unchanged; "
                  f"snapshots written in {made:.1f} s")  # fmt: skip
    ok = True
    if len(results) >= 2:
        (s1, t1, _), (s2, t2, _) = results[0], results[-1]
        growth = (t2 / t1) / (s2 / s1)
        print(f"time growth: x{t2 / t1:.1f} for x{s2 / s1:.0f} records "
              f"({growth:.2f} of linear; <= 1 is linear or better)")  # fmt: skip
        ok = growth <= 1.25
    size, seconds, peak = results[-1]
    meets = seconds < TARGET_SECONDS and peak < TARGET_MB
    print(f"target {size:,} records under {TARGET_SECONDS:.0f} s and {TARGET_MB:.0f} MB: "
          f"{'meets' if meets else 'MISSES'} ({seconds:.2f} s, {peak:.0f} MB)")  # fmt: skip
    return 0 if meets and ok else 1


if __name__ == "__main__":
    sys.exit(main())
