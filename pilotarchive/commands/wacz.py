"""Package snapshots (default: the latest) as WACZ 1.1.1 with webrecorder's wacz package:
their WARCs and the records of earlier snapshots their revisits point into, a CDXJ index,
pages.jsonl, datapackage.json; then validate it."""

import argparse

from pilotarchive.commands._common import add_file, add_output, add_target, latest_or_named
from pilotarchive.exceptions import UsageError

NAME = "wacz"
HELP = "package snapshots as a WACZ file"
READS_OUTPUT = True  # an --output that names no folder is a usage error


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("snapshots", nargs="*", metavar="SNAPSHOT", help="snapshot ids or paths")
    add_file(p, "the WACZ file to write (FILE.wacz)", required=True)
    p.add_argument("--title", help="the package's title")
    add_output(p)
    add_target(p)


def run(args: argparse.Namespace) -> int:
    from pilotarchive.archive.snapshot import refuse_inside_snapshots
    from pilotarchive.archive.wacz import build_wacz

    if args.file.suffix != ".wacz":
        raise UsageError(f"{args.file}: a WACZ file name ends in .wacz")
    refuse_inside_snapshots(args.file, "--file", args.output)
    result = build_wacz(
        [latest_or_named(args.output, ref, args.target) for ref in args.snapshots or [None]],
        args.file,
        title=args.title,
    )
    print(
        f"{result.path}: {len(result.warcs)} WARC file(s) ({', '.join(result.warcs)}) from "
        f"snapshot(s) "
        f"{', '.join(result.snapshots)}, {result.pages} pages"
    )
    print(f"{result.path}: valid WACZ ({result.report.splitlines()[-1]})")
    return 0
