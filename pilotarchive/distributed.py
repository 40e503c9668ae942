"""Scrapy components of a worker in a crawl split over processes or machines.

scrapy-redis shares the frontier (a request queue and a duplicate filter in Redis); these
add what one crawl needs on top of it: the page budget and the URLs asked for shared by
all workers, redirects the shared filter drops named in the manifest, and an end that
comes when every worker is idle and the queue is empty (a worker that found the queue
empty for a moment must not stop while another is about to add links to it).
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
    table,
)

logger = logging.getLogger(__name__)


class Shared:
    """The crawl-wide facts the spider checks before it asks for a URL."""

    def __init__(self, client: Any, job: str, number: int) -> None:
        self.client = client
        self.job = job
        self.number = number

    def first_time(self, url: str) -> bool:
        """True for the first worker that asks for ``url``, False for every later one."""
        return bool(self.client.sadd(key(self.job, "urls"), url))

    def take_page(self, budget: int) -> bool:
        """One page of the crawl-wide budget, or False when it is spent."""
        return int(self.client.incr(key(self.job, "pages"))) <= budget


def shared_for(crawler: Crawler) -> Shared | None:
    worker = crawler.settings.get("PILOTARCHIVE_WORKER")
    if not worker:
        return None
    job, _, number = str(worker).rpartition("/")
    return Shared(connect(crawler.settings.get("REDIS_URL")), job, int(number))


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
        try:
            beat(shared.client, shared.job, shared.number)
            reason = aborted(shared.client, shared.job)
        except Exception as exc:  # Redis gone: the coordinator will see us silent
            logger.warning("cannot reach the crawl's Redis (%s)", exc)
            return
        if reason is not None and self.crawler.engine is not None:
            engine = self.crawler.engine
            if engine.spider is not None and not getattr(self, "_stopping", False):
                self._stopping = True
                logger.error("the crawl was given up by its coordinator: %s", reason)
                engine.close_spider(engine.spider, "aborted")

    def busy(self, *args: Any, **kwargs: Any) -> None:
        if self.idle_since is not None:
            self.idle_since = None
            self.shared.client.hdel(key(self.shared.job, "idle"), self.shared.number)

    def idle(self, spider: Any = None) -> None:
        client, job = self.shared.client, self.shared.job
        now = time.time()
        if self.idle_since is None:
            self.idle_since = now
        client.hset(key(job, "idle"), self.shared.number, self.idle_since)
        if self._queued():  # scrapy-redis's scheduler counts the shared queue
            raise DontCloseSpider
        workers, finished = members(client, job, "workers"), set(table(client, job, "finished"))
        idle = {k: float(v) for k, v in table(client, job, "idle").items()}
        waiting = [w for w in workers - finished if w not in idle or now - idle[w] < IDLE_GRACE]
        if waiting:
            raise DontCloseSpider

    def _queued(self) -> int:
        engine = self.crawler.engine
        scheduler = engine.scheduler if engine else None
        return len(scheduler) if scheduler is not None else 0  # type: ignore[arg-type]
