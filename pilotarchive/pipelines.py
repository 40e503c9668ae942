"""Thin Scrapy wrapper around the derivation and archive stages.

Each fetched page becomes records through the snapshot's derivation (``derive``: the same
one ``reextract`` runs on archived responses), or, when the server said 304 Not Modified,
its records are carried over from the previous snapshot; each record is validated and
written into the crawl's snapshot (``session``); failures go to the manifest.
"""

import logging
from typing import Any

from scrapy.crawler import Crawler

from pilotarchive.derive.responses import Response
from pilotarchive.items import FetchedPage, FetchFailure, NoSuchVersion, Skipped
from pilotarchive.records.build import FetchFacts, provenance
from pilotarchive.session import CrawlSession, session_for

logger = logging.getLogger(__name__)


class SnapshotPipeline:
    def __init__(self, session: CrawlSession) -> None:
        self.session = session

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "SnapshotPipeline":
        return cls(session_for(crawler))

    def process_item(self, item: Any, spider: Any = None) -> Any:
        session = self.session
        writer = session.writer
        if writer is None or not session.ready:
            return item  # the session could not open, or stopped: the crawl ends with why
        if isinstance(item, FetchFailure):
            writer.fail(item.url, item.reason, item.status)
            return item
        if isinstance(item, Skipped):
            writer.skip(item.url, item.reason)
            return item
        if isinstance(item, NoSuchVersion):
            writer.fetched += 1  # a response was received: that it says "no such page" is news
            writer.no_such_version(item.url, item.version, item.guessed_from, item.status)
            return item
        if not isinstance(item, FetchedPage):
            return item
        writer.fetched += 1
        page = item.extraction
        warc = item.warc
        facts = FetchFacts(
            snapshot_id=writer.snapshot_id,
            retrieved_at=writer.retrieved_at,
            redirects=item.redirects,
            content_length=item.content_length,
            fetch_status=item.fetch_status,
            http_etag=item.http_etag,
            http_last_modified=item.http_last_modified,
            warc=warc,
        )
        rules = session.derivation.rules
        if item.fetch_status == 304 and session.previous and not rules.cover(page.final_url):
            records = session.previous.carried(
                page.final_url, snapshot_id=writer.snapshot_id, retrieved_at=facts.retrieved_at
            )
            fresh = provenance(facts)
            fresh["http_etag"] = fresh["http_etag"] or records[0].get("http_etag")
            fresh["http_last_modified"] = fresh["http_last_modified"] or records[0].get(
                "http_last_modified"
            )
            records[0].update(fresh)
        else:  # read now; a 304 page the target's rules cover is read with them (its bytes
            # are the previous snapshot's) and still says it was carried over
            carried = None
            if item.fetch_status == 304 and session.previous:
                before = session.previous.page(page.final_url) or {}
                carried = before.get("carried_over_from") or session.previous.id
            response = Response(page.url, page.final_url, page.status, item.headers, item.body,
                                carried_over_from=carried)  # fmt: skip
            page, records = session.derivation.records(response, facts, extraction=page)
        rejected = sum(1 for record in records if writer.add(record))
        if page.status < 400 and page.error is None:
            writer.usable_pages += 1
        elif page.error and len(writer.unread) < 5:  # said if no page at all can be read
            writer.unread.append(f"{page.final_url}: {page.error}")
        if rejected:
            logger.warning(
                "%s: %d record(s) rejected, see records/rejected.jsonl", page.final_url, rejected
            )
        return item
