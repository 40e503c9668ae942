"""Validate a snapshot: every record against schemas/, every file against the manifest's
sha256, every WARC record's fields and digests; exit 1 listing every problem."""

import argparse

from pilotarchive.commands._common import add_output, add_target, latest_or_named

NAME = "validate"
HELP = "re-check a snapshot's records, archive and checksums"
READS_OUTPUT = True  # an --output that names no folder is a usage error


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("snapshot", nargs="?", help="snapshot id or path (default: the latest)")
    add_output(p)
    add_target(p)


def run(args: argparse.Namespace) -> int:
    from pilotarchive.archive.snapshot import check_snapshot

    path = latest_or_named(args.output, args.snapshot, args.target)
    check_snapshot(path)
    print(f"{path}: valid")
    return 0
