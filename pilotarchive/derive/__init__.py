"""One snapshot's responses -> its records, their entities and its health.

The capture is the truth; records are derived from it. :class:`Derivation` is that
derivation, and it is the only one: the crawl calls it page by page as responses arrive
(``pipelines.py``) and once at its commit (``session.py``: entities, health), and
``reextract`` calls :func:`derive_snapshot` with the responses read back from a snapshot's
own WARC. Nothing here imports Scrapy.

* **records**: the page read by the extraction stage (``extract.page``), then by the
  target's rules where they apply (``extract.rules``), built into records
  (``records.build``);
* **entities**: every record carries the entity register's ``entity_id``
  (``identity.register``), assigned against the last healthy snapshot before it;
* **health**: judged against the last healthy snapshot of the target before it
  (``diff.health``).

A derivation records what derived it (:meth:`Derivation.describe`, the manifest's
``derivation``): the release and the rules.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pilotarchive import __version__
from pilotarchive.derive.entities import assign_entities
from pilotarchive.derive.responses import Response
from pilotarchive.extract.page import PageExtraction, extract_page
from pilotarchive.extract.rules import Rules, with_rules
from pilotarchive.records.build import FetchFacts, build_records

Assign = Callable[[str, dict[str, list[dict[str, Any]]]], dict[str, str]]


@dataclass(frozen=True)
class Derivation:
    """How a snapshot's records are derived: this release's extractor and the rules."""

    rules: Rules = field(default_factory=Rules)
    release: str = __version__

    def read(
        self, response: Response, *, extraction: PageExtraction | None = None,
        with_links: bool = False,
    ) -> PageExtraction:  # fmt: skip
        """The page's extraction; ``extraction`` is one the crawl's spider made already
        (it reads every page for its links), which the rules then complete."""
        if extraction is None:
            extraction = extract_page(
                response.body,
                response.url,
                final_url=response.final_url,
                status=response.status,
                headers=response.headers,
                link_hint=response.link_hint,
                with_links=with_links,
            )
        return with_rules(self.rules, extraction, response.body)

    def records(
        self,
        response: Response,
        facts: FetchFacts | None = None,
        *,
        extraction: PageExtraction | None = None,
    ) -> tuple[PageExtraction, list[dict[str, Any]]]:
        """One page's records: the page record first, then its pilots and contacts."""
        page = self.read(response, extraction=extraction)
        records = build_records(page, facts or response.facts)
        records[0].update(response.kept)
        if response.carried_over_from:
            for record in records:
                record.update(unchanged=True, carried_over_from=response.carried_over_from)
        return page, records

    def entities(
        self,
        output: Path,
        target: str | None,
        folder: Path,
        snapshot_id: str,
        assign: Assign | None = None,
    ) -> None:
        """Give the records in ``folder`` the register's entity ids (see derive.entities)."""
        assign_entities(output, target, folder, snapshot_id, assign)

    def health(
        self,
        output: Path,
        target: str | None,
        folder: Path,
        manifest: dict[str, Any],
        before: str | None = None,
    ) -> dict[str, Any]:
        """The health of the records in ``folder``, against the last healthy snapshot of
        ``target`` (before ``before``: a re-derived snapshot is judged against those older
        than it, not against itself or later ones)."""
        from pilotarchive.diff.health import judge, last_healthy
        from pilotarchive.diff.load import load_snapshot

        baseline = last_healthy(output, target, before=before)
        health = judge(baseline, load_snapshot(folder, manifest, detail=False))
        return {**health, "baseline": baseline.id if baseline is not None else None}

    def describe(self, number: int = 1, **extra: Any) -> dict[str, Any]:
        """The manifest's ``derivation``: what derived the current records."""
        return {
            "release": self.release,
            "number": number,
            "rules": self.rules.describe() if self.rules else None,
            **extra,
        }


@dataclass
class Derived:
    """What :func:`derive_snapshot` made of a snapshot's responses."""

    pages: int = 0
    usable_pages: int = 0
    rejected: int = 0
    rules_pages: list[str] = field(default_factory=list)  # pages read with rules


def derive_snapshot(
    responses: Iterable[Response],
    add: Callable[[dict[str, Any]], list[dict[str, str]]],
    derivation: Derivation,
) -> Derived:
    """Every response's records, handed to ``add`` (a snapshot's record sink, which
    validates and writes them). Entities and health follow once all records are written
    (:meth:`Derivation.entities`, :meth:`Derivation.health`)."""
    from pilotarchive.extract.rules import NOTE_KIND

    out = Derived()
    for response in responses:
        page, records = derivation.records(response)
        out.pages += 1
        out.rejected += sum(1 for record in records if add(record))
        if page.status < 400 and page.error is None:
            out.usable_pages += 1
        if any(note.kind == NOTE_KIND for note in page.notes):
            out.rules_pages.append(page.final_url)
    return out


__all__ = ["Derivation", "Derived", "Response", "derive_snapshot"]
