"""What the spider hands to the pipeline: a fetched page with its extraction, a failure, or
a URL it chose not to fetch."""

from dataclasses import dataclass, field
from typing import Any

from pilotarchive.archive.warc import WarcRef
from pilotarchive.extract.page import PageExtraction


@dataclass
class FetchedPage:
    extraction: PageExtraction
    redirects: list[dict[str, Any]] = field(default_factory=list)
    content_length: int = 0
    fetch_status: int | None = None
    http_etag: str | None = None
    http_last_modified: str | None = None
    warc: WarcRef | None = None
    body: bytes = b""  # what was read (for the target's extraction rules, derive/)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FetchFailure:
    url: str
    reason: str
    status: int | None = None


@dataclass
class Skipped:
    """A URL deliberately not fetched, and why (out of scope, the page budget spent)."""

    url: str
    reason: str


@dataclass
class NoSuchVersion:
    """A version no page links to, guessed by URL convention, that the server says does not
    exist (404, 410): a fact about the site, not a failed page."""

    url: str
    version: str  # "sv", "en", "fi" or "text"
    guessed_from: str  # the page whose missing link led to the guess
    status: int
