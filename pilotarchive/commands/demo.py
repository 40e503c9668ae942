"""Start the replica of the 2014 ministry site on 127.0.0.1, crawl it from the Finnish
pilots page, and summarise what was found per language (no network needed)."""

import argparse

from pilotarchive.commands._common import add_output, add_verbose, crawl_and_report
from pilotarchive.exceptions import ReplicaError

NAME = "demo"
HELP = "serve the bundled replica and crawl it (no network)"
DEMO_PORT = 8014


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_output(p)
    p.add_argument(
        "--site-version",
        default=None,
        help="replica version to serve (see `pilotarchive replica versions`)",
    )
    p.add_argument(
        "--layout",
        default=None,
        help="markup the replica serves (see `pilotarchive replica layouts`; default: table)",
    )
    add_verbose(p)


def run(args: argparse.Namespace) -> int:
    from pilotarchive.replica.content import DEFAULT_VERSION
    from pilotarchive.replica.layouts import DEFAULT_LAYOUT
    from pilotarchive.replica.server import ReplicaServer

    version, layout = args.site_version or DEFAULT_VERSION, args.layout or DEFAULT_LAYOUT
    try:  # a fixed port keeps URLs (and so page ids and digests) the same across demos
        replica = ReplicaServer(version, port=DEMO_PORT, layout=layout)
    except ReplicaError as exc:
        if "layout" in str(exc) or "version" in str(exc):
            raise
        replica = ReplicaServer(version, port=0, layout=layout)
    with replica:
        print(f"replica of www.tem.fi ({replica.version.id}) serving at {replica.url}")
        overrides = {
            "PILOTARCHIVE_START_URLS": [f"{replica.url}/seutukaupunkipilotit"],
            "PILOTARCHIVE_OUTPUT_DIR": str(args.output),
            "PILOTARCHIVE_FAST_LOOPBACK": True,
        }
        return crawl_and_report(overrides, args.verbose)
