"""Reading archived bytes back: from a page record to the body it was read from."""

from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from pilotarchive.exceptions import SnapshotError


def original_of(page: dict[str, Any], snapshot_id: str) -> dict[str, Any] | None:
    """Where the page's bytes are: its own response record, or the one its revisit names."""
    if page.get("warc_refers_to"):
        return page["warc_refers_to"]
    if not page.get("warc_record_id") or page.get("warc_record_type") != "response":
        return None
    return {
        "snapshot_id": snapshot_id,
        "filename": page["warc_filename"],
        "offset": page["warc_offset"],
        "record_id": page["warc_record_id"],
        "target_uri": page["final_url"],
        "date": page.get("warc_date"),
        "payload_digest": page.get("warc_payload_digest"),
    }


def read_payload(snapshots_dir: Path, original: dict[str, Any]) -> bytes:
    """The body of a response record, content-decoded (gzip undone)."""
    warc = Path(snapshots_dir) / original["snapshot_id"] / "archive" / original["filename"]
    try:
        with warc.open("rb") as fh:
            fh.seek(original["offset"])
            for record in ArchiveIterator(fh):
                if record.rec_headers.get_header("WARC-Record-ID") != original["record_id"]:
                    break
                return record.content_stream().read()
    except OSError as exc:
        raise SnapshotError(f"cannot read {warc} at offset {original['offset']}: {exc}") from exc
    raise SnapshotError(f"{warc}: no record {original['record_id']} at offset {original['offset']}")
