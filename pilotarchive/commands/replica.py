"""Serve or describe the bundled replica of the 2014 ministry site."""

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from pilotarchive.exceptions import UsageError

if TYPE_CHECKING:
    from pilotarchive.replica.wayback import WaybackServer

NAME = "replica"
HELP = "the bundled replica of the ministry site"


def add_arguments(p: argparse.ArgumentParser) -> None:
    rsub = p.add_subparsers(dest="replica_command", metavar="ACTION")
    r = rsub.add_parser(
        "serve",
        help="serve the replica until interrupted",
        description="Serve the replica on 127.0.0.1. Change the version or the layout "
        "while serving: POST /_replica/version?set=V, /_replica/layout?set=L.",
    )
    r.add_argument("--port", type=int, default=8014, help="port (default: 8014; 0 = free)")
    r.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    r.add_argument(
        "--version",
        dest="site_version",
        default=None,
        help="site version to serve (default: 2014-11-19)",
    )
    r.add_argument(
        "--synthetic",
        type=int,
        metavar="N",
        help="serve instead a synthetic ministry site of N pages per language (15-30 KiB "
        "each, for benchmarks), at /fi/index.html",
    )
    r.add_argument("--seed", type=int, default=2014, help="the synthetic site's seed")
    r.add_argument(
        "--static",
        type=Path,
        metavar="DIR",
        help="with --synthetic: write the site as files under DIR (for nginx) and exit",
    )
    r.add_argument(
        "--layout",
        default=None,
        help="markup to serve the content in (default: table; see `replica layouts`)",
    )
    r.add_argument(
        "--archive",
        action="store_true",
        help="also serve a web archive of the replica's dated versions under the real "
        "site's URLs (a CDX API and id_ replay, as the Wayback Machine): for trying "
        "`pilotarchive backfill` offline",
    )
    r.add_argument(
        "--archive-port",
        type=int,
        default=8090,
        metavar="N",
        help="the web archive's port (default: 8090; 0 = free)",
    )
    rsub.add_parser(
        "versions",
        help="list the replica's site versions",
        description="List the dated site versions and how they differ.",
    )
    rsub.add_parser(
        "layouts",
        help="list the markups the replica can serve its content in",
        description="List the layouts: the same content under several markups.",
    )


def run(args: argparse.Namespace) -> int:
    from pilotarchive.replica.content import DEFAULT_VERSION, VERSIONS
    from pilotarchive.replica.layouts import DEFAULT_LAYOUT, LAYOUTS
    from pilotarchive.replica.server import ReplicaServer

    if args.replica_command == "layouts":
        for layout in LAYOUTS.values():
            mark = " (default)" if layout.name == DEFAULT_LAYOUT else ""
            print(f"{layout.name}{mark}: {layout.description}")
        return 0

    if args.replica_command == "versions":
        for version in VERSIONS.values():
            mark = " (default)" if version.id == DEFAULT_VERSION else ""
            print(f"{version.id}{mark}: {version.description}")
        return 0
    if args.replica_command != "serve":
        raise UsageError(
            "say `pilotarchive replica serve`, `pilotarchive replica versions` or "
            "`pilotarchive replica layouts`"
        )
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: a port is a number from 0 to 65535")
    if args.synthetic is not None:
        if args.layout or args.site_version:
            raise UsageError("--layout and --version are the replica's; the synthetic site has one")
        return _synthetic(args)
    if args.static:
        raise UsageError("--static writes the synthetic site: give --synthetic N too")
    if not 0 <= args.archive_port <= 65535:
        raise UsageError(f"--archive-port {args.archive_port}: a port is a number from 0 to 65535")
    # A wrong name is the caller's mistake (exit 2), said before any port is taken.
    if args.site_version and args.site_version not in VERSIONS:
        raise UsageError(f"--version {args.site_version}: no such replica version; known: "
                         f"{', '.join(VERSIONS)} (`pilotarchive replica versions`)")  # fmt: skip
    if args.layout and args.layout not in LAYOUTS:
        raise UsageError(f"--layout {args.layout}: no such replica layout; known: "
                         f"{', '.join(LAYOUTS)} (`pilotarchive replica layouts`)")  # fmt: skip
    replica = ReplicaServer(
        args.site_version or DEFAULT_VERSION,
        host=args.host,
        port=args.port,
        layout=args.layout or DEFAULT_LAYOUT,
    )
    print(
        f"replica ({replica.version.id}, {replica.layout} layout) at "
        f"{replica.url}/seutukaupunkipilotit  (Ctrl-C stops)",
        flush=True,
    )
    archive = _archive(args.host, args.archive_port) if args.archive else None
    try:
        replica.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        replica.httpd.server_close()
        if archive is not None:
            archive.stop()
    return 0


def _archive(host: str, port: int) -> "WaybackServer":
    """The web archive of the replica's versions, started beside the replica."""
    from pilotarchive.replica.wayback import CDX_PATH, REPLAY_PATH, WaybackServer

    archive = WaybackServer(host, port).start()
    print(
        f"web archive of the replica's versions (2014-06, 2014-11-19, 2015-06) at "
        f"{archive.url}: CDX API {archive.url}{CDX_PATH}, replay {archive.url}{REPLAY_PATH}",
        flush=True,
    )
    return archive


STATIC_LIMIT = 200_000  # pages per language written as files: 1.2 million pages, 26 GB


def _synthetic(args: argparse.Namespace) -> int:
    from pilotarchive.replica.synthetic import SyntheticServer, SyntheticSite, write_static

    if args.synthetic < 1:
        raise UsageError(f"--synthetic {args.synthetic}: give a number of pages, 1 or more")
    site = SyntheticSite(args.synthetic, args.seed)
    if args.static and args.synthetic > STATIC_LIMIT:
        raise UsageError(
            f"--synthetic {args.synthetic} --static: at most {STATIC_LIMIT:,} pages per "
            f"language as files (about {STATIC_LIMIT * 6 * 23 // 1024 // 1024} GB)"
        )
    if args.static:
        count = write_static(site, args.static)
        print(f"{count} pages of the synthetic site written under {args.static}")
        return 0
    server = SyntheticServer(site, host=args.host, port=args.port)
    print(
        f"synthetic site ({args.synthetic} pages per language, seed {args.seed}) at "
        f"{server.url}/fi/index.html  (Ctrl-C stops)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
    return 0
