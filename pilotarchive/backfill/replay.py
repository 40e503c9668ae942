"""A capture's original bytes: ``{prefix}{timestamp}id_/{URL}``, never the rewritten page.

The ``id_`` form asks the archive for the payload as captured. The head comes back mixed:
the archive's own headers (``Memento-Datetime``, ``Link``, its ``Date`` and ``Server``), the
original's headers that could be mistaken for the archive's under an ``X-Archive-Orig-``
prefix, and a few passed through as they were (``Content-Type``, ``Location``, and
``Content-Encoding`` when the payload is sent as stored). The original head is put back
together from the last two; the archive's own headers go to the WARC's metadata record.

The payload is checked against the digest the CDX index gave (SHA-1 of the payload as
stored, content-encoding kept): we ask for gzip so a gzipped capture comes back as it was
stored; if an archive compressed an uncompressed capture for the transfer, the decoded
bytes are the ones that match and are kept.

Decoding stops at ``DOWNLOAD_MAXSIZE`` bytes, as the crawl's download does: a capture
whose content goes on past it (a decompression bomb, say) is a failure that names the
limit, never read whole into memory. An answer the archive did not finish within the
timeout is a failure too.
"""

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

from w3lib.url import safe_url_string

from pilotarchive.backfill.cdx import Capture, url_key
from pilotarchive.backfill.client import BoundedDecoder, PoliteClient, Response, http_date

ORIG_PREFIX = "x-archive-orig-"
# Headers an archive passes through unprefixed that belong to the original response.
PASSED_THROUGH = {
    "content-type",
    "content-encoding",
    "location",
    "content-language",
    "content-disposition",
}
# Headers of the original that describe the transfer, not the payload as stored.
TRANSFER = {"content-length", "transfer-encoding", "connection", "keep-alive"}
MAX_ARCHIVE_HOPS = 3
_ARCHIVED = re.compile(r"/(?P<ts>\d{1,14})(?:[a-z]{2}_)?/(?P<url>https?:/+.+)$", re.I)


def replay_url(prefix: str, timestamp: str, url: str) -> str:
    return f"{prefix}{timestamp}id_/{url}"


def sha1_base32(body: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def _header_text(value: str) -> str:
    """A header read as latin-1 (each byte a character) as the UTF-8 it was sent in, when
    it is UTF-8: browsers and Scrapy read a Location's 8-bit bytes so."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def unarchived(location: str, base: str) -> tuple[str, str] | None:
    """``(timestamp, original URL)`` when ``location`` (resolved against ``base``, an archive
    URL) points into the archive; None when it is an original URL or path."""
    absolute = urljoin(base, location)
    if urlsplit(absolute).netloc != urlsplit(base).netloc:
        return None
    parts = urlsplit(absolute)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    m = _ARCHIVED.search(path)
    if not m:
        return None
    original = re.sub(r"^(https?):/+", r"\1://", m.group("url"), flags=re.I)
    return m.group("ts"), original


@dataclass
class Fetched:
    """A capture as read from the archive (or, when ``held``, from our own archive)."""

    capture: Capture
    replay_url: str
    status: int = 0
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)  # the original head
    archive_headers: list[tuple[str, str]] = field(default_factory=list)  # as the archive sent
    body: bytes = b""  # the payload as stored (content-encoding kept)
    digest: str | None = None  # of body, sha1:BASE32
    digest_verified: bool = False
    location: str | None = None  # a redirect's target, as an original URL
    fetched_at: datetime | None = None
    error: str | None = None  # why the capture could not be used
    held: dict | None = None  # the original record already archived (not fetched again)
    content: bytes | None = None  # body with its content-encoding undone, for extraction
    served: str | None = None  # the archive gave the payload from its capture of this time
    unfinished: bool = False  # the archive did not finish its answer in time

    @property
    def archive_failed(self) -> bool:
        """The archive failed to give it (a 5xx, an answer not finished in time), rather
        than the capture being unusable: a few in a row mean the replay is failing."""
        return self.error is not None and (self.status >= 500 or self.unfinished)

    @property
    def usable(self) -> bool:
        return self.error is None

    def header(self, name: str) -> str | None:
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), None)


def original_head(archive_headers: list[tuple[str, str]], encoded: bool) -> list[tuple[str, str]]:
    """The original response's headers put back together (see the module's docstring).

    ``encoded`` says whether the payload we keep is still content-encoded; when it is not,
    no ``Content-Encoding`` is kept, so the head describes the bytes stored with it.
    """
    head: list[tuple[str, str]] = []
    for name, value in archive_headers:
        low = name.lower()
        if low.startswith(ORIG_PREFIX):
            name, low = name[len(ORIG_PREFIX) :], low[len(ORIG_PREFIX) :]
        elif low not in PASSED_THROUGH:
            continue
        if low in TRANSFER or (low == "content-encoding" and not encoded):
            continue
        if any(k.lower() == low for k, _ in head) and low != "set-cookie":
            continue  # the first one given wins (an archive may give both forms)
        head.append((name, value))
    return head


def decode_content(body: bytes, encoding: str | None, limit: int) -> bytes:
    """The payload with its content-encoding undone (gzip, deflate), as a stream that stops
    at ``limit`` bytes; ValueError when it cannot be decoded or goes on past ``limit``."""
    decoder = BoundedDecoder(body, encoding, limit)
    content = decoder.read()
    if decoder.cut:
        raise ValueError(
            f"its content, decompressed, is larger than DOWNLOAD_MAXSIZE ({limit:,} bytes): "
            f"cut, not read ({len(body):,} bytes as sent)"
        )
    return content


def _memento_timestamp(response: Response) -> str | None:
    when = http_date(response.header("Memento-Datetime"))
    return None if when is None else when.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def fetch_capture(
    client: PoliteClient,
    prefix: str,
    capture: Capture,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Fetched:
    """Read one capture. A capture the archive cannot give is returned with ``error`` set;
    only an archive that cannot be reached at all raises (:class:`ArchiveError`)."""
    url = replay_url(prefix, capture.timestamp, capture.url)
    fetched = Fetched(capture, url)
    response = client.get(url)
    fetched.fetched_at = now()
    if response.unfinished:
        fetched.status, fetched.reason, fetched.unfinished = response.status, response.reason, True
        fetched.error = f"the archive {response.unfinished}; not kept"
        return fetched
    hops = 0
    # An archive may redirect an id_ URL to its own copy at another time (a capture it does
    # not have at the exact second asked for): that is the archive's redirect, not the
    # capture's; followed, then checked below.
    while not capture.is_redirect and 300 <= response.status < 400 and hops < MAX_ARCHIVE_HOPS:
        target = unarchived(response.header("Location") or "", response.url)
        if target is None or url_key(target[1]) != capture.key:
            break
        response = client.get(urljoin(response.url, response.header("Location") or ""))
        hops += 1
        if response.unfinished:
            fetched.status, fetched.unfinished = response.status, True
            fetched.error = f"the archive {response.unfinished}; not kept"
            return fetched
    fetched.status, fetched.reason = response.status, response.reason
    fetched.archive_headers = response.headers
    served = _memento_timestamp(response)
    if hops and served is None:
        served = (unarchived(response.url, response.url) or ("",))[0]
    if served and served != capture.timestamp:
        fetched.served = served  # accepted below only with the payload the index lists
    expected_redirect = capture.is_redirect
    if response.status >= 400 or (300 <= response.status < 400) != expected_redirect:
        if capture.status is None and response.status < 400:
            pass  # a revisit listed without its status: the replay says what it was
        else:
            fetched.error = (
                f"the archive answered {response.status} {response.reason} for this capture "
                f"(listed with status {capture.status if capture.status is not None else '-'})"
            )
            return fetched
    if response.oversize:
        fetched.error = f"larger than DOWNLOAD_MAXSIZE ({client.config.max_size:,} bytes): not kept"
        return fetched
    body = response.body
    sent_encoding = response.header("Content-Encoding")
    encoded = (sent_encoding or "identity").strip().lower() != "identity"
    digest = sha1_base32(body)
    if capture.digest and digest != capture.digest and encoded:
        # Compressed for the transfer only? Then the decoded bytes are the capture's.
        try:
            plain = decode_content(body, sent_encoding, client.config.max_size)
        except ValueError:
            plain = None
        if plain is not None and sha1_base32(plain) == capture.digest:
            body, digest, encoded = plain, capture.digest, False
    fetched.body = body
    fetched.digest = digest
    fetched.digest_verified = capture.digest is not None and digest == capture.digest
    if fetched.served and not fetched.digest_verified:
        # Another capture, with other bytes: not the one listed (a revisit the archive
        # resolves to its original has the same payload, and is accepted).
        fetched.error = (
            f"the archive gave its capture of {fetched.served} for the one of "
            f"{capture.timestamp}, with another payload (the index lists a capture it "
            "cannot replay)"
        )
        return fetched
    fetched.headers = original_head(response.headers, encoded)
    fetched.headers.append(("Content-Length", str(len(body))))
    if 300 <= response.status < 400:
        location = response.header("Location")
        if location:
            inside = unarchived(location, response.url)
            # Percent-encoded once, as Scrapy does a Location in the crawl: a space, a
            # control character or 8-bit text would otherwise name one URL in the records
            # and another in the WARC (warcio encodes the target URI itself).
            raw = inside[1] if inside else urljoin(capture.url, location.strip())
            fetched.location = safe_url_string(_header_text(raw), encoding="utf-8")
            if inside:  # rewritten into the archive: the original pointed at the original URL
                fetched.headers = [
                    (k, inside[1] if k.lower() == "location" else v) for k, v in fetched.headers
                ]
        return fetched
    try:
        fetched.content = decode_content(
            body, fetched.header("Content-Encoding"), client.config.max_size
        )
    except ValueError as exc:
        fetched.error = str(exc)
    return fetched
