"""The previous snapshot: validators for conditional requests, records to carry over.

When the server answers a conditional request with 304 Not Modified, the page did not
change since the previous snapshot, so its records are copied from there (marked
``unchanged``) and its bytes are read back from the previous WARC when the crawl needs its
links. Every snapshot thereby stays complete on its own.
"""

import json
from pathlib import Path
from typing import Any

from pilotarchive.archive.read import original_of, read_payload
from pilotarchive.archive.snapshot import RECORD_FILES, list_snapshots, snapshot_dir
from pilotarchive.records.build import upgrade


class PreviousSnapshot:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.id = path.name
        self.pages: dict[str, dict[str, Any]] = {}
        for line in _lines(path / "records" / RECORD_FILES["page"]):
            page = json.loads(line)
            if page.get("status") == 200 and page.get("warc_record_id"):
                self.pages[page["final_url"]] = page
        self._children: dict[str, list[dict[str, Any]]] | None = None

    @classmethod
    def latest(cls, output: Path) -> "PreviousSnapshot | None":
        snapshots = list_snapshots(output)
        return cls(snapshots[-1].path) if snapshots else None

    def validators(self, url: str) -> dict[str, str]:
        """If-None-Match / If-Modified-Since for a URL archived with a 200 last time."""
        page = self.pages.get(url)
        if not page:
            return {}
        headers = {}
        if page.get("http_etag"):
            headers["If-None-Match"] = page["http_etag"]
        if page.get("http_last_modified"):
            headers["If-Modified-Since"] = page["http_last_modified"]
        return headers

    def original(self, url: str) -> dict[str, Any] | None:
        """The response record holding the page's bytes (never a revisit)."""
        page = self.pages.get(url)
        return original_of(page, self.id) if page else None

    def _load_children(self) -> dict[str, list[dict[str, Any]]]:
        if self._children is None:
            children: dict[str, list[dict[str, Any]]] = {}
            for kind in ("pilot", "contact"):
                for line in _lines(self.path / "records" / RECORD_FILES[kind]):
                    record = json.loads(line)
                    children.setdefault(record["page_id"], []).append(record)
            self._children = children
        return self._children

    def carried(self, url: str, *, snapshot_id: str, retrieved_at: str) -> list[dict[str, Any]]:
        """The page's records as the new snapshot's own, marked unchanged."""
        page = self.pages[url]
        records = [page, *self._load_children().get(page["id"], [])]
        out = []
        for record in records:
            copy = dict(upgrade(record, page))  # older schema versions gain entity_id, rendering
            copy["snapshot_id"] = snapshot_id
            copy["retrieved_at"] = retrieved_at
            copy["unchanged"] = True
            copy["carried_over_from"] = record.get("carried_over_from") or self.id
            out.append(copy)
        return out

    def payload(self, url: str, output: Path) -> bytes | None:
        """The page's body as archived, content-decoded, for re-reading its links."""
        original = self.original(url)
        return read_payload(snapshot_dir(output), original) if original else None


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
