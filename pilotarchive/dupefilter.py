"""Scrapy's duplicate filter, made to say what it drops.

The spider asks for each URL once, so what reaches this filter twice is a redirect to a
page this crawl has fetched already (two start URLs, one an alias of the other). The page
is not lost, but the skipped redirect is named in the manifest instead of vanishing.
"""

from typing import Any

from scrapy import Request
from scrapy.dupefilters import RFPDupeFilter


class RecordingDupeFilter(RFPDupeFilter):
    session: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> "RecordingDupeFilter":
        from pilotarchive.session import session_for

        dupefilter = super().from_crawler(crawler)
        dupefilter.session = session_for(crawler)
        return dupefilter

    def log(self, request: Request, spider: Any = None) -> None:
        chain = request.meta.get("redirect_urls") or []
        # Only a redirect says something here: the spider's own requests are asked once
        # (after a resume from JOBDIR it asks again what the filter remembers: no news).
        if chain and self.session is not None:
            self.session.skip(request.url, f"already fetched in this crawl (redirected from "
                              f"{chain[0]})")  # fmt: skip
        super().log(request, spider)
