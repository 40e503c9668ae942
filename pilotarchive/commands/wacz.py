"""Package snapshots (default: the latest; --target: every snapshot of a target) as WACZ
1.1.1 with webrecorder's wacz package: their WARCs, whole, and the records of other
snapshots their revisits point into, a CDXJ index, pages.jsonl with each page's title,
time and text (for ReplayWeb.page's search), datapackage.json; then validate it."""

import argparse

from pilotarchive.commands._common import add_file, add_output, add_target
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
    from pilotarchive.archive.wacz import build_wacz, snapshot_paths, target_paths

    if args.file.suffix != ".wacz":
        raise UsageError(f"{args.file}: a WACZ file name ends in .wacz")
    refuse_inside_snapshots(args.file, "--file", args.output)
    if args.target is not None and args.snapshots:
        raise UsageError("give snapshots or --target, not both")
    paths = (
        target_paths(args.output, args.target)
        if args.target is not None
        else snapshot_paths(args.output, args.snapshots)
    )
    title = args.title or (f"pilotarchive target {args.target}" if args.target else None)
    result = build_wacz(paths, args.file, title=title)
    print(
        f"{result.path}: {len(result.warcs)} WARC file(s) ({', '.join(result.warcs)}) from "
        f"snapshot(s) "
        f"{', '.join(result.snapshots)}, {result.pages} pages"
    )
    print(f"{result.path}: valid WACZ ({result.report.splitlines()[-1]})")
    return 0
