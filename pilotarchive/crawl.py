"""Running one crawl in this process and returning its snapshot, or why there is none.

Twisted's reactor runs once per process, so one process runs one crawl; the CLI and the
demo call :func:`run_crawl` once, tests run the CLI in a subprocess.
"""

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from pilotarchive.archive.snapshot import read_manifest
from pilotarchive.exceptions import CrawlFailed
from pilotarchive.middlewares import LOOPBACK_SLOT
from pilotarchive.progress import announce_shutdown
from pilotarchive.session import STAT_CLEANED, STAT_ERROR, STAT_SNAPSHOT
from pilotarchive.settings import check_overrides, load_config
from pilotarchive.spiders.ministry import MinistrySpider


@dataclass(frozen=True)
class CrawlResult:
    snapshot: Path
    stats: dict[str, Any]
    cleaned: str | None
    manifest: dict[str, Any]

    @property
    def degraded(self) -> bool:
        return (self.manifest.get("health") or {}).get("verdict") == "degraded"


def crawl_settings(overrides: dict[str, Any]) -> Settings:
    """Scrapy's settings with ours and the overrides; a wrong one stops here, named."""
    check_overrides(overrides)
    settings = Settings()
    settings.setmodule("pilotarchive.settings", priority="project")
    settings.update(overrides, priority="cmdline")
    load_config(settings)  # fail before starting anything when a setting is wrong
    # The loopback slot drops the delay only; it keeps the concurrency asked for per host.
    slots = settings.getdict("DOWNLOAD_SLOTS")
    loopback = dict(slots.get(LOOPBACK_SLOT, {}))
    loopback["concurrency"] = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
    settings.set("DOWNLOAD_SLOTS", {**slots, LOOPBACK_SLOT: loopback}, priority="cmdline")
    return settings


class _OneLine(logging.Filter):
    """Scrapy logs some download errors with a traceback; the CLI shows them as one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            record.msg = f"{record.getMessage()} ({record.exc_info[1]!r})"
            record.args = None
            record.exc_info = record.exc_text = None
        return True


class _Quiet(logging.Filter):
    """Without -v: Scrapy's own errors about fetches are said once, in the crawl's summary
    (failures with reasons), not before it; what is left is our warnings and bugs."""

    SAID_IN_SUMMARY = (
        "scrapy.core.scraper",  # "Error downloading ...": a failure in the manifest
        "scrapy.downloadermiddlewares.retry",  # "Gave up retrying ...": likewise
        "scrapy.core.downloader.handlers",  # "Received ... larger than download max size"
        "scrapy.downloadermiddlewares.robotstxt",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("pilotarchive"):
            return True
        if record.name.startswith(self.SAID_IN_SUMMARY) and "Spider error" not in str(record.msg):
            return False
        return record.levelno >= logging.ERROR


class _Process(CrawlerProcess):
    """Scrapy's process, saying on the first Ctrl-C what happens (at any log level)."""

    @staticmethod
    def _log_shutdown(signum: int) -> None:
        announce_shutdown(signum)

    @staticmethod
    def _log_kill(signum: int) -> None:
        sys.stderr.write("pilotarchive: aborting now\n")


def run_crawl(overrides: dict[str, Any], *, tracebacks: bool = False) -> CrawlResult:
    settings = crawl_settings(overrides)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if not tracebacks:
        # Scrapy's own log handler would print tracebacks; ours prints one line each.
        handler.addFilter(_OneLine())
        handler.addFilter(_Quiet())
        settings.set("LOG_ENABLED", False, priority="cmdline")
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
        handler.setLevel(overrides.get("LOG_LEVEL", "WARNING"))
    settings.set("LOG_INSTALL_ROOT_HANDLER", tracebacks, priority="cmdline")
    process = _Process(settings)
    crawler = process.create_crawler(MinistrySpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    path = stats.get(STAT_SNAPSHOT)
    if not path:
        raise CrawlFailed(stats.get(STAT_ERROR) or "the crawl ended without a snapshot")
    snapshot = Path(path)
    return CrawlResult(snapshot, stats, stats.get(STAT_CLEANED), read_manifest(snapshot))
