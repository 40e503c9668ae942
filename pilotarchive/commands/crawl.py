"""Crawl the start pages (and their language and text versions, or the whole site) and
write a validated snapshot. Prints the snapshot's path as the last line."""

import argparse
from typing import Any

from pilotarchive.commands._common import (
    DEFAULT_START,
    add_output,
    add_settings,
    add_verbose,
    crawl_and_report,
)

NAME = "crawl"
HELP = "crawl and write a snapshot"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "start_urls",
        nargs="*",
        metavar="START_URL",
        help=f"where to start (default: {DEFAULT_START})",
    )
    add_output(p)
    p.add_argument(
        "--scope",
        choices=("page", "site"),
        default="page",
        help="page: the start pages with their language and text versions; "
        "site: every page of the start URLs' hosts (default: page)",
    )
    p.add_argument("--max-pages", type=int, default=500, help="page budget (default: 500)")
    p.add_argument(
        "--fast-loopback",
        action="store_true",
        help="no politeness delay for 127.0.0.1/localhost (the replica) only",
    )
    add_settings(p)
    add_verbose(p)


def run(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {
        "PILOTARCHIVE_START_URLS": args.start_urls or [DEFAULT_START],
        "PILOTARCHIVE_OUTPUT_DIR": str(args.output),
        "PILOTARCHIVE_SCOPE": args.scope,
        "PILOTARCHIVE_MAX_PAGES": args.max_pages,
        "PILOTARCHIVE_FAST_LOOPBACK": args.fast_loopback,
    }
    overrides.update(dict(args.set))
    return crawl_and_report(overrides, args.verbose)
