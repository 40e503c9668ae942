"""A progress line while a crawl runs: pages fetched, failed, queued, rate.

A Scrapy extension in the manner of Scrapy's own LogStats: a Twisted ``LoopingCall`` reads
the crawler's stats every few seconds. On a terminal the line is rewritten in place on
stderr; elsewhere (a log file, cron) nothing is printed unless asked for (``-v`` or
``PILOTARCHIVE_PROGRESS=on``), and then as plain log lines. No progress-bar library: a crawl
has no known total to draw a bar against, and one status line needs none (tqdm and rich
would fight Scrapy's logging for the same stream).

It also says, at once, that a first Ctrl-C stops the crawl after the pages in flight.
"""

import logging
import signal
import sys
import time
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from pilotarchive.controls import printable, raw_stream
from pilotarchive.settings import load_config

logger = logging.getLogger(__name__)


class Progress:
    def __init__(self, crawler: Crawler, interval: float, terminal: bool) -> None:
        self.crawler = crawler
        self.interval = interval
        self.terminal = terminal
        self.started = time.monotonic()
        self.task: task.LoopingCall | None = None
        self.width = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "Progress":
        config = load_config(crawler.settings)
        terminal = sys.stderr.isatty()
        if config.progress == "off" or (config.progress == "auto" and not terminal):
            raise NotConfigured
        extension = cls(crawler, max(0.5, config.progress_interval), terminal)
        crawler.signals.connect(extension.opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def opened(self, spider: Any = None) -> None:
        self.started = time.monotonic()
        self.task = task.LoopingCall(self.show)
        self.task.start(self.interval, now=False)

    def line(self) -> str:
        from pilotarchive.session import session_for

        stats = self.crawler.stats
        assert stats is not None
        fetched = stats.get_value("response_received_count", 0)
        writer = session_for(self.crawler).writer
        failed = len(writer.failures) if writer else 0
        engine = self.crawler.engine
        queued = len(engine.scheduler) if engine and engine.scheduler else 0  # type: ignore[arg-type]
        in_flight = len(engine.downloader.active) if engine else 0
        elapsed = max(time.monotonic() - self.started, 1e-6)
        return (
            f"{fetched} pages fetched, {failed} failed, {queued + in_flight} queued, "
            f"{fetched / elapsed:.1f} pages/s, {elapsed:.0f} s"
        )

    def show(self) -> None:
        text = self.line()
        if self.terminal:
            raw = raw_stream(sys.stderr)  # its own CR moves the cursor; the text is shown
            raw.write("\r" + printable(text).ljust(self.width))
            raw.flush()
            self.width = len(text)
        else:
            logger.info("progress: %s", text)

    def closed(self, spider: Any = None, reason: str = "") -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        if self.terminal and self.width:
            raw = raw_stream(sys.stderr)
            raw.write("\r" + " " * self.width + "\r")
            raw.flush()


def announce_shutdown(signum: int) -> None:
    """What the user sees on the first Ctrl-C (or SIGTERM), whatever the log level."""
    name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
    again = name
    sys.stderr.write(
        f"\npilotarchive: {name}: stopping after the pages in flight (a snapshot is kept "
        f"for resuming only with --jobdir); {again} again to abort at once\n"
    )
    sys.stderr.flush()
