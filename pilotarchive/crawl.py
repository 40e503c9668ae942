"""Running one crawl in this process and returning its snapshot, or why there is none.

Twisted's reactor runs once per process, so one process runs one crawl; the CLI and the
demo call :func:`run_crawl` once, tests run the CLI in a subprocess.
"""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from pilotarchive.exceptions import CrawlFailed
from pilotarchive.session import STAT_CLEANED, STAT_ERROR, STAT_SNAPSHOT
from pilotarchive.settings import load_config
from pilotarchive.spiders.ministry import MinistrySpider


@dataclass(frozen=True)
class CrawlResult:
    snapshot: Path
    stats: dict[str, Any]
    cleaned: str | None


def crawl_settings(overrides: dict[str, Any]) -> Settings:
    settings = Settings()
    settings.setmodule("pilotarchive.settings", priority="project")
    settings.update(overrides, priority="cmdline")
    load_config(settings)  # fail before starting anything when a setting is wrong
    return settings


class _OneLine(logging.Filter):
    """Scrapy logs some download errors with a traceback; the CLI shows them as one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            record.msg = f"{record.getMessage()} ({record.exc_info[1]!r})"
            record.args = None
            record.exc_info = record.exc_text = None
        return True


def run_crawl(overrides: dict[str, Any], *, tracebacks: bool = False) -> CrawlResult:
    if not tracebacks:
        # Scrapy's own log handler would print tracebacks; ours prints one line each.
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(_OneLine())
        handler.setLevel(overrides.get("LOG_LEVEL", "WARNING"))
        logging.getLogger().addHandler(handler)
        overrides = {**overrides, "LOG_ENABLED": False}
    settings = crawl_settings(overrides)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(MinistrySpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    path = stats.get(STAT_SNAPSHOT)
    if not path:
        raise CrawlFailed(stats.get(STAT_ERROR) or "the crawl ended without a snapshot")
    return CrawlResult(Path(path), stats, stats.get(STAT_CLEANED))
