"""Write a target's archive as a BagIt bag (RFC 8493) for a preservation repository:
every snapshot of the target (and any other snapshot its revisits point into) under
data/, sha256 and sha512 manifests, and a bag-info.txt naming the source and the
operator. The archive is validated first and the bag after; --to must be missing, empty
or a bag this command wrote."""

import argparse
from pathlib import Path

from pilotarchive.commands._common import add_output, target_name_arg

NAME = "bag"
HELP = "write a target's snapshots as a BagIt bag for deposit"
READS_OUTPUT = True  # an --output that names no folder is a usage error


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--target", metavar="NAME", type=target_name_arg, required=True, help="the target to bag"
    )
    p.add_argument("--to", type=Path, metavar="DIR", required=True, help="the bag's folder")
    p.add_argument(
        "--operator",
        required=True,
        metavar="WHO",
        help="who deposits it (an organisation and contact), for bag-info.txt's "
        "Source-Organization",
    )
    add_output(p)


def run(args: argparse.Namespace) -> int:
    from pilotarchive.archive.bag import write_bag

    result = write_bag(args.output, args.target, args.to, args.operator)
    extra = (f", and {len(result.dependencies)} snapshot(s) of other targets its revisits "
             f"need ({', '.join(result.dependencies)})" if result.dependencies else "")  # fmt: skip
    print(f"{result.path}: BagIt bag of target {args.target!r}: {len(result.snapshots)} "
          f"snapshot(s){extra}; {result.files} files, {result.bytes:,} bytes; valid "
          "(sha256, sha512)")  # fmt: skip
    return 0
