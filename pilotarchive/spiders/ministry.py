"""The ministry spider: the pilots page in every language version, or a whole site.

It decides what to fetch from what the extraction stage found on each page (language links,
text versions, all links in site scope) and hands every answer, good or bad, to the
pipeline. Whatever it decides not to fetch is handed on too, with the reason: a URL out of
scope, a link too long, the page budget spent. Nothing is dropped without a trace.
"""

import hashlib
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, TypedDict
from urllib.parse import urljoin

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure
from w3lib.url import canonicalize_url, safe_url_string

from pilotarchive.distributed import shared_for
from pilotarchive.exceptions import SnapshotError
from pilotarchive.extract.page import extract_page
from pilotarchive.extract.requisites import css_requisites
from pilotarchive.items import FetchedPage, FetchFailure, NoSuchVersion, Skipped
from pilotarchive.middlewares import (
    GUESS,
    GUESS_SOURCE,
    REQUISITE,
    UNCONDITIONAL_META,
    WARC_META,
    BackToGuessSource,
)
from pilotarchive.session import CrawlSession, session_for
from pilotarchive.settings import Config, Scope, load_config

logger = logging.getLogger(__name__)
HINT = "pilotarchive_language"
LISTED_LEFT_OUT = 100  # URLs left out by the page budget that the manifest lists by name
STAT_LEFT_OUT = "pilotarchive/left_out"
REDIRECTS = (301, 302, 303, 307, 308)


class GuessSource(TypedDict):
    """What a guess's answer is compared with: the page it was guessed from.

    Plain data (request meta goes to JOBDIR and to a split crawl's queue): the page's URLs
    (the one asked for, its redirects, where they led), canonical; and its fingerprint.
    """

    urls: list[str]
    fingerprint: str


def fingerprint(body: bytes) -> str:
    """The digest by which a guess's answer is "the same document" as its page.

    The body's SHA-256 with all ASCII whitespace left out: a server that ignores the guessed
    parameter answers with the page itself, byte for byte, or re-indented, re-wrapped, with
    another line ending; whitespace between and inside tags changes no document the crawl
    reads. Anything else that differs (a timestamp in a comment, a session token) makes
    another document: comparing extracted text would also see through those, but could
    take a real text version with the page's very words for no version at all. A page
    answered for a guess costs a page's records, once; no guess is made from it.
    """
    return hashlib.sha256(body.translate(None, ASCII_WHITESPACE)).hexdigest()


# What ``bytes.split()`` splits on: deleting these with ``bytes.translate`` gives the same
# bytes as splitting and joining, in a quarter of the time (every page guessed from).
ASCII_WHITESPACE = b" \t\n\r\x0b\x0c"


def describe_failure(failure: Failure, maxsize: int = 0) -> str:
    """A one-line reason for the manifest: what kind of failure, and its message."""
    exc = failure.value
    if isinstance(exc, IgnoreRequest):
        text = str(exc)
        return "forbidden by robots.txt" if "robots.txt" in text.lower() else text
    if isinstance(exc, CancelledError) or type(exc).__name__ == "DownloadCancelledError":
        return f"larger than DOWNLOAD_MAXSIZE ({maxsize:,} bytes): not downloaded"
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
        spider.scheduled = 0
        spider.seen = set()
        spider.left_out = 0
        spider.restored = False
        spider.resumed = False
        spider.url_limit = crawler.settings.getint("URLLENGTH_LIMIT")
        spider.max_redirects = crawler.settings.getint("REDIRECT_MAX_TIMES")
        spider.maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        spider.session = session_for(crawler)
        spider.shared = shared_for(crawler)  # a worker of a split crawl: shared URLs, budget
        spider.with_requisites = crawler.settings.getbool("PILOTARCHIVE_REQUISITES")
        spider.requisite_hosts = spider.config.requisite_hosts
        spider.requisites_left = spider.config.max_requisites
        return spider

    config: Config
    scheduled: int
    seen: set[str]
    left_out: int
    restored: bool
    resumed: bool  # from JOBDIR, with pages asked for before the interruption
    url_limit: int
    max_redirects: int
    maxsize: int
    session: CrawlSession
    shared: Any
    with_requisites: bool
    requisite_hosts: Scope
    requisites_left: int

    def _request(
        self,
        url: str,
        hint: str | None = None,
        guess: tuple[str, str] | None = None,
        source: GuessSource | None = None,
    ) -> scrapy.Request | Skipped | FetchFailure | None:
        """A request for ``url``, what stands in its way, or None when it was asked already.

        Checked in order of cost, before a Request is built: a page with a million links
        costs a set lookup per link once the budget is spent. ``guess`` marks a URL built by
        convention: (the version, the page it was guessed from), and ``source`` is that
        page. A guess's redirects come back to the spider (``handle_httpstatus_all``, which
        Scrapy's redirect middleware leaves alone), which asks whether they lead back to it.
        """
        if url in self.seen:
            return None
        self.seen.add(url)
        if not self.restored:
            self._restore()
        if not self.config.allowed.allows(url):
            return Skipped(url, f"out of scope (allowed: {self.config.allowed.describe()})")
        if self.url_limit and len(url) > self.url_limit:
            return FetchFailure(
                url[:200] + "...", f"link of {len(url)} characters, longer than URLLENGTH_LIMIT"
            )
        if self.shared is not None and not self.shared.first_time(url):
            return None  # another worker asked for it
        if self.resumed and (dupes := self.session.dupefilter) is not None and dupes.asked(url):
            return None  # asked before the interruption, and counted in the budget then
        if (
            self.scheduled >= self.config.max_pages
            if self.shared is None
            else not self.shared.take_page(self.config.max_pages)
        ):
            self.left_out += 1
            self.crawler.stats.set_value(STAT_LEFT_OUT, self.left_out)
            if self.left_out > LISTED_LEFT_OUT:
                return None
            return Skipped(url, f"page budget spent (--max-pages {self.config.max_pages})")
        canonical = canonicalize_url(url, keep_fragments=False)  # costly: only when needed
        if canonical != url:
            if canonical in self.seen:
                return None
            self.seen.add(canonical)
        meta: dict[str, Any] = {HINT: hint}
        if guess:
            meta[GUESS] = guess
            if source is not None:
                meta.update({GUESS_SOURCE: source, "handle_httpstatus_all": True})
        try:
            request = scrapy.Request(url, callback=self.parse, errback=self.failed, meta=meta)
        except ValueError as exc:  # a link Scrapy cannot make a URL of
            return FetchFailure(url[:200], f"not a valid URL: {exc}")
        if self.shared is not None and request.url != url:
            # The queue takes only URLs the crawl asked for: the form Scrapy made too.
            self.shared.first_time(request.url)
        self.scheduled += 1
        if (state := getattr(self, "state", None)) is not None:  # kept in JOBDIR
            state["pilotarchive_scheduled"] = self.scheduled
        return request

    def _restore(self) -> None:
        """After a resume from JOBDIR: the pages already asked for count in the budget."""
        self.restored = True
        if (state := getattr(self, "state", None)) is not None:
            self.scheduled = max(self.scheduled, int(state.get("pilotarchive_scheduled", 0)))
            self.resumed = bool(state.get("pilotarchive_scheduled"))

    async def start(self) -> AsyncIterator[Any]:
        for url in self.config.start_urls:
            if item := self._request(url):
                yield item

    def parse(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        chain = meta.get("redirect_urls", [])
        reasons = meta.get("redirect_reasons", [])
        for url in (*chain, response.url):  # a redirect target is the same page: once only
            self.seen.update((url, canonicalize_url(url, keep_fragments=False)))
        headers = {
            k.decode("latin-1"): (response.headers.get(k) or b"").decode("latin-1")
            for k in response.headers
        }
        body, status = response.body, response.status
        guess, source = meta.get(GUESS), meta.get(GUESS_SOURCE)
        if guess and status in (404, 410):
            # A version no page links to, tried by convention: there is no such version.
            yield NoSuchVersion(chain[0] if chain else response.url, guess[0], guess[1], status)
            return
        if guess and source and status in REDIRECTS and response.headers.get("Location"):
            yield from self.guess_redirected(response, guess, source)
            return
        if (
            status == 304
            and response.request is not None
            and (response.request.meta.get(UNCONDITIONAL_META))
        ):
            # Asked without validators (or again, in full, after a 304 that could not be
            # read): "not modified" answers nothing. Once, not a loop of re-fetches.
            yield FetchFailure(
                chain[0] if chain else response.url,
                "HTTP 304 Not Modified to a request that sent no validators",
                status,
            )
            return
        if status == 304:
            # Not modified since the last snapshot: read the page as archived then.
            previous = self.session.previous
            page = previous.pages.get(response.url) if previous else None
            try:
                if previous is None or page is None:
                    raise SnapshotError("the previous snapshot has no bytes for this URL")
                body = previous.payload(response.url, self.config.output_dir)
            except SnapshotError as exc:
                yield from self.refetch(response, str(exc))
                return
            status = page["status"]
            headers = {"Content-Type": page.get("content_type") or "text/html"}
        if guess and source and status < 300 and fingerprint(body) == source["fingerprint"]:
            # The server ignored what was guessed and answered with the page guessed from.
            yield NoSuchVersion(chain[0] if chain else response.url, guess[0], guess[1], status)
            return
        extraction = extract_page(
            body,
            chain[0] if chain else response.url,
            final_url=response.url,
            status=status,
            headers=headers,
            link_hint=meta.get(HINT),
            with_links=self.config.scope == "site",
            with_requisites=self.with_requisites and status < 300,
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
            body=body,
            headers=headers,
        )
        if status >= 400:
            retries = meta.get("retry_times", 0)
            note = f" after {retries} retries" if retries else ""
            yield FetchFailure(response.url, f"HTTP {status}{note}", status)
            return
        if extraction.error and not extraction.error.startswith("not HTML"):
            yield FetchFailure(response.url, extraction.error, status)
        if extraction.requisites:  # read from the extraction's own parse, when asked for
            yield from self.requisites(extraction.requisites, response.url)
        # Versions are guessed from a page reached by a link only, never from a guess: on a
        # server that ignores the parameters, guesses of guesses breed (?l=en&tv=1&tv=1...).
        guessing = not guess and (
            extraction.guessed_alternates or extraction.guessed_text_version_url
        )
        yield from self.follow(
            extraction,
            GuessSource(
                urls=sorted(
                    {canonicalize_url(u, keep_fragments=False) for u in (*chain, response.url)}
                ),
                fingerprint=fingerprint(body),
            )
            if guessing
            else None,
        )

    def guess_redirected(
        self, response: Response, guess: tuple[str, str], source: GuessSource
    ) -> Iterator[Any]:
        """A guess answered with a redirect: back to its page, it is no such version (the
        server tidied the guessed parameter away); elsewhere, the redirect is followed.

        Every hop of a guess comes here, so a way back to the page through other URLs is
        seen too. It is followed as Scrapy's redirect middleware (with ours) would: the
        chain in ``redirect_urls``, REDIRECT_MAX_TIMES, loops and scope as failures.
        """
        chain = [*response.meta.get("redirect_urls", []), response.url]
        location = response.headers[b"Location"] or b""
        target = safe_url_string(location)
        if location.startswith(b"//"):
            target = response.url.split(":", 1)[0] + "://" + target.lstrip("/")
        target = urljoin(response.url, target)
        note = f" (a URL guessed by convention for the {guess[0]} version of {guess[1]})"
        if canonicalize_url(target, keep_fragments=False) in source["urls"]:
            yield NoSuchVersion(chain[0], guess[0], guess[1], response.status)
        elif not target.lower().startswith(("http://", "https://")):
            yield FetchFailure(chain[0], f"redirect to {target[:200]}, not http(s){note}")
        elif target in chain:
            path = " -> ".join([*chain[chain.index(target) :], target])
            yield FetchFailure(chain[0], f"redirect loop: {path}{note}")
        elif len(chain) > self.max_redirects:
            last = f"the last to {response.url}"
            yield FetchFailure(
                chain[0], f"max redirections reached ({len(chain) - 1} redirects, {last}){note}"
            )
        elif not self.config.allowed.allows(target):
            yield FetchFailure(
                chain[0],
                f"redirect out of scope: {response.url} -> {target} (allowed: "
                f"{self.config.allowed.describe()}; --allow-host adds a host){note}",
            )
        else:
            kept = (HINT, GUESS, GUESS_SOURCE, "handle_httpstatus_all")
            meta = {k: v for k, v in response.meta.items() if k in kept}
            meta.update(
                redirect_urls=chain,
                redirect_reasons=[*response.meta.get("redirect_reasons", []), response.status],
                redirect_times=len(chain),
            )
            yield scrapy.Request(target, callback=self.parse, errback=self.failed, meta=meta)

    def refetch(self, response: Response, why: str) -> Iterator[scrapy.Request]:
        """A 304 whose archived copy cannot be read: fetch the page in full rather than lose
        it (the 304 stays in the WARC as what the server said)."""
        note = (
            f"{response.url}: the server said 304 Not Modified, but the archived copy "
            f"cannot be read ({why}); fetched again in full"
        )
        logger.warning("%s", note)
        self.session.note(note)
        meta = {
            k: v
            for k, v in response.meta.items()
            if k in (HINT, "redirect_urls", "redirect_reasons", "redirect_times")
        }
        yield scrapy.Request(
            response.url,
            callback=self.parse,
            errback=self.failed,
            dont_filter=True,
            meta={**meta, UNCONDITIONAL_META: True},
        )

    def requisites(self, urls: list[str], loaded_by: str) -> Iterator[scrapy.Request]:
        """Requests for what a page (or stylesheet) loads, from the crawl's scope or the
        hosts a target names for them (PILOTARCHIVE_REQUISITE_HOSTS): archived with the
        page and deduplicated like it, never crawled further (a stylesheet's own url()s
        and @imports are requisites too; nothing else's links are read). They are not
        pages: the page budget does not count them, a cap of their own does."""
        if not self.with_requisites:
            return
        for url in urls:
            if url in self.seen:
                continue
            if not (self.config.allowed.allows(url) or self.requisite_hosts.allows(url)):
                continue  # another site's file: not what this archive keeps, nor worth a line
            self.seen.add(url)
            if self.shared is not None and not self.shared.first_time(url):
                continue
            if self.requisites_left <= 0:
                if self.requisites_left == 0:  # said once: a site of a million images
                    self.requisites_left -= 1
                    self.session.note(
                        f"requisites left out from {url} (of {loaded_by}) on: more than "
                        f"{self.config.max_requisites} in this crawl (PILOTARCHIVE_MAX_REQUISITES)"
                    )
                return
            self.requisites_left -= 1
            try:
                yield scrapy.Request(
                    url,
                    callback=self.requisite,
                    errback=self.requisite_failed,
                    meta={REQUISITE: loaded_by},
                )
            except ValueError:
                continue  # not a URL Scrapy can request: nothing a browser could load either

    def requisite(self, response: Response) -> Iterator[scrapy.Request]:
        """A requisite is archived by the time it comes here; a stylesheet's url()s and
        @imports (images, fonts, more styles) are fetched with it."""
        if response.status >= 400:  # archived as the server said, and noted
            loaded_by = response.meta.get(REQUISITE)
            self.session.note(
                f"requisite {response.url} of {loaded_by}: the server answered "
                f"HTTP {response.status}"
            )
            return
        kind = (response.headers.get("Content-Type") or b"").decode("latin-1").lower()
        if "css" in kind or (not kind and response.url.split("?")[0].endswith(".css")):
            yield from self.requisites(css_requisites(response.body, response.url), response.url)

    def requisite_failed(self, failure: Failure) -> Iterator[Any]:
        """A requisite that could not be fetched is noted, not a failure of the page: the
        page's records are whole without it; only its replay misses a style or image."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        loaded_by = request.meta.get(REQUISITE) if request is not None else "?"
        reason = describe_failure(failure, self.maxsize)
        self.session.note(f"requisite {url} of {loaded_by} not archived: {reason}")
        return iter(())

    def _versions(self, extraction: Any) -> Iterable[tuple[str, str | None]]:
        for lang, url in extraction.alternates.items():
            yield url, lang
        for url in (extraction.text_version_url, extraction.graphic_version_url):
            if url:
                yield url, extraction.language

    def follow(self, extraction: Any, source: GuessSource | None = None) -> Iterator[Any]:
        """Language and text versions in page scope; every same-site link in site scope.

        Versions the page does not link to are guessed only with ``source`` (the page, to
        know it again in a guess's answer). Links are resolved one at a time; once the page
        budget is spent, a few more are named (for the manifest) and the rest only counted,
        never resolved or requested.
        """
        for url, hint in self._versions(extraction):
            if (item := self._request(url, hint)) is not None:
                yield item
        # Versions the page gives no link for, by URL convention: tried after the linked
        # ones, marked as guesses (a 404 is then "no such version", not a failure).
        guesses = [(url, lang, lang) for lang, url in extraction.guessed_alternates.items()]
        if extraction.guessed_text_version_url:
            guesses.append((extraction.guessed_text_version_url, extraction.language, "text"))
        for url, hint, version in guesses if source is not None else ():
            if not self.config.allowed.allows(url):
                continue  # a guess is no reason to leave the crawl's scope, nor to say so
            guess = (version, extraction.final_url)
            if (item := self._request(url, hint, guess, source)) is not None:
                yield item
        if self.config.scope != "site":
            return
        allows = self.config.allowed.allows
        links = extraction.links
        for n, url in enumerate(links):
            if not allows(url):
                continue  # a link to another site is no page of this crawl: not worth a line
            if self.scheduled >= self.config.max_pages and self.left_out >= LISTED_LEFT_OUT:
                self.left_out += len(links) - n  # counted, not resolved
                self.crawler.stats.set_value(STAT_LEFT_OUT, self.left_out)
                return
            if (item := self._request(url)) is not None:
                yield item

    def failed(self, failure: Failure) -> Iterator[FetchFailure | NoSuchVersion]:
        """A failure is the URL the crawl asked for (a redirect's first URL), with a reason
        that names the rest of the way."""
        request = getattr(failure, "request", None)
        if request is None:
            yield FetchFailure("?", describe_failure(failure, self.maxsize))
            return
        chain = request.meta.get("redirect_urls") or []
        guess = request.meta.get(GUESS)
        if guess and failure.check(BackToGuessSource):
            # A meta refresh back to the page (an HTTP redirect back is seen in parse).
            yield NoSuchVersion(chain[0] if chain else request.url, guess[0], guess[1], 200)
            return
        reason = describe_failure(failure, self.maxsize)
        if reason == "max redirections reached":
            reason += f" ({len(chain)} redirects, the last to {request.url})"
        if guess:
            reason += f" (a URL guessed by convention for the {guess[0]} version of {guess[1]})"
        yield FetchFailure(chain[0] if chain else request.url, reason)
