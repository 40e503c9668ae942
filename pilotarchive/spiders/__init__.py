"""Scrapy spiders: what to fetch, nothing else. Reading pages is the extract stage's job."""
