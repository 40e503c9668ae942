"""Reading a snapshot for a diff without parsing what did not change.

A diff of two snapshots of 100,000 records must fit in seconds and a few hundred MB, so a
record line is not parsed when its fingerprint says it did not change: the scan takes only
the id, the fingerprint and the page id out of each line (records are written with sorted
keys and no spaces, so these are plain substrings) and remembers where the line is. Page
records are few and are parsed in full; other records are parsed on demand.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pilotarchive.archive.snapshot import RECORD_FILES
from pilotarchive.exceptions import SnapshotError
from pilotarchive.records.ids import fingerprint

_ID = b'"id":"'
_FINGERPRINT = b'"fingerprint":"'
_PAGE_ID = b'"page_id":"'


def _field(line: bytes, key: bytes) -> str | None:
    start = line.find(key)
    if start < 0:
        return None
    start += len(key)
    end = line.find(b'"', start)
    return line[start:end].decode("ascii", "replace")


@dataclass(slots=True)
class Entry:
    """Where a record is and what it says, in short."""

    fingerprint: str
    page_id: str | None
    offset: int


@dataclass
class SnapshotView:
    path: Path
    id: str
    manifest: dict[str, Any]
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    entries: dict[str, dict[str, Entry]] = field(default_factory=dict)  # type -> id -> entry
    by_page: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # type -> page -> ids
    _cache: dict[str, dict[str, Any]] = field(default_factory=dict)

    def record(self, kind: str, ident: str) -> dict[str, Any]:
        """A record in full, parsed on first use."""
        if kind == "page":
            return self.pages[ident]
        key = f"{kind}:{ident}"
        if key not in self._cache:
            entry = self.entries[kind][ident]
            with (self.path / "records" / RECORD_FILES[kind]).open("rb") as fh:
                fh.seek(entry.offset)
                self._cache[key] = json.loads(fh.readline())
        return self._cache[key]

    def records_of_page(self, kind: str, page_id: str) -> list[dict[str, Any]]:
        return [self.record(kind, i) for i in self.by_page.get(kind, {}).get(page_id, [])]

    @property
    def health(self) -> dict[str, Any] | None:
        return self.manifest.get("health")


def load_snapshot(path: Path, manifest: dict[str, Any] | None = None) -> SnapshotView:
    """A snapshot for diffing; ``manifest`` stands in for one not written yet."""
    if manifest is None:
        try:
            manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SnapshotError(f"{path}: cannot read manifest.json ({exc})") from exc
    view = SnapshotView(path, manifest.get("snapshot_id") or path.name, manifest)
    pages_file = path / "records" / RECORD_FILES["page"]
    with pages_file.open("rb") as fh:
        for line in fh:
            page = json.loads(line)
            page.setdefault("fingerprint", fingerprint(page))
            view.pages[page["id"]] = page
    for kind in ("pilot", "contact"):
        entries: dict[str, Entry] = {}
        by_page: dict[str, list[str]] = {}
        file = path / "records" / RECORD_FILES[kind]
        offset = 0
        if file.exists():
            with file.open("rb") as fh:
                for line in fh:
                    ident = _field(line, _ID)
                    fp = _field(line, _FINGERPRINT)
                    page_id = _field(line, _PAGE_ID)
                    if ident is None:
                        raise SnapshotError(f"{file}: a line at byte {offset} has no id")
                    if fp is None:  # written before records carried fingerprints
                        record = json.loads(line)
                        fp = fingerprint(record)
                    entries[ident] = Entry(fp, page_id, offset)
                    if page_id:
                        by_page.setdefault(page_id, []).append(ident)
                    offset += len(line)
        view.entries[kind] = entries
        view.by_page[kind] = by_page
    return view
