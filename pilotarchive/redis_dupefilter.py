"""scrapy-redis's pieces in a worker of a split crawl: the shared duplicate filter, naming
the redirects it drops, and the shared request queue, holding data and never code.

Its own module, loaded by name (``DUPEFILTER_CLASS``, ``SCHEDULER_QUEUE_CLASS``, and this
module itself as ``SCHEDULER_SERIALIZER``) only in a worker, so that pilotarchive runs
without the distributed extra installed.

scrapy-redis stores queued requests as pickles by default, and unpickling runs code: anyone
who could write to the queue's key in Redis ran commands on every worker. Here a queued
request is JSON (Scrapy's ``Request.to_dict`` fields, callbacks by name, bytes as latin-1
text), and an entry that is not one of this crawl's requests is refused with one log line
and dropped, never run; the worker goes on.
"""

import codecs
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue

from pilotarchive.distributed import is_lost, lost_redis
from pilotarchive.middlewares import CONDITIONAL_META, GUESS, GUESS_SOURCE, UNCONDITIONAL_META
from pilotarchive.workers import key, redis_errors

logger = logging.getLogger(__name__)

FORMAT = 1  # "pilotarchive_request" in every entry: the shape below
# The spider's methods a queued request may name (MinistrySpider.parse and .failed): a name
# from Redis is looked up on the spider, and any other attribute must not be called.
CALLBACKS = frozenset({"parse", "failed"})
METHODS = frozenset({"GET", "HEAD"})  # the spider asks for nothing else
STAT_REFUSED = "pilotarchive/queue_refused"


class NotARequest(ValueError):
    """A queue entry that is not a request of this crawl; the message says why."""


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _flag(value: Any) -> bool:
    return isinstance(value, bool)


def _text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _short_text(value: Any, limit: int = 64) -> bool:
    return isinstance(value, str) and len(value) <= limit


def _guess(value: Any) -> bool:
    """(the version, the page it was guessed from): what the spider unpacks."""
    return isinstance(value, list) and len(value) == 2 and all(_short_text(v, 4096) for v in value)


def _guess_source(value: Any) -> bool:
    """The page a guess came from (spiders/ministry.py GuessSource): its URLs, its digest."""
    return (
        isinstance(value, dict)
        and set(value) == {"urls", "fingerprint"}
        and _text_list(value["urls"])
        and 0 < len(value["urls"]) <= 32
        and _short_text(value["fingerprint"], 128)
    )


# Our own meta keys, each with the test of what the spider reads from it: a value of another
# shape would fail in the spider after the page was fetched and archived, and the page would
# be in the WARC but in neither the records nor the failures.
OUR_META = {
    "pilotarchive_language": lambda v: v is None or _short_text(v, 16),
    GUESS: _guess,
    GUESS_SOURCE: _guess_source,
    CONDITIONAL_META: _flag,
    UNCONDITIONAL_META: _flag,
}
# Headers a queued request may carry: those the crawl's own middlewares set and a redirect
# copies. Host, Cookie, Authorization and the like from Redis would make the worker ask
# another site (or as someone else) and archive the answer under the crawl's URL.
HEADERS = frozenset(
    {"accept", "accept-language", "accept-encoding", "user-agent", "referer",
     "if-none-match", "if-modified-since", "cache-control"}
)  # fmt: skip
MAX_ENTRY = 64 * 1024  # bytes of one queue entry: a request is a few hundred


# Scrapy's meta keys a queued request keeps (redirects and retries, counted across workers;
# how its answer is handled) and the test of their values. Our own keys ("pilotarchive_...")
# hold plain data. Every other key is a process's own or names a place (download_slot,
# download_timeout, download_maxsize, proxy, bindaddress, ftp_local_filename, the WARC
# record of the answer a redirect came from): dropped when queued, set again for the next
# download by the worker's own middlewares and settings, and refused when read from Redis.
# A new meta key the spider relies on in a split crawl must be added here.
SCRAPY_META = {
    "redirect_urls": _text_list,
    "redirect_reasons": lambda v: isinstance(v, list) and all(isinstance(r, int | str) for r in v),
    "redirect_times": _count,
    "redirect_ttl": _count,
    "retry_times": _count,
    "depth": _count,
    "dont_redirect": _flag,
    "dont_retry": _flag,
    "handle_httpstatus_all": _flag,  # a guessed URL's answer is seen as it is (the spider)
    "handle_httpstatus_list": lambda v: isinstance(v, list) and all(_count(c) for c in v),
    "is_start_request": _flag,
}


def _kept(key: str) -> bool:
    return key in SCRAPY_META or key in OUR_META


def _latin1(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def dumps(obj: dict[str, Any]) -> str:
    """A request (``Request.to_dict``) as a queue entry: JSON text, bytes as latin-1."""
    if "_class" in obj:
        raise TypeError(f"only plain scrapy.Request objects are queued, not {obj['_class']}")
    for name in ("callback", "errback"):
        if obj.get(name) is not None and obj[name] not in CALLBACKS:
            raise TypeError(f"{name} {obj[name]!r} is not one of {sorted(CALLBACKS)}")
    entry = {
        "pilotarchive_request": FORMAT,
        "url": obj["url"],
        "method": obj["method"],
        "headers": {
            _latin1(k): [_latin1(v) for v in vs]
            for k, vs in obj["headers"].items()
            if _latin1(k).lower() in HEADERS
        },
        "body": _latin1(obj["body"]),
        "cookies": {},  # the worker's own cookie jar sends what the site set
        "meta": {k: v for k, v in obj["meta"].items() if _kept(k)},
        "encoding": obj["encoding"],
        "priority": obj["priority"],
        "dont_filter": obj["dont_filter"],
        "flags": list(obj.get("flags") or []),
        "callback": obj.get("callback"),
        "errback": obj.get("errback"),
    }
    return json.dumps(entry, allow_nan=False, separators=(",", ":"))


def loads(data: bytes | str) -> dict[str, Any]:
    """A queue entry as ``request_from_dict`` takes it, or :class:`NotARequest`: an entry
    of any other shape (a pickle, garbage, other JSON) is data that is refused, and nothing
    of it is run or looked up."""
    if len(data) > MAX_ENTRY:
        raise NotARequest(f"an entry of {len(data):,} bytes (a request is a few hundred)")
    try:
        entry = json.loads(data)
    except (ValueError, RecursionError):
        raise NotARequest("not JSON (a pickle, or garbage)") from None
    if not isinstance(entry, dict) or entry.get("pilotarchive_request") != FORMAT:
        raise NotARequest("JSON, but not a pilotarchive request")
    expected = {"pilotarchive_request", "url", "method", "headers", "body", "cookies", "meta",
                "encoding", "priority", "dont_filter", "flags", "callback", "errback"}  # fmt: skip
    if set(entry) != expected:
        odd = sorted(set(entry) ^ expected)
        raise NotARequest(f"fields {', '.join(map(repr, odd))[:200]} missing or not allowed")
    url, method, meta = entry["url"], entry["method"], entry["meta"]
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise NotARequest("its url is not an http(s) URL")
    if method not in METHODS:
        raise NotARequest(f"method {str(method)[:20]!r} is not one of {', '.join(sorted(METHODS))}")
    for name in ("callback", "errback"):
        if entry[name] is not None and entry[name] not in CALLBACKS:
            raise NotARequest(
                f"{name} {str(entry[name])[:40]!r} is not one of the spider's callbacks "
                f"({', '.join(sorted(CALLBACKS))})"
            )
    headers = entry["headers"]
    if not isinstance(headers, dict) or not all(_text_list(v) for v in headers.values()):
        raise NotARequest("its headers are not names with lists of values")
    for name in headers:
        if name.lower() not in HEADERS:
            raise NotARequest(f"header {name[:40]!r} is not one a queued request may carry")
    if entry["cookies"] != {}:
        raise NotARequest("it carries cookies (the worker's own cookie jar sends them)")
    if not isinstance(meta, dict):
        raise NotARequest("its meta is not a table")
    for k, v in meta.items():
        test = SCRAPY_META.get(k) or OUR_META.get(k)
        if test is None or not test(v):
            raise NotARequest(f"meta {str(k)[:40]!r} is not one a queued request may carry")
    checks = (
        isinstance(entry["body"], str),
        isinstance(entry["encoding"], str) and _codec(entry["encoding"]),
        isinstance(entry["priority"], int) and not isinstance(entry["priority"], bool),
        isinstance(entry["dont_filter"], bool),
        _text_list(entry["flags"]),
    )
    if not all(checks):
        raise NotARequest("body, encoding, priority, dont_filter or flags of the wrong type")
    try:
        body = entry["body"].encode("latin-1")
        raw_headers = {k: [v.encode("latin-1") for v in vs] for k, vs in headers.items()}
    except UnicodeEncodeError:
        raise NotARequest("its body or headers are not latin-1 text") from None
    fields = {k: v for k, v in entry.items() if k != "pilotarchive_request"}
    return {**fields, "body": body, "headers": raw_headers, "cb_kwargs": {}}


def _codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


class RefusingPriorityQueue(PriorityQueue):
    """scrapy-redis's priority queue, refusing an entry that is not a request of this crawl
    (one log line, counted in the stats) instead of stopping the worker on it; and a Redis
    that stops answering ends this worker's part (:func:`lost_redis`), said once."""

    refused = object()  # what a refused entry decodes to: the next one is taken

    _allowed: Any = None

    def _asked(self, request: Request) -> Request:
        """A request this crawl asked for, or :class:`NotARequest`: in its scope (the URL and
        every URL of its redirect chain), not longer than URLLENGTH_LIMIT, and asked by a
        worker (its URL, or its chain's first, is in the crawl's set of URLs asked for, which
        the spider fills as it takes pages of the budget): an entry pushed into the queue
        alone would fetch pages past ``--max-pages`` and record what no page linked to."""
        crawler = self.spider.crawler
        if self._allowed is None:
            from pilotarchive.settings import load_config

            self._allowed = load_config(crawler.settings).allowed
        chain = [*request.meta.get("redirect_urls", []), request.url]
        limit = crawler.settings.getint("URLLENGTH_LIMIT")
        for url in chain:
            if limit and len(url) > limit:
                raise NotARequest(f"a URL of {len(url):,} characters, past URLLENGTH_LIMIT")
            if not self._allowed.allows(url):
                raise NotARequest(f"{url[:200]} is out of the crawl's scope")
        shared = getattr(self.spider, "shared", None)
        if shared is not None and not shared._ask(
            lambda: shared.client.sismember(key(shared.job, "urls"), chain[0]), True
        ):
            raise NotARequest(f"{chain[0][:200]} was not asked for by this crawl")
        return request

    def _decode_request(self, encoded_request: bytes) -> Any:
        try:
            return self._asked(super()._decode_request(encoded_request))
        except Exception as exc:  # whatever it is, one entry never stops a worker
            said = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(exc)[:300])
            logger.error(
                "refused an entry of the crawl's Redis queue %s: %s (%r...); not run",
                self.key, said, bytes(encoded_request[:40]),
            )  # fmt: skip
            if (stats := self.spider.crawler.stats) is not None:
                stats.inc_value(STAT_REFUSED)
            return self.refused

    def pop(self, timeout: int = 0) -> Request | None:
        crawler = self.spider.crawler
        while not is_lost(crawler):
            try:
                request = super().pop(timeout)
            except redis_errors() as exc:
                lost_redis(crawler, exc)
                return None
            if request is not self.refused:
                return request
        return None

    def push(self, request: Request) -> None:
        if is_lost(self.spider.crawler):
            return
        try:
            super().push(request)
        except redis_errors() as exc:
            lost_redis(self.spider.crawler, exc)

    def __len__(self) -> int:
        if is_lost(self.spider.crawler):
            return 0
        try:
            return int(super().__len__())
        except redis_errors() as exc:
            lost_redis(self.spider.crawler, exc)
            return 0


class RecordingRedisDupeFilter(RFPDupeFilter):
    """As :class:`pilotarchive.dupefilter.RecordingDupeFilter` does for a single process."""

    session: Any = None
    crawler: Any = None

    @classmethod
    def from_spider(cls, spider: Any) -> "RecordingRedisDupeFilter":
        from pilotarchive.session import session_for

        dupefilter = super().from_spider(spider)
        dupefilter.session = session_for(spider.crawler)
        dupefilter.crawler = spider.crawler
        return dupefilter

    def request_seen(self, request: Request) -> bool:
        """As scrapy-redis's; with its Redis gone, nothing is new (the worker is stopping)."""
        if self.crawler is not None and is_lost(self.crawler):
            return True
        try:
            return bool(super().request_seen(request))
        except redis_errors() as exc:
            if self.crawler is None:
                raise
            lost_redis(self.crawler, exc)
            return True

    def log(self, request: Request, spider: Any) -> None:
        chain = request.meta.get("redirect_urls") or []
        if chain and self.session is not None:
            self.session.skip(
                request.url, f"already fetched in this crawl (redirected from {chain[0]})"
            )
