"""Reading a snapshot for a diff without parsing what did not change.

A diff of two snapshots of 100,000 records must fit in seconds and a few hundred MB, so a
record line is not parsed when its fingerprint says it did not change: the scan takes only
the id, the fingerprint and the page id out of each line (records are written with sorted
keys and no spaces, so these are plain substrings) and remembers where the line is. Page
records are few and are parsed in full; other records are parsed on demand.
"""

import json
import sys
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pilotarchive.archive.read import original_of, read_payload
from pilotarchive.archive.snapshot import RECORD_FILES, read_manifest
from pilotarchive.exceptions import SnapshotDamaged
from pilotarchive.records.ids import fingerprint

_ID = b'"id":"'
_FINGERPRINT = b'"fingerprint":"'
_PAGE_ID = b'"page_id":"'
_KIND = b'"kind":"'


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
    kind: str | None = None  # a pilot's kind: "pilot" or "project"


EAGER_PAGES = 2048  # up to this many pages a view parses them all; beyond, on demand


class LazyPages(Mapping[str, dict[str, Any]]):
    """Page records by id, parsed when read, a few thousand kept.

    A site crawl's snapshot has a hundred thousand page records; parsed at once they take
    seven kilobytes each. Judging its health reads each once, in order.
    """

    def __init__(self, file: Path, offsets: dict[str, int], keep: int = EAGER_PAGES) -> None:
        self.file = file
        self.offsets = offsets
        self.keep = keep
        self._cache: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._fh: Any = None

    def __getitem__(self, ident: str) -> dict[str, Any]:
        if ident in self._cache:
            self._cache.move_to_end(ident)
            return self._cache[ident]
        offset = self.offsets[ident]
        if self._fh is None:
            self._fh = self.file.open("rb")
        self._fh.seek(offset)
        page = _parse(self._fh.readline(), self.file, f"byte {offset}")
        _fingerprinted(page)
        self._cache[ident] = page
        if len(self._cache) > self.keep:
            self._cache.popitem(last=False)
        return page

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:  # type: ignore[override]
        """Every page in file order (sorted by id), read in one pass, none kept."""
        with self.file.open("rb") as fh:
            for n, line in enumerate(fh, 1):
                page = _parse(line, self.file, str(n))
                _fingerprinted(page)
                yield page["id"], page

    def values(self) -> Iterator[dict[str, Any]]:  # type: ignore[override]
        return (page for _, page in self.items())

    def __iter__(self) -> Iterator[str]:
        return iter(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets)

    def __contains__(self, ident: object) -> bool:
        return ident in self.offsets


@dataclass
class SnapshotView:
    path: Path
    id: str
    manifest: dict[str, Any]
    pages: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    entries: dict[str, dict[str, Entry]] = field(default_factory=dict)  # type -> id -> entry
    by_page: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # type -> page -> ids
    # How many records of each tally key (below) each page gave, and in all: what judging
    # a snapshot's health needs, kept when the entries are not (``load_snapshot(detail=False)``)
    tally: dict[str, dict[str, int]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    _cache: dict[str, dict[str, Any]] = field(default_factory=dict)

    def record(self, kind: str, ident: str) -> dict[str, Any]:
        """A record in full, parsed on first use."""
        if kind == "page":
            return self.pages[ident]
        key = f"{kind}:{ident}"
        if key not in self._cache:
            entry = self.entries[kind][ident]
            file = self.path / "records" / RECORD_FILES[kind]
            with file.open("rb") as fh:
                fh.seek(entry.offset)
                line = fh.readline()
            self._cache[key] = _parse(line, file, f"byte {entry.offset}")
        return self._cache[key]

    def pilots_of(self, page_id: str, kind: str = "pilot") -> int:
        """How many pilot records of ``kind`` the page gave, without parsing them."""
        return self.tally.get(_tally_key("pilot", kind), {}).get(page_id, 0)

    def records_on(self, page_id: str) -> int:
        """How many pilot and contact records the page gave."""
        return sum(counts.get(page_id, 0) for counts in self.tally.values())

    def total(self, record_type: str) -> int:
        return self.totals.get(record_type, 0)

    def payload(self, page: dict[str, Any]) -> bytes:
        """The page's archived body (this snapshot's own WARC, or an earlier one's through a
        revisit); :class:`SnapshotError` when it cannot be read whole."""
        original = original_of(page, self.id)
        if original is None:
            raise SnapshotDamaged(f"{self.path}: no archived body for {page.get('final_url')}")
        if original["snapshot_id"] == self.id:  # also while this snapshot is still .tmp-
            return read_payload(self.path.parent, {**original, "snapshot_id": self.path.name})
        return read_payload(self.path.parent, original)

    def records_of_page(self, kind: str, page_id: str) -> list[dict[str, Any]]:
        return [self.record(kind, i) for i in self.by_page.get(kind, {}).get(page_id, [])]

    @property
    def health(self) -> dict[str, Any] | None:
        return self.manifest.get("health")


def _parse(line: bytes, file: Path, where: str) -> dict[str, Any]:
    """One record line, or :class:`SnapshotDamaged` naming the file and the line."""
    try:
        record = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SnapshotDamaged(f"{file}:{where}: not UTF-8 (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise SnapshotDamaged(f"{file}:{where}: not JSON ({exc.msg})") from exc
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        raise SnapshotDamaged(f"{file}:{where}: not a record (no id)")
    return record


def _tally_key(record_type: str, kind: str | None) -> str:
    return f"{record_type}:{kind}" if record_type == "pilot" else record_type


def load_snapshot(
    path: Path, manifest: dict[str, Any] | None = None, detail: bool = True
) -> SnapshotView:
    """A snapshot for diffing; ``manifest`` stands in for one not written yet.

    Without ``detail`` the pilot and contact records are only counted per page (no
    entries, no ``by_page``): enough to judge health, and a few bytes per page where the
    entries take about a kilobyte, which a 100,000-page site crawl could not afford at its
    end. A damaged file raises :class:`SnapshotDamaged` naming the file and the line.
    """
    if manifest is None:
        manifest = read_manifest(path)
    view = SnapshotView(path, manifest.get("snapshot_id") or path.name, manifest)
    pages_file = path / "records" / RECORD_FILES["page"]
    try:
        pages: dict[str, dict[str, Any]] = {}
        offsets: dict[str, int] = {}
        offset = 0
        with pages_file.open("rb") as fh:
            for n, line in enumerate(fh, 1):
                if len(offsets) < EAGER_PAGES:
                    page = _parse(line, pages_file, str(n))
                    _fingerprinted(page)
                    pages[page["id"]] = page
                    ident = page["id"]
                elif (ident := _field(line, _ID) or "") == "" or not line.endswith(b"\n"):
                    _parse(line, pages_file, str(n))
                    raise SnapshotDamaged(f"{pages_file}:{n}: not a complete record line")
                offsets[sys.intern(ident)] = offset
                offset += len(line)
        if len(offsets) > EAGER_PAGES:
            view.pages = LazyPages(pages_file, offsets)
        else:
            view.pages = pages
        for kind in ("pilot", "contact"):
            entries: dict[str, Entry] = {}
            by_page: dict[str, list[str]] = {}
            file = path / "records" / RECORD_FILES[kind]
            offset = total = 0
            if file.exists():
                with file.open("rb") as fh:
                    for n, line in enumerate(fh, 1):
                        ident = _field(line, _ID)
                        page_id = _field(line, _PAGE_ID)
                        pilot_kind = _field(line, _KIND) if kind == "pilot" else None
                        if ident is None or not line.endswith(b"\n"):
                            _parse(line, file, str(n))  # says what is wrong with it
                            raise SnapshotDamaged(f"{file}:{n}: not a complete record line")
                        total += 1
                        if page_id:
                            page_id = sys.intern(page_id)  # one string per page, all kinds
                            counts = view.tally.setdefault(_tally_key(kind, pilot_kind), {})
                            counts[page_id] = counts.get(page_id, 0) + 1
                        if detail:
                            fp = _field(line, _FINGERPRINT)
                            if fp is None:  # written before records carried fingerprints
                                fp = fingerprint(_parse(line, file, str(n)))
                            entries[ident] = Entry(fp, page_id, offset, pilot_kind)
                            if page_id:
                                by_page.setdefault(page_id, []).append(ident)
                        offset += len(line)
            view.totals[kind] = total
            if detail:
                view.entries[kind] = entries
                view.by_page[kind] = by_page
    except FileNotFoundError as exc:
        raise SnapshotDamaged(f"{path}: {Path(exc.filename).name} is missing") from exc
    except OSError as exc:
        raise SnapshotDamaged(f"{path}: cannot read {exc.filename} ({exc.strerror})") from exc
    return view


def _fingerprinted(page: dict[str, Any]) -> None:
    """Records written before fingerprints existed get one; the others keep theirs (and
    are not hashed again: ``setdefault`` would compute it every time)."""
    if "fingerprint" not in page:
        page["fingerprint"] = fingerprint(page)
