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

An archive is not trusted to be kind. ``timeout`` bounds a whole exchange, from the
connection to the last byte of the body, not each read: a server that sends a byte every
second would otherwise hold the backfill (and its lock) for ever. A body is read up to
``DOWNLOAD_MAXSIZE`` bytes, and a compressed one is decompressed as a stream that stops at
``DOWNLOAD_MAXSIZE`` bytes too (:class:`BoundedDecoder`): 500 KB of gzip can hold 500 MB.
"""

import http.client
import io
import socket
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
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
    # Why the answer is not whole though it began (the deadline passed while it came).
    unfinished: str | None = None

    def header(self, name: str) -> str | None:
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), None)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a 3xx comes back as it is


class _Exchange:
    """One request's clock: the deadline for the whole answer, and the bytes received.

    A socket timeout bounds one read; a server that drips a byte within each timeout never
    trips it. So every read is given the time left until the deadline instead.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.received = 0  # bytes of the answer: 0 means the server said nothing at all

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no whole answer within {self.seconds:g} s")
        return left


class _DeadlineSocket:
    """A connected socket whose reads end at the exchange's deadline (see :class:`_Exchange`).

    http.client reads an answer through ``sock.makefile("rb")``; here that file reads through
    :meth:`recv_into`, which sets the socket's timeout to the time left before each read.
    Everything else is the socket's own.
    """

    def __init__(self, sock: socket.socket, exchange: _Exchange) -> None:
        self._sock = sock
        self._exchange = exchange

    def __getattr__(self, name: str) -> object:
        return getattr(self._sock, name)

    def makefile(self, mode: str = "r", *args: object, **kwargs: object) -> object:
        if mode != "rb":
            return self._sock.makefile(mode, *args, **kwargs)  # type: ignore[call-overload]
        self._sock._io_refs += 1  # type: ignore[attr-defined]  # as socket.makefile does
        return io.BufferedReader(socket.SocketIO(self, "rb"))  # type: ignore[arg-type]

    def recv_into(self, buffer: bytearray | memoryview) -> int:
        self._sock.settimeout(self._exchange.remaining())
        count = self._sock.recv_into(buffer)
        self._exchange.received += count
        return count

    def _decref_socketios(self) -> None:
        self._sock._decref_socketios()  # type: ignore[attr-defined]


class _DeadlineConnection(http.client.HTTPConnection):
    """An HTTP connection whose connect, TLS handshake and reads share one deadline."""

    def __init__(self, *args: object, exchange: _Exchange, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._exchange = exchange
        self._create_connection = self._connect_in_time  # type: ignore[method-assign]

    def _connect_in_time(
        self, address: tuple[str, int], timeout: object = None, source: object = None
    ) -> socket.socket:
        sock = socket.create_connection(address, self._exchange.remaining(), source)  # type: ignore[arg-type]
        # The TLS handshake (CPython bounds it as a whole by this timeout) and the request.
        sock.settimeout(self._exchange.remaining())
        return sock

    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock, self._exchange)  # type: ignore[assignment]


class _DeadlineHTTPSConnection(_DeadlineConnection, http.client.HTTPSConnection):
    pass


class _DeadlineHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, exchange: _Exchange) -> None:
        super().__init__()
        self.exchange = exchange

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(partial(_DeadlineConnection, exchange=self.exchange), req)  # type: ignore[arg-type]


class _DeadlineHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, exchange: _Exchange) -> None:
        super().__init__()
        self.exchange = exchange

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(  # type: ignore[arg-type]
            partial(_DeadlineHTTPSConnection, exchange=self.exchange),
            req,
            context=self._context,  # type: ignore[attr-defined]
        )


class BoundedDecoder:
    """A body with its content-encoding (gzip, deflate) undone as a stream, in pieces, and
    never more than ``limit`` bytes in all: a few hundred kilobytes of gzip can hold
    gigabytes of zeros, and ``gzip.decompress`` would hold them all at once.

    ``cut`` tells, once the pieces are read, that the content went on past ``limit``.
    ``lenient`` passes a body through as it is when it does not even begin as the encoding
    it claims (servers that say gzip and send plain text); otherwise that is a ValueError.
    """

    PIECE = 1 << 16

    def __init__(self, body: bytes, encoding: str | None, limit: int, *, lenient: bool = False):
        self.body = body
        self.coding = (encoding or "identity").strip().lower() or "identity"
        self.limit = limit
        self.lenient = lenient
        self.cut = False
        if self.coding not in ("identity", "gzip", "x-gzip", "deflate"):
            raise ValueError(f"content encoding {encoding!r} is not supported")

    def __iter__(self) -> Iterator[bytes]:
        if self.coding == "identity":
            self.cut = len(self.body) > self.limit
            yield self.body[: self.limit]
            return
        total = 0
        for piece in self._inflate():
            if total + len(piece) > self.limit:
                self.cut = True
                yield piece[: self.limit - total]
                return
            total += len(piece)
            yield piece

    def read(self) -> bytes:
        """The whole decoded content (at most ``limit`` bytes; see ``cut``)."""
        return b"".join(self)

    def _inflate(self) -> Iterator[bytes]:
        attempts = [zlib.MAX_WBITS | 32]  # zlib or gzip, told by the header
        if self.coding == "deflate":
            attempts.append(-zlib.MAX_WBITS)  # raw deflate, as some servers send it
        data, started = self.body, False
        while data:
            decoder = zlib.decompressobj(attempts[0])
            try:
                while True:
                    piece = decoder.decompress(data, self.PIECE)
                    data = decoder.unconsumed_tail
                    if piece:
                        started = True
                        yield piece
                    elif not data or decoder.eof:
                        break
            except zlib.error as exc:
                if not started and len(attempts) > 1:
                    attempts.pop(0)
                    data = self.body
                    continue
                if not started and self.lenient:
                    yield self.body
                    return
                raise ValueError(f"cannot decode {self.coding} content: {exc}") from None
            if not decoder.eof:
                if not started and self.lenient:
                    yield self.body
                    return
                raise ValueError(f"cannot decode {self.coding} content: it is cut short")
            data = decoder.unused_data  # another gzip member follows, or nothing
            if data and not data.startswith(b"\x1f\x8b"):
                break  # trailing bytes that are no gzip member: ignored, as zlib does


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
        """One exchange, bounded as a whole by ``timeout`` (see the module's docstring).

        An answer that began but did not finish in time comes back with ``unfinished`` set
        and whatever status it had got to; a server that said nothing at all raises, as a
        refused connection does, and is tried again.
        """
        exchange = _Exchange(self.config.timeout)
        opener = urllib.request.build_opener(
            _NoRedirect, _DeadlineHTTPHandler(exchange), _DeadlineHTTPSHandler(exchange)
        )
        opener.addheaders = [("User-Agent", self.config.user_agent)]
        request = urllib.request.Request(ascii_url(url), headers={"Accept-Encoding": "gzip"})
        late = (
            f"did not finish its answer within {self.config.timeout:g} s "
            "(PILOTARCHIVE_BACKFILL_TIMEOUT bounds a whole answer, not each read)"
        )
        try:
            answer = opener.open(request, timeout=self.config.timeout)
        except urllib.error.HTTPError as exc:  # 3xx, 4xx, 5xx: an answer all the same
            answer = exc
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            if exchange.received and _reason(exc) == "timed out":
                return Response(url=url, status=0, reason="", unfinished=late)
            raise
        with answer:
            status = answer.status if answer.status is not None else 0
            headers = list(answer.headers.items())
            try:
                body = answer.read(self.config.max_size + 1)
            except (OSError, http.client.HTTPException) as exc:
                if _reason(exc) != "timed out":
                    raise
                return Response(url, status, str(answer.reason or ""), headers, unfinished=late)
            return Response(
                url=url,
                status=status,
                reason=str(answer.reason or ""),
                headers=headers,
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
            if response.unfinished:
                return response  # not tried again: a server that drips would take as long
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
