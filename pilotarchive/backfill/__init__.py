"""Backfill: the page family's history from web-archive captures, as snapshots.

A web archive (the Wayback Machine, a pywb or OpenWayback) knows captures of the pilots page
from years before pilotarchive was installed. This stage lists them through the archive's
CDX API, reads each capture's original bytes (``{replay prefix}{timestamp}id_/{URL}``, never
the rewritten page), groups the captures of the language and text versions that lie within
a few days of each other, and writes each group as a snapshot like a crawl's: records,
WARC, CDXJ, manifest (``origin: "backfill"``), with the capture times as the snapshot's id
and times. Diffs, history and exports then see the site's past in time order with the
snapshots crawled live.

Plain Python, no Scrapy; one module per job:

- ``config``  the flags and ``PILOTARCHIVE_BACKFILL_*`` settings, checked at start-up
- ``client``  the polite HTTP client: one request at a time, delays, 429/503 backoff
- ``cdx``     CDX queries and their answers (the Internet Archive's JSON arrays, pywb's
              JSON lines, plain CDX lines) as :class:`~pilotarchive.backfill.cdx.Capture`
- ``replay``  a capture's original bytes and head, its redirect target, its digest checked
- ``family``  which URLs belong to the page family, and when a version counts
- ``store``   one group of captures written as a snapshot
- ``run``     the loop that ties them together, resumable at every snapshot
"""
