"""A polite HTTP client for web archives: one request at a time, spaced, backing off.

Web archives are shared, free services that block clients who hammer them (the Wayback
Machine answers 429 beyond 24 CDX queries a minute and blocks at its firewall an address
that ignores 429 for long). So: one request at a time, at least ``delay`` seconds between
two requests and ``cdx_delay`` between two CDX queries; a 429 or 503 is waited out for as
long as ``Retry-After`` asks (or ``backoff`` seconds, doubling), up to ``max_wait`` seconds
for one request, after which the backfill stops with a message instead of insisting. A
dropped connection, a timeout or a 5xx is tried ``retries`` more times.

urllib is enough: the requests are few, sequential and plain GETs, and redirects must not
be followed (a captured 301 is what we archive, not something to chase). The sleep and
the clock are injected, so tests check the waits without waiting.
"""

import http.client
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlsplit

from pilotarchive.backfill.config import BackfillConfig
from pilotarchive.exceptions import ArchiveError

RATE_LIMITED = (429, 503)
RETRIED = (500, 502, 504)
DEFINITE = ("connection refused", "host not found")
MIN_WAIT = 1.0  # seconds: even "Retry-After: 0" waits this long, so a loop always ends
Progress = Callable[[str], None]


@dataclass
class Response:
    """An answer as received: status, headers in order (latin-1 text), body."""

    url: str
    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    oversize: bool = False  # the body was cut at the size limit

    def header(self, name: str) -> str | None:
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), None)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a 3xx comes back as it is


def ascii_url(url: str) -> str:
    """The URL with spaces and non-ASCII characters percent-encoded, the rest untouched."""
    return quote(url, safe="!#$%&'()*+,/:;=?@[]~")


def http_date(value: str | None) -> datetime | None:
    """An HTTP date header (``Retry-After``, ``Memento-Datetime``) as an aware datetime; None
    when absent or not a date: archives and servers write these by hand at times."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date)."""
    if value and value.strip().isdigit():
        return float(value.strip())
    when = http_date(value)
    return None if when is None else max(0.0, (when - now).total_seconds())


class PoliteClient:
    def __init__(
        self,
        config: BackfillConfig,
        progress: Progress = lambda line: None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.progress = progress
        self.sleep = sleep
        self.clock = clock
        self.now = now
        self.requests = 0  # sent, retries included
        self.answered = False  # has the archive answered anything yet?
        self._last: float | None = None
        self._last_cdx: float | None = None
        self._opener = urllib.request.build_opener(_NoRedirect)
        self._opener.addheaders = [("User-Agent", config.user_agent)]

    def _pace(self, cdx: bool) -> None:
        """Wait until the delays since the last request (and the last CDX query) are over."""
        due = 0.0
        if self._last is not None:
            due = self._last + self.config.delay
        if cdx and self._last_cdx is not None:
            due = max(due, self._last_cdx + self.config.cdx_delay)
        wait = due - self.clock()
        if wait > 0:
            self.sleep(wait)

    def _send(self, url: str) -> Response:
        request = urllib.request.Request(ascii_url(url), headers={"Accept-Encoding": "gzip"})
        try:
            answer = self._opener.open(request, timeout=self.config.timeout)
        except urllib.error.HTTPError as exc:  # 3xx, 4xx, 5xx: an answer all the same
            answer = exc
        with answer:
            body = answer.read(self.config.max_size + 1)
            return Response(
                url=url,
                status=answer.status if answer.status is not None else 0,
                reason=str(answer.reason or ""),
                headers=list(answer.headers.items()),
                body=body[: self.config.max_size],
                oversize=len(body) > self.config.max_size,
            )

    def get(self, url: str, *, cdx: bool = False) -> Response:
        """One GET, paced, waited out when rate-limited and tried again when it fails.

        Raises :class:`ArchiveError` when the archive cannot be reached after the retries,
        or rate-limits longer than ``max_wait``; any other answer is returned.
        """
        host = urlsplit(url).netloc
        attempt = limited = 0
        waited = 0.0
        while True:
            self._pace(cdx)
            self.requests += 1
            try:
                response: Response | None = self._send(url)
                failure = ""
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                response, failure = None, _reason(exc)
            finally:
                self._last = self.clock()
                if cdx:
                    self._last_cdx = self._last
            if response is None:
                # Refused or unknown at the first contact: a wrong address (or an archive
                # that is down), not a hiccup worth waiting for.
                first = not self.answered and failure in DEFINITE
                if attempt >= self.config.retries or first:
                    tries = f" ({attempt + 1} attempts)" if attempt else ""
                    raise ArchiveError(
                        f"cannot reach the archive at {host}: {failure}{tries}; check "
                        "--cdx-api and --replay, or run the same command later (it resumes "
                        "where it stopped)"
                    )
                wait = self._short_backoff(attempt)
                self.progress(f"{host}: {failure}; trying again in {wait:.0f} s")
                self.sleep(wait)
                attempt += 1
                continue
            self.answered = True
            if response.status in RATE_LIMITED:
                asked = retry_after(response.header("Retry-After"), self.now())
                backoff = self.config.backoff * 2**limited
                wait = max(MIN_WAIT, asked if asked is not None else backoff)
                if waited + wait > self.config.max_wait:
                    why = f"asks to wait {wait:.0f} s more" if asked else "still refuses"
                    raise ArchiveError(
                        f"the archive at {host} keeps answering {response.status} "
                        f"{response.reason or 'Too Many Requests'} and {why} after {waited:.0f} s "
                        f"of waiting (PILOTARCHIVE_BACKFILL_MAX_WAIT is "
                        f"{self.config.max_wait:g} s); stopped: run the same command later, it "
                        "resumes where it stopped"
                    )
                how = "as its Retry-After asks" if asked is not None else "backing off"
                self.progress(
                    f"{host} answered {response.status} (rate-limited): waiting {wait:.0f} s, {how}"
                )
                self.sleep(wait)
                waited += wait
                limited += 1
                continue
            if response.status in RETRIED and attempt < self.config.retries:
                wait = self._short_backoff(attempt)
                self.progress(f"{host} answered {response.status}; trying again in {wait:.0f} s")
                self.sleep(wait)
                attempt += 1
                continue
            return response

    def _short_backoff(self, attempt: int) -> float:
        """Waits after a failure that is not a rate limit: 2, 4, 8 ... s (at least the delay)."""
        return float(min(60.0, max(self.config.delay, 1.0) * 2 ** (attempt + 1)))


def _reason(exc: BaseException) -> str:
    """A failure in a few words: "connection refused", "timed out", ..."""
    inner = getattr(exc, "reason", None)
    if isinstance(inner, BaseException):
        exc = inner
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return "host not found"
    if isinstance(exc, ConnectionResetError | http.client.RemoteDisconnected):
        return "connection closed by the archive"
    if isinstance(exc, http.client.IncompleteRead):
        return "answer cut short"
    text = str(getattr(exc, "strerror", None) or exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
