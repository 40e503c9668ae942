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
        dupefilter.session.dupefilter = dupefilter
        return dupefilter

    def asked(self, url: str) -> bool:
        """Whether a GET of ``url`` passed this filter already, before a resume too (the
        fingerprints are read back from JOBDIR's ``requests.seen``). The spider asks it of
        a resumed crawl before it counts a page in the budget: its own set of URLs asked
        for is not kept in JOBDIR, so every link of every page read after the resume was
        counted again, the budget ran out early, and the last pages found were left out.

        ``_fingerprints`` is Scrapy's own set (2.19); should it go, this answers False and
        the test of a resumed crawl's budget fails rather than the crawl."""
        seen = getattr(self, "_fingerprints", None)
        if not seen:
            return False
        try:
            return self._fingerprint(Request(url)) in seen
        except ValueError:  # no URL Scrapy can make a request of: never asked
            return False

    def log(self, request: Request, spider: Any = None) -> None:
        chain = request.meta.get("redirect_urls") or []
        # Only a redirect says something here: the spider's own requests are asked once
        # (after a resume from JOBDIR it asks again what the filter remembers: no news).
        if chain and self.session is not None:
            self.session.skip(request.url, f"already fetched in this crawl (redirected from "
                              f"{chain[0]})")  # fmt: skip
        super().log(request, spider)
