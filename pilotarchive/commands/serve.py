"""Serve the output folder (the site, the dataset, the snapshots) on 127.0.0.1 for a quick
look in a browser. Python's http.server: for this machine only, not for the public
internet. Ctrl-C stops it."""

import argparse

from pilotarchive.commands._common import add_output

NAME = "serve"
HELP = "serve the site and the output folder on 127.0.0.1 (not for the public internet)"
READS_OUTPUT = True  # an --output that names no folder is a usage error


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", "-p", type=int, default=8000,
                   help="port on 127.0.0.1 (default 8000; 0: any free port)")  # fmt: skip
    add_output(p)


def run(args: argparse.Namespace) -> int:
    from pilotarchive.export.serve import HOST, make_server

    server = make_server(args.output, args.port)
    port = server.server_address[1]
    site = args.output / "site" / "index.html"
    where = f"http://{HOST}:{port}/" + ("site/index.html" if site.is_file() else "")
    print(f"serving {args.output} at {where}  (Ctrl-C stops)")
    print("for a quick look on this machine only: not for the public internet")
    if not site.is_file():
        print("no site yet: run `pilotarchive site` to build it")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.server_close()
    return 0
