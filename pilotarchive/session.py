"""One crawl's open snapshot, shared by the Scrapy components that feed it.

The archive middleware writes every exchange to the WARC, the pipeline writes records, the
spider reads back unchanged pages; all of them reach the same :class:`CrawlSession` through
:func:`session_for`. The session opens the snapshot when the spider opens and, when it
closes, commits everything in order: WARC closed, CDXJ written, manifest written, folder
renamed, and only then the new payload digests added to the index (the last three under
the output folder's lock, so concurrent crawls into one folder take turns).

Nothing a damaged earlier snapshot holds stops a crawl: a damaged baseline is skipped (and
named in the manifest's notes), a damaged digest index is moved aside and rebuilt, and an
archived page that cannot be read back is fetched again.
"""

import logging
import weakref
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response

from pilotarchive.archive.cdxj import write_cdxj
from pilotarchive.archive.dedup import DigestIndex
from pilotarchive.archive.lock import output_lock
from pilotarchive.archive.previous import PreviousSnapshot
from pilotarchive.archive.snapshot import (
    LOCK_WAIT,
    SnapshotWriter,
    clean_stale,
    list_snapshots,
    os_error,
    utc_now,
)
from pilotarchive.archive.warc import (
    PROFILE_IDENTICAL,
    PROFILE_NOT_MODIFIED,
    HttpExchange,
    WarcArchive,
    WarcRef,
    payload_digest,
)
from pilotarchive.diff.health import judge_new
from pilotarchive.exceptions import DiskFull, PilotarchiveError
from pilotarchive.settings import load_config

logger = logging.getLogger(__name__)
STAT_SNAPSHOT = "pilotarchive/snapshot"
STAT_ERROR = "pilotarchive/error"
STAT_CLEANED = "pilotarchive/cleaned"
STAT_HEALTH = "pilotarchive/health"
_SESSIONS: "weakref.WeakKeyDictionary[Crawler, CrawlSession]" = weakref.WeakKeyDictionary()


def session_for(crawler: Crawler) -> "CrawlSession":
    if crawler not in _SESSIONS:
        _SESSIONS[crawler] = CrawlSession(crawler)
    return _SESSIONS[crawler]


def _headers(headers: Any) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]


def exchange_from(request: Request, response: Response) -> HttpExchange:
    """The exchange as Scrapy saw it, before any middleware decoded the body."""
    request_headers = [("Host", urlsplit(request.url).netloc), *_headers(request.headers)]
    return HttpExchange(
        url=request.url,
        method=request.method,
        request_headers=request_headers,
        request_body=request.body or b"",
        protocol=response.protocol or "HTTP/1.1",
        status=response.status,
        response_headers=_headers(response.headers),
        body=response.body,
        date=utc_now(),
        ip_address=str(response.ip_address) if response.ip_address else None,
    )


class CrawlSession:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.config = load_config(crawler.settings)
        self.writer: SnapshotWriter | None = None
        self.warc: WarcArchive | None = None
        self.index: DigestIndex | None = None
        self.previous: PreviousSnapshot | None = None
        self.staged: dict[str, dict[str, Any]] = {}  # payload digest -> original, this crawl
        self.revisits = {"identical_payload": 0, "not_modified": 0}
        self.depends_on: set[str] = set()  # earlier snapshots our revisits point into
        self.usable_pages = 0
        self.error: PilotarchiveError | None = None  # what stopped the crawl, if anything
        crawler.signals.connect(self.open, signal=signals.spider_opened)
        crawler.signals.connect(self.close, signal=signals.spider_closed)

    @property
    def ready(self) -> bool:
        return self.writer is not None and self.error is None

    def stop(self, error: PilotarchiveError) -> None:
        """Stop the crawl for a reason that makes going on pointless (a full disk)."""
        if self.error is None:
            self.error = error
            logger.error("%s; stopping the crawl", error)
            engine = self.crawler.engine
            if engine is not None and engine.spider is not None:
                engine.close_spider(engine.spider, "pilotarchive_error")

    def note(self, text: str) -> None:
        if self.writer is not None:
            self.writer.note(text)

    def skip(self, url: str, reason: str) -> None:
        if self.writer is not None:
            self.writer.skip(url, reason)

    # -- opening ---------------------------------------------------------------------------

    def open(self, spider: Any = None) -> None:
        try:
            self._open()
        except PilotarchiveError as exc:
            self.stop(exc)
        except OSError as exc:
            self.stop(os_error(exc))

    def _open(self) -> None:
        output, config = self.config.output_dir, self.config
        removed = clean_stale(output)
        if removed:
            names = ", ".join(p.name for p in removed)
            self.crawler.stats.set_value(STAT_CLEANED, names)
        settings = self.crawler.settings
        notes: list[str] = []
        if config.dedup:
            output.mkdir(parents=True, exist_ok=True)
            with output_lock(output, wait=LOCK_WAIT):  # the index changes only under it
                existing = list_snapshots(output)
                self.index, note = DigestIndex.open_or_rebuild(output, [s.path for s in existing])
                # Forget deleted snapshots, so no revisit of this crawl points at nothing.
                self.index.prune({s.id for s in existing})
            if note:
                logger.warning("%s", note)
                notes.append(note)
        if config.conditional:
            self.previous, skipped = PreviousSnapshot.baseline(output, config.target)
            for note in skipped:
                logger.warning("%s", note)
            notes += skipped
        self.writer = SnapshotWriter(
            output,
            start_urls=config.start_urls,
            scope=config.scope,
            max_pages=config.max_pages,
            target=config.target,
            settings={
                "user_agent": settings.get("USER_AGENT"),
                "robotstxt_obey": settings.getbool("ROBOTSTXT_OBEY"),
                "autothrottle": settings.getbool("AUTOTHROTTLE_ENABLED"),
                "download_delay": settings.getfloat("DOWNLOAD_DELAY"),
                "concurrent_requests_per_domain": settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
                "fast_loopback": config.fast_loopback,
                "download_maxsize": settings.getint("DOWNLOAD_MAXSIZE"),
                "allowed": config.allowed.describe(),
            },
        )
        for note in notes:
            self.writer.note(note)
        self.warc = WarcArchive(
            self.writer.tmp / "archive",
            self.writer.snapshot_id,
            info={
                "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
                "operator": config.operator,
                "http-header-user-agent": settings.get("USER_AGENT"),
                "description": "pilotarchive crawl of " + " ".join(config.start_urls),
            },
        )

    # -- archiving -------------------------------------------------------------------------

    def validators(self, url: str) -> dict[str, str]:
        return self.previous.validators(url) if self.previous else {}

    def archive(self, request: Request, response: Response) -> WarcRef | None:
        """Write one exchange: in full, or as a revisit when the payload is known."""
        if not self.ready:
            return None
        try:
            return self._archive(request, response)
        except OSError as exc:
            assert self.warc is not None
            self.stop(os_error(exc, self.warc.path))
        except PilotarchiveError as exc:  # a value unfit for a WARC header
            assert self.writer is not None
            self.writer.fail(request.url, f"not archived: {exc}", response.status)
        return None

    def _archive(self, request: Request, response: Response) -> WarcRef:
        assert self.warc is not None and self.writer is not None
        ex = exchange_from(request, response)
        if (
            response.status == 304
            and self.previous
            and (original := self.previous.original(request.url))
        ):
            self.revisits["not_modified"] += 1
            self.depends_on.add(original["snapshot_id"])
            return self.warc.write_revisit(ex, original, PROFILE_NOT_MODIFIED)
        if self.config.dedup and ex.body:
            digest = payload_digest(ex.body)
            original = self.staged.get(digest) or self._lookup(digest, ex.url)
            if original:
                self.revisits["identical_payload"] += 1
                if original["snapshot_id"] != self.writer.snapshot_id:
                    self.depends_on.add(original["snapshot_id"])
                return self.warc.write_revisit(ex, original, PROFILE_IDENTICAL)
        ref = self.warc.write_response(ex)
        if self.config.dedup and ex.body and ref.payload_digest:
            self.staged[ref.payload_digest] = ref.as_original(self.writer.snapshot_id)
        return ref

    def _lookup(self, digest: str, url: str) -> dict[str, Any] | None:
        if self.index is None:
            return None
        try:
            return self.index.lookup(digest, url)
        except Exception as exc:  # sqlite3.DatabaseError: the file went bad under us
            assert self.writer is not None
            self.writer.note(f"the digest index failed ({exc}); payloads archived in full")
            self.index = None
            return None

    # -- closing ---------------------------------------------------------------------------

    def close(self, spider: Any = None, reason: str = "finished") -> None:
        writer, warc, stats = self.writer, self.warc, self.crawler.stats
        if writer is None or warc is None:
            if self.error is not None:
                stats.set_value(STAT_ERROR, f"no snapshot written: {self.error}")
            return
        try:
            warc.close()
        except OSError as exc:
            self.error = self.error or os_error(exc, warc.path)
        if self.error is not None:
            writer.abort()
            stats.set_value(STAT_ERROR, f"no snapshot written: {self.error}")
            return
        if reason != "finished" and not reason.startswith("closespider"):
            writer.abort()
            stats.set_value(STAT_ERROR, f"the crawl was stopped ({reason}); no snapshot written")
            return
        if self.usable_pages == 0:
            writer.abort()
            failures = "; ".join(f"{f['url']}: {f['reason']}" for f in writer.failures[:5])
            stats.set_value(
                STAT_ERROR,
                "no page could be read, so no snapshot was written"
                + (f" ({failures})" if failures else ""),
            )
            return
        writer.left_out = int(stats.get_value("pilotarchive/left_out") or 0)
        try:
            cdxj = write_cdxj(warc.path, warc.directory / "index.cdxj")
            writer.archive_summary = {
                "warc_files": [f"archive/{warc.filename}"],
                "cdxj": f"archive/{cdxj.name}",
                "records": dict(sorted(warc.counts.items())),
                "payload_bytes": warc.payload_bytes,
                "revisits": dict(self.revisits),
                "dedup": self.config.dedup,
                "conditional_requests": self.config.conditional,
                "previous_snapshot": self.previous.id if self.previous else None,
                "depends_on": sorted(self.depends_on),
            }
            output, target = self.config.output_dir, self.config.target
            path = writer.commit(
                lambda folder, manifest: judge_new(output, folder, manifest, target=target),
                self._index_committed,
            )
        except OSError as exc:
            writer.abort()
            stats.set_value(STAT_ERROR, f"no snapshot written: {os_error(exc)}")
            return
        except (DiskFull, PilotarchiveError) as exc:
            writer.abort()
            stats.set_value(STAT_ERROR, f"no snapshot written: {exc}")
            return
        stats.set_value(STAT_SNAPSHOT, str(path))

    def _index_committed(self, path: Any) -> None:
        """Under the output lock, with the snapshot in place: the index may name it now."""
        if not self.index:
            return
        try:
            self.index.prune({s.id for s in list_snapshots(self.config.output_dir)})
            self.index.add(self.staged.values())
        except Exception as exc:  # the snapshot stands; the next crawl rebuilds the index
            logger.warning("the digest index could not be updated (%s)", exc)
        finally:
            self.index.close()
