"""The replica web server: the ministry site of 2014 on 127.0.0.1, with faults on demand.

A real HTTP server (not a mock) so the crawler meets real sockets, redirects, encodings,
robots.txt, slow and broken responses. Tests and the demo start it on a free port; the
version served can be changed while it runs, from Python or over HTTP (``/_replica/...``).
"""

import gzip
import hashlib
import struct
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit

from pilotarchive.exceptions import ReplicaError
from pilotarchive.replica.content import DEFAULT_VERSION, PILOTS_PAGE_ID, VERSIONS, SiteVersion
from pilotarchive.replica.layouts import DEFAULT_LAYOUT, LAYOUTS, Layout, PageParts
from pilotarchive.replica.render import (
    CONTACTS_ID,
    FEEDBACK_ID,
    OTHER_PAGES,
    SITEMAP_ID,
    UI,
    PageRef,
    broken_pilots_page,
    further_information,
    page_html,
    pilots_body,
    pilots_title,
    version_languages,
)

ROBOTS_TXT = b"User-agent: *\nDisallow: /haku/\nDisallow: /_replica/\n"
# The stylesheet every page links, and the banner image it loads: page requisites that a
# crawl archives with the pages and a replay must show (tests/test_replay.py compares a
# screenshot of the live page with one of its replay).
CSS = (
    b"body { font-family: Verdana, sans-serif; margin: 0; padding: 70px 1em 1em;\n"
    b"  background: #f4f0e1 url(/img/banner.png) repeat-x top left; color: #1c2b39; }\n"
    b"h1 { color: #00507a; border-bottom: 4px solid #c8102e; padding-bottom: 4px; }\n"
    b"a { color: #8a1538; }\n"
    b"#leftnav { float: left; width: 12em; }\n"
)
CSS_DATE = date(2013, 9, 2)


def _png(width: int, height: int, row: bytes) -> bytes:
    """A truecolour PNG whose every row is ``row`` (RGB bytes): made here, not stored."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + row for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


# A 60 px band in the ministry's blue, repeated along the top of every page.
BANNER_PNG = _png(8, 60, bytes((0, 80, 122)) * 8)
STATIC_PAGE_DATE = date(2014, 3, 3)


@dataclass
class Fault:
    """What to do instead of (or on top of) serving a path normally."""

    status: int | None = None  # answer with this status and a short error page
    delay: float = 0.0  # seconds to wait before answering
    drop: bool = False  # close the connection without an answer
    truncate: int | None = None  # send only this many body bytes (Content-Length stays)


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _http_date(d: date) -> str:
    return format_datetime(datetime(d.year, d.month, d.day, 12, 0, tzinfo=UTC), usegmt=True)


def _html_response(html: str, language: str, updated: date | None, status: int = 200):
    if language == "fi":
        # The old Finnish pages: ISO-8859-1, the charset only in the <meta> tag.
        body = html.encode("iso-8859-1", "xmlcharrefreplace")
        headers = {"Content-Type": "text/html"}
    else:
        body = html.encode("utf-8")
        headers = {"Content-Type": "text/html; charset=utf-8"}
    if updated is not None:
        headers["Last-Modified"] = _http_date(updated)
    return Response(status, body, headers)


def _charset(language: str) -> str:
    return "iso-8859-1" if language == "fi" else "utf-8"


def not_found(language: str = "fi") -> Response:
    text = {"fi": "Sivua ei löydy", "sv": "Sidan hittades inte", "en": "Page not found"}
    html = (
        f'<html lang="{language}"><head><meta http-equiv="Content-Type" '
        f'content="text/html; charset={_charset(language)}"><title>404</title></head>'
        f"<body><h1>{text[language]}</h1></body></html>"
    )
    return _html_response(html, language, None, 404)


def _page(
    layout: Layout,
    ref: PageRef,
    title: str,
    body: str,
    updated: date | None,
    languages: dict[str, PageRef | None],
    *,
    charset: str,
    extra_head: str = "",
    box: str = "",
) -> str:
    """A page in the layout's markup; a text version in the text versions' own."""
    if ref.text:
        return page_html(
            ref, title, body, updated, languages, charset=charset, extra_head=extra_head, aside=box
        )
    return layout.page(PageParts(ref, title, body, updated, languages, charset, extra_head, box))


def render(
    version: SiteVersion, path: str, query: dict[str, str], layout: str = DEFAULT_LAYOUT
) -> Response:
    """The site as it was in ``version``, marked up in ``layout``: one function from URL to
    response."""
    markup = LAYOUTS[layout]
    if path == "/robots.txt":
        return Response(200, ROBOTS_TXT, {"Content-Type": "text/plain"})
    if path == "/seutukaupunkipilotit":
        return Response(301, b"", {"Location": f"/index.phtml?s={PILOTS_PAGE_ID}"})
    if path == "/":
        return Response(302, b"", {"Location": "/index.phtml"})
    if path == "/css/tem.css":
        return Response(
            200, CSS, {"Content-Type": "text/css", "Last-Modified": _http_date(CSS_DATE)}
        )
    if path == "/img/banner.png":
        return Response(
            200, BANNER_PNG, {"Content-Type": "image/png", "Last-Modified": _http_date(CSS_DATE)}
        )
    language = query.get("l", "fi")
    if language not in UI:
        return not_found()
    if path.startswith("/haku"):
        html = _page(
            markup,
            PageRef(language, None),
            UI[language]["search"],
            "<form></form>",
            None,
            {},
            charset=_charset(language),
        )
        return _html_response(html, language, None)
    if path not in ("/index.phtml", "/text.phtml"):
        return not_found(language)
    text = path == "/text.phtml"
    if text and not markup.text_versions:
        return not_found(language)  # this layout's site has no text versions
    try:
        page_id = int(query["s"]) if "s" in query else None
    except ValueError:
        return not_found(language)
    ref = PageRef(language, page_id, text)
    languages = version_languages(version, page_id, text)
    charset = _charset(language)
    ui = UI[language]
    if page_id == PILOTS_PAGE_ID:
        state = version.pages.get(language)
        if state is None or (text and not state.text_version):
            return not_found(language)
        if version.layout != "classic" and not text:
            html = broken_pilots_page(version.layout, ref, state, languages, charset=charset)
            return _html_response(html, language, state.updated)
        if text:
            body = pilots_body(state, language, True)
            box = further_information(language)
        else:
            body = pilots_body(state, language, False, markup.pilot_list, markup.project)
            box = markup.box(language)
        html = _page(
            markup,
            ref,
            pilots_title(language),
            body,
            state.updated,
            languages,
            charset=charset,
            box=box,
        )
        return _html_response(html, language, state.updated)
    if page_id is None:
        meta = f'<meta name="dcterms.modified" content="{version.date.isoformat()}" />\n'
        pilots = PageRef(language, PILOTS_PAGE_ID, text).url
        body = (
            f'<p>{escape(ui["ministry"])}</p>\n<ul><li><a href="{escape(pilots)}">'
            f"{escape(ui['pilots'])}</a></li></ul>"
        )
        html = _page(
            markup, ref, ui["front"], body, None, languages, charset=charset, extra_head=meta
        )
        return _html_response(html, language, version.date)
    if page_id == SITEMAP_ID:
        targets = [
            (None, ui["front"]),
            (PILOTS_PAGE_ID, ui["pilots"]),
            (CONTACTS_ID, ui["contacts"]),
            (FEEDBACK_ID, ui["feedback"]),
        ]
        targets += [(pid, titles[language][0]) for pid, titles in OTHER_PAGES.items()]
        items = "".join(
            f'<li><a href="{escape(PageRef(language, pid, text).url)}">{escape(label)}</a></li>'
            for pid, label in targets
        )
        html = _page(
            markup, ref, ui["sitemap"], f"<ul>{items}</ul>", None, languages, charset=charset
        )
        return _html_response(html, language, version.date)
    if page_id == FEEDBACK_ID:
        body = "<p>palaute@tem.fi</p>" if language == "fi" else "<p>registratur@tem.fi</p>"
        html = _page(
            markup, ref, ui["feedback"], body, STATIC_PAGE_DATE, languages, charset=charset
        )
        return _html_response(html, language, STATIC_PAGE_DATE)
    if page_id == CONTACTS_ID:
        html = _page(
            markup,
            ref,
            ui["contacts"],
            _contacts_body(language),
            STATIC_PAGE_DATE,
            languages,
            charset=charset,
        )
        return _html_response(html, language, STATIC_PAGE_DATE)
    if page_id in OTHER_PAGES:
        title, para = OTHER_PAGES[page_id][language]
        html = _page(
            markup, ref, title, f"<p>{escape(para)}</p>", STATIC_PAGE_DATE, languages,
            charset=charset,
        )  # fmt: skip
        return _html_response(html, language, STATIC_PAGE_DATE)
    return not_found(language)


def _contacts_body(language: str) -> str:
    heading = {"fi": "Yhteyshenkilöt", "sv": "Kontaktpersoner", "en": "Contacts"}[language]
    switchboard = {"fi": "Vaihde", "sv": "Växel", "en": "Switchboard"}[language]
    label = {"fi": "puh.", "sv": "tfn", "en": "tel."}[language]
    return (
        f"<p>{switchboard} {label} 029 506 0000</p>\n<h2>{heading}</h2>\n"
        f"<p>Ylijohtaja Matti Virtanen, {label} 029 506 4000, matti.virtanen@tem.fi</p>\n"
        f"<p>Kehitysjohtaja Kaisa-Leena Mäntylä, {label} 029 506 4001, "
        "kaisa-leena.mantyla@tem.fi</p>"
    )


def _etag(body: bytes, gzipped: bool) -> str:
    digest = hashlib.sha1(body).hexdigest()[:20]
    return f'"{digest}-gzip"' if gzipped else f'"{digest}"'


def negotiate(response: Response, request_headers: Mapping[str, str]) -> Response:
    """What Apache with mod_deflate would make of a response: validators, 304, gzip.

    Every 200 answer carries an ETag (one per representation, as Apache's "-gzip"
    suffix) and Last-Modified; a conditional request that still matches gets 304 with no
    body; a client that accepts gzip gets the body gzipped (deterministically: mtime 0).
    """
    if response.status != 200:
        return response
    headers = dict(response.headers)
    accepts_gzip = "gzip" in request_headers.get("Accept-Encoding", "").lower()
    gzipped = accepts_gzip and bool(response.body)
    etag = _etag(response.body, gzipped)
    headers["ETag"] = etag
    validators = {etag, _etag(response.body, not gzipped)}
    if_none_match = request_headers.get("If-None-Match")
    not_modified = False
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        not_modified = "*" in tags or bool(tags & validators)
    elif (since := request_headers.get("If-Modified-Since")) and "Last-Modified" in headers:
        try:
            not_modified = parsedate_to_datetime(since) >= parsedate_to_datetime(
                headers["Last-Modified"]
            )
        except (TypeError, ValueError):
            not_modified = False
    if not_modified:
        kept = {k: v for k, v in headers.items() if k in ("ETag", "Last-Modified")}
        return Response(304, b"", kept)
    body = response.body
    if gzipped:
        body = gzip.compress(body, mtime=0)
        headers["Content-Encoding"] = "gzip"
    if accepts_gzip or gzipped:
        headers["Vary"] = "Accept-Encoding"
    return Response(200, body, headers)


class BackgroundServer:
    """An HTTP server on a local port, in a background thread: the replica and its web
    archive alike. Bound at once (a port taken is an error now, not when serving)."""

    def _bind(self, host: str, port: int, handler: type, taken: str) -> None:
        try:
            self.httpd = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise ReplicaError(taken.format(where=f"{host}:{port}", why=exc.strerror)) from exc
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ReplicaServer(BackgroundServer):
    """The replica on a local port, in a background thread."""

    def __init__(
        self,
        version: str = DEFAULT_VERSION,
        host: str = "127.0.0.1",
        port: int = 0,
        layout: str = DEFAULT_LAYOUT,
    ):
        self.set_version(version)
        self.set_layout(layout)
        self.faults: dict[str, Fault] = {}
        self.requests: list[tuple[str, str, str]] = []  # (method, path, user agent)
        self.served: dict[str, Response] = {}  # the last answer per path, as sent
        self.request_headers: list[tuple[str, dict[str, str]]] = []  # (path, headers)
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"replica": self})
        self._bind(host, port, handler, "cannot listen on {where}: {why}; choose another --port")

    def set_version(self, version: str) -> None:
        if version not in VERSIONS:
            raise ReplicaError(f"unknown replica version {version!r}; known: {', '.join(VERSIONS)}")
        self.version = VERSIONS[version]

    def set_layout(self, layout: str) -> None:
        """Serve the same content in another markup (see layouts.py)."""
        if layout not in LAYOUTS:
            raise ReplicaError(f"unknown replica layout {layout!r}; known: {', '.join(LAYOUTS)}")
        self.layout = layout

    def inject(self, path: str, fault: Fault) -> None:
        with self._lock:
            self.faults[path] = fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def fault_for(self, raw_path: str) -> Fault | None:
        with self._lock:
            return self.faults.get(raw_path) or self.faults.get(urlsplit(raw_path).path)


class _Handler(BaseHTTPRequestHandler):
    replica: ReplicaServer
    protocol_version = "HTTP/1.1"
    server_version = "Apache/2.2.22"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the request log is kept on the server object instead."""

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_POST(self) -> None:
        self._serve(head=False)

    def _control(self, path: str, query: dict[str, str]) -> Response:
        replica = self.replica
        try:
            if path == "/_replica/version":
                if "set" in query:
                    replica.set_version(query["set"])
                return Response(200, replica.version.id.encode(), {"Content-Type": "text/plain"})
            if path == "/_replica/layout":
                if "set" in query:
                    replica.set_layout(query["set"])
                return Response(200, replica.layout.encode(), {"Content-Type": "text/plain"})
            if path == "/_replica/fault":
                fault = Fault(
                    status=int(query["status"]) if "status" in query else None,
                    delay=float(query.get("delay", 0)),
                    drop=query.get("drop") in ("1", "true"),
                    truncate=int(query["truncate"]) if "truncate" in query else None,
                )
                replica.inject(query["path"], fault)
                return Response(200, b"ok", {"Content-Type": "text/plain"})
            if path == "/_replica/reset":
                replica.clear_faults()
                return Response(200, b"ok", {"Content-Type": "text/plain"})
        except (ReplicaError, KeyError, ValueError) as exc:
            return Response(400, str(exc).encode(), {"Content-Type": "text/plain"})
        return Response(404, b"unknown control path", {"Content-Type": "text/plain"})

    def _serve(self, head: bool) -> None:
        replica = self.replica
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with replica._lock:
            replica.requests.append((self.command, self.path, self.headers.get("User-Agent", "")))
            replica.request_headers.append((self.path, dict(self.headers.items())))
        if parts.path.startswith("/_replica/"):
            self._send(self._control(parts.path, query), head)
            return
        fault = replica.fault_for(self.path)
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and fault.drop:
            self.close_connection = True
            self.connection.close()
            return
        if fault and fault.status:
            response = Response(
                fault.status,
                f"<html><body><h1>Error {fault.status}</h1></body></html>".encode(),
                {"Content-Type": "text/html; charset=utf-8"},
            )
        else:
            response = negotiate(
                render(replica.version, parts.path, query, replica.layout),
                dict(self.headers.items()),
            )
        with replica._lock:
            replica.served[self.path] = response
        self._send(response, head, fault.truncate if fault else None)

    def _send(self, response: Response, head: bool, truncate: int | None = None) -> None:
        try:
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value)
            if response.status != 304:
                self.send_header("Content-Length", str(len(response.body)))
            if truncate is not None:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if not head:
                self.wfile.write(
                    response.body[:truncate] if truncate is not None else response.body
                )
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
