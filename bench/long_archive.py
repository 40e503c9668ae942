"""A long archive stays cheap: ``export``, ``site`` and ``history`` at 50, 200 and 1,000
snapshots, their peak memory and time as ratios against 50 snapshots.

Run: ``python bench/long_archive.py [--sizes 50 200 1000] [--work DIR]``.

One real snapshot is crawled from the bundled replica (version 2015-06, over 127.0.0.1).
Each snapshot of the long archive is that snapshot made again through the same writer a
crawl uses (:class:`~pilotarchive.archive.snapshot.SnapshotWriter`: records validated,
sorted, checksummed, a manifest, a rename into place), one day after the one before, with
its own id, times and WARC file name, and a small change: every day one pilot's contact
has a new phone number, in every language and rendering (so each snapshot gives new
versions and changes, as a living site does). The entity register is built before the
commands are timed (``pilotarchive identity``), so the figures are the commands' own.

Each command runs in a child process that reports its own peak memory (``VmHWM`` in
``/proc/self/status``: the high-water mark of that process since its exec, not carried
over from this one) and its wall time. Printed per size, then the ratios against the
smallest size. Flat memory means a ratio near 1; linear time means a time ratio near the
ratio of the sizes (1,000 / 50 = 20) or below. Exits 1 when a memory ratio passes
``MEMORY_LIMIT``.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pilotarchive.archive.snapshot import (
    RECORD_FILES,
    SnapshotWriter,
    list_snapshots,
    make_snapshot_id,
)

MEMORY_LIMIT = 1.25
START = datetime(2015, 6, 15, 6, 0, tzinfo=UTC)
# The child: run one command, print its peak memory (VmHWM, kB) and wall time as JSON.
CHILD = """
import json, sys, time, io, contextlib
from pilotarchive.cli import main
started = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
seconds = time.perf_counter() - started
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"code": code, "seconds": seconds, "peak_kb": peak}))
"""


def crawl_one(work: Path) -> Path:
    """One real snapshot of the replica, crawled over 127.0.0.1."""
    from pilotarchive.replica.server import ReplicaServer

    out = work / "crawled"
    if out.exists():
        shutil.rmtree(out)
    with ReplicaServer(port=0) as replica:
        replica.set_version("2015-06")
        run = subprocess.run(
            [sys.executable, "-m", "pilotarchive", "crawl", f"{replica.url}/seutukaupunkipilotit",
             "--output", str(out), "--fast-loopback", "--target", "tem"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    if run.returncode != 0:
        raise SystemExit(f"the crawl of the replica failed: {run.stderr[-2000:]}")
    return list_snapshots(out)[0].path


def _records(snapshot: Path) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for kind, name in RECORD_FILES.items():
        with (snapshot / "records" / name).open(encoding="utf-8") as fh:
            out[kind] = [json.loads(line) for line in fh]
    return out


def _vary(records: dict[str, list[dict[str, Any]]], day: int) -> None:
    """Day ``day``'s small change: one pilot's contact (in turn) has a new phone number,
    on the pilot and on the contact record, in every language and rendering."""
    entities = sorted({str(p.get("entity_id")) for p in records["pilot"] if p.get("contact")})
    if not entities:
        return
    chosen = entities[day % len(entities)]
    phone = f"+35840{day:07d}"
    emails = set()
    for pilot in records["pilot"]:
        if pilot.get("entity_id") == chosen and pilot.get("contact"):
            pilot["contact"] = {**pilot["contact"], "phone": phone}
            emails.add(pilot["contact"].get("email"))
    for contact in records["contact"]:
        if contact.get("email") in emails:
            contact["phone"] = phone


def make_archive(base: Path, output: Path, count: int) -> list[Path]:
    """``count`` snapshots of ``base`` in ``output``, one a day, each varied (``_vary``) and
    written through :class:`SnapshotWriter` as a crawl writes them."""
    manifest = json.loads((base / "manifest.json").read_text(encoding="utf-8"))
    original = _records(base)
    old_warc = Path(manifest["archive"]["warc_files"][0]).name
    made = []
    previous: str | None = None
    for day in range(count):
        started = START + timedelta(days=day)
        ident = make_snapshot_id(started)
        retrieved = started.strftime("%Y-%m-%dT%H:%M:%SZ")
        warc = f"pilotarchive-{ident}.warc.gz"

        def clock(at: datetime = started + timedelta(seconds=20)) -> datetime:
            return at

        writer = SnapshotWriter(
            output, list(manifest["start_urls"]), manifest["scope"],
            settings=dict(manifest.get("settings") or {}), clock=clock,
            target=manifest.get("target"), snapshot_id=ident, started=started,
        )  # fmt: skip
        archive = writer.path / "archive"
        archive.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(base / "archive" / old_warc, archive / warc)
        cdxj = (base / "archive" / "index.cdxj").read_text(encoding="utf-8")
        (archive / "index.cdxj").write_text(cdxj.replace(old_warc, warc), encoding="utf-8")
        records = json.loads(json.dumps(original))
        _vary(records, day)
        for kind in RECORD_FILES:
            for record in records[kind]:
                record.pop("fingerprint", None)
                record["snapshot_id"] = ident
                record["retrieved_at"] = retrieved
                if record.get("warc_filename") == old_warc:
                    record["warc_filename"] = warc
                writer.add(record)
        writer.archive_summary = {
            **manifest["archive"],
            "warc_files": [f"archive/{warc}"],
            "previous_snapshot": previous,
        }
        health = {**manifest["health"], "baseline": previous}
        made.append(writer.commit(lambda path, m, health=health: health))
        previous = ident
    return made


def run_command(argv: list[str]) -> dict[str, Any]:
    """One command in a child process: its exit code, wall seconds and peak memory."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, timeout=3600
    )
    if proc.returncode != 0:
        raise SystemExit(f"{argv}: {proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["code"] != 0:
        raise SystemExit(f"{argv} exited {result['code']}: {proc.stderr[-2000:]}")
    return dict(result)


def commands(output: Path, work: Path) -> dict[str, list[str]]:
    out = str(output)
    return {
        "export": ["export", "--output", out, "--to", str(work / "dataset")],
        "site": ["site", "--output", out, "--to", str(work / "site")],
        "history": ["history", "Iisalmi", "--output", out],
    }


def measure(base: Path, work: Path, size: int) -> dict[str, dict[str, Any]]:
    output = work / f"archive-{size}"
    if output.exists():
        shutil.rmtree(output)
    started = time.perf_counter()
    make_archive(base, output, size)
    made = time.perf_counter() - started
    run_command(["identity", "--output", str(output)])  # the register, built once
    print(f"{size} snapshots made in {made:.1f} s", flush=True)
    results = {}
    for name, argv in commands(output, work / f"out-{size}").items():
        (work / f"out-{size}").mkdir(exist_ok=True)
        results[name] = run_command(argv)
        r = results[name]
        print(f"  {name:8} {r['seconds']:7.2f} s  {r['peak_kb'] / 1024:7.1f} MB", flush=True)
    shutil.rmtree(output, ignore_errors=True)
    shutil.rmtree(work / f"out-{size}", ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 1000])
    parser.add_argument("--work", type=Path, help="a folder for the archives (default: a temp)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="long-archive-"))
    work.mkdir(parents=True, exist_ok=True)
    base = crawl_one(work)
    figures = {size: measure(base, work, size) for size in args.sizes}
    first = args.sizes[0]
    print(f"\nratios against {first} snapshots (memory: flat is 1; time: linear is the size ratio)")
    worst = 0.0
    for size in args.sizes[1:]:
        for name in figures[size]:
            memory = figures[size][name]["peak_kb"] / figures[first][name]["peak_kb"]
            seconds = figures[size][name]["seconds"] / figures[first][name]["seconds"]
            worst = max(worst, memory)
            print(
                f"  {name:8} x{size / first:<5g} snapshots: memory x{memory:.2f}, "
                f"time x{seconds:.1f}"
            )
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    if worst > MEMORY_LIMIT:
        print(f"memory grows with the number of snapshots (x{worst:.2f} > x{MEMORY_LIMIT})")
        return 1
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
