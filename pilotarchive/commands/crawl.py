"""Crawl the start pages (and their language and text versions, or the whole site) and
write a validated snapshot. Prints the snapshot's path as the last line."""

import argparse
import os
from pathlib import Path
from typing import Any

from pilotarchive.commands._common import (
    DEFAULT_START,
    add_output,
    add_settings,
    add_verbose,
    crawl_and_report,
    target_from_url,
)
from pilotarchive.exceptions import UsageError
from pilotarchive.settings import FLAGS

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
        "--target",
        metavar="NAME",
        help="the target the snapshot belongs to (as in pilotarchive.toml): its conditional "
        "requests and health use that target's earlier snapshots only (default: the first "
        "start URL's host without its port, e.g. www.tem.fi or 127.0.0.1: give two sites "
        "on one host a --target each)",
    )
    p.add_argument(
        "--operator",
        metavar="WHO",
        help="who runs the crawl, e.g. 'Jane Doe <jane@example.org>' (in the WARC's warcinfo)",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="also fetch from HOST (host, host:port or https://host), e.g. where the site "
        "redirects; by default only the start URLs' scheme, host and port",
    )
    p.add_argument(
        "--fast-loopback",
        action="store_true",
        help="no politeness delay for 127.0.0.1/localhost (the replica) only",
    )
    p.add_argument(
        "--jobdir",
        type=Path,
        metavar="DIR",
        help="keep the crawl's queue on disk in DIR (Scrapy's JOBDIR); an interrupted crawl "
        "(Ctrl-C) goes on into the same snapshot when the same command is run again",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="split the crawl over N processes sharing one frontier (scrapy-redis; a private "
        "redis-server is started unless --redis is given); one snapshot, one WARC per worker",
    )
    p.add_argument(
        "--redis",
        metavar="URL",
        help="an existing Redis (redis://host:6379/0) for the frontier, so that workers on "
        "other hosts can join with `pilotarchive crawl-worker`",
    )
    p.add_argument(
        "--job",
        metavar="NAME",
        help="the split crawl's name in Redis (default: crawl-<snapshot id>)",
    )
    add_settings(p)
    add_verbose(p)


MAX_WORKERS = max(8, 4 * (os.cpu_count() or 1))  # more on one machine only thrash it


def check_split(workers: int, redis: str | None, job: str | None, jobdir: Path | None) -> None:
    """The flags of a split crawl and of --jobdir, checked before anything starts."""
    from pilotarchive.workers import check_job_name

    if workers < 1:
        raise UsageError(f"--workers {workers}: give 1 or more")
    if workers > MAX_WORKERS:
        raise UsageError(
            f"--workers {workers}: at most {MAX_WORKERS} on this machine of "
            f"{os.cpu_count()} cores (4 a core); more machines join with `crawl-worker`"
        )
    if job is not None:
        check_job_name(job)
        if workers == 1 and not redis:
            raise UsageError("--job names a split crawl: give --workers N or --redis URL too")
    if jobdir is not None:
        if workers > 1 or redis:
            raise UsageError(
                "--jobdir keeps one process's queue; a split crawl's queue is in Redis: "
                "give one of --jobdir and --workers/--redis"
            )
        if str(jobdir) in ("", "."):
            raise UsageError(f"--jobdir {str(jobdir)!r}: give a folder of its own")
        if jobdir.exists() and not jobdir.is_dir():
            raise UsageError(f"--jobdir {jobdir}: not a folder")
        try:
            jobdir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--jobdir {jobdir}: cannot be made ({exc.strerror})") from exc


def run(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {
        "PILOTARCHIVE_START_URLS": args.start_urls or [DEFAULT_START],
        "PILOTARCHIVE_OUTPUT_DIR": str(args.output),
        "PILOTARCHIVE_SCOPE": args.scope,
        "PILOTARCHIVE_MAX_PAGES": args.max_pages,
        "PILOTARCHIVE_FAST_LOOPBACK": args.fast_loopback,
    }
    # Every snapshot belongs to a target, so no command reading the folder has to ask which
    # history it is: without --target (or -s PILOTARCHIVE_TARGET) it is named after the host.
    given = dict(args.set).get("PILOTARCHIVE_TARGET")
    overrides["PILOTARCHIVE_TARGET"] = (
        args.target or given or target_from_url(overrides["PILOTARCHIVE_START_URLS"][0])
    )
    if args.jobdir:
        overrides["JOBDIR"] = str(args.jobdir)
    if args.operator is not None:
        overrides["PILOTARCHIVE_OPERATOR"] = args.operator
    if args.allow_host:
        overrides["PILOTARCHIVE_ALLOWED_HOSTS"] = args.allow_host
    typed = {k: v for k, v in FLAGS.items() if k in overrides}
    settings = dict(args.set)
    overrides.update(settings)
    flags = {k: v for k, v in typed.items() if k not in settings}
    if args.jobdir is not None and args.jobdir.resolve().is_relative_to(
        (args.output / "snapshots").resolve()
    ):
        raise UsageError(
            f"--jobdir {args.jobdir}: not inside {args.output / 'snapshots'}, which holds "
            "snapshots only"
        )
    check_split(args.workers, args.redis, args.job, args.jobdir)
    split = None
    if args.workers > 1 or args.redis:
        split = {"workers": args.workers, "redis_url": args.redis, "job_name": args.job}
    return crawl_and_report(overrides, args.verbose, flags, split)
