"""What the extraction wants a reader of its records to know: notes kept on the page record.

A note is never an error: the page was read, but something about it was unusual (a link
dropped, bytes that were not valid in the page's encoding, an entry too long to read in
full), and a researcher counting facts should be able to see it.
"""

from dataclasses import dataclass

# An entry (a pilot's list item or table row, a contact line, the project's sentences) is a
# few hundred characters on a real page. Longer text is read only in its first
# MAX_ENTRY_CHARS characters: the sentence parsers then cost a bounded time per entry
# whatever a page holds, and the cut is noted.
MAX_ENTRY_CHARS = 4000


@dataclass(frozen=True, slots=True)
class Note:
    kind: str  # "link_dropped", "encoding_errors", "text_capped", ...
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}


def capped(text: str, what: str, notes: list[Note] | None) -> str:
    """``text`` cut to ``MAX_ENTRY_CHARS``; the cut is recorded in ``notes``."""
    if len(text) <= MAX_ENTRY_CHARS:
        return text
    if notes is not None:
        notes.append(
            Note(
                "text_capped",
                f"{what} of {len(text):,} characters read in its first {MAX_ENTRY_CHARS:,} only",
            )
        )
    return text[:MAX_ENTRY_CHARS]


# The ministry's page lists five pilots and a dozen persons; a page with thousands is not a
# page of this family but an attack or a mistake (60,000 list items made 334 MB of records,
# and the export of them 2 GB of memory). Past these, the rest is not kept, which is noted
# and judged: the snapshot is degraded (diff/health.py), so nobody is alerted by it.
MAX_PILOTS_PER_PAGE = 200
MAX_CONTACTS_PER_PAGE = 500
RECORDS_CAPPED = "records_capped"
# A maintainer's rule that lxml could not evaluate on a page (an XPath too deeply nested
# for libxml2, say): the page keeps the generic reading, and the snapshot is judged
# degraded, so the maintainer hears of it and nobody is alerted by a half-read page.
RULES_FAILED = "rules_failed"
# A rule's block selector matched blocks inside blocks it matched, each giving a record
# (``block = "*"``: the page, its body, every wrapper around a pilot): the fields of one
# pilot were read again in every block around it. Judged as a capped page: the records
# are not the page's, and they would be judged healthy against a baseline re-derived
# with the same rules.
RULES_OVERMATCH = "rules_overmatch"
# The parser stopped before the end of the page (libxml2's depth limit): what followed was
# not read, so the page is judged as a capped one is.
PARSE_TRUNCATED = "parse_truncated"


def cap_records(items: list, limit: int, what: str, notes: list[Note]) -> list:
    """``items`` cut to ``limit``; the cut is recorded in ``notes``."""
    if len(items) <= limit:
        return items
    said = f"{len(items):,} {what} read on one page; only the first {limit:,} kept"
    notes.append(Note(RECORDS_CAPPED, said))
    return items[:limit]
