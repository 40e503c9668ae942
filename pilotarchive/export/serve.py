"""``serve``: the output folder (site, dataset, snapshots) over HTTP on 127.0.0.1.

For a quick look on this machine: Python's ``http.server``, which is not hardened for the
public internet (no TLS, no limits), and so it binds the loopback address only.
"""

import errno
import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pilotarchive.exceptions import PilotarchiveError, UsageError

HOST = "127.0.0.1"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # one line per request is noise
        pass


def make_server(output: Path, port: int = 8000) -> ThreadingHTTPServer:
    """A server for ``output`` on 127.0.0.1:``port`` (0: any free port), not yet serving."""
    root = Path(output)
    if not root.is_dir():
        raise UsageError(f"{root} is no folder; give the output folder with --output")
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port}: a port is a number from 0 to 65535")
    handler = functools.partial(_QuietHandler, directory=str(root))
    try:
        return ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PilotarchiveError(
                f"port {port} on {HOST} is in use; choose another with --port (0: any free port)"
            ) from None
        if exc.errno == errno.EACCES:
            raise PilotarchiveError(
                f"port {port} needs privileges; choose one above 1023 with --port"
            ) from None
        raise PilotarchiveError(f"cannot serve on {HOST}:{port}: {exc.strerror}") from None
