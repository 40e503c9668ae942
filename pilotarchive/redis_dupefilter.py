"""scrapy-redis's shared duplicate filter, naming the redirects it drops.

Its own module, loaded by name (``DUPEFILTER_CLASS``) only in a worker of a split crawl, so
that pilotarchive runs without the distributed extra installed.
"""

from typing import Any

from scrapy import Request
from scrapy_redis.dupefilter import RFPDupeFilter


class RecordingRedisDupeFilter(RFPDupeFilter):
    """As :class:`pilotarchive.dupefilter.RecordingDupeFilter` does for a single process."""

    session: Any = None

    @classmethod
    def from_spider(cls, spider: Any) -> "RecordingRedisDupeFilter":
        from pilotarchive.session import session_for

        dupefilter = super().from_spider(spider)
        dupefilter.session = session_for(spider.crawler)
        return dupefilter

    def log(self, request: Request, spider: Any) -> None:
        chain = request.meta.get("redirect_urls") or []
        if chain and self.session is not None:
            self.session.skip(
                request.url, f"already fetched in this crawl (redirected from {chain[0]})"
            )
