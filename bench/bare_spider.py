"""The baseline of bench/crawl.py: a bare Scrapy CrawlSpider that yields url and title.

Same politeness-free local settings as pilotarchive's crawl in the bench (the concurrency
is passed with -s), robots.txt obeyed, no pipelines, no archive: what Scrapy itself costs.
"""

from typing import Any, ClassVar
from urllib.parse import urlsplit

from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule


class BareSpider(CrawlSpider):
    name = "bare"
    custom_settings: ClassVar[dict[str, Any]] = {
        "ROBOTSTXT_OBEY": True,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "COOKIES_ENABLED": False,
    }

    def __init__(self, start: str = "", count_file: str = "", *args, **kwargs):
        self.start_urls = [start]
        self.allowed_domains = [urlsplit(start).hostname or ""]
        self.count_file = count_file
        self.count = 0
        self.rules = (Rule(LinkExtractor(), callback="parse_item", follow=True),)
        super().__init__(*args, **kwargs)

    def parse_start_url(self, response, **kwargs):
        return self.parse_item(response)

    def parse_item(self, response):
        self.count += 1
        yield {"url": response.url, "title": response.css("title::text").get()}

    def closed(self, reason):
        with open(self.count_file, "w") as fh:
            fh.write(str(self.count))
