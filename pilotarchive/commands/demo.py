"""A tour of the whole product, offline: serve the replica of the 2014 ministry site, step
it through its dated versions (one of them a broken layout) with a scheduled run of each,
diff them, write the change alerts and the maintainers' message to the outbox (or send
them, given a configuration with an SMTP server), export the dataset, build the site and
the WACZ, and say where to look."""

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from pilotarchive.commands._common import add_verbose
from pilotarchive.exceptions import ReplicaError, UsageError

NAME = "demo"
HELP = "a tour of pilotarchive on the bundled replica (no network)"
DEMO_PORT = 8014
TARGET = "demo"
# The tour's own folder: the archive a user then builds with `crawl` or `run` goes to
# `output`, and the two never mix (a demo in `output` made every command after it ask
# which target was meant).
DEMO_OUTPUT = Path("demo")
# The site's history as the replica has it: launched, the seed state, a redesign the
# extractors cannot read (the run is degraded: maintainers are told, subscribers not),
# then a year later.
STEPS = (
    ("2014-06", "the pilots launched (fi, sv)"),
    ("2014-11-19", "the seed state: a contact replaced, the English page appears"),
    ("2014-11-19-redesign", "a redesign the extractors do not know: a degraded crawl"),
    ("2015-06", "a fifth pilot, a new coordinator, 43 municipalities"),
)
SUBSCRIBERS = (("researcher@example.org", "fi"), ("analyst@example.org", "en"))
MAINTAINER = "ops@example.org"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--output",
        "-o",
        default=DEMO_OUTPUT,
        type=Path,
        metavar="DIR",
        help=f"the tour's own output folder (default: {DEMO_OUTPUT}; your own crawls go to output)",
    )
    p.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="a pilotarchive.toml whose [smtp] and [mail] are used to send the alerts "
        "(default: no file; the alerts are written to the outbox only)",
    )
    p.add_argument(
        "--layout",
        default=None,
        help="markup the replica serves (see `pilotarchive replica layouts`; default: table)",
    )
    add_verbose(p)


def _replica(layout: str | None) -> "object":
    from pilotarchive.replica.content import DEFAULT_VERSION
    from pilotarchive.replica.layouts import DEFAULT_LAYOUT, LAYOUTS
    from pilotarchive.replica.server import ReplicaServer

    layout = layout or DEFAULT_LAYOUT
    if layout not in LAYOUTS:  # a wrong value as typed: a usage error (exit 2)
        raise UsageError(f"--layout {layout!r}: known layouts are {', '.join(LAYOUTS)}")
    try:  # a fixed port keeps URLs (and so page ids and digests) the same across demos
        return ReplicaServer(DEFAULT_VERSION, port=DEMO_PORT, layout=layout)
    except ReplicaError as exc:
        if "layout" in str(exc):
            raise
        return ReplicaServer(DEFAULT_VERSION, port=0, layout=layout)


def _check_folders(output: Path) -> None:
    """The tour writes its dataset and site into ``output/dataset`` and ``output/site``:
    refused before anything is crawled when they hold another target's (the tour crawled
    four snapshots into the archive and then stopped at the dataset, with advice to give
    a --to it does not have)."""
    from pilotarchive.export.marker import UNTOLD, folder_target

    for name in ("dataset", "site"):
        held = folder_target(output / name)
        if held is not UNTOLD and held != TARGET:
            raise UsageError(
                f"{output / name} holds the {name} of target {held!r}, and the tour writes its "
                f"own there: give the tour a folder of its own with --output (the default, "
                f"{DEMO_OUTPUT}, is one)"
            )


def run(args: argparse.Namespace) -> int:
    from pilotarchive.archive.snapshot import list_snapshots
    from pilotarchive.archive.wacz import build_wacz
    from pilotarchive.export.dataset import export_dataset
    from pilotarchive.export.site import build_site
    from pilotarchive.schedule.config import Config, MailConfig, Subscriber, Target, load_config
    from pilotarchive.schedule.loop import local_now
    from pilotarchive.schedule.run import run_target

    started = time.monotonic()
    given = load_config(args.config, need_password=True) if args.config else None
    _check_folders(Path(args.output))
    if earlier := list_snapshots(args.output, target=TARGET):
        print(f"{args.output} already holds {len(earlier)} snapshot(s) of an earlier tour: this "
              "one adds to them, and its first step is compared with their last (give "
              "--output DIR, or remove the folder, for a fresh tour)")  # fmt: skip
    replica = _replica(args.layout)
    with replica:  # type: ignore[attr-defined]
        url = f"{replica.url}/seutukaupunkipilotit"  # type: ignore[attr-defined]
        print(f"replica of www.tem.fi serving at {url}")
        print(f"the tour writes into {args.output}/ (a folder of its own: the other commands "
              f"read output/ unless given --output {args.output})")  # fmt: skip
        target = Target(
            TARGET,
            start_urls=(url,),
            settings={"PILOTARCHIVE_FAST_LOOPBACK": "true", "DOWNLOAD_TIMEOUT": "10"},
            subscribers=tuple(Subscriber(email, lang) for email, lang in SUBSCRIBERS),
        )
        mail = given.mail if given else MailConfig()
        config = Config(
            output=args.output,
            smtp=given.smtp if given else Config().smtp,
            mail=replace(mail, maintainers=mail.maintainers or (MAINTAINER,)),
            targets=(target,),
            file=given.file if given else None,
        )
        send = given is not None
        for version, what in STEPS:
            replica.set_version(version)  # type: ignore[attr-defined]
            result = run_target(config, target, dry_run=not send, clock=local_now,
                                verbose=args.verbose)  # fmt: skip
            print(f"{version:20} {what}\n  {result.line()}")
    snapshots = [s.path for s in list_snapshots(args.output, target=TARGET)]
    if not snapshots:
        print("pilotarchive: the tour wrote no snapshot; see the lines above", file=sys.stderr)
        return 1
    dataset = export_dataset(args.output, target=TARGET)
    wacz_file = Path(args.output) / "demo.wacz"
    wacz = build_wacz([snapshots[-1]], wacz_file, title="pilotarchive demo")
    site = build_site(args.output, target=TARGET, wacz=[wacz.path])
    outbox = sorted((Path(args.output) / "outbox").glob("*.eml"))
    sent = sorted((Path(args.output) / "sent").glob("*.eml"))
    print(f"done in {time.monotonic() - started:.0f} s. Where to look:")
    index = site.path / "index.html"
    print(f"  the site:     {index.resolve().as_uri()}   (or `pilotarchive serve --output "
          f"{args.output}`)")  # fmt: skip
    print(f"  the diff:     pilotarchive diff --output {args.output}")
    where = Path(args.output) / ("sent" if send and sent and not outbox else "outbox")
    mails = f"{len(sent)} sent (in {Path(args.output) / 'sent'}), " if send else ""
    print(f"  the alerts:   {where}  ({mails}{len(outbox)} waiting; "
          "each .eml opens in a mail program)")  # fmt: skip
    print(f"  the dataset:  {dataset.path}  (CSV, JSON Lines, SQLite, datapackage.json)")
    print(f"  the WACZ:     {wacz.path}  (ReplayWeb.page, pywb)")
    print(f"  snapshots:    pilotarchive snapshots --output {args.output}")
    return 0
