"""``serve``: the output folder (site, dataset, snapshots) over HTTP on 127.0.0.1.

For a quick look on this machine: Python's ``http.server``, which is not hardened for the
public internet (no TLS, no limits), and so it binds the loopback address only. Loopback is
not private to the user, though: any web page open in the browser can make it ask
``http://127.0.0.1:8000/`` under a name of its own (DNS rebinding) and read the answer. So
a request must name this machine in its ``Host`` header, and only what is published is
served (the site, the dataset, the snapshots, WACZ packages): never the outbox with the
subscribers' addresses, the alert state, the run log, the locks or a configuration.
"""

import errno
import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pilotarchive.exceptions import PilotarchiveError, UsageError

HOST = "127.0.0.1"


PUBLISHED = ("site", "dataset", "snapshots")  # folders served, besides *.wacz at the top


class _QuietHandler(SimpleHTTPRequestHandler):
    root: Path

    def log_message(self, format: str, *args: Any) -> None:  # one line per request is noise
        pass

    def _allowed_host(self) -> bool:
        host = (self.headers.get("Host") or "").strip().lower()
        port = int(self.server.server_address[1])  # type: ignore[index]
        return host in {f"127.0.0.1:{port}", f"localhost:{port}"} or (
            port == 80 and host in {"127.0.0.1", "localhost"}
        )

    def _published(self) -> bool:
        """The request's path is under a published folder or is a WACZ at the top, also
        once symbolic links are followed."""
        path = Path(self.translate_path(self.path))
        try:
            real = path.resolve()
            root = self.root.resolve()
            rel = real.relative_to(root)
        except (OSError, ValueError):
            return False
        parts = rel.parts
        if not parts:
            return True  # the index of the published things, made below
        if parts[0] in PUBLISHED:
            return True
        return len(parts) == 1 and parts[0].endswith(".wacz")

    def send_head(self) -> Any:
        if not self._allowed_host():
            self.send_error(421, "Misdirected Request: ask for 127.0.0.1 or localhost")
            return None
        if not self._published():
            self.send_error(404, "Not published")
            return None
        if self.path.split("?", 1)[0] == "/":
            return self._index()
        return super().send_head()

    def _index(self) -> Any:
        import io
        from html import escape

        names = [n for n in PUBLISHED if (self.root / n).is_dir()]
        names += sorted(p.name for p in self.root.glob("*.wacz") if p.is_file())
        items = "".join(f'<li><a href="{escape(n)}/">{escape(n)}</a></li>' for n in names)
        body = f"<!DOCTYPE html><title>pilotarchive</title><ul>{items}</ul>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


def make_server(output: Path, port: int = 8000) -> ThreadingHTTPServer:
    """A server for ``output`` on 127.0.0.1:``port`` (0: any free port), not yet serving."""
    root = Path(output)
    if not root.is_dir():
        raise UsageError(f"{root} is no folder; give the output folder with --output")
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port}: a port is a number from 0 to 65535")
    handler_class = type("Handler", (_QuietHandler,), {"root": root})
    handler = functools.partial(handler_class, directory=str(root))
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
