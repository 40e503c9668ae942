"""A snapshot's responses, as a live crawl saw them or read back from its WARC.

A derivation needs, for each page, what the server answered (URL, status, headers, body)
and what the crawl knew besides (redirects, the fetch's own status, validators, where the
record is in the WARC). A live crawl hands these over page by page; for an archived
snapshot they are read back: the page records say which WARC record holds each page
(its own response, or the original a revisit stands for), and the WARC gives the bytes,
their digests checked, so a damaged WARC is found before anything is rewritten.
"""

import zlib
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warcio.exceptions import ArchiveLoadFailed

from pilotarchive.archive.read import MAX_PAYLOAD, QuietArchiveIterator, original_of
from pilotarchive.archive.snapshot import RECORD_FILES, iter_records
from pilotarchive.archive.warc import WarcRef
from pilotarchive.exceptions import SnapshotError
from pilotarchive.records.build import FetchFacts


@dataclass(frozen=True)
class Response:
    """One page as fetched: what extraction reads."""

    url: str  # as requested (the start of a redirect chain)
    final_url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    link_hint: str | None = None  # the language of the link that led here, when known
    facts: FetchFacts = field(default_factory=lambda: FetchFacts("", ""))
    # The server said 304 Not Modified and the crawl carried the page over from this
    # earlier snapshot: a fact of the crawl that a new reading of the bytes keeps.
    carried_over_from: str | None = None
    # Fields of the page record no reading can give, kept as they were: where its bytes came
    # from (``capture``, a backfilled page's web-archive capture).
    kept: Mapping[str, Any] = field(default_factory=dict)


KEPT_FIELDS = ("capture",)


class CannotReread(SnapshotError):
    """A snapshot that cannot be derived again from its own captures (no WARC, a damaged
    one, a page whose bytes are not there); it is named and left as it is."""


class NoCapture(CannotReread):
    """A snapshot made before captures were archived (record schema 1.0): nothing to read
    again, and nothing wrong with it."""


def _warc_ref(page: dict[str, Any]) -> WarcRef | None:
    if not page.get("warc_record_id"):
        return None
    return WarcRef(
        filename=page.get("warc_filename") or "",
        record_id=page["warc_record_id"],
        offset=int(page.get("warc_offset") or 0),
        date=page.get("warc_date") or "",
        record_type=page.get("warc_record_type") or "response",
        target_uri=page.get("final_url") or "",
        payload_digest=page.get("warc_payload_digest"),
        refers_to=page.get("warc_refers_to"),
    )


def facts_of(page: dict[str, Any], snapshot_id: str) -> FetchFacts:
    """What the crawl knew of a page beyond its bytes, as its page record kept it."""
    return FetchFacts(
        snapshot_id=snapshot_id,
        retrieved_at=page.get("retrieved_at") or "",
        redirects=list(page.get("redirects") or []),
        content_length=int(page.get("content_length") or 0),
        fetch_status=page.get("fetch_status", page.get("status")),
        http_etag=page.get("http_etag"),
        http_last_modified=page.get("http_last_modified"),
        warc=_warc_ref(page),
    )


def read_exchange(snapshots_dir: Path, original: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """The HTTP headers and the content-decoded body of a response record, its digests
    checked to the end of the record (as :func:`pilotarchive.archive.read.read_payload`)."""
    warc = Path(snapshots_dir) / original["snapshot_id"] / "archive" / original["filename"]
    where = f"{warc} at offset {original['offset']}"
    try:
        with warc.open("rb") as fh:
            fh.seek(int(original["offset"]))
            record = next(iter(QuietArchiveIterator(fh, check_digests=True)), None)
            if record is None or (
                record.rec_headers.get_header("WARC-Record-ID") != original["record_id"]
            ):
                raise CannotReread(f"{where}: no record {original['record_id']}")
            headers: dict[str, str] = {}
            if record.http_headers is not None:
                for name, value in record.http_headers.headers:
                    headers.setdefault(name, value)
            body = record.content_stream().read(MAX_PAYLOAD + 1)
            if len(body) > MAX_PAYLOAD:
                raise CannotReread(f"{where}: its content is larger than {MAX_PAYLOAD:,} bytes")
            while record.raw_stream.read(1 << 16):
                pass
            if record.digest_checker.passed is False:
                problems = "; ".join(record.digest_checker.problems)
                raise CannotReread(f"{where}: damaged ({problems})")
            return headers, body
    except CannotReread:
        raise
    except (OSError, EOFError, zlib.error, ArchiveLoadFailed, ValueError) as exc:
        raise CannotReread(f"{where}: cannot be read ({type(exc).__name__}: {exc})") from exc


def archived_pages(path: Path) -> list[dict[str, Any]]:
    """The page records of a snapshot (its current derivation), in file order."""
    pages = []
    for name, n, record, error in iter_records(path):
        if name != RECORD_FILES["page"]:
            continue
        if record is None:
            raise CannotReread(f"{path / 'records' / name}:{n}: {error}")
        pages.append(record)
    return pages


def check_warcs(path: Path) -> None:
    """Every WARC file of the snapshot reads to its end with its digests right: a snapshot
    is re-derived from whole captures or not at all."""
    from pilotarchive.archive.check import check_warc

    warcs = sorted((path / "archive").glob("*.warc.gz"))
    if not warcs:
        raise NoCapture(
            f"{path.name}: no WARC (made by a release before captures were archived); its "
            "records stay as they were derived"
        )
    for warc in warcs:
        problems, _records = check_warc(warc, f"archive/{warc.name}")
        if problems:  # the first, cut short: it may quote a line of garbled bytes
            said = problems[0] if len(problems[0]) <= 160 else problems[0][:160] + "..."
            raise CannotReread(f"{path.name}: {said}")


def archived_responses(
    path: Path, snapshot_id: str | None = None
) -> Generator[Response, None, None]:
    """The responses a snapshot's pages were read from, read back from the WARCs.

    :class:`CannotReread` (before the first response, for a missing or damaged WARC; on
    the way, for a page whose bytes are gone) says why the snapshot cannot be re-derived.
    """
    path = Path(path)
    snapshot_id = snapshot_id or path.name
    check_warcs(path)
    for page in archived_pages(path):
        original = original_of(page, snapshot_id)
        if original is None:
            raise CannotReread(
                f"{path.name}: page {page.get('final_url')} has no archived response to read"
            )
        if original["snapshot_id"] == snapshot_id:
            original = {**original, "snapshot_id": path.name}
        headers, body = read_exchange(path.parent, original)
        hint = page.get("language") if page.get("language_source") == "link" else None
        yield Response(
            url=page.get("url") or page.get("final_url") or "",
            final_url=page.get("final_url") or page.get("url") or "",
            status=int(page.get("status") or 0),
            headers=headers,
            body=body,
            link_hint=hint,
            facts=facts_of(page, snapshot_id),
            carried_over_from=page.get("carried_over_from") if page.get("unchanged") else None,
            kept={key: page[key] for key in KEPT_FIELDS if page.get(key) is not None},
        )
