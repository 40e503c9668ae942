"""Scrapy settings with polite defaults, and the one place ``PILOTARCHIVE_*`` keys are read.

The defaults are for the real ministry site: robots.txt obeyed, one request at a time per
host, AutoThrottle, a User-Agent that names us and how to reach us. Only requests to
loopback addresses may go faster, and only when ``PILOTARCHIVE_FAST_LOOPBACK`` is on (the
demo and the tests, crawling the bundled replica).
"""

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pilotarchive import PROJECT_URL, __version__
from pilotarchive.exceptions import SettingError

BOT_NAME = "pilotarchive"
SPIDER_MODULES = ["pilotarchive.spiders"]
NEWSPIDER_MODULE = "pilotarchive.spiders"

USER_AGENT = f"pilotarchive/{__version__} (+{PROJECT_URL})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 2.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
HTTPERROR_ALLOW_ALL = True  # 404s and 5xx reach the spider and are recorded, not dropped
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
ITEM_PIPELINES = {"pilotarchive.pipelines.SnapshotPipeline": 300}
DOWNLOADER_MIDDLEWARES = {
    "pilotarchive.middlewares.LoopbackSlotMiddleware": 50,
    # Next to the downloader: sees every answer (redirects, 5xx before retries, robots.txt)
    # with its body still content-encoded, before HttpCompressionMiddleware (590) decodes it.
    "pilotarchive.middlewares.ArchiveMiddleware": 950,
}
# The slot LoopbackSlotMiddleware puts loopback requests in: still one at a time, no delay.
DOWNLOAD_SLOTS = {"pilotarchive-loopback": {"delay": 0.0, "concurrency": 1, "jitter": 0}}

PILOTARCHIVE_START_URLS = ["http://www.tem.fi/seutukaupunkipilotit"]
PILOTARCHIVE_OUTPUT_DIR = "output"
PILOTARCHIVE_SCOPE = "page"
PILOTARCHIVE_MAX_PAGES = 500
PILOTARCHIVE_FAST_LOOPBACK = False
PILOTARCHIVE_DEDUP = True  # identical payloads become revisit records (output/index.sqlite3)
PILOTARCHIVE_CONDITIONAL = True  # If-None-Match / If-Modified-Since from the last snapshot
PILOTARCHIVE_OPERATOR = ""  # who runs the crawl, for the WARC's warcinfo (name and e-mail)

SCOPES = ("page", "site")


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Config:
    """The validated ``PILOTARCHIVE_*`` settings of one crawl."""

    start_urls: list[str]
    output_dir: Path
    scope: str
    max_pages: int
    fast_loopback: bool
    dedup: bool = True
    conditional: bool = True
    operator: str = ""


def load_config(settings: Any) -> Config:
    """Read and check every ``PILOTARCHIVE_*`` setting; the error names the wrong one."""
    urls = settings.getlist("PILOTARCHIVE_START_URLS")
    if not urls:
        raise SettingError("PILOTARCHIVE_START_URLS is empty: give at least one start URL")
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingError(
                f"PILOTARCHIVE_START_URLS: {url!r} is not an http(s) URL with a host"
            )
    scope = settings.get("PILOTARCHIVE_SCOPE")
    if scope not in SCOPES:
        raise SettingError(f"PILOTARCHIVE_SCOPE must be one of {', '.join(SCOPES)}, not {scope!r}")
    try:
        max_pages = int(settings.get("PILOTARCHIVE_MAX_PAGES"))
    except (TypeError, ValueError):
        max_pages = 0
    if max_pages < 1:
        raise SettingError(
            "PILOTARCHIVE_MAX_PAGES must be a positive integer, not "
            f"{settings.get('PILOTARCHIVE_MAX_PAGES')!r}"
        )
    output = Path(settings.get("PILOTARCHIVE_OUTPUT_DIR") or "")
    if not str(output) or (output.exists() and not output.is_dir()):
        raise SettingError(f"PILOTARCHIVE_OUTPUT_DIR {str(output)!r} is not a folder")
    return Config(
        start_urls=list(urls),
        output_dir=output,
        scope=scope,
        max_pages=max_pages,
        fast_loopback=settings.getbool("PILOTARCHIVE_FAST_LOOPBACK"),
        dedup=settings.getbool("PILOTARCHIVE_DEDUP"),
        conditional=settings.getbool("PILOTARCHIVE_CONDITIONAL"),
        operator=str(settings.get("PILOTARCHIVE_OPERATOR") or ""),
    )
