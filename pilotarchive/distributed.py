"""Scrapy components of a worker in a crawl split over processes or machines.

scrapy-redis shares the frontier (a request queue and a duplicate filter in Redis); these
add what one crawl needs on top of it: the page budget and the URLs asked for shared by
all workers, redirects the shared filter drops named in the manifest, and an end that
comes when every worker is idle and the queue is empty (a worker that found the queue
empty for a moment must not stop while another is about to add links to it).

A Redis that stops answering ends the worker's crawl at the first call that fails: the
frontier is gone, so no part can be finished. It is recorded once (:func:`lost_redis`),
every later Redis call is skipped, and the worker's command says it in one line, instead
of a traceback from each page, signal handler and scheduler call that met it.
"""

import logging
import time
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured

from pilotarchive.workers import (
    BEAT,
    IDLE_GRACE,
    aborted,
    beat,
    connect,
    key,
    members,
    redis_errors,
    table,
)

logger = logging.getLogger(__name__)
STAT_LOST_REDIS = "pilotarchive/lost_redis"  # why this worker's Redis is gone


def is_lost(crawler: Crawler) -> bool:
    return bool(crawler.stats is not None and crawler.stats.get_value(STAT_LOST_REDIS))


def lost_redis(crawler: Crawler, exc: BaseException) -> None:
    """This worker's Redis failed: record why (once) and close the spider. Nothing is
    logged here; :func:`pilotarchive.crawl.run_worker` raises ``LostRedis`` with it."""
    if crawler.stats is None or is_lost(crawler):
        return
    crawler.stats.set_value(STAT_LOST_REDIS, str(exc) or type(exc).__name__)
    close(crawler, "lost Redis")
    # Scrapy's close waits for every request in progress; one lost with the Redis (a
    # counter made garbage while the spider starts) never ends, and the worker hung for
    # ever. The crawl is lost anyway: after a grace, the reactor stops.
    _reactor().callLater(LOST_GRACE, _stop_if_open, crawler)


LOST_GRACE = 10.0  # seconds a worker that lost its Redis has to close before it is stopped


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


def _stop_if_open(crawler: Crawler) -> None:
    reactor = _reactor()
    if reactor.running:
        reactor.stop()


def close(crawler: Crawler, reason: str) -> None:
    """Close the spider (once) from a signal handler, a beat or a scheduler call."""
    from scrapy.utils.defer import deferred_from_coro

    engine = crawler.engine
    if engine is None or engine.spider is None or getattr(crawler, "_pa_closing", False):
        return
    crawler._pa_closing = True  # type: ignore[attr-defined]
    deferred_from_coro(engine.close_spider_async(reason=reason))


class Shared:
    """The crawl-wide facts the spider checks before it asks for a URL."""

    def __init__(self, client: Any, job: str, number: int, crawler: Crawler | None = None) -> None:
        self.client = client
        self.job = job
        self.number = number
        self.crawler = crawler

    def first_time(self, url: str) -> bool:
        """True for the first worker that asks for ``url``, False for every later one (and
        for all once Redis is gone: the worker is stopping)."""
        return bool(self._ask(lambda: self.client.sadd(key(self.job, "urls"), url), 0))

    def take_page(self, budget: int) -> bool:
        """One page of the crawl-wide budget, or False when it is spent."""
        taken = self._ask(lambda: self.client.incr(key(self.job, "pages")), budget + 1)
        return int(taken) <= budget

    def _ask(self, call: Any, otherwise: Any) -> Any:
        """``call()`` on Redis; ``otherwise`` when Redis is gone, recorded once."""
        if self.crawler is None:
            return call()
        if is_lost(self.crawler):
            return otherwise
        try:
            return call()
        except redis_errors() as exc:
            lost_redis(self.crawler, exc)
            return otherwise


def shared_for(crawler: Crawler) -> Shared | None:
    worker = crawler.settings.get("PILOTARCHIVE_WORKER")
    if not worker:
        return None
    job, _, number = str(worker).rpartition("/")
    return Shared(connect(crawler.settings.get("REDIS_URL")), job, int(number), crawler)


class SharedIdle:
    """Keeps a worker alive while the crawl as a whole is not done."""

    def __init__(self, crawler: Crawler, shared: Shared) -> None:
        self.crawler = crawler
        self.shared = shared
        self.idle_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "SharedIdle":
        shared = shared_for(crawler)
        if shared is None:
            raise NotConfigured
        extension = cls(crawler, shared)
        crawler.signals.connect(extension.idle, signal=signals.spider_idle)
        crawler.signals.connect(extension.busy, signal=signals.response_received)
        crawler.signals.connect(extension.busy, signal=signals.request_scheduled)
        crawler.signals.connect(extension.opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def opened(self, spider: Any = None) -> None:
        from twisted.internet.task import LoopingCall

        self._beat = LoopingCall(self.beat)
        self._beat.start(BEAT, now=True)

    def closed(self, spider: Any = None) -> None:
        if getattr(self, "_beat", None) is not None and self._beat.running:
            self._beat.stop()

    def beat(self) -> None:
        """Say this worker lives; stop when the coordinator gave the crawl up."""
        shared = self.shared

        def beat_and_ask() -> str | None:
            beat(shared.client, shared.job, shared.number)
            return aborted(shared.client, shared.job)

        reason = shared._ask(beat_and_ask, None)
        if reason is not None and self.crawler.engine is not None:
            engine = self.crawler.engine
            if engine.spider is not None and not getattr(self, "_stopping", False):
                self._stopping = True
                # Text from Redis: control characters escaped, not sent to the terminal.
                shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in reason[:300])
                logger.error("the crawl was given up by its coordinator: %s", shown)
                close(self.crawler, "aborted")

    def busy(self, *args: Any, **kwargs: Any) -> None:
        if self.idle_since is not None:
            self.idle_since = None
            shared = self.shared
            shared._ask(lambda: shared.client.hdel(key(shared.job, "idle"), shared.number), 0)

    def idle(self, spider: Any = None) -> None:
        if self.shared._ask(self._others, False):  # False with Redis gone: it is closing
            raise DontCloseSpider

    def _others(self) -> bool:
        """Whether this worker must stay: the shared queue holds requests, or another worker
        is busy or was idle for less than IDLE_GRACE."""
        client, job = self.shared.client, self.shared.job
        now = time.time()
        if self.idle_since is None:
            self.idle_since = now
        client.hset(key(job, "idle"), self.shared.number, self.idle_since)
        if self._queued():  # scrapy-redis's scheduler counts the shared queue
            return True
        workers, finished = members(client, job, "workers"), set(table(client, job, "finished"))
        idle = {k: float(v) for k, v in table(client, job, "idle").items()}
        waiting = [w for w in workers - finished if w not in idle or now - idle[w] < IDLE_GRACE]
        return bool(waiting)

    def _queued(self) -> int:
        engine = self.crawler.engine
        scheduler = engine.scheduler if engine else None
        return len(scheduler) if scheduler is not None else 0  # type: ignore[arg-type]
