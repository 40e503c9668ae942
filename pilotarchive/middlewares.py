"""Downloader middleware: faster crawling of loopback hosts only, when asked to.

The replica on 127.0.0.1 needs no politeness delay, the ministry does. Rather than lowering
the global delay (which would then apply to any host a crawl reaches), loopback requests are
put in a slot of their own whose delay is zero and which AutoThrottle leaves alone.
"""

from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

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


WARC_META = "pilotarchive_warc"
CONDITIONAL_META = "pilotarchive_conditional"


class ArchiveMiddleware:
    """Every exchange into the snapshot's WARC; validators from the last snapshot out.

    It sits next to the downloader (priority 950), so ``process_request`` runs after every
    other middleware has set its headers (the archived request is the one sent) and
    ``process_response`` before any of them has changed the answer.
    """

    def __init__(self, crawler: Crawler) -> None:
        from pilotarchive.session import session_for

        self.session = session_for(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ArchiveMiddleware":
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        validators = self.session.validators(request.url)
        if validators and not request.meta.get(CONDITIONAL_META):
            for name, value in validators.items():
                request.headers.setdefault(name, value)
            request.meta[CONDITIONAL_META] = True

    def process_response(
        self,
        request: Request,
        response: Response,
        spider: Any = None,
    ) -> Response:
        request.meta[WARC_META] = self.session.archive(request, response)
        return response
