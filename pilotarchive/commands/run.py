"""Run targets now: crawl each, judge it, diff it against what its subscribers last heard,
and mail what the result calls for (change alerts, digests, or the maintainers when the
crawl failed or is degraded). One line per target at the end; each run is appended to
output/runs.jsonl. Exit 0, 1 (a crawl or the mail failed, or the target is locked by
another run) or 3 (a snapshot judged degraded)."""

import argparse
import signal
import sys
from types import FrameType

from pilotarchive.commands._config import add_config
from pilotarchive.exceptions import RunFailed

NAME = "run"
HELP = "crawl targets, diff and send change alerts (as the schedule does)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "targets", nargs="*", metavar="TARGET", help="targets to run (default: every target)"
    )
    add_config(p)
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="write the messages to output/outbox/ and send nothing now (the snapshot and "
        "the alert state are real: the next run or `outbox send` delivers them; `outbox` "
        "lists them)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="show the crawls' output")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM ends a run as Ctrl-C does: crawl stopped, run logged


def run(args: argparse.Namespace) -> int:
    from pilotarchive.schedule.config import load_config
    from pilotarchive.schedule.loop import local_now
    from pilotarchive.schedule.run import EXIT_DEGRADED, EXIT_FAILURE, run_target

    config = load_config(args.config, need_password=not args.dry_run)
    targets = [config.target(name) for name in dict.fromkeys(args.targets)] or list(config.targets)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        results = []
        for target in targets:
            results.append(
                run_target(
                    config, target, dry_run=args.dry_run, clock=local_now, verbose=args.verbose
                )
            )
    finally:
        signal.signal(signal.SIGTERM, previous)
    for result in results:
        print(result.line())
    sys.stdout.flush()
    failed = [r for r in results if r.exit_code == EXIT_FAILURE]
    if failed:
        raise RunFailed("; ".join(f"{r.target}: {r.error or r.outcome}" for r in failed))
    return EXIT_DEGRADED if any(r.exit_code == EXIT_DEGRADED for r in results) else 0
