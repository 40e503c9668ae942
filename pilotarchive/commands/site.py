"""Build (or update) the archive's static site: plain HTML and CSS that reads from
file:// or any static server, with every snapshot, its pages and records by language, the
archived pages, the diff of each pair of consecutive healthy snapshots, a timeline per
pilot, person and page, and a downloads page (dataset, WACZ, WARCs with sha256). Only
pages whose content changed are rewritten."""

import argparse
from pathlib import Path

from pilotarchive.commands._common import add_output, add_target, choose_target

NAME = "site"
HELP = "build the static HTML site of the archive"
READS_OUTPUT = True  # an --output that names no folder is a usage error


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", type=Path, metavar="DIR",
                   help="the site folder (default: OUTPUT/site)")  # fmt: skip
    p.add_argument(
        "--dataset",
        type=Path,
        metavar="DIR",
        help="the dataset folder the downloads page lists (default: OUTPUT/dataset)",
    )
    p.add_argument(
        "--wacz",
        type=Path,
        action="append",
        metavar="FILE",
        help="a WACZ file the downloads page lists (repeatable; default: OUTPUT/*.wacz)",
    )
    add_output(p)
    add_target(p)


def run(args: argparse.Namespace) -> int:
    import sys

    from pilotarchive.exceptions import UsageError
    from pilotarchive.export.site import build_site

    if args.dataset is not None and not (args.dataset / "datapackage.json").is_file():
        raise UsageError(
            f"--dataset {args.dataset}: no dataset there (no datapackage.json); "
            "make one with `pilotarchive export`"
        )
    for file in args.wacz or []:
        if not file.is_file():
            raise UsageError(f"--wacz {file}: no such file")
    target = choose_target(args.output, args.target)
    result = build_site(
        args.output, args.to, target=target, dataset_dir=args.dataset, wacz=args.wacz
    )
    if result.dataset is not None:
        for line in result.dataset.skipped:
            print(f"pilotarchive: {line}", file=sys.stderr)
    for line in result.notes:
        print(f"pilotarchive: {line}", file=sys.stderr)
    print(
        f"{result.path}: {len(result.written)} page(s) written, {result.unchanged} unchanged"
        + (f", {len(result.removed)} removed" if result.removed else "")
    )
    print(result.path / "index.html")
    return 0
