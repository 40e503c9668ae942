"""``scrapy crawl ministry`` with pilotarchive's exit codes.

Scrapy's own ``crawl`` exits 0 whenever the spider ran, so a cron job or scrapyd could not
tell a crawl that wrote no snapshot from one that did. This one exits 1 when no snapshot was
written (saying why) and 3 when the snapshot was judged degraded, as ``pilotarchive crawl``.
"""

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl

from pilotarchive.archive.snapshot import read_manifest
from pilotarchive.session import STAT_ERROR, STAT_SNAPSHOT


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            super().run(args, opts)  # Scrapy's own usage errors
            return
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        stats = crawler.stats.get_stats() if crawler.stats else {}
        path = stats.get(STAT_SNAPSHOT)
        if not path:
            reason = stats.get(STAT_ERROR) or "the crawl ended without a snapshot"
            print(f"pilotarchive: {reason}", file=sys.stderr)
            self.exitcode = 1
            return
        print(path)
        health = read_manifest(path).get("health") or {}
        if health.get("verdict") == "degraded":
            self.exitcode = 3
