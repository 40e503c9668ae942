"""A web archive of the replica's dated versions under the real site's URLs, so that
``pilotarchive backfill`` can be tried offline.

It answers as the Wayback Machine does, on 127.0.0.1:

- ``/cdx/search/cdx?url=...``: the CDX API. ``output=json`` gives one JSON array, a header
  row of field names then a row per capture, oldest first; without it, plain CDX lines.
  ``fl`` chooses the fields, ``from``/``to`` bound the time (1 to 14 digits), ``collapse=
  digest`` drops a capture whose digest equals the one before, ``limit`` with
  ``showResumeKey=true`` cuts a page and ends it with an empty row and a resume key. URLs
  are matched by SURT key (``http``/``https``, ``www.`` and the order of the query do not
  matter), as the Internet Archive matches them.
- ``/web/{timestamp}id_/{URL}``: a capture's original bytes, the archive's own headers
  (``Memento-Datetime``, ``Link``) beside the original's (``X-Archive-Orig-*``, with
  ``Content-Type``, ``Content-Encoding`` and ``Location`` passed through). A time that is
  no capture's is redirected (302) to the nearest capture, as the Wayback Machine does.

What it holds is :data:`PLAN`: per replica version, captures spread over a few days as a
crawler's are, the alias's 301, a gzipped capture or two, a capture repeating the one
before and, in 2015, the Swedish text version's 404. The bytes are the replica's own
(:func:`pilotarchive.replica.server.render`), made once when the archive starts.
"""

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from pilotarchive.replica.content import VERSIONS
from pilotarchive.replica.server import BackgroundServer, negotiate, render

SITE = "http://www.tem.fi"
CDX_PATH = "/cdx/search/cdx"
REPLAY_PATH = "/web/"
FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
FI, SV, EN = "/index.phtml?s=4398", "/index.phtml?l=sv&s=4398", "/index.phtml?l=en&s=4398"
FI_TEXT, SV_TEXT, EN_TEXT = (
    "/text.phtml?s=4398",
    "/text.phtml?l=sv&s=4398",
    "/text.phtml?l=en&s=4398",
)
EN_FRONT, EN_FRONT_TEXT = "/index.phtml?l=en", "/text.phtml?l=en"
DAY = 86400
# Per replica version: the first capture's time (UTC) and (path, seconds after it, sent
# gzipped to the crawler that captured it).
PLAN: tuple[tuple[str, datetime, tuple[tuple[str, int, bool], ...]], ...] = (
    ("2014-06", datetime(2014, 6, 16, 9, 0, 0, tzinfo=UTC), (
        ("/seutukaupunkipilotit", 0, False),  # the alias: 301 to the Finnish page
        (FI, 1, False),
        (FI_TEXT, 2, False),
        (SV, DAY, False),
        (SV_TEXT, DAY + 1, False),
        (EN_FRONT, DAY + 60, False),  # "In English" led to the English front page then
        (EN_FRONT_TEXT, DAY + 61, False),
        (FI, 2 * DAY, False),  # the same bytes again: collapsed
    )),
    ("2014-11-19", datetime(2014, 11, 20, 10, 0, 0, tzinfo=UTC), (
        ("/seutukaupunkipilotit", 0, False),
        (FI, 1, False),
        (SV, 2, False),
        (FI_TEXT, 3, True),
        (SV_TEXT, 4, True),
        (EN, 3 * DAY, False),
        (EN_TEXT, 3 * DAY + 1, True),
    )),
    ("2015-06", datetime(2015, 6, 17, 8, 0, 0, tzinfo=UTC), (
        ("/seutukaupunkipilotit", 0, False),
        (FI, 1, False),
        (SV, 2, False),
        (EN, 3, False),
        (FI_TEXT, 4, False),
        (SV_TEXT, 5, False),  # gone: a 404, which no backfill takes for the page
        (EN_TEXT, 6, False),
    )),
)  # fmt: skip
REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found"}


def url_key(url: str) -> str:
    """The SURT key the Internet Archive matches URLs by."""
    from pilotarchive.backfill.cdx import url_key as surt_key

    return surt_key(url)


@dataclass(frozen=True)
class Capture:
    """One capture as the archive holds it: the original response, as sent."""

    url: str
    timestamp: str  # 14 digits, UTC
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def key(self) -> str:
        return url_key(self.url)

    @property
    def digest(self) -> str:
        """Base-32 SHA-1 of the payload as stored (content-encoding kept), as CDX gives it."""
        return base64.b32encode(hashlib.sha1(self.body).digest()).decode("ascii")

    @property
    def mimetype(self) -> str:
        kind = dict((k.lower(), v) for k, v in self.headers).get("content-type", "unk")
        return kind.split(";")[0].strip() or "unk"

    @property
    def time(self) -> datetime:
        return datetime.strptime(self.timestamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)

    def row(self) -> dict[str, str]:
        return {
            "urlkey": self.key,
            "timestamp": self.timestamp,
            "original": self.url,
            "mimetype": "warc/revisit" if self.status == 0 else self.mimetype,
            "statuscode": str(self.status),
            "digest": self.digest,
            "length": str(len(self.body)),
        }


def captures(plan: Iterable[tuple[str, datetime, Iterable[tuple[str, int, bool]]]] = PLAN
             ) -> list[Capture]:  # fmt: skip
    """The archive's captures, made from the replica's versions, oldest first."""
    out = []
    for version, first, items in plan:
        for path, after, gzipped in items:
            parts = urlsplit(path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            answer = negotiate(
                render(VERSIONS[version], parts.path, query),
                {"Accept-Encoding": "gzip"} if gzipped else {},
            )
            headers = dict(answer.headers)
            if "Location" in headers:  # the original's as the crawler saw it: absolute
                headers["Location"] = SITE + headers["Location"]
            headers["Content-Length"] = str(len(answer.body))
            when = first + timedelta(seconds=after)
            out.append(Capture(SITE + path, when.strftime("%Y%m%d%H%M%S"), answer.status,
                               tuple(headers.items()), answer.body))  # fmt: skip
    return sorted(out, key=lambda c: c.timestamp)


def _bound(value: str | None, fill: str) -> str | None:
    """``from``/``to`` as 14 digits: ``2014`` from 20140101000000, to 20141231235959."""
    if not value:
        return None
    digits = re.sub(r"\D", "", value)[:14]
    if not digits:
        return None
    return digits + fill[len(digits) :]


class WaybackArchive:
    """The captures and the answers to CDX queries and ``id_`` replays: no sockets here."""

    def __init__(self, held: list[Capture] | None = None) -> None:
        self.captures = held if held is not None else captures()
        self.by_key: dict[str, list[Capture]] = {}
        for capture in self.captures:
            self.by_key.setdefault(capture.key, []).append(capture)

    def cdx(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        """``(status, content type, body)`` of a CDX query."""
        url = query.get("url", "").strip()
        if not url:
            return 400, "text/plain", b"the CDX API needs url=\n"
        start = _bound(query.get("from"), "00000101000000")
        end = _bound(query.get("to"), "99991231235959")
        rows, last_digest = [], None
        for capture in self.by_key.get(url_key(url), []):
            if (start and capture.timestamp < start) or (end and capture.timestamp > end):
                continue
            if query.get("collapse") == "digest" and capture.digest == last_digest:
                continue
            last_digest = capture.digest
            rows.append(capture.row())
        offset = int(query["resumeKey"]) if query.get("resumeKey", "").isdigit() else 0
        limit = int(query["limit"]) if query.get("limit", "").isdigit() else len(rows)
        page, rest = rows[offset : offset + limit], rows[offset + limit :]
        fields = [f for f in query.get("fl", "").split(",") if f in FIELDS] or list(FIELDS)
        resume = str(offset + limit) if rest and query.get("showResumeKey") == "true" else None
        if query.get("output") == "json":
            table: list[list[str]] = [fields, *([r[f] for f in fields] for r in page)]
            if resume:
                table += [[], [resume]]
            return 200, "application/json", json.dumps(table).encode("utf-8")
        lines = [" ".join(r[f] for f in fields) for r in page]
        if resume:
            lines += ["", resume]
        return 200, "text/plain", ("\n".join(lines) + "\n").encode("utf-8") if lines else b""

    def replay(
        self, timestamp: str, mod: str, url: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """``(status, headers, body)`` of ``/web/{timestamp}{mod}/{url}``."""
        held = self.by_key.get(url_key(url), [])
        if not held:
            return 404, [("Content-Type", "text/plain")], b"not in this archive\n"
        wanted = _bound(timestamp, "00000101000000") or "0"
        moment = datetime.strptime(wanted, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        nearest = min(held, key=lambda c: abs((c.time - moment).total_seconds()))
        if nearest.timestamp != timestamp:  # the Wayback Machine's redirect to its copy
            location = f"{REPLAY_PATH}{nearest.timestamp}{mod}/{nearest.url}"
            return 302, [("Location", location), ("Content-Length", "0")], b""
        headers = [
            ("Memento-Datetime", format_datetime(nearest.time, usegmt=True)),
            ("Link", f'<{nearest.url}>; rel="original"'),
        ]
        for name, value in nearest.headers:
            low = name.lower()
            if low in ("content-type", "content-encoding", "location"):
                headers.append((name, value))
            elif low != "content-length":
                headers.append((f"X-Archive-Orig-{name}", value))
        headers.append(("Content-Length", str(len(nearest.body))))
        return nearest.status, headers, nearest.body


_REPLAY = re.compile(r"^/web/(?P<ts>\d{1,14})(?P<mod>[a-z]{2}_)?/(?P<url>.+)$", re.S)


class WaybackServer(BackgroundServer):
    """:class:`WaybackArchive` on a local port, in a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.archive = WaybackArchive()
        archive = self.archive

        class Handler(BaseHTTPRequestHandler):
            server_version = "pilotarchive-wayback"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == CDX_PATH:
                    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                    status, kind, body = archive.cdx(query)
                    self._send(status, [("Content-Type", kind),
                                        ("Content-Length", str(len(body)))], body)  # fmt: skip
                    return
                m = _REPLAY.match(self.path)
                if not m:
                    body = (f"a web archive of the replica: {CDX_PATH}?url=URL, "
                            f"{REPLAY_PATH}TIMESTAMPid_/URL\n").encode()  # fmt: skip
                    self._send(404, [("Content-Type", "text/plain"),
                                     ("Content-Length", str(len(body)))], body)  # fmt: skip
                    return
                original = re.sub(r"^(https?):/+", r"\1://", m.group("url"), flags=re.I)
                self._send(*archive.replay(m.group("ts"), m.group("mod") or "", original))

            def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status, REASONS.get(status))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        self._bind(
            host,
            port,
            Handler,
            "cannot serve the web archive on {where} ({why}); "
            "give another --archive-port (0: any free port)",
        )
