"""Export every version of every pilot, contact person and page from the healthy snapshots
as a dataset for researchers: CSV, JSON Lines, SQLite (with Datasette metadata), a
Frictionless data package and CITATION.cff, in one folder written whole or not at all.
Degraded snapshots are listed, never used; damaged ones are named and skipped."""

import argparse
import sys
from pathlib import Path

from pilotarchive.commands._common import add_output, add_target, choose_target

NAME = "export"
HELP = "export every version as CSV, JSONL, SQLite and a data package"
READS_OUTPUT = True  # an --output that names no folder is a usage error
FORMAT_CHOICES = ("all", "csv", "jsonl", "sqlite", "datapackage")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", "-f", choices=FORMAT_CHOICES, default="all",
                   help="what to write (default: all)")  # fmt: skip
    p.add_argument(
        "--to",
        type=Path,
        metavar="DIR",
        help="the dataset folder to write (default: OUTPUT/dataset); replaced as a whole",
    )
    add_output(p)
    add_target(p)


def run(args: argparse.Namespace) -> int:
    from pilotarchive.export.dataset import export_dataset

    target = choose_target(args.output, args.target)
    result = export_dataset(args.output, args.to, args.format, target)
    for line in result.dataset.skipped:
        print(f"pilotarchive: {line}", file=sys.stderr)
    rows = result.dataset.rows
    used = result.dataset.used
    print(
        f"{result.path}: {rows.count('pilots')} pilot, {rows.count('contacts')} contact and "
        f"{rows.count('pages')} page versions, {rows.count('changes')} changes, from "
        f"{len(used)} of {rows.count('snapshots')} snapshots (newest {used[-1].id})"
    )
    print(f"{result.path}: {', '.join(result.files)}")
    return 0
