"""The previous snapshot: validators for conditional requests, records to carry over.

When the server answers a conditional request with 304 Not Modified, the page did not
change since the previous snapshot, so its records are copied from there (marked
``unchanged``) and its bytes are read back from the previous WARC when the crawl needs its
links. Every snapshot thereby stays complete on its own.

The previous snapshot is the newest one of the same target that was judged healthy (a
degraded snapshot's records are the extractor's failure, not the page's content) and that
can be read: a damaged one (a garbled line, a byte that is not UTF-8, a missing file) is
named in the crawl's notes and the one before it is used, or none, in which case every page
is fetched in full.
"""

import json
import logging
from pathlib import Path
from typing import Any

from pilotarchive.archive.read import original_of, read_payload
from pilotarchive.archive.snapshot import (
    ANY_TARGET,
    RECORD_FILES,
    check_readable,
    list_snapshots,
    snapshot_dir,
)
from pilotarchive.exceptions import SnapshotError
from pilotarchive.records.build import upgrade

logger = logging.getLogger(__name__)


class PreviousSnapshot:
    """What the crawl needs of the previous snapshot, in the memory of a few fields a page.

    A page's validators are kept; its record, its pilots and contacts are read from their
    files by offset when the server answers 304 (a recrawl of 100,000 pages must not hold
    100,000 parsed records).
    """

    def __init__(self, path: Path, own: set[str] | None = None) -> None:
        self.path = path
        self.id = path.name
        # The snapshots of this one's target: a 304 may only be answered for a page whose
        # bytes lie in one of them (None: any).
        self.own = own
        # final URL -> (offset of the page record, ETag, Last-Modified, snapshot of the bytes)
        self._pages: dict[str, tuple[int, str | None, str | None, str | None]] = {}
        self._children: dict[str, list[tuple[str, int]]] | None = None
        offset = 0
        with (path / "records" / RECORD_FILES["page"]).open("rb") as fh:
            for line in fh:
                page = json.loads(line)
                if page.get("status") == 200 and page.get("warc_record_id"):
                    original = original_of(page, self.id)
                    self._pages[page["final_url"]] = (
                        offset,
                        page.get("http_etag"),
                        page.get("http_last_modified"),
                        original.get("snapshot_id") if original else None,
                    )
                offset += len(line)

    @property
    def pages(self) -> "_Pages":
        return _Pages(self)

    def _read(self, kind: str, offset: int) -> dict[str, Any]:
        with (self.path / "records" / RECORD_FILES[kind]).open("rb") as fh:
            fh.seek(offset)
            return dict(json.loads(fh.readline()))

    def page(self, url: str) -> dict[str, Any] | None:
        found = self._pages.get(url)
        return self._read("page", found[0]) if found else None

    @classmethod
    def latest(cls, output: Path, target: Any = ANY_TARGET) -> "PreviousSnapshot | None":
        previous, _ = cls.baseline(output, target)
        return previous

    @classmethod
    def baseline(
        cls, output: Path, target: Any = ANY_TARGET
    ) -> tuple["PreviousSnapshot | None", list[str]]:
        """The newest healthy, readable snapshot of ``target``, and notes on those skipped."""
        notes: list[str] = []
        for info in reversed(list_snapshots(output, target=target, damaged=True)):
            if info.damaged:
                notes.append(f"snapshot {info.id} is damaged and was skipped: {info.damaged}")
                continue
            if (info.manifest.get("health") or {}).get("verdict") == "degraded":
                continue
            try:
                check_readable(info.path)
                own = None
                if target is not ANY_TARGET:
                    own = {s.id for s in list_snapshots(output, target=target)}
                return cls(info.path, own), notes
            except SnapshotError as exc:
                notes.append(f"snapshot {info.id} is damaged and was skipped: {exc}")
        return None, notes

    def validators(self, url: str) -> dict[str, str]:
        """If-None-Match / If-Modified-Since for a URL archived with a 200 last time."""
        found = self._pages.get(url)
        if not found:
            return {}
        if self.own is not None and found[3] not in self.own:
            # Its bytes are in another target's snapshot (archived before revisits were
            # kept within a target): a 304 would need a revisit into it, so ask in full.
            return {}
        headers = {}
        if found[1]:
            headers["If-None-Match"] = found[1]
        if found[2]:
            headers["If-Modified-Since"] = found[2]
        return headers

    def bytes_in(self, url: str) -> str | None:
        """The snapshot whose WARC holds the page's bytes (a 304 makes a revisit into it)."""
        found = self._pages.get(url)
        return found[3] if found else None

    def original(self, url: str) -> dict[str, Any] | None:
        """The response record holding the page's bytes (never a revisit)."""
        page = self.page(url)
        return original_of(page, self.id) if page else None

    def _load_children(self) -> dict[str, list[tuple[str, int]]]:
        """page id -> where its pilots and contacts are, found without parsing them."""
        if self._children is None:
            children: dict[str, list[tuple[str, int]]] = {}
            for kind in ("pilot", "contact"):
                file = self.path / "records" / RECORD_FILES[kind]
                if not file.exists():
                    continue
                offset = 0
                with file.open("rb") as fh:
                    for line in fh:
                        start = line.find(b'"page_id":"') + 11
                        page_id = line[start : line.find(b'"', start)].decode("ascii", "replace")
                        children.setdefault(page_id, []).append((kind, offset))
                        offset += len(line)
            self._children = children
        return self._children

    def carried(self, url: str, *, snapshot_id: str, retrieved_at: str) -> list[dict[str, Any]]:
        """The page's records as the new snapshot's own, marked unchanged."""
        page = self.page(url)
        if page is None:
            raise KeyError(url)
        children = self._load_children().get(page["id"], [])
        records = [page, *(self._read(kind, offset) for kind, offset in children)]
        out = []
        for record in records:
            copy = dict(upgrade(record, page))  # older schema versions gain entity_id, rendering
            copy["snapshot_id"] = snapshot_id
            copy["retrieved_at"] = retrieved_at
            copy["unchanged"] = True
            copy["carried_over_from"] = record.get("carried_over_from") or self.id
            out.append(copy)
        return out

    def payload(self, url: str, output: Path) -> bytes:
        """The page's body as archived, content-decoded, for re-reading its links.

        Raises :class:`SnapshotError` when it cannot be read whole (a damaged WARC): the
        crawler then fetches the page again rather than lose it.
        """
        original = self.original(url)
        if original is None:
            raise SnapshotError(f"the previous snapshot {self.id} holds no bytes for {url}")
        return read_payload(snapshot_dir(output), original)


class _Pages:
    """``previous.pages.get(url)``, as the spider asks it, read on demand."""

    def __init__(self, previous: PreviousSnapshot) -> None:
        self.previous = previous

    def get(self, url: str) -> dict[str, Any] | None:
        return self.previous.page(url)

    def __contains__(self, url: object) -> bool:
        return url in self.previous._pages
