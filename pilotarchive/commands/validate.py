"""Validate a snapshot: every record against schemas/, every file against the manifest's
sha256, every WARC record's fields and digests, and every revisit resolved to its original
record and payload digest (in whichever snapshot holds it). With --all, every snapshot
(or every one of --target): a fixity audit of the whole archive. Exit 1 listing every
problem."""

import argparse
import sys
from pathlib import Path

from pilotarchive.commands._common import add_output, add_target, latest_or_named
from pilotarchive.exceptions import SnapshotInvalid, UsageError

NAME = "validate"
HELP = "re-check snapshots' records, archive, revisits and checksums"
READS_OUTPUT = True  # an --output that names no folder is a usage error


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("snapshot", nargs="?", help="snapshot id or path (default: the latest)")
    p.add_argument(
        "--all",
        action="store_true",
        help="every snapshot of the output folder (or of --target): re-compute every "
        "WARC record's digests and resolve every revisit",
    )
    add_output(p)
    add_target(p)


def _output_of(path: Path, output: Path) -> Path:
    """The output folder a snapshot given by path lies in (its revisits resolve there)."""
    return path.parent.parent if path.parent.name == "snapshots" else output


def run(args: argparse.Namespace) -> int:
    from pilotarchive.archive.check import audit
    from pilotarchive.archive.ledger import missing
    from pilotarchive.archive.snapshot import list_snapshots, snapshot_dir
    from pilotarchive.exceptions import SnapshotError

    if args.all and args.snapshot:
        raise UsageError("give a snapshot or --all, not both")
    if not args.all:
        path = latest_or_named(args.output, args.snapshot, args.target)
        (verdict,) = audit(_output_of(path, args.output), only=[path])
        for note in verdict.notes:
            print(f"{path}: note: {note}", file=sys.stderr)
        if verdict.problems:
            raise SnapshotInvalid(str(path), verdict.problems)
        print(f"{path}: valid")
        return 0
    if not list_snapshots(args.output, damaged=True):
        raise SnapshotError(
            f"no snapshots under {snapshot_dir(args.output)}; run `pilotarchive crawl`"
        )
    verdicts = audit(args.output, target=args.target)
    if not verdicts:
        known = sorted({str(s.target) for s in list_snapshots(args.output) if s.target})
        raise UsageError(f"no snapshot of target {args.target!r} under {snapshot_dir(args.output)}"
                         f" (targets: {', '.join(known) or 'none'})")  # fmt: skip
    problems = []
    for verdict in verdicts:
        state = f"{len(verdict.problems)} problem(s)" if verdict.problems else "valid"
        target = f"  target {verdict.target}" if verdict.target else ""
        print(f"{verdict.id}  {state}{target}")
        for note in verdict.notes:
            print(f"  note: {note}")
        problems += [f"{verdict.id}: {p}" for p in verdict.problems]
    damaged = sum(1 for v in verdicts if v.problems)
    # A committed snapshot gone from the folder without a prune: nothing above can see it.
    present = {s.id for s in list_snapshots(args.output, damaged=True)}
    for ident, at in missing(args.output, present, args.target):
        print(f"{ident}  MISSING")
        problems.append(
            f"{ident}: committed at {at} and not in {snapshot_dir(args.output)}, nor deleted "
            "by `pilotarchive prune` (deleted by hand, or lost)"
        )
        damaged += 1
    if problems:
        raise SnapshotInvalid(
            f"{snapshot_dir(args.output)}: {damaged} of {len(verdicts)} snapshot(s) damaged",
            problems,
        )
    print(f"{len(verdicts)} snapshot(s) valid, every revisit resolved")
    return 0
