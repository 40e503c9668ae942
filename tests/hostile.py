"""A real HTTP server on 127.0.0.1 that answers whatever a test tells it to, byte for byte.

The replica behaves like the ministry's server; this one behaves like an attacker's or a
broken one: redirect loops, 8-bit header bytes, a million links, hostile text. A second
instance with no routes is the canary that a crawl must never reach (scope tests).
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    status: int = 200
    headers: list[tuple[bytes, bytes]] = field(
        default_factory=lambda: [(b"Content-Type", b"text/html; charset=utf-8")]
    )
    body: bytes | Callable[[], bytes] = b""
    delay: float = 0.0
    # Answer 304 (no body) when the request's If-None-Match equals this value, byte for byte.
    etag_304: bytes | None = None


@dataclass
class Seen:
    method: str
    path: str
    headers: list[tuple[bytes, bytes]]  # as received


class HostileServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        # What a request whose exact path-and-query has no route gets when its path alone
        # has one: None, a 404 (the default); "ignore", that route's answer, as the many
        # servers that ignore query parameters they do not know; "redirect", a 301 to the
        # path without its query, as servers that tidy their URLs.
        self.unknown_query: str | None = None
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                raw = [
                    (k.encode("latin-1"), v.encode("latin-1", "surrogateescape"))
                    for k, v in self.headers.items()
                ]
                with server._lock:
                    server.requests.append(Seen(self.command, self.path, raw))
                route = server.routes.get(self.path)
                bare, query = self.path.split("?", 1)[0], "?" in self.path
                if route is None and query and bare in server.routes:
                    if server.unknown_query == "ignore":
                        route = server.routes[bare]
                    elif server.unknown_query == "redirect":
                        route = Route(301, [(b"Location", bare.encode("latin-1"))])
                if route is None and self.path == "/robots.txt":
                    route = Route(404, [(b"Content-Type", b"text/plain")], b"")
                if route is None:
                    route = Route(404, body=b"<html><body>not here</body></html>")
                if route.delay:
                    time.sleep(route.delay)
                body = route.body() if callable(route.body) else route.body
                status = route.status
                if route.etag_304 is not None and dict(raw).get(b"If-None-Match") == route.etag_304:
                    status, body = 304, b""
                head = [f"HTTP/1.1 {status} X\r\n".encode()]
                head += [k + b": " + v + b"\r\n" for k, v in route.headers]
                if status != 304:
                    head.append(f"Content-Length: {len(body)}\r\n".encode())
                head.append(b"\r\n")
                try:
                    self.wfile.write(b"".join(head) + body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def route(self, path: str, **kwargs: object) -> Route:
        self.routes[path] = Route(**kwargs)  # type: ignore[arg-type]
        return self.routes[path]

    def page(self, path: str, html: str, **kwargs: object) -> Route:
        return self.route(path, body=html.encode("utf-8"), **kwargs)

    def redirect(self, path: str, location: str, status: int = 301) -> Route:
        return self.route(
            path, status=status, headers=[(b"Location", location.encode("latin-1"))], body=b""
        )

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def __enter__(self) -> "HostileServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def html_page(title: str, body: str = "", lang: str = "fi") -> str:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<title>{title}</title></head><body><div id="content"><h1>{title}</h1>'
        f"{body}</div></body></html>"
    )
