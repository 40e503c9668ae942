"""Downloader middleware: faster crawling of loopback hosts only, when asked to.

The replica on 127.0.0.1 needs no politeness delay, the ministry does. Rather than lowering
the global delay (which would then apply to any host a crawl reaches), loopback requests are
put in a slot of their own whose delay is zero and which AutoThrottle leaves alone.
"""

from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from pilotarchive.settings import is_loopback

LOOPBACK_SLOT = "pilotarchive-loopback"


class LoopbackSlotMiddleware:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "LoopbackSlotMiddleware":
        if not crawler.settings.getbool("PILOTARCHIVE_FAST_LOOPBACK"):
            raise NotConfigured("PILOTARCHIVE_FAST_LOOPBACK is off")
        return cls()

    def process_request(self, request: Request, spider: Any = None) -> None:
        if is_loopback(request.url):
            request.meta.setdefault("download_slot", LOOPBACK_SLOT)
            request.meta["autothrottle_dont_adjust_delay"] = True
