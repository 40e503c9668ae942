"""List complete snapshots, oldest first, with record counts per type, failures and health,
and what each depends on: the earlier snapshots holding the originals its revisit records
point at (read from the WARCs), and any revisit whose original is gone."""

import argparse
import json
import sys
from pathlib import Path

from pilotarchive.commands._common import UNTARGETED, add_output, add_target, choose_target

NAME = "snapshots"
HELP = "list snapshots with their counts and health"
READS_OUTPUT = True  # an --output that names no folder is a usage error


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_output(p)
    add_target(p)
    p.add_argument("--json", action="store_true", help="one JSON object per line")


def _resumable(output: Path) -> list[tuple[str, str]]:
    """Unfinished snapshots an interrupted crawl kept for its JOBDIR: not snapshots yet,
    but an archivist looking for a crawl's work must find them."""
    from pilotarchive.archive.snapshot import RESUMABLE, TMP_PREFIX, snapshot_dir

    found = []
    for marker in sorted(snapshot_dir(output).glob(f"{TMP_PREFIX}*/{RESUMABLE}")):
        try:
            jobdir = marker.read_text(encoding="utf-8").strip()
        except OSError:
            jobdir = "?"
        found.append((marker.parent.name, jobdir))
    return found


def run(args: argparse.Namespace) -> int:
    from pilotarchive.archive.depends import archive_dependencies
    from pilotarchive.archive.snapshot import list_snapshots
    from pilotarchive.diff.health import health_series

    snapshots = list_snapshots(args.output, damaged=True)
    if args.target is not None:  # one target's (damaged ones, whose target is unknown, too)
        target = choose_target(args.output, args.target)
        snapshots = [s for s in snapshots if s.damaged or s.target == target]
    for folder, jobdir in _resumable(args.output):
        print(f"unfinished: {folder} (an interrupted crawl; its command with --jobdir "
              f"{jobdir} goes on with it)", file=sys.stderr)  # fmt: skip
    if not snapshots:
        print(f"no snapshots under {args.output / 'snapshots'}", file=sys.stderr)
        return 0
    series = dict(
        (ident, health)
        for ident, health, _ in health_series([s.path for s in snapshots if not s.damaged])
    )
    deps = archive_dependencies(args.output, indexed=True)  # headers only, by the CDXJ
    for info in snapshots:
        m = info.manifest
        dep = deps.get(info.id)
        health = series.get(info.id)
        verdict = "damaged" if info.damaged else (health["verdict"] if health else None)
        counts = {k: v.get("total", 0) for k, v in m.get("counts", {}).items()}
        if args.json:
            print(
                json.dumps(
                    {
                        "id": info.id,
                        "path": str(info.path),
                        "target": m.get("target"),
                        "origin": m.get("origin", "crawl") if m else None,
                        "counts": counts,
                        "failures": len(m.get("failures", [])),
                        "rejected": m.get("rejected", 0),
                        "start_urls": m.get("start_urls"),
                        "health": verdict,
                        "damaged": info.damaged,
                        **(dep.as_json() if dep else {}),
                    },
                    ensure_ascii=False,
                )
            )
            continue
        if info.damaged:
            print(f"{info.id}  DAMAGED: {info.damaged}")
            continue
        target = f"  target {m.get('target') or UNTARGETED}"
        print(
            f"{info.id}  pages {counts.get('page', 0):3}  pilots {counts.get('pilot', 0):3}  "
            f"contacts {counts.get('contact', 0):3}  failures {len(m.get('failures', [])):2}  "
            f"rejected {m.get('rejected', 0)}  health {verdict or '-':8}  "
            f"{' '.join(m.get('start_urls', []))}{target}"
        )
        if dep and dep.needs:
            needs = ", ".join(f"{d} ({n} revisits)" for d, n in sorted(dep.needs.items()))
            print(f"    depends on {needs}")
        if dep and dep.dangling:
            print(f"    DANGLING: {len(dep.dangling)} revisit(s) whose original is gone or "
                  "differs (`pilotarchive validate` names them)")  # fmt: skip
    return 0
