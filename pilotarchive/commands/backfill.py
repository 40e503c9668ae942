"""Backfill the page family's history from a web archive: list the captures through the
archive's CDX API, read each capture's original bytes ({PREFIX}{timestamp}id_/{URL}), and
write the captures of the language versions that lie within --window days of each other as
one snapshot, dated by its captures, oldest first. Stopped, it resumes where it stopped; run
again, it reads nothing already backfilled. Works against the Wayback Machine (default), pywb
(--cdx-api http://HOST/COLL/cdx --replay http://HOST/COLL/) and OpenWayback."""

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pilotarchive.archive.names import is_target_name
from pilotarchive.commands._common import (
    DEFAULT_START,
    add_output,
    print_summary,
    setting,
    target_from_url,
)
from pilotarchive.exceptions import UsageError

NAME = "backfill"
if TYPE_CHECKING:
    from pilotarchive.backfill.store import Written

HELP = "backfill snapshots from web-archive captures (Wayback Machine, pywb, OpenWayback)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from pilotarchive.backfill.config import DEFAULT_CDX_API, DEFAULT_REPLAY

    p.add_argument(
        "urls",
        nargs="*",
        metavar="URL",
        help=f"start URL(s) of the page family (default: {DEFAULT_START})",
    )
    p.add_argument(
        "--cdx-api",
        default=DEFAULT_CDX_API,
        metavar="URL",
        help=f"the archive's CDX API (default: {DEFAULT_CDX_API}; pywb: http://HOST/COLL/cdx)",
    )
    p.add_argument(
        "--replay",
        default=DEFAULT_REPLAY,
        metavar="PREFIX",
        help=f"the archive's replay prefix; a capture's bytes are PREFIX + TIMESTAMP + "
        f"'id_/' + URL (default: {DEFAULT_REPLAY}; pywb: http://HOST/COLL/)",
    )
    p.add_argument(
        "--from",
        dest="start",
        metavar="DATE",
        help="first capture time to use: YYYY, YYYY-MM, YYYY-MM-DD or yyyyMMddhhmmss (UTC), "
        "from 1991 to today; captures an index dates before 1991 or after now (a day of "
        "clock skew allowed) are skipped and counted in any case",
    )
    p.add_argument(
        "--to",
        dest="end",
        metavar="DATE",
        help="last capture time to use (inclusive: --to 2015 is up to 31 Dec 2015)",
    )
    p.add_argument(
        "--window",
        type=float,
        default=7.0,
        metavar="DAYS",
        help="captures of the language versions within this many days of the first one "
        "make one snapshot (default: 7)",
    )
    add_output(p)
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="also take captures of HOST (host, host:port or https://host) and follow captured "
        "redirects there; by default only the start URLs' scheme, host and port, as in a crawl "
        "(a redirect elsewhere is a failure, 'redirect out of scope')",
    )
    p.add_argument(
        "--delay",
        type=float,
        metavar="SECONDS",
        help="seconds between two requests to the archive (default: 1.5, "
        "PILOTARCHIVE_BACKFILL_DELAY; CDX queries at least PILOTARCHIVE_BACKFILL_CDX_DELAY, 2.5)",
    )
    p.add_argument(
        "--target",
        metavar="NAME",
        help="the target its snapshots belong to, as in crawl (default: the first URL's "
        "host, www.tem.fi): give a crawl's target to see the past and the present as one",
    )
    p.add_argument(
        "--operator",
        metavar="WHO",
        help="who runs the backfill, e.g. 'Jane Doe <jane@example.org>' (in the WARC's warcinfo)",
    )
    p.add_argument(
        "-s",
        "--set",
        action="append",
        type=setting,
        default=[],
        metavar="KEY=VALUE",
        help="a PILOTARCHIVE_BACKFILL_* setting (DELAY, CDX_DELAY, BACKOFF, MAX_WAIT, RETRIES, "
        "TIMEOUT), USER_AGENT or DOWNLOAD_MAXSIZE",
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only each snapshot's path (stdout), notes and errors (stderr): no line per "
        "listing and capture, no summaries",
    )


class _Report:
    """Lines on stderr while it works; each snapshot's summary and path on stdout."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def progress(self, line: str) -> None:
        if not self.quiet:
            print(line, file=sys.stderr, flush=True)

    def snapshot(self, written: "Written") -> None:
        if written.path is None:
            print(
                f"no snapshot for the captures from {written.snapshot_id}: {written.why_not}",
                file=sys.stderr,
                flush=True,
            )
            return
        if not self.quiet:
            print_summary(written.path)
        print(written.path, flush=True)


def run(args: argparse.Namespace) -> int:
    from pilotarchive.backfill.config import load_backfill_config
    from pilotarchive.backfill.run import Backfill, describe
    from pilotarchive.exceptions import ArchiveError, CrawlFailed, SettingError

    flags = {"PILOTARCHIVE_BACKFILL_DELAY": "--delay", "PILOTARCHIVE_OPERATOR": "--operator"}
    try:
        config = load_backfill_config(
            urls=args.urls or [DEFAULT_START],
            cdx_api=args.cdx_api,
            replay=args.replay,
            start=args.start,
            end=args.end,
            window=args.window,
            output=Path(args.output),
            delay=args.delay,
            operator=args.operator,
            overrides=dict(args.set),
            allow_hosts=args.allow_host,
        )
    except SettingError as exc:
        flag = flags.get(exc.setting or "")
        if flag and exc.setting and exc.setting not in dict(args.set):
            raise SettingError(str(exc).replace(exc.setting, flag), exc.setting) from None
        raise
    target = args.target or target_from_url(config.urls[0])
    if not is_target_name(target):  # as the crawl's
        raise UsageError(f"--target {target[:80]!r}: use letters, digits, '.', '_' and '-'")
    config = replace(config, target=target)
    report = _Report(args.quiet)
    backfill = Backfill(config, report)
    try:
        outcome = backfill.run()
    except ArchiveError:
        done = backfill.outcome
        if done.written or done.fetched:
            print(describe(done) + " before it stopped", file=sys.stderr, flush=True)
        raise
    for note in outcome.notes:
        print(f"note: {note}", file=sys.stderr)
    if not args.quiet:
        print(describe(outcome))
    if outcome.listed == 0:
        span = ""
        if config.start or config.end:
            span = (
                f" from {config.start.text if config.start else 'the start'} to "
                f"{config.end.text if config.end else 'now'}"
            )
        raise CrawlFailed(
            f"the archive at {config.cdx_api} lists no capture of {', '.join(config.urls)} "
            f"with status 200 or 3xx{span}; nothing to backfill (check the URL, and that "
            "--cdx-api names the right archive or collection)"
        )
    if not outcome.written and outcome.not_written:
        raise CrawlFailed(
            "no snapshot written: no capture could be read ("
            + "; ".join(w.why_not or "" for w in outcome.not_written[:2])
            + ")"
        )
    return 3 if outcome.degraded else 0
