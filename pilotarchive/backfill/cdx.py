"""Listing a URL's captures through a CDX API, whichever server answers.

The query is the Internet Archive's (``output=json``, the fields needed with ``fl``,
``collapse=digest``, ``from``/``to``, ``showResumeKey``); what comes back depends on the
server:

- the Internet Archive and OpenWayback: one JSON array, a header row of field names
  (``urlkey, timestamp, original, mimetype, statuscode, digest, length``) then one array per
  capture, and, when a page of results was cut, an empty row and a resume key;
- pywb: one JSON object per line with its own names (``url``, ``status``, ``mime``); it
  ignores ``collapse`` and knows ``fl`` only by its own names, so a first answer without
  URLs or statuses is asked again without ``fl``; when a URL has no capture it answers
  *fuzzy* matches of other URLs (``is_fuzzy``), which are dropped;
- a server that ignores ``output=json``: plain CDX lines, fields in the default order.

Whatever the server did, the captures are checked here again: the URL is the one asked for
(compared by SURT key, the canonical form CDX indexes use), the status is 200 or 3xx (or
``-`` for a revisit whose status the index does not repeat), the time is within
``--from``/``--to``, and a capture whose digest and status equal the previous capture's is
skipped (``collapse=digest`` collapses only adjacent captures, and not every server has it).
"""

import gzip
import json
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

import surt as surt_module

from pilotarchive.backfill.client import PoliteClient
from pilotarchive.backfill.config import BackfillConfig
from pilotarchive.exceptions import ArchiveError

FIELDS = ("timestamp", "original", "mimetype", "statuscode", "digest", "length")
ALIASES = {"url": "original", "status": "statuscode", "mime": "mimetype"}
PAGE_SIZE = 10000  # captures per query; further pages through the resume key
MAX_PAGES = 20
_BASE32_SHA1 = re.compile(r"^[A-Z2-7]{32}$")
_TIMESTAMP = re.compile(r"^\d{4,14}$")


def url_key(url: str) -> str:
    """The SURT key of a URL: scheme, ``www.`` and default port folded, query sorted."""
    try:
        return str(surt_module.surt(url))
    except Exception:  # surt raises assorted errors on URLs it cannot parse
        return url.lower()


@dataclass(frozen=True)
class Capture:
    """One capture as the index lists it."""

    url: str  # the original URL as captured
    timestamp: str  # 14 digits, UTC
    status: int | None  # None: a revisit whose status the index does not give
    digest: str | None  # "sha1:BASE32" (or whatever algorithm the index names), or None
    mimetype: str | None = None
    key: str = field(default="", compare=False)

    @property
    def time(self) -> datetime:
        return datetime.strptime(self.timestamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)

    @property
    def is_redirect(self) -> bool:
        return self.status is not None and 300 <= self.status < 400

    @property
    def id(self) -> tuple[str, str]:
        """What names a capture across runs: the URL's key and the time."""
        return self.key, self.timestamp


@dataclass
class Listing:
    """The captures of one URL kept for the backfill, and what was left out and why."""

    url: str
    captures: list[Capture]
    listed: int = 0  # rows the archive gave
    repeats: int = 0  # same digest as the capture before
    other_status: dict[str, int] = field(default_factory=dict)  # "404": 3
    other_urls: int = 0  # fuzzy matches, other URLs
    unreadable: int = 0  # rows without a usable time

    def summary(self) -> str:
        parts = [f"{len(self.captures)} capture(s) kept of {self.listed} listed"]
        if self.repeats:
            parts.append(f"{self.repeats} repeating the one before")
        if self.other_status:
            statuses = ", ".join(f"{n} x {s}" for s, n in sorted(self.other_status.items()))
            parts.append(f"left out for their status: {statuses}")
        if self.other_urls:
            parts.append(f"{self.other_urls} of other URLs (fuzzy matches) dropped")
        if self.unreadable:
            parts.append(f"{self.unreadable} unreadable row(s)")
        return "; ".join(parts)


def normalise_digest(value: str | None) -> str | None:
    if not value or value == "-":
        return None
    value = value.strip()
    if _BASE32_SHA1.match(value):
        return f"sha1:{value}"
    if value.lower().startswith("sha1:"):
        return "sha1:" + value[5:].upper()
    return value


def _decode(body: bytes, encoding: str | None) -> bytes:
    if encoding and encoding.lower() in ("gzip", "x-gzip"):
        try:
            return gzip.decompress(body)
        except (OSError, EOFError, zlib.error):
            return body
    return body


def parse_listing(text: str) -> tuple[list[dict[str, str]], str | None]:
    """The rows of a CDX answer as dicts of IA field names, and a resume key if any.

    Raises ``ValueError`` when the text is no CDX answer of any known shape.
    """
    text = text.strip()
    if not text:
        return [], None
    if text.startswith("["):
        data = json.loads(text)  # ValueError when garbled
        if not isinstance(data, list):
            raise ValueError("a JSON value that is not an array")
        if not data:
            return [], None
        header = data[0]
        if not isinstance(header, list) or not all(isinstance(h, str) for h in header):
            raise ValueError("the first row is not a list of field names")
        names = [ALIASES.get(str(h), str(h)) for h in header]
        rows, resume = [], None
        body = data[1:]
        for n, row in enumerate(body):
            if row == []:  # a page cut short: the resume key follows
                if n + 1 < len(body) and isinstance(body[n + 1], list) and body[n + 1]:
                    resume = str(body[n + 1][0])
                break
            if not isinstance(row, list):
                raise ValueError(f"row {n + 1} is not an array")
            rows.append({k: "" if v is None else str(v) for k, v in zip(names, row, strict=False)})
        return rows, resume
    if text.startswith("{"):
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError(f"line {n} is not a JSON object")
            rows.append(
                {ALIASES.get(str(k), str(k)): "" if v is None else str(v) for k, v in obj.items()}
            )
        return rows, None
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 7 or not _TIMESTAMP.match(parts[1]):
            raise ValueError(f"line {n} is no CDX line")
        rows.append(dict(zip(("urlkey", *FIELDS), parts, strict=False)))
    return rows, None


class CdxClient:
    """Asks one CDX API for the captures of URLs."""

    def __init__(self, client: PoliteClient, config: BackfillConfig) -> None:
        self.client = client
        self.config = config
        self.send_fields = True  # pywb knows the field names differently: dropped once seen

    def query_url(self, url: str, resume: str | None = None) -> str:
        params: list[tuple[str, str]] = [("url", url), ("output", "json")]
        if self.send_fields:
            params.append(("fl", ",".join(FIELDS)))
        params += [("collapse", "digest"), ("limit", str(PAGE_SIZE)), ("showResumeKey", "true")]
        if self.config.start:
            params.append(("from", self.config.start.cdx))
        if self.config.end:
            params.append(("to", self.config.end.cdx))
        if resume:
            params.append(("resumeKey", resume))
        return f"{self.config.cdx_api}?{urlencode(params)}"

    def _rows(self, url: str, resume: str | None) -> tuple[list[dict[str, str]], str | None]:
        api = self.config.cdx_api
        response = self.client.get(self.query_url(url, resume), cdx=True)
        if response.status != 200:
            hint = {
                404: "; is --cdx-api right? (pywb: http://HOST/COLL/cdx)",
                403: "; the archive refuses us",
            }.get(response.status, "")
            snippet = response.body[:120].decode("utf-8", "replace").strip()
            raise ArchiveError(
                f"the CDX API at {api} answered {response.status} {response.reason}"
                + (f" ({snippet!r})" if snippet else "")
                + hint
            )
        if response.oversize:
            raise ArchiveError(f"the CDX API at {api} sent more than DOWNLOAD_MAXSIZE bytes")
        body = _decode(response.body, response.header("Content-Encoding"))
        text = body.decode("utf-8", "replace")
        try:
            return parse_listing(text)
        except ValueError as exc:
            kind = response.header("Content-Type") or "no content type"
            raise ArchiveError(
                f"the CDX API at {api} did not answer a CDX listing ({kind}: {exc}; it "
                f"begins {text.strip()[:60]!r}); is --cdx-api right? (the Wayback Machine: "
                "https://web.archive.org/cdx/search/cdx; pywb: http://HOST/COLL/cdx)"
            ) from None

    def captures_of(self, url: str) -> Listing:
        """The captures of ``url`` to use, oldest first, and the count of those left out."""
        rows, resume = self._rows(url, None)
        if (
            rows
            and self.send_fields
            and not all(r.get("original") and r.get("statuscode") for r in rows)
        ):
            self.send_fields = False  # the server does not know our field names: ask again
            rows, resume = self._rows(url, None)
        pages = 1
        while resume and pages < MAX_PAGES:
            more, resume = self._rows(url, resume)
            rows += more
            pages += 1
        return self._select(url, rows)

    def _select(self, url: str, rows: list[dict[str, str]]) -> Listing:
        listing = Listing(url, [], listed=len(rows))
        wanted = url_key(url)
        start = self.config.start.full if self.config.start else "0" * 14
        end = self.config.end.full if self.config.end else "9" * 14
        found: dict[str, Capture] = {}
        for row in rows:
            original, stamp = row.get("original") or "", row.get("timestamp") or ""
            if not original or not _TIMESTAMP.match(stamp):
                listing.unreadable += 1
                continue
            if row.get("is_fuzzy") not in (None, "", "0", "false") or url_key(original) != wanted:
                listing.other_urls += 1
                continue
            stamp += "19700101000000"[len(stamp) :]  # "2014" is 1 January 2014
            if not _real_time(stamp):  # "20149999999999": digits, and no time
                listing.unreadable += 1
                continue
            status_text = (row.get("statuscode") or "-").strip()
            if status_text.isdigit():
                status: int | None = int(status_text)
            elif status_text == "-" and row.get("mimetype") == "warc/revisit":
                status = None
            else:
                status = -1
            if status is not None and status != 200 and not 300 <= status < 400:
                label = status_text if status_text else "none"
                listing.other_status[label] = listing.other_status.get(label, 0) + 1
                continue
            if not start <= stamp <= end:
                continue
            found.setdefault(
                stamp,
                Capture(
                    url=original,
                    timestamp=stamp,
                    status=status,
                    digest=normalise_digest(row.get("digest")),
                    mimetype=row.get("mimetype") or None,
                    key=wanted,
                ),
            )
        previous: Capture | None = None
        for stamp in sorted(found):
            capture = found[stamp]
            if previous is not None and _repeats(capture, previous):
                listing.repeats += 1
            else:
                listing.captures.append(capture)
            previous = capture
        return listing


def _repeats(capture: Capture, previous: Capture) -> bool:
    """Same payload digest and status as the capture before (a revisit's unknown status
    matches any)."""
    if capture.digest is None or capture.digest != previous.digest:
        return False
    return None in (capture.status, previous.status) or capture.status == previous.status


def _real_time(stamp: str) -> bool:
    """Whether 14 digits are a time of day on a date that exists."""
    try:
        datetime.strptime(stamp, "%Y%m%d%H%M%S")
    except ValueError:
        return False
    return True
