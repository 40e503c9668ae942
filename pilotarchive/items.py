"""What the spider hands to the pipeline: a fetched page with its extraction, or a failure."""

from dataclasses import dataclass, field
from typing import Any

from pilotarchive.extract.page import PageExtraction


@dataclass
class FetchedPage:
    extraction: PageExtraction
    redirects: list[dict[str, Any]] = field(default_factory=list)
    content_length: int = 0


@dataclass
class FetchFailure:
    url: str
    reason: str
    status: int | None = None
