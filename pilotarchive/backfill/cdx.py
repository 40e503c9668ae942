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
A capture dated before the web (1991) or after now (beyond a day of clock skew) is no
capture but a wrong index entry: it is skipped and counted, never made a snapshot.

An index can be large, and a hostile or broken server can make it endless. So an answer
is decompressed and parsed as a stream (:class:`RowStream`), row by row, and only the
captures kept are held: at most ``MAX_CAPTURES`` per URL and ``MAX_CAPTURES_IN_ALL`` per
run, from at most ``MAX_PAGES`` pages; reaching a bound stops the listing with a note that
says what was left out and how to narrow it (``--from``/``--to``).
"""

import codecs
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urlencode

import surt as surt_module

from pilotarchive.backfill.client import BoundedDecoder, PoliteClient
from pilotarchive.backfill.config import BackfillConfig, possible_time
from pilotarchive.exceptions import ArchiveError

FIELDS = ("timestamp", "original", "mimetype", "statuscode", "digest", "length")
ALIASES = {"url": "original", "status": "statuscode", "mime": "mimetype"}
PAGE_SIZE = 10000  # captures per query; further pages through the resume key
MAX_PAGES = 20
MAX_CAPTURES = 10_000  # kept per URL: years of daily captures, each a snapshot
MAX_CAPTURES_IN_ALL = 50_000  # kept over a run's listings (a page family is a few URLs)
MAX_ROW = 1 << 16  # characters of one row; an index row is a few hundred
MAX_STATUS_LABELS = 20  # distinct statuses counted one by one; the rest as "other"
_BASE32_SHA1 = re.compile(r"^[A-Z2-7]{32}$")
_TIMESTAMP = re.compile(r"^\d{4,14}$")
_SPACE = re.compile(r"\s*")


@lru_cache(maxsize=4096)
def url_key(url: str) -> str:
    """The SURT key of a URL: scheme, ``www.`` and default port folded, query sorted.

    Cached: a listing asks it for every row, and rows name the same few URLs."""
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
    impossible: int = 0  # dated before the web or after now
    out_of_scope: int = 0  # the same URL by its key, on a host (or scheme) outside the scope
    notes: list[str] = field(default_factory=list)  # what was cut, and why

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
        if self.impossible:
            parts.append(f"{self.impossible} dated before 1991 or after now (impossible) skipped")
        if self.out_of_scope:
            parts.append(f"{self.out_of_scope} on a host outside the scope (--allow-host)")
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


def parse_listing(text: str) -> tuple[list[dict[str, str]], str | None]:
    """The rows of a CDX answer as dicts of IA field names, and a resume key if any.

    Raises ``ValueError`` when the text is no CDX answer of any known shape.
    """
    stream = RowStream([text.encode("utf-8")])
    rows = list(stream)
    return rows, stream.resume


class RowStream:
    """The rows of one CDX answer, parsed as its bytes come, in any of the three shapes.

    Only the text not parsed yet is held (a piece of the answer, or one row of at most
    ``MAX_ROW`` characters), so an answer of a million rows costs no more memory than one
    of ten. Iterating raises ``ValueError`` when the answer is no CDX listing of any known
    shape; ``resume`` is the resume key, if the answer gave one, once the rows are read.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._text = ""  # what is held of the answer; parsed up to _pos
        self._pos = 0
        self._done = False
        self.resume: str | None = None

    def _more(self) -> bool:
        """Read on: the text not parsed yet and the next piece; False at the end."""
        if self._done:
            return False
        for chunk in self._chunks:
            text = self._decoder.decode(chunk)
            if text:
                self._text = self._text[self._pos :] + text
                self._pos = 0
                return True
        self._done = True
        self._text = self._text[self._pos :] + self._decoder.decode(b"", final=True)
        self._pos = 0
        return True

    def _skip_space(self) -> str:
        """The next character that is not white space ("" at the end of the answer)."""
        while True:
            self._pos = _SPACE.match(self._text, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._text):
                return self._text[self._pos]
            if not self._more():
                return ""

    def __iter__(self) -> Iterator[dict[str, str]]:
        first = self._skip_space()
        if not first:
            return
        if first == "[":
            self._pos += 1
            yield from self._array()
        elif first == "{":
            for n, line in self._lines():
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError(f"line {n} is not a JSON object")
                yield {
                    ALIASES.get(str(k), str(k)): "" if v is None else str(v) for k, v in obj.items()
                }
        else:
            for n, line in self._lines():
                parts = line.split()
                if len(parts) < 7 or not _TIMESTAMP.match(parts[1]):
                    raise ValueError(f"line {n} is no CDX line")
                yield dict(zip(("urlkey", *FIELDS), parts, strict=False))

    def _lines(self) -> Iterator[tuple[int, str]]:
        """Non-blank lines with their numbers; a line longer than ``MAX_ROW`` is an error."""
        n = 0
        while True:
            newline = self._text.find("\n", self._pos)
            if newline < 0:
                if len(self._text) - self._pos > MAX_ROW:
                    raise ValueError(f"line {n + 1} is longer than {MAX_ROW} characters")
                if self._more():
                    continue
                line = self._text[self._pos :]
                self._pos = len(self._text)
                if line.strip():
                    yield n + 1, line
                return
            line = self._text[self._pos : newline]
            self._pos = newline + 1
            n += 1
            if line.strip():
                yield n, line

    def _array(self) -> Iterator[dict[str, str]]:
        """The IA's JSON array, one element at a time: a header row of field names, then
        rows, then (a page cut short) an empty row and the resume key."""
        decoder = json.JSONDecoder()
        names: list[str] | None = None
        n = 0
        while True:
            item = self._element(decoder, first=names is None)
            if item is None:
                return
            if names is None:
                if not isinstance(item, list) or not all(isinstance(h, str) for h in item):
                    raise ValueError("the first row is not a list of field names")
                names = [ALIASES.get(str(h), str(h)) for h in item]
                continue
            n += 1
            if item == []:  # a page cut short: the resume key follows
                key = self._element(decoder, first=False)
                if isinstance(key, list) and key:
                    self.resume = str(key[0])
                return
            if not isinstance(item, list):
                raise ValueError(f"row {n} is not an array")
            yield {k: "" if v is None else str(v) for k, v in zip(names, item, strict=False)}

    def _element(self, decoder: json.JSONDecoder, *, first: bool) -> object | None:
        """The array's next element, or None at its closing bracket."""
        mark = self._skip_space()
        if mark == "]":
            self._pos += 1
            self._check_end()
            return None
        if not first:
            if mark != ",":
                raise ValueError("the JSON array is garbled or cut short")
            self._pos += 1
            self._skip_space()
        while True:
            try:
                item, end = decoder.raw_decode(self._text, self._pos)
            except json.JSONDecodeError:
                if len(self._text) - self._pos > MAX_ROW:
                    raise ValueError(f"a row longer than {MAX_ROW} characters") from None
                if self._more():
                    continue
                raise ValueError("the JSON array is garbled or cut short") from None
            if end == len(self._text) and not isinstance(item, list | dict) and self._more():
                continue  # a number or word at the end of the text read so far may go on
            self._pos = end
            return item

    def _check_end(self) -> None:
        """Only white space may follow the array (json.loads would refuse anything else)."""
        if self._skip_space():
            raise ValueError("text after the JSON array")


class CdxClient:
    """Asks one CDX API for the captures of URLs."""

    def __init__(
        self,
        client: PoliteClient,
        config: BackfillConfig,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """``now`` tells which capture times are still impossible (injected in tests)."""
        self.client = client
        self.config = config
        self.now = now
        self.send_fields = True  # pywb knows the field names differently: dropped once seen
        self.kept = 0  # captures kept over the run's listings (MAX_CAPTURES_IN_ALL)

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

    def _page(self, url: str, resume: str | None, selection: "_Selection") -> str | None:
        """One page of the listing into ``selection``, row by row; the resume key if any."""
        api = self.config.cdx_api
        response = self.client.get(self.query_url(url, resume), cdx=True)
        if response.unfinished:
            raise ArchiveError(
                f"the CDX API at {api} {response.unfinished}; stopped: run the same command "
                "later, it resumes where it stopped"
            )
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
        limit = self.config.max_size
        decoded = _decoder(response.body, response.header("Content-Encoding"), limit)
        stream = RowStream(decoded)
        try:
            for row in stream:
                if not selection.add(row):
                    return None
        except ValueError as exc:
            if not (response.oversize or decoded.cut):
                kind = response.header("Content-Type") or "no content type"
                begins = _beginning(response.body, response.header("Content-Encoding"))
                raise ArchiveError(
                    f"the CDX API at {api} did not answer a CDX listing ({kind}: {exc}; it "
                    f"begins {begins!r}); is --cdx-api right? (the Wayback Machine: "
                    "https://web.archive.org/cdx/search/cdx; pywb: http://HOST/COLL/cdx)"
                ) from None
        if response.oversize or decoded.cut:
            how = " once decompressed" if decoded.cut else ""
            selection.listing.notes.append(
                f"the CDX API's answer for {url} was cut at DOWNLOAD_MAXSIZE ({limit:,} bytes"
                f"{how}); the captures after its last whole row are not listed"
            )
            return None
        return stream.resume

    def captures_of(self, url: str) -> Listing:
        """The captures of ``url`` to use, oldest first, and the count of those left out."""
        selection = self._selection(url)
        resume = self._page(url, None, selection)
        if selection.listing.listed and self.send_fields and selection.lacking:
            self.send_fields = False  # the server does not know our field names: ask again
            selection = self._selection(url)
            resume = self._page(url, None, selection)
        pages = 1
        while resume and not selection.full:
            if pages >= MAX_PAGES:
                selection.listing.notes.append(
                    f"the archive's listing of {url} goes on past {MAX_PAGES} pages; the rest "
                    "is not read (narrow the time with --from/--to)"
                )
                break
            resume = self._page(url, resume, selection)
            pages += 1
        listing = selection.finish()
        self.kept += len(listing.captures)
        return listing

    def _selection(self, url: str) -> "_Selection":
        budget = min(MAX_CAPTURES, max(0, MAX_CAPTURES_IN_ALL - self.kept))
        return _Selection(url, self.config, self.now(), budget)

    def _select(self, url: str, rows: Iterable[dict[str, str]]) -> Listing:
        """The captures of ``url`` kept from ``rows`` (parsed already)."""
        selection = self._selection(url)
        for row in rows:
            if not selection.add(row):
                break
        return selection.finish()


def _decoder(body: bytes, encoding: str | None, limit: int) -> BoundedDecoder:
    """A CDX answer decoded; an encoding we do not know is taken for none (the parse then
    says whether it is a listing)."""
    try:
        return BoundedDecoder(body, encoding, limit, lenient=True)
    except ValueError:
        return BoundedDecoder(body, None, limit)


def _beginning(body: bytes, encoding: str | None) -> str:
    """The first characters of an answer, for a message."""
    try:
        head = _decoder(body, encoding, 240).read()
    except ValueError:
        head = body[:240]
    return head.decode("utf-8", "replace").strip()[:60]


class _Selection:
    """The captures of one URL kept from its rows as they come (see the module docstring):
    only the captures within --from/--to are held, a repeat of the capture before is
    counted and dropped at once, and no more than ``budget`` are kept."""

    def __init__(self, url: str, config: BackfillConfig, now: datetime, budget: int) -> None:
        self.listing = Listing(url, [])
        self.url = url
        self.wanted = url_key(url)
        self.scope = config.scope
        self.start = config.start.full if config.start else "0" * 14
        self.end = config.end.full if config.end else "9" * 14
        self.now = now
        self.budget = budget
        self.found: dict[str, Capture] = {}
        self.latest: Capture | None = None  # the latest capture seen, kept or a repeat
        self.full = False
        self.lacking = 0  # rows without a URL or a status (pywb asked with IA's names)

    def add(self, row: dict[str, str]) -> bool:
        """Take one row; False once the budget is spent (no more rows are wanted)."""
        listing = self.listing
        listing.listed += 1
        original, stamp = row.get("original") or "", row.get("timestamp") or ""
        if not original or not row.get("statuscode"):
            self.lacking += 1
        if not original or not _TIMESTAMP.match(stamp):
            listing.unreadable += 1
            return True
        if row.get("is_fuzzy") not in (None, "", "0", "false") or url_key(original) != self.wanted:
            listing.other_urls += 1
            return True
        stamp += "19700101000000"[len(stamp) :]  # "2014" is 1 January 2014
        when = _real_time(stamp)
        if when is None:  # "20149999999999": digits, and no time
            listing.unreadable += 1
            return True
        if not possible_time(when, self.now):
            listing.impossible += 1
            return True
        if not self.scope.allows(original):
            listing.out_of_scope += 1
            return True
        status_text = (row.get("statuscode") or "-").strip()
        if status_text.isdigit():
            status: int | None = int(status_text)
        elif status_text == "-" and row.get("mimetype") == "warc/revisit":
            status = None
        else:
            status = -1
        if status is not None and status != 200 and not 300 <= status < 400:
            label = status_text[:12] if status_text else "none"
            if label not in listing.other_status and len(listing.other_status) >= MAX_STATUS_LABELS:
                label = "other"
            listing.other_status[label] = listing.other_status.get(label, 0) + 1
            return True
        if not self.start <= stamp <= self.end or stamp in self.found:
            return True
        capture = Capture(
            url=original,
            timestamp=stamp,
            status=status,
            digest=normalise_digest(row.get("digest")),
            mimetype=row.get("mimetype") or None,
            key=self.wanted,
        )
        latest = self.latest
        if latest is not None and stamp > latest.timestamp:
            self.latest = capture
            if _repeats(capture, latest):  # rows come in time order: dropped at once
                listing.repeats += 1
                return True
        elif latest is None:
            self.latest = capture
        if len(self.found) >= self.budget:
            self.full = True
            why = (
                f"the archive lists more than {MAX_CAPTURES:,} captures of {self.url}"
                if self.budget == MAX_CAPTURES
                else f"the backfill keeps at most {MAX_CAPTURES_IN_ALL:,} captures in all"
            )
            last = max(self.found) if self.found else "the start"
            listing.notes.append(
                f"{why}: those up to {last} kept, the rest is not read (narrow the time "
                "with --from/--to)"
            )
            return False
        self.found[stamp] = capture
        return True

    def finish(self) -> Listing:
        """The kept captures oldest first, a capture repeating the one before dropped
        (rows out of time order escape the check as they come)."""
        previous: Capture | None = None
        for stamp in sorted(self.found):
            capture = self.found[stamp]
            if previous is not None and _repeats(capture, previous):
                self.listing.repeats += 1
            else:
                self.listing.captures.append(capture)
            previous = capture
        self.found = {}
        return self.listing


def _repeats(capture: Capture, previous: Capture) -> bool:
    """Same payload digest and status as the capture before (a revisit's unknown status
    matches any)."""
    if capture.digest is None or capture.digest != previous.digest:
        return False
    return None in (capture.status, previous.status) or capture.status == previous.status


def _real_time(stamp: str) -> datetime | None:
    """14 digits as a time (UTC), or None when they are no time of day on a date that
    exists."""
    try:
        return datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
