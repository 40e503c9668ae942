"""One crawl's open snapshot, shared by the Scrapy components that feed it.

The archive middleware writes every exchange to the WARC, the pipeline writes records, the
spider reads back unchanged pages; all of them reach the same :class:`CrawlSession` through
:func:`session_for`. The session opens the snapshot when the spider opens and, when it
closes, commits everything in order: WARC closed, CDXJ written, manifest written, folder
renamed, and only then the new payload digests added to the index.
"""

import logging
import weakref
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response

from pilotarchive.archive.cdxj import write_cdxj
from pilotarchive.archive.dedup import DigestIndex
from pilotarchive.archive.previous import PreviousSnapshot
from pilotarchive.archive.snapshot import SnapshotWriter, clean_stale, list_snapshots, utc_now
from pilotarchive.archive.warc import (
    PROFILE_IDENTICAL,
    PROFILE_NOT_MODIFIED,
    HttpExchange,
    WarcArchive,
    WarcRef,
    payload_digest,
)
from pilotarchive.diff.health import judge_new
from pilotarchive.exceptions import PilotarchiveError
from pilotarchive.settings import load_config

logger = logging.getLogger(__name__)
STAT_SNAPSHOT = "pilotarchive/snapshot"
STAT_ERROR = "pilotarchive/error"
STAT_CLEANED = "pilotarchive/cleaned"
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
        crawler.signals.connect(self.open, signal=signals.spider_opened)
        crawler.signals.connect(self.close, signal=signals.spider_closed)

    # -- opening ---------------------------------------------------------------------------

    def open(self, spider: Any = None) -> None:
        output = self.config.output_dir
        removed = clean_stale(output)
        if removed:
            names = ", ".join(p.name for p in removed)
            logger.warning(
                "removed %d unfinished snapshot(s) left by a killed run: %s", len(removed), names
            )
            self.crawler.stats.set_value(STAT_CLEANED, names)
        settings = self.crawler.settings
        self.index = DigestIndex(output) if self.config.dedup else None
        if self.index:
            self.index.prune({s.id for s in list_snapshots(output)})
        self.previous = PreviousSnapshot.latest(output) if self.config.conditional else None
        self.writer = SnapshotWriter(
            output,
            start_urls=self.config.start_urls,
            scope=self.config.scope,
            max_pages=self.config.max_pages,
            settings={
                "user_agent": settings.get("USER_AGENT"),
                "robotstxt_obey": settings.getbool("ROBOTSTXT_OBEY"),
                "autothrottle": settings.getbool("AUTOTHROTTLE_ENABLED"),
                "download_delay": settings.getfloat("DOWNLOAD_DELAY"),
                "concurrent_requests_per_domain": settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
                "fast_loopback": self.config.fast_loopback,
            },
        )
        self.warc = WarcArchive(
            self.writer.tmp / "archive",
            self.writer.snapshot_id,
            info={
                "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
                "operator": self.config.operator,
                "http-header-user-agent": settings.get("USER_AGENT"),
                "description": "pilotarchive crawl of " + " ".join(self.config.start_urls),
            },
        )

    # -- archiving -------------------------------------------------------------------------

    def validators(self, url: str) -> dict[str, str]:
        return self.previous.validators(url) if self.previous else {}

    def archive(self, request: Request, response: Response) -> WarcRef:
        """Write one exchange: in full, or as a revisit when the payload is known."""
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
            original = self.staged.get(digest) or (
                self.index.lookup(digest, ex.url) if self.index else None
            )
            if original:
                self.revisits["identical_payload"] += 1
                if original["snapshot_id"] != self.writer.snapshot_id:
                    self.depends_on.add(original["snapshot_id"])
                return self.warc.write_revisit(ex, original, PROFILE_IDENTICAL)
        ref = self.warc.write_response(ex)
        if self.config.dedup and ex.body and ref.payload_digest:
            self.staged[ref.payload_digest] = ref.as_original(self.writer.snapshot_id)
        return ref

    # -- closing ---------------------------------------------------------------------------

    def close(self, spider: Any = None, reason: str = "finished") -> None:
        writer, warc, stats = self.writer, self.warc, self.crawler.stats
        if writer is None or warc is None:
            return
        warc.close()
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
            path = writer.commit(partial(judge_new, self.config.output_dir))
        except (OSError, PilotarchiveError) as exc:
            writer.abort()
            stats.set_value(STAT_ERROR, f"the snapshot could not be written: {exc}")
            return
        if self.index:
            # Only now, with the snapshot in place, may the index name its records.
            self.index.add(self.staged.values())
            self.index.close()
        stats.set_value(STAT_SNAPSHOT, str(path))
