"""Join a crawl split over several machines as one more worker: take requests from its
shared frontier in Redis and write a part of its snapshot into the (shared) output folder.
The crawl was started with `pilotarchive crawl --redis URL --job NAME`; its coordinator
merges the parts when every worker has finished."""

import argparse
from pathlib import Path

NAME = "crawl-worker"
HELP = "join a split crawl as a worker (from another host)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--redis", required=True, metavar="URL", help="the crawl's Redis")
    p.add_argument("--job", required=True, metavar="NAME", help="the crawl's job name")
    p.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="DIR",
        help="the shared output folder as mounted on this host (default: output); never "
        "taken from Redis",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="Scrapy's log at INFO level")
    # Set by a coordinator for the workers it starts on its own host: it says the crawl's
    # end in one line (a lost Redis included), so they do not say it again.
    p.add_argument("--coordinated", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from pilotarchive.crawl import run_worker
    from pilotarchive.exceptions import LostRedis
    from pilotarchive.workers import check_job_name

    check_job_name(args.job)
    try:
        part = run_worker(args.redis, args.job, args.output, tracebacks=args.verbose)
    except LostRedis:
        if args.coordinated:
            return 1
        raise
    print(f"job {args.job}: this worker's part is written ({part}); the coordinator merges it")
    return 0
