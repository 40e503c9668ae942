"""A snapshot's records as identity reads them: only the fields assignment looks at.

Identity holds every record of a snapshot at once (and those of its baseline): pilots are
paired with their twins in other languages and with last time's. Whole records held 30 MB
for 2,000 pages and took a 20,000-page crawl's commit to 530 MB; the dozen fields below
are all that ``assign``, ``register`` and ``records.entities`` read, and the rest (WARC
positions, digests, timestamps, fingerprints, notes) are dropped as each line is read.
``tests/test_identity_fields.py`` checks that every record field named in those modules is
kept here, and that an archive's assignment is the same with whole records.
"""

import json
import sys
from pathlib import Path
from typing import Any

from pilotarchive.archive.snapshot import RECORD_FILES
from pilotarchive.exceptions import SnapshotDamaged

# Every record field the identity modules read, of any record type.
IDENTITY_FIELDS = frozenset(
    {
        "id", "language", "rendering", "is_text_version", "status",
        # pages
        "url", "final_url", "title", "alternates", "text_version_url", "graphic_version_url",
        # pilots and projects
        "page_id", "kind", "theme", "coordinator", "municipalities", "position", "contact",
        # persons
        "pilot_id", "role", "name", "given_name", "family_name", "email", "phone",
    }
)  # fmt: skip


# Fields whose values repeat across records (a page's id in each of its pilots and
# persons, a language, a role): one string object each, not one per record.
_SHARED_VALUES = ("language", "rendering", "kind", "role", "page_id", "pilot_id")
_FIELDS = tuple(sorted(IDENTITY_FIELDS))


def _cut(record: dict[str, Any]) -> dict[str, Any]:
    """The record with only the identity fields, its keys this module's own strings (the
    parser makes new ones for every line: 0.6 KB a record) and its repeated values shared."""
    cut = {k: record[k] for k in _FIELDS if k in record}
    for key in _SHARED_VALUES:
        value = cut.get(key)
        if type(value) is str:
            cut[key] = sys.intern(value)
    return cut


def identity_records(folder: Path, whole: bool = False) -> dict[str, list[dict[str, Any]]]:
    """The records in ``folder/records`` by type, in file order, each cut to
    :data:`IDENTITY_FIELDS` (``whole``: as written, for the test that compares both).
    :class:`SnapshotDamaged` when a file cannot be read or a line is not a JSON record."""
    out: dict[str, list[dict[str, Any]]] = {}
    for kind, name in RECORD_FILES.items():
        path = folder / "records" / name
        rows: list[dict[str, Any]] = []
        try:
            with path.open(encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    try:
                        record = json.loads(line)
                    except ValueError as exc:
                        raise SnapshotDamaged(f"{path}:{n}: not a JSON record") from exc
                    if not isinstance(record, dict):
                        raise SnapshotDamaged(f"{path}:{n}: not a JSON record")
                    rows.append(record if whole else _cut(record))
        except FileNotFoundError:
            pass
        except (OSError, UnicodeDecodeError) as exc:
            raise SnapshotDamaged(f"{path}: cannot be read ({exc})") from exc
        out[kind] = rows
    return out
