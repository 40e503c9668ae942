"""The ministry spider: the pilots page in every language version, or a whole site.

It decides what to fetch from what the extraction stage found on each page (language links,
text versions, all links in site scope) and hands every answer, good or bad, to the pipeline.
"""

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from pilotarchive.extract.page import extract_page
from pilotarchive.items import FetchedPage, FetchFailure, NoSuchVersion
from pilotarchive.middlewares import WARC_META
from pilotarchive.session import CrawlSession, session_for
from pilotarchive.settings import Config, load_config

HINT = "pilotarchive_language"
# A request for a URL built by convention (no page links to it): (version, guessed from).
GUESS = "pilotarchive_guess"


def describe_failure(failure: Failure) -> str:
    """A one-line reason for the manifest: what kind of failure, and its message."""
    exc = failure.value
    if isinstance(exc, IgnoreRequest) and "robots.txt" in str(exc).lower():
        return "forbidden by robots.txt"
    name = type(exc).__name__
    text = str(exc).strip() or getattr(exc, "reasons", "") or ""
    if "TimeoutError" in name or "timed out" in str(text).lower():
        return f"timeout ({name}: {text})".strip()
    return f"{name}: {text}" if text else name


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class MinistrySpider(scrapy.Spider):
    name = "ministry"

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> "MinistrySpider":
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.config = load_config(crawler.settings)
        spider.hosts = {urlsplit(u).hostname for u in spider.config.start_urls}
        spider.scheduled = 0
        spider.seen = set()
        spider.session = session_for(crawler)
        return spider

    config: Config
    hosts: set[str | None]
    scheduled: int
    seen: set[bytes]
    session: CrawlSession

    def _request(
        self, url: str, hint: str | None = None, guess: tuple[str, str] | None = None
    ) -> scrapy.Request | None:
        """A request for ``url`` unless it was asked for already or the page budget is spent.

        ``guess`` marks a URL built by convention: (the version, the page it was guessed from).
        """
        meta: dict[str, Any] = {HINT: hint}
        if guess:
            meta[GUESS] = guess
        request = scrapy.Request(url, callback=self.parse, errback=self.failed, meta=meta)
        fingerprint = self.crawler.request_fingerprinter.fingerprint(request)
        if fingerprint in self.seen or self.scheduled >= self.config.max_pages:
            return None
        self.seen.add(fingerprint)
        self.scheduled += 1
        return request

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.config.start_urls:
            if request := self._request(url):
                yield request

    def parse(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        chain = meta.get("redirect_urls", [])
        reasons = meta.get("redirect_reasons", [])
        for url in chain:  # a redirect target is the same page: don't fetch it again
            self.seen.add(self.crawler.request_fingerprinter.fingerprint(scrapy.Request(url)))
        headers = {
            k.decode("latin-1"): (response.headers.get(k) or b"").decode("latin-1")
            for k in response.headers
        }
        body, status = response.body, response.status
        if meta.get(GUESS) and status in (404, 410):
            # A version no page links to, tried by convention: there is no such version.
            version, source = meta[GUESS]
            yield NoSuchVersion(chain[0] if chain else response.url, version, source, status)
            return
        if status == 304:
            # Not modified since the last snapshot: read the page as archived then.
            previous = self.session.previous
            page = previous.pages.get(response.url) if previous else None
            archived = (
                previous.payload(response.url, self.config.output_dir)
                if previous and page
                else None
            )
            if archived is None or page is None:
                yield FetchFailure(
                    response.url,
                    "304 Not Modified, but the previous snapshot has no bytes for this URL",
                    status,
                )
                return
            body, status = archived, page["status"]
            headers = {"Content-Type": page.get("content_type") or "text/html"}
        extraction = extract_page(
            body,
            chain[0] if chain else response.url,
            final_url=response.url,
            status=status,
            headers=headers,
            link_hint=meta.get(HINT),
            with_links=self.config.scope == "site",
        )
        yield FetchedPage(
            extraction,
            redirects=[
                {"url": u, "status": s if isinstance(s, int) else 0}
                for u, s in zip(chain, reasons, strict=False)
            ],
            content_length=len(body),
            fetch_status=response.status,
            http_etag=_header(response, "ETag"),
            http_last_modified=_header(response, "Last-Modified"),
            warc=meta.get(WARC_META),
        )
        if status >= 400:
            retries = meta.get("retry_times", 0)
            note = f" after {retries} retries" if retries else ""
            yield FetchFailure(response.url, f"HTTP {status}{note}", status)
            return
        if extraction.error and not extraction.error.startswith("not HTML"):
            yield FetchFailure(response.url, extraction.error, status)
        yield from self.follow(extraction)

    def follow(self, extraction: Any) -> Iterator[scrapy.Request]:
        """Language and text versions in page scope; every same-host link in site scope."""
        targets: list[tuple[str, str | None]] = [
            (url, lang) for lang, url in extraction.alternates.items()
        ]
        for url in (extraction.text_version_url, extraction.graphic_version_url):
            if url:
                targets.append((url, extraction.language))
        if self.config.scope == "site":
            targets += [(url, None) for url in extraction.links]
            targets = [(u, h) for u, h in targets if urlsplit(u).hostname in self.hosts]
        for url, hint in targets:
            if urlsplit(url).scheme in ("http", "https") and (req := self._request(url, hint)):
                yield req
        # Versions the page gives no link for, by URL convention: tried after the linked
        # ones, marked as guesses (a 404 is then "no such version", not a failure).
        guesses = [(url, lang, lang) for lang, url in extraction.guessed_alternates.items()]
        if extraction.guessed_text_version_url:
            guesses.append((extraction.guessed_text_version_url, extraction.language, "text"))
        for url, hint, version in guesses:
            if self.config.scope == "site" and urlsplit(url).hostname not in self.hosts:
                continue
            if req := self._request(url, hint, (version, extraction.final_url)):
                yield req

    def failed(self, failure: Failure) -> Iterator[FetchFailure]:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        reason = describe_failure(failure)
        if request is not None and (guess := request.meta.get(GUESS)):
            reason += f" (a URL guessed by convention for the {guess[0]} version of {guess[1]})"
        yield FetchFailure(url, reason)
