"""Downloader middlewares: scope, redirects, the loopback fast slot, and the WARC archive.

Thin Scrapy wrappers: what is in scope is decided by :class:`pilotarchive.settings.Scope`,
what is archived by the crawl session.
"""

from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from w3lib.url import canonicalize_url

from pilotarchive.settings import is_loopback, load_config

LOOPBACK_SLOT = "pilotarchive-loopback"
WARC_META = "pilotarchive_warc"
CONDITIONAL_META = "pilotarchive_conditional"
UNCONDITIONAL_META = "pilotarchive_unconditional"  # fetch in full, send no validators


class OutOfScope(IgnoreRequest):
    """A request or redirect target outside the crawl's scope; never sent."""


class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL of its own chain."""


class BackToGuessSource(IgnoreRequest):
    """A URL guessed by convention, redirected (by HTTP or a meta refresh) back to the page
    it was guessed from: the site has no such version, and the page is not fetched again."""


# A page requisite (stylesheet, image, script, font): the URL of the page or stylesheet
# that loads it. Archived with the pages, never followed further (spiders/ministry.py).
REQUISITE = "pilotarchive_requisite"


# A request for a URL built by convention (no page links to it): (version, guessed from).
GUESS = "pilotarchive_guess"
# The page a guess was made from, to know it again in the answer (spiders/ministry.py).
GUESS_SOURCE = "pilotarchive_guess_source"


class LoopbackSlotMiddleware:
    """Faster crawling of loopback hosts only, when asked to.

    The replica on 127.0.0.1 needs no politeness delay, the ministry does. Rather than
    lowering the global delay (which would then apply to any host a crawl reaches), loopback
    requests are put in a slot of their own whose delay is zero and which AutoThrottle
    leaves alone.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "LoopbackSlotMiddleware":
        if not crawler.settings.getbool("PILOTARCHIVE_FAST_LOOPBACK"):
            raise NotConfigured  # no message: being off is normal, not worth a warning
        return cls()

    def process_request(self, request: Request, spider: Any = None) -> None:
        if is_loopback(request.url):
            request.meta.setdefault("download_slot", LOOPBACK_SLOT)
            request.meta["autothrottle_dont_adjust_delay"] = True


class ScopeMiddleware:
    """The last word on scope: nothing outside it is ever requested, whoever asked."""

    def __init__(self, crawler: Crawler) -> None:
        config = load_config(crawler.settings)
        self.scope = config.allowed
        self.requisites = config.requisite_hosts

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ScopeMiddleware":
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        if self.scope.allows(request.url):
            return
        if request.meta.get(REQUISITE) and self.requisites.allows(request.url):
            return  # a style, image, script or font from a host the target names (a CDN)
        raise OutOfScope(f"out of scope (allowed: {self.scope.describe()})")


class _ScopedRedirects:
    """Scrapy's redirect handling, with loops and scope made failures instead of silence.

    Scrapy leaves a redirect loop to the duplicate filter, which drops the request without a
    trace, and follows a redirect to any host. Here a loop fails with "redirect loop" and a
    target outside the scope with "redirect out of scope"; both reach the request's errback
    and so the snapshot's failures.
    """

    crawler: Crawler
    _scope: Any = None
    _requisites: Any = None

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        if self._scope is None:
            config = load_config(self.crawler.settings)
            self._scope, self._requisites = config.allowed, config.requisite_hosts
        chain = [*request.meta.get("redirect_urls", []), request.url]
        source = request.meta.get(GUESS_SOURCE)
        if source and canonicalize_url(redirected.url, keep_fragments=False) in source["urls"]:
            raise BackToGuessSource(f"redirected back to {redirected.url}")
        if redirected.url in chain:
            path = " -> ".join([*chain[chain.index(redirected.url) :], redirected.url])
            raise RedirectLoop(f"redirect loop: {path}")
        if not self._scope.allows(redirected.url) and not (
            request.meta.get(REQUISITE) and self._requisites.allows(redirected.url)
        ):
            raise OutOfScope(
                f"redirect out of scope: {request.url} -> {redirected.url} (allowed: "
                f"{self._scope.describe()}; --allow-host adds a host)"
            )
        return super()._redirect(redirected, request, reason)  # type: ignore[misc]


class ScopedRedirectMiddleware(_ScopedRedirects, RedirectMiddleware):
    pass


class ScopedMetaRefreshMiddleware(_ScopedRedirects, MetaRefreshMiddleware):
    pass


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
        if request.meta.get(UNCONDITIONAL_META):
            return
        validators = self.session.validators(request.url)
        if validators and not request.meta.get(CONDITIONAL_META):
            for name, value in validators.items():
                # As received: the server's bytes, not their UTF-8 re-encoding.
                request.headers.setdefault(name, value.encode("latin-1", "replace"))
            request.meta[CONDITIONAL_META] = True

    def process_response(
        self,
        request: Request,
        response: Response,
        spider: Any = None,
    ) -> Response:
        request.meta[WARC_META] = self.session.archive(request, response)
        return response
