"""One group of captures written as a snapshot, the way a crawl writes one.

The snapshot's id and times are the capture times (the first capture's time is the id, a
microsecond later if that id is taken),
its manifest says ``origin: "backfill"`` and keeps the archive, the window and when the
backfill ran in ``settings``; every page record names its capture (``capture``: original
URL, capture time, replay URL, the archive's digest); a language version linked from the
captured pages but not captured in the window is listed under ``skipped`` as "not
captured", which diffs show as not fetched, never as removed.

The WARC holds, per capture read from the archive, a ``response`` record as captured (the
capture time as ``WARC-Date``, the original URL as ``WARC-Target-URI``, the original head
put back together, the payload as stored) and a ``metadata`` record that refers to it and
says where it came from (replay URL, archive timestamp and digest, when we read it, the
archive's own headers). No ``request`` record: we never asked the original server. A
capture whose payload is already archived (here or in an earlier snapshot) is a
``revisit`` with the identical-payload-digest profile, as in a crawl.
"""

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.timeutils import datetime_to_iso_date

from pilotarchive import __version__
from pilotarchive.archive.cdxj import write_cdxj
from pilotarchive.archive.dedup import DigestIndex, Staged
from pilotarchive.archive.read import read_payload
from pilotarchive.archive.snapshot import (
    SnapshotWriter,
    iso,
    list_snapshots,
    make_snapshot_id,
    snapshot_dir,
    utc_now,
)
from pilotarchive.archive.warc import (
    PROFILE_IDENTICAL,
    RawHeaders,
    WarcArchive,
    WarcHeaderError,
    WarcRef,
    header_value,
    new_record_id,
)
from pilotarchive.backfill.cdx import Capture, url_key
from pilotarchive.backfill.config import BackfillConfig
from pilotarchive.backfill.replay import Fetched
from pilotarchive.diff.health import judge, last_healthy
from pilotarchive.diff.load import load_snapshot
from pilotarchive.exceptions import SnapshotError
from pilotarchive.extract.page import PageExtraction, extract_page
from pilotarchive.records.build import FetchFacts, build_records

_CONTROL = str.maketrans({chr(c): " " for c in (*range(32), 127)})


def capture_date(capture: Capture) -> str:
    return datetime_to_iso_date(capture.time.replace(tzinfo=None))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class CaptureArchive(WarcArchive):
    """A snapshot's WARC for captures: response (or revisit) and metadata, no request."""

    def _head(self, status: int, reason: str, headers: list[tuple[str, str]]) -> RawHeaders:
        return RawHeaders(
            f"{status} {reason or _phrase(status)}".strip(), headers, protocol="HTTP/1.1"
        )

    def write_capture(self, fetched: Fetched) -> WarcRef:
        capture = fetched.capture
        uri = header_value("WARC-Target-URI", capture.url)
        date = capture_date(capture)
        ident = self.make_id()
        digest = fetched.digest or ""
        record = self._writer.create_warc_record(
            uri,
            "response",
            payload=BytesIO(fetched.body),
            length=len(fetched.body),
            http_headers=self._head(fetched.status, fetched.reason, fetched.headers),
            warc_headers_dict={
                "WARC-Record-ID": ident,
                "WARC-Date": date,
                "WARC-Payload-Digest": digest,
            },
        )
        offset = self._write(record)
        self.payload_bytes += len(fetched.body)
        return WarcRef(self.filename, ident, offset, date, "response", uri, digest)

    def write_revisit_of(
        self, fetched: Fetched, original: dict[str, Any], head: RawHeaders
    ) -> WarcRef:
        """A capture whose payload is archived already: its head, pointing at the original."""
        capture = fetched.capture
        uri = header_value("WARC-Target-URI", capture.url)
        date = capture_date(capture)
        ident = self.make_id()
        record = self._writer.create_revisit_record(
            uri,
            original["payload_digest"],
            original["target_uri"],
            original["date"],
            http_headers=head,
            warc_headers_dict={
                "WARC-Record-ID": ident,
                "WARC-Date": date,
                "WARC-Refers-To": original["record_id"],
            },
        )
        record.rec_headers.replace_header("WARC-Profile", PROFILE_IDENTICAL)
        offset = self._write(record)
        return WarcRef(
            self.filename,
            ident,
            offset,
            date,
            "revisit",
            uri,
            original["payload_digest"],
            refers_to=original,
        )

    def write_metadata(self, uri: str, date: str, refers_to: str, fields: list[tuple[str, str]]):
        data = "".join(f"{k}: {str(v).translate(_CONTROL)}\r\n" for k, v in fields)
        payload = data.encode("utf-8")
        record = self._writer.create_warc_record(
            header_value("WARC-Target-URI", uri),
            "metadata",
            payload=BytesIO(payload),
            length=len(payload),
            warc_content_type="application/warc-fields",
            warc_headers_dict={
                "WARC-Record-ID": self.make_id(),
                "WARC-Date": date,
                "WARC-Refers-To": refers_to,
            },
        )
        self._write(record)


@dataclass
class BackfillWriter(SnapshotWriter):
    """A snapshot writer whose manifest also lists the captures the snapshot was made from
    (``captures``, manifest 1.4.0): what the archive held, and what came of each."""

    captures: list[dict[str, Any]] = field(default_factory=list)

    def manifest(self, finished: datetime) -> dict[str, Any]:
        manifest = super().manifest(finished)
        manifest["captures"] = sorted(self.captures, key=lambda c: (c["timestamp"], c["url"]))
        return manifest

    def capture(self, got: Fetched, result: str, ref: WarcRef | None = None) -> None:
        self.captures.append(
            {
                "url": got.capture.url,
                "timestamp": got.capture.timestamp,
                "status": got.capture.status,
                "digest": got.capture.digest,
                "replay_url": got.replay_url,
                "result": result,
                "location": got.location,
                "warc_record_id": ref.record_id if ref else None,
            }
        )


def read_head(snapshots: Path, original: dict[str, Any]) -> tuple[int, str, list[tuple[str, str]]]:
    """The HTTP status, reason and headers of an archived response record."""
    warc = snapshots / original["snapshot_id"] / "archive" / original["filename"]
    try:
        with warc.open("rb") as fh:
            fh.seek(original["offset"])
            record = next(iter(ArchiveIterator(fh)), None)
            if record is None or record.http_headers is None:
                raise SnapshotError(f"{warc} at offset {original['offset']}: no HTTP record")
            http = record.http_headers
            status_line = http.statusline or ""
            code, _, reason = status_line.partition(" ")
            return int(code), reason, list(http.headers)
    except (OSError, EOFError, zlib.error, ArchiveLoadFailed, ValueError) as exc:
        raise SnapshotError(f"{warc}: cannot be read ({type(exc).__name__}: {exc})") from exc


def read_held(output: Path, fetched: Fetched, original: dict[str, Any]) -> Fetched:
    """``fetched`` filled from our own archive: the original's head and decoded body.

    Raises :class:`SnapshotError` when the original cannot be read whole (then the
    capture is fetched from the archive after all).
    """
    snapshots = snapshot_dir(output)
    fetched.content = read_payload(snapshots, original)
    fetched.status, fetched.reason, headers = read_head(snapshots, original)
    # The body was decoded on reading; its head must not claim an encoding any more.
    fetched.headers = [(k, v) for k, v in headers if k.lower() != "content-encoding"]
    fetched.held = original
    fetched.digest = original.get("payload_digest")
    fetched.digest_verified = fetched.digest == fetched.capture.digest
    return fetched


@dataclass
class Written:
    """What came of one group."""

    snapshot_id: str
    path: Path | None
    degraded: bool = False
    why_not: str | None = None  # when no snapshot was written
    fetched: int = 0
    held: int = 0
    failed: int = 0


@dataclass
class SnapshotMaker:
    """Writes groups of captures as snapshots into ``config.output``."""

    config: BackfillConfig
    index: DigestIndex | None
    hints: Callable[[str], str | None] = lambda key: None
    clock: Callable[[], datetime] = utc_now
    make_id: Callable[[], str] | None = None
    notes: list[str] = field(default_factory=list)  # for the next snapshot's manifest
    # Per snapshot being written: payloads archived in full (for the index), revisits made,
    # earlier snapshots the revisits point into.
    staged: Staged = field(default_factory=Staged)
    revisits: int = 0
    depends_on: set[str] = field(default_factory=set)

    def write(
        self,
        group: list[Capture],
        reads: dict[tuple[str, str], Fetched],
        not_captured: list[str],
    ) -> Written:
        start, end = group[0].time, group[-1].time
        ident = make_snapshot_id(start)
        pages = [
            reads[c.id]
            for c in group
            if reads[c.id].usable and not c.is_redirect and reads[c.id].location is None
        ]
        if not pages:
            reasons = "; ".join(
                f"{c.url} {c.timestamp}: {reads[c.id].error}" for c in group if reads[c.id].error
            )
            return Written(ident, None, why_not=reasons or "it holds only redirects")
        writer = BackfillWriter(
            self.config.output,
            start_urls=self.config.urls,
            scope="page",
            settings={**self.config.describe(), "backfilled_at": iso(self.clock())},
            clock=lambda: end,
            origin="backfill",
            target=self.config.target,
            # The first capture's time; a microsecond later in the rare case that another
            # snapshot has that id (two URLs captured in the same second, say).
            snapshot_id="",
            started=start,
        )
        warc: CaptureArchive | None = None
        try:
            warc = CaptureArchive(
                writer.path / "archive",
                writer.snapshot_id,
                info={
                    "software": f"pilotarchive/{__version__} (warcio; backfill)",
                    "operator": self.config.operator,
                    "http-header-user-agent": self.config.user_agent,
                    "description": (
                        "pilotarchive backfill: web-archive captures of "
                        + " ".join(self.config.urls)
                        + f" from {self.config.cdx_api}, read from {self.config.replay}"
                    ),
                },
                make_id=self.make_id or new_record_id,
            )
            result = self._fill(writer, warc, group, reads, not_captured)
            warc.close()
            if result.path is None and result.why_not:
                writer.abort()
                return result
            result.path = self._commit(writer, warc)
            manifest = json.loads((result.path / "manifest.json").read_text(encoding="utf-8"))
            result.degraded = (manifest.get("health") or {}).get("verdict") == "degraded"
            return result
        except BaseException:
            if warc is not None:
                warc.close()
            writer.abort()
            raise

    # -- filling -------------------------------------------------------------------------

    def _fill(
        self,
        writer: BackfillWriter,
        warc: CaptureArchive,
        group: list[Capture],
        reads: dict[tuple[str, str], Fetched],
        not_captured: list[str],
    ) -> Written:
        result = Written(writer.snapshot_id, None)
        self.staged, self.revisits, self.depends_on = Staged(), 0, set()
        refs: dict[tuple[str, str], WarcRef] = {}
        chains: dict[str, list[Fetched]] = {}
        for capture in group:
            got = reads[capture.id]
            if got.error:
                result.failed += 1
                writer.fail(capture.url, f"{got.error} ({got.replay_url})", got.status or None)
                writer.capture(got, "failed")
                continue
            try:
                if got.location is not None:  # a captured redirect
                    if got.fetched_at is None:
                        writer.capture(got, "known")
                    else:
                        writer.capture(got, "fetched", self._archive(writer, warc, got))
                        writer.fetched += 1
                        result.fetched += 1
                    chains.setdefault(url_key(got.location), []).append(got)
                    continue
                refs[capture.id] = self._archive(writer, warc, got)
            except WarcHeaderError as exc:
                result.failed += 1
                writer.fail(capture.url, f"not archived: {exc}", got.status)
                writer.capture(got, "failed")
                continue
            if got.held is not None:
                result.held += 1
                writer.capture(got, "held", refs[capture.id])
            else:
                writer.fetched += 1
                result.fetched += 1
                writer.capture(got, "fetched", refs[capture.id])
        usable = 0
        for capture in group:
            got = reads[capture.id]
            if capture.id not in refs:
                continue
            usable += self._records(writer, got, refs[capture.id], chains.get(capture.key, []))
        for url in not_captured:
            days = self.config.window / timedelta(days=1)
            writer.skip(
                url,
                f"not captured within {days:g} days of {group[0].time:%Y-%m-%d %H:%M} UTC "
                "(or only identical to an earlier capture)",
            )
        for note in self.notes:
            writer.note(note)
        self.notes = []
        if usable == 0:
            failures = "; ".join(f"{f['url']}: {f['reason']}" for f in writer.failures[:3])
            result.why_not = "no page in it could be read" + (f" ({failures})" if failures else "")
        return result

    def _archive(self, writer: SnapshotWriter, warc: CaptureArchive, got: Fetched) -> WarcRef:
        """The capture into the WARC: in full, or as a revisit when its payload is known."""
        capture = got.capture
        via = "archived already, not fetched again"
        if got.held is not None:
            ref = warc.write_revisit_of(
                got, got.held, warc._head(got.status, got.reason, got.headers)
            )
            self.revisits += 1
            self._depend(writer, got.held)
        else:
            original = None
            if got.body and got.digest:
                original = self.staged.get(got.digest) or self._lookup(got.digest, capture.url)
            if original is not None:
                ref = warc.write_revisit_of(
                    got, original, warc._head(got.status, got.reason, got.headers)
                )
                self.revisits += 1
                self._depend(writer, original)
                via = "fetched; its payload was archived already, so kept as a revisit"
            else:
                ref = warc.write_capture(got)
                via = "fetched"
                if got.body and got.digest:
                    self.staged.add(ref.as_original(writer.snapshot_id))
        fields: list[tuple[str, str]] = [
            ("via", got.replay_url),
            ("archive-timestamp", capture.timestamp),
            ("archive-digest", capture.digest or "-"),
            ("cdx-api", self.config.cdx_api),
            ("payload", via),
        ]
        if got.fetched_at is not None:
            fields += [
                ("fetched-at", iso(got.fetched_at)),
                ("archive-status", f"{got.status} {got.reason}".strip()),
                ("digest-verified", "yes" if got.digest_verified else "no"),
            ]
            if got.served:
                fields.append(("archive-served-timestamp", got.served))
            fields += [("archive-header", f"{k}: {v}") for k, v in got.archive_headers]
        if got.held is not None:
            held = got.held
            where = f"{held['snapshot_id']}/archive/{held['filename']} offset {held['offset']}"
            fields.append(("held-in", where))
        warc.write_metadata(capture.url, ref.date, ref.record_id, fields)
        if got.fetched_at is not None and capture.digest and not got.digest_verified:
            self.notes.append(
                f"{capture.url} {capture.timestamp}: the bytes read hash to {got.digest}, the "
                f"archive's index says {capture.digest}; kept as read"
            )
        return ref

    def _depend(self, writer: SnapshotWriter, original: dict[str, Any]) -> None:
        if original["snapshot_id"] != writer.snapshot_id:
            self.depends_on.add(original["snapshot_id"])

    def _lookup(self, digest: str, url: str) -> dict[str, Any] | None:
        if self.index is None:
            return None
        try:
            return self.index.lookup(digest, url)
        except Exception as exc:  # sqlite3.DatabaseError: the file went bad under us
            self.notes.append(f"the digest index failed ({exc}); payloads archived in full")
            self.index = None
            return None

    def _records(
        self, writer: SnapshotWriter, got: Fetched, ref: WarcRef, chain: list[Fetched]
    ) -> int:
        """The page's records into the snapshot; 1 when the page could be read."""
        capture = got.capture
        content = got.content or b""
        page = extract_page(
            content,
            chain[0].capture.url if chain else capture.url,
            final_url=capture.url,
            status=got.status,
            headers=dict(got.headers),
            link_hint=self.hints(capture.key),
        )
        facts = FetchFacts(
            snapshot_id=writer.snapshot_id,
            retrieved_at=iso(capture.time),
            redirects=[{"url": r.capture.url, "status": r.status} for r in chain],
            content_length=len(content),
            fetch_status=got.status,
            http_etag=got.header("ETag"),
            http_last_modified=got.header("Last-Modified"),
            warc=ref,
        )
        records = build_records(page, facts)
        records[0]["capture"] = capture_field(self.config, got, chain)
        for record in records:
            writer.add(record)
        if page.error and not page.error.startswith("not HTML"):
            writer.fail(capture.url, page.error, got.status)
        return 1 if _usable(page) else 0

    # -- committing ----------------------------------------------------------------------

    def _commit(self, writer: SnapshotWriter, warc: CaptureArchive) -> Path:
        cdxj = write_cdxj([warc.path], warc.directory / "index.cdxj")
        writer.archive_summary = {
            "warc_files": [f"archive/{warc.filename}"],
            "cdxj": f"archive/{cdxj.name}",
            "records": dict(sorted(warc.counts.items())),
            "payload_bytes": warc.payload_bytes,
            "revisits": {"identical_payload": self.revisits, "not_modified": 0},
            "dedup": True,
            "conditional_requests": False,
            "previous_snapshot": None,
            "depends_on": sorted(self.depends_on),
        }
        output, ident = self.config.output, writer.snapshot_id

        def health(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
            # Against the last healthy snapshot *before* this one in time, whatever was
            # made since: a backfill writes the past after the present.
            baseline = last_healthy(output, self.config.target, before=ident)
            found = judge(baseline, load_snapshot(folder, manifest, detail=False))
            return {**found, "baseline": baseline.id if baseline is not None else None}

        return writer.commit(health, self._index_committed)

    def _index_committed(self, path: Path) -> None:
        """Under the output lock, with the snapshot in place: the index may name it now."""
        if self.index is None:
            return
        try:
            self.index.prune({s.id for s in list_snapshots(self.config.output)})
            self.index.add(self.staged.values())
        except Exception as exc:  # the snapshot stands; the next run rebuilds the index
            self.notes.append(f"the digest index could not be updated ({exc})")


def _usable(page: PageExtraction) -> bool:
    return page.status < 400 and page.error is None


def capture_field(config: BackfillConfig, got: Fetched, chain: list[Fetched]) -> dict[str, Any]:
    """The page record's ``capture``: which capture of which archive its bytes are."""
    capture = got.capture
    return {
        "original_url": capture.url,
        "timestamp": capture.timestamp,
        "replay_url": got.replay_url,
        "archive_digest": capture.digest,
        "status": got.status,
        "cdx_api": config.cdx_api,
        "fetched": got.held is None,
        "digest_verified": got.digest_verified,
        "redirects": [
            {
                "original_url": r.capture.url,
                "timestamp": r.capture.timestamp,
                "status": r.status,
                "archive_digest": r.capture.digest,
                "replay_url": r.replay_url,
                "location": r.location,
            }
            for r in chain
        ],
    }
