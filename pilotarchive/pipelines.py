"""Thin Scrapy wrapper around the records and archive stages.

Each fetched page becomes records (``records.build``), each record is validated and written
(``archive.snapshot``); failures go to the manifest. The snapshot is committed when the
crawl ends normally and removed when it ends without a single usable page, with the reason
kept in the crawl stats for the CLI to print.
"""

import logging
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from pilotarchive.archive.snapshot import SnapshotWriter, clean_stale
from pilotarchive.exceptions import PilotarchiveError
from pilotarchive.items import FetchedPage, FetchFailure
from pilotarchive.records.build import FetchFacts, build_records
from pilotarchive.settings import load_config

logger = logging.getLogger(__name__)
STAT_SNAPSHOT = "pilotarchive/snapshot"
STAT_ERROR = "pilotarchive/error"
STAT_CLEANED = "pilotarchive/cleaned"


class SnapshotPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.config = load_config(crawler.settings)
        self.writer: SnapshotWriter | None = None
        self.usable_pages = 0
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "SnapshotPipeline":
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        removed = clean_stale(self.config.output_dir)
        if removed:
            names = ", ".join(p.name for p in removed)
            logger.warning(
                "removed %d unfinished snapshot(s) left by a killed run: %s", len(removed), names
            )
            self.crawler.stats.set_value(STAT_CLEANED, names)
        settings = self.crawler.settings
        self.writer = SnapshotWriter(
            self.config.output_dir,
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

    def process_item(self, item: Any, spider: Any = None) -> Any:
        writer = self.writer
        assert writer is not None, "open_spider was not called"
        if isinstance(item, FetchFailure):
            writer.fail(item.url, item.reason, item.status)
            return item
        if isinstance(item, FetchedPage):
            writer.fetched += 1
            page = item.extraction
            facts = FetchFacts(
                snapshot_id=writer.snapshot_id,
                retrieved_at=writer.retrieved_at,
                redirects=item.redirects,
                content_length=item.content_length,
            )
            rejected = 0
            for record in build_records(page, facts):
                if writer.add(record):
                    rejected += 1
            if page.status < 400 and page.error is None:
                self.usable_pages += 1
            if rejected:
                logger.warning(
                    "%s: %d record(s) rejected, see records/rejected.jsonl",
                    page.final_url,
                    rejected,
                )
        return item

    def spider_closed(self, spider: Any, reason: str) -> None:
        writer = self.writer
        if writer is None:
            return
        stats = self.crawler.stats
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
            path = writer.commit()
        except (OSError, PilotarchiveError) as exc:
            writer.abort()
            stats.set_value(STAT_ERROR, f"the snapshot could not be written: {exc}")
            return
        stats.set_value(STAT_SNAPSHOT, str(path))
