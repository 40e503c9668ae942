"""WARC 1.1 writing with warcio: the raw exchange with the server, record by record.

Each snapshot has one WARC file, ``archive/pilotarchive-<snapshot id>.warc.gz``, each record
its own gzip member: a ``warcinfo`` first, then for every fetch a ``request`` and a
``response`` (or ``revisit``) linked by ``WARC-Concurrent-To``. The response block is the
HTTP head and the body as the server sent it: still content-encoded (gzip stays gzip), with
the transfer coding removed, as WARC 1.1 asks (the ``Transfer-Encoding`` header goes with
it, and ``Content-Length`` then states the stored length).

The clock and the record-id generator are injected, so tests compare archives byte for byte.
"""

import re
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from pilotarchive import __version__
from pilotarchive.archive.cdxj import IndexLines
from pilotarchive.exceptions import PilotarchiveError

WARC_VERSION = "WARC/1.1"
CONFORMS_TO = "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
# The first field of the metadata record that keeps a 304 answer's head (write_not_modified):
# the status line as received; the header lines follow as they came.
NOT_MODIFIED_STATUS_FIELD = "HTTP-Status-Line"
DIGEST_ALGORITHM = "sha1"  # what CDX indexes, Heritrix and pywb expect
_HOP_BY_HOP = {"transfer-encoding"}


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class WarcHeaderError(PilotarchiveError):
    """A value meant for a WARC header holds a control character (CR/LF would inject
    fields); it is refused rather than written."""


def header_value(name: str, value: str) -> str:
    if _CONTROL.search(value):
        raise WarcHeaderError(f"{name} {value[:80]!r} contains a control character")
    return value


class RawHeaders(StatusAndHeaders):
    """HTTP heads written as the bytes received.

    Header values arrive from Scrapy as bytes and are carried as latin-1 text, one
    character per byte. warcio would write non-ASCII values percent-encoded (RFC 8187),
    so an 8-bit ``Location`` or ``ETag`` would no longer be what the server sent; this
    writes each character back as its byte. warcio reads such heads back the same way
    (UTF-8 first, else latin-1).
    """

    def compute_headers_buffer(self, header_filter: Any = None) -> None:
        self.headers_buff = self.to_str(header_filter).encode("latin-1", "replace") + b"\r\n"


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


# The name a snapshot's own WARC gets (below), read back (a WACZ's resources name them):
# ``pilotarchive-<snapshot id>[-w<worker>].warc.gz``.
OWN_WARC_NAME = re.compile(r"pilotarchive-(\d{8}T\d{6}(?:\.\d+)?Z)(?:-w\d+)?\.warc\.gz")


@dataclass
class HttpExchange:
    """One request and its answer, as they crossed the wire."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    protocol: str  # "HTTP/1.1"
    status: int
    response_headers: list[tuple[str, str]]
    body: bytes  # transfer-decoded, still content-encoded
    date: datetime
    reason: str | None = None
    ip_address: str | None = None
    request_body: bytes = b""


@dataclass(frozen=True)
class WarcRef:
    """Where a record is: enough to go from a page record to the bytes it came from."""

    filename: str
    record_id: str
    offset: int
    date: str  # WARC-Date
    record_type: str  # "response" or "revisit"
    target_uri: str
    payload_digest: str | None
    refers_to: dict[str, Any] | None = None  # the original a revisit stands for

    def as_original(self, snapshot_id: str) -> dict[str, Any]:
        """What a later revisit of this record points at (the original, never a revisit)."""
        if self.refers_to:
            return self.refers_to
        return {
            "snapshot_id": snapshot_id,
            "filename": self.filename,
            "offset": self.offset,
            "record_id": self.record_id,
            "target_uri": self.target_uri,
            "date": self.date,
            "payload_digest": self.payload_digest,
        }


def payload_digest(body: bytes) -> str:
    digester = Digester(DIGEST_ALGORITHM)
    digester.update(body)
    return str(digester)


def warc_date(ts: datetime) -> str:
    return datetime_to_iso_date(ts.astimezone(UTC).replace(tzinfo=None), use_micros=True)


GZIP_LEVEL = 6  # warcio uses 9: three times the CPU for about 1 % smaller HTML records


class _GzipMember:
    """One gzip member per record, as warcio writes them, at our compression level."""

    def __init__(self, out: BinaryIO) -> None:
        self.compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        self.out = out

    def write(self, data: bytes) -> None:
        self.out.write(self.compressor.compress(data))

    def flush(self) -> None:
        self.out.write(self.compressor.flush())
        self.out.flush()


class _Writer(WARCWriter):
    """warcio's writer with our clock, record ids and compression level."""

    def __init__(self, out: BinaryIO, clock: Callable[[], datetime], make_id: Callable[[], str]):
        super().__init__(out, gzip=False, warc_version=WARC_VERSION)
        self._clock = clock
        self._make_id = make_id

    def _write_warc_record(self, out: Any, record: Any) -> None:
        super()._write_warc_record(_GzipMember(out), record)

    def _make_warc_id(self) -> str:  # type: ignore[override]
        return self._make_id()

    def curr_warc_date(self) -> str:
        return warc_date(self._clock())


@dataclass
class WarcArchive:
    """The WARC file of one snapshot, open for appending exchanges."""

    directory: Path
    snapshot_id: str
    info: dict[str, str] = field(default_factory=dict)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    make_id: Callable[[], str] = new_record_id
    part: int | None = None  # a worker's number, in a crawl split over processes
    resume: dict[str, Any] | None = None  # counts of the file so far, to append to it
    # Write the CDXJ lines as the records are (cdxj.IndexLines); never for a resumed file,
    # whose first records another process wrote.
    index: bool = False

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        suffix = "" if self.part is None else f"-w{self.part}"
        self.filename = f"pilotarchive-{self.snapshot_id}{suffix}.warc.gz"
        self.path = self.directory / self.filename
        lines = self.directory / f".tmp-{self.filename}.cdxj"
        lines.unlink(missing_ok=True)  # from before an interruption: the indexer reads all
        self.index_lines = IndexLines(lines) if self.index and self.resume is None else None
        # A resumed crawl appends (each record its own gzip member, so the file stays one
        # valid WARC); its new warcinfo record says when the crawl went on.
        self._fh = self.path.open("ab" if self.resume is not None else "wb")
        self._writer = _Writer(self._fh, self.clock, self.make_id)
        self.counts: dict[str, int] = dict((self.resume or {}).get("records", {}))
        self.payload_bytes = int((self.resume or {}).get("payload_bytes", 0))
        info = {
            "software": f"pilotarchive/{__version__} (warcio, Scrapy)",
            "format": "WARC File Format 1.1",
            "conformsTo": CONFORMS_TO,
            "isPartOf": self.snapshot_id,
            **{k: header_value(k, v) for k, v in self.info.items()},
            **(
                {"description-resumed": "the crawl was interrupted and resumed here"}
                if self.resume is not None
                else {}
            ),
        }
        self._write(self._writer.create_warcinfo_record(self.filename, info))

    def _write(self, record: Any, method: str = "GET") -> int:
        offset = self._fh.tell()
        lines = self.index_lines
        try:
            self._writer.write_record(record)
        except BaseException:
            if lines is not None:
                lines.exact = False  # a record half written: the indexer reads what is there
            raise
        if lines is not None:
            lines.add(record, method, offset, self._fh.tell() - offset, self.filename)
        kind = record.rec_headers.get_header("WARC-Type")
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return offset

    def _http_response(self, ex: HttpExchange) -> StatusAndHeaders:
        reason = ex.reason or _phrase(ex.status)
        headers = [(k, v) for k, v in ex.response_headers if k.lower() not in _HOP_BY_HOP]
        if any(k.lower() == "transfer-encoding" for k, _ in ex.response_headers):
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(ex.body))))
        return RawHeaders(f"{ex.status} {reason}".strip(), headers, protocol=ex.protocol)

    def _request_record(self, ex: HttpExchange, date: str, concurrent_to: str) -> Any:
        path = ex.url.split("://", 1)[-1]
        path = "/" + path.split("/", 1)[1] if "/" in path else "/"
        http = RawHeaders(
            f"{ex.method} {path} {ex.protocol}", ex.request_headers, is_http_request=True
        )
        return self._writer.create_warc_record(
            ex.url,
            "request",
            payload=BytesIO(ex.request_body),
            length=len(ex.request_body),
            http_headers=http,
            warc_headers_dict={
                "WARC-Record-ID": self.make_id(),
                "WARC-Date": date,
                "WARC-Concurrent-To": concurrent_to,
            },
        )

    def _warc_headers(self, ex: HttpExchange, date: str) -> dict[str, str]:
        header_value("WARC-Target-URI", ex.url)
        headers = {"WARC-Record-ID": self.make_id(), "WARC-Date": date}
        if ex.ip_address:
            headers["WARC-IP-Address"] = ex.ip_address
        return headers

    def write_response(self, ex: HttpExchange) -> WarcRef:
        date = warc_date(ex.date)
        warc_headers = self._warc_headers(ex, date)
        digest = payload_digest(ex.body)
        warc_headers["WARC-Payload-Digest"] = digest
        record = self._writer.create_warc_record(
            ex.url,
            "response",
            payload=BytesIO(ex.body),
            length=len(ex.body),
            http_headers=self._http_response(ex),
            warc_headers_dict=warc_headers,
        )
        offset = self._write(record, ex.method)
        self._write(self._request_record(ex, date, warc_headers["WARC-Record-ID"]))
        self.payload_bytes += len(ex.body)
        return WarcRef(
            self.filename, warc_headers["WARC-Record-ID"], offset, date, "response", ex.url, digest
        )

    def write_revisit(self, ex: HttpExchange, original: dict[str, Any], profile: str) -> WarcRef:
        """A revisit: the HTTP head only, pointing at the original response record."""
        date, record_id, offset, digest = self._revisit(ex, original, profile,
                                                        self._http_response(ex))  # fmt: skip
        return WarcRef(
            self.filename, record_id, offset, date, "revisit", ex.url, digest, refers_to=original
        )

    def _revisit(
        self, ex: HttpExchange, original: dict[str, Any], profile: str, http_headers: Any
    ) -> tuple[str, str, int, str]:
        """A revisit record of ``profile`` and its request: (date, record id, offset, digest)."""
        date = warc_date(ex.date)
        warc_headers = self._warc_headers(ex, date)
        warc_headers["WARC-Refers-To"] = original["record_id"]
        digest = original.get("payload_digest") or payload_digest(ex.body)
        record = self._writer.create_revisit_record(
            ex.url,
            digest,
            original["target_uri"],
            original["date"],
            http_headers=http_headers,
            warc_headers_dict=warc_headers,
        )
        record.rec_headers.replace_header("WARC-Profile", profile)
        offset = self._write(record, ex.method)
        self._write(self._request_record(ex, date, warc_headers["WARC-Record-ID"]))
        return date, warc_headers["WARC-Record-ID"], offset, digest

    def write_not_modified(self, ex: HttpExchange, original: dict[str, Any]) -> WarcRef:
        """A 304 Not Modified answer: a block-less ``server-not-modified`` revisit that
        replay tools resolve to the original, and the 304 head as received beside it.

        A revisit's HTTP head is what pywb and ReplayWeb.page replay, with the original's
        payload: a 304 head there replays as an empty 304. WARC 1.1 (6.7.3) lets this
        profile's record have no block (Content-Length 0), and defines its payload as the
        original's; both tools then replay the original's status, headers and payload at
        the revisit's date. What the server sent is kept too, not rewritten: its 304 head,
        byte for byte, in a ``metadata`` record (``application/warc-fields``, which no
        replay indexer takes for a capture) concurrent to the revisit. See docs/replay.md.
        """
        date, revisit_id, offset, digest = self._revisit(ex, original, PROFILE_NOT_MODIFIED, None)
        # "HTTP/1.1 304 Not Modified" is no named field: it gets a name; each header line
        # is one already, and is written back as the bytes received (see RawHeaders).
        head = self._http_response(ex).to_str(None)
        fields = f"{NOT_MODIFIED_STATUS_FIELD}: {head}".encode("latin-1", "replace")
        metadata = self._writer.create_warc_record(
            ex.url,
            "metadata",
            payload=BytesIO(fields),
            length=len(fields),
            warc_content_type="application/warc-fields",
            warc_headers_dict={
                "WARC-Record-ID": self.make_id(),
                "WARC-Date": date,
                "WARC-Concurrent-To": revisit_id,
            },
        )
        self._write(metadata)
        return WarcRef(
            self.filename, revisit_id, offset, date, "revisit", ex.url, digest, refers_to=original
        )

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            self._fh.close()
        if self.index_lines is not None:
            self.index_lines.close()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
