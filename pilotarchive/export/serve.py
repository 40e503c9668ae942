"""``serve``: the output folder (site, dataset, snapshots) over HTTP on 127.0.0.1.

For a quick look on this machine: Python's ``http.server``, which is not hardened for the
public internet (no TLS, no limits), and so it binds the loopback address only. Loopback is
not private to the user, though: any web page open in the browser can make it ask
``http://127.0.0.1:8000/`` under a name of its own (DNS rebinding) and read the answer. So
a request must name this machine in its ``Host`` header, and only what is published is
served (the site, the dataset, the snapshots, WACZ packages): never the outbox with the
subscribers' addresses, the alert state, the run log, the locks or a configuration.

One thing is not a file: ``unsubscribe`` (at the site's root, ``/site/unsubscribe`` or
``/unsubscribe``), the one-click unsubscribe of the alerts (RFC 8058). A mail client POSTs
``List-Unsubscribe=One-Click`` to the link of the message's ``List-Unsubscribe`` header and
the address leaves the list at once; a GET (a person who clicked, or a link scanner) only
shows a button that POSTs, so scanning a mail never unsubscribes anybody. The link's token
is checked (:mod:`pilotarchive.alerts.unsubscribe`); a wrong one is refused with 403.
"""

import errno
import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pilotarchive.exceptions import PilotarchiveError, UnsubscribeRecordDamaged, UsageError

HOST = "127.0.0.1"
MAX_BODY = 4096  # an unsubscribe POST carries "List-Unsubscribe=One-Click", nothing more


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

    def _unsubscribe_path(self) -> bool:
        path = self.path.split("?", 1)[0]
        return path in ("/unsubscribe", "/site/unsubscribe")

    def _query(self) -> dict[str, str]:
        from urllib.parse import parse_qs

        query = parse_qs(self.path.split("?", 1)[1] if "?" in self.path else "")
        return {k: v[0] for k, v in query.items() if v}

    def _answer(self, status: int, body: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_POST(self) -> None:
        from pilotarchive.alerts.unsubscribe import leave

        if not self._allowed_host():
            self.send_error(421, "Misdirected Request: ask for 127.0.0.1 or localhost")
            return
        if not self._unsubscribe_path():
            self.send_error(405, "Only unsubscribe takes a POST")
            return
        if not self._read_body():
            return
        q = self._query()
        if not q.get("list") or not q.get("email") or not q.get("token"):
            self._answer(400, _PAGE.format(text="The link is incomplete."))
            return
        try:
            left = leave(self.root, q["list"], q["email"], q["token"])
        except UnsubscribeRecordDamaged:
            # The record stays as it is (who left must not be lost); the owner sees the
            # same message from `run`.
            self._answer(500, _PAGE.format(text=_BROKEN))
            return
        if not left:
            self._answer(403, _PAGE.format(text="This link is not valid."))
            return
        self._answer(200, _PAGE.format(text=_DONE))

    def _read_body(self) -> bool:
        """Read the (ignored) body, at most :data:`MAX_BODY` bytes; False once answered.

        The length comes from the client: a negative one would make ``rfile.read`` read
        until the client stops, a huge one hold a thread; so only a plain number up to the
        bound is read, a body beyond it is refused and the connection closed.
        """
        given = self.headers.get("Content-Length")
        if given is None:
            if self.headers.get("Transfer-Encoding"):  # chunked: not read, so not kept open
                self.close_connection = True
                self._answer(411, _PAGE.format(text="Content-Length is required."))
                return False
            return True  # no body
        given = given.strip()
        if not given.isascii() or not given.isdigit():
            self.close_connection = True
            self._answer(400, _PAGE.format(text="Content-Length is not a number."))
            return False
        length = int(given)
        if length > MAX_BODY:
            self.close_connection = True
            self._answer(413, _PAGE.format(text="The request body is too large."))
            return False
        self.rfile.read(length)  # "List-Unsubscribe=One-Click" or the button's form
        return True

    def send_head(self) -> Any:
        if self._allowed_host() and self._unsubscribe_path():
            from html import escape

            button = _BUTTON.format(action=escape(self.path))
            self._answer(200, _PAGE.format(text=button))
            return None
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


_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>pilotarchive</title></head>'
    "<body>{text}</body></html>"
)
_DONE = (
    '<p lang="fi">Tilaus on peruttu.</p><p lang="sv">Prenumerationen är avslutad.</p>'
    '<p lang="en">You are unsubscribed.</p>'
)
_BROKEN = (
    '<p lang="fi">Tilausta ei voitu perua juuri nyt.</p>'
    '<p lang="sv">Prenumerationen kunde inte avslutas just nu.</p>'
    '<p lang="en">The unsubscription could not be recorded right now.</p>'
)
_BUTTON = (
    '<form method="post" action="{action}"><input type="hidden" name="List-Unsubscribe" '
    'value="One-Click"><button type="submit"><span lang="fi">Peru tilaus</span> / '
    '<span lang="sv">Avsluta prenumerationen</span> / <span lang="en">Unsubscribe</span>'
    "</button></form>"
)


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
