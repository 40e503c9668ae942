"""Reading archived bytes back: from a page record to the body it was read from.

A body read back is checked against the record's payload digest, so a WARC damaged after
it was written (truncated, garbled) is reported as such instead of giving a shorter body
that would then be taken for the page.
"""

import zlib
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from pilotarchive.exceptions import SnapshotError


class QuietArchiveIterator(ArchiveIterator):
    """warcio's reader, without its warning on stderr for a record not followed by a blank
    line: on a damaged WARC that is three lines before ours, which says what is wrong."""

    INC_RECORD = ""


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


# A crawl keeps what it decoded under DOWNLOAD_MAXSIZE (16 MiB); an archive written by an
# earlier release, or by a crawl with a larger limit, may hold a gzip body that grows to
# gigabytes. Reading one stops here instead of filling the memory.
MAX_PAYLOAD = 64 * 1024 * 1024


def read_payload(snapshots_dir: Path, original: dict[str, Any], limit: int = MAX_PAYLOAD) -> bytes:
    """The body of a response record, content-decoded (gzip undone) up to ``limit`` bytes,
    its digest checked."""
    warc = Path(snapshots_dir) / original["snapshot_id"] / "archive" / original["filename"]
    where = f"{warc} at offset {original['offset']}"
    try:
        with warc.open("rb") as fh:
            fh.seek(original["offset"])
            record = next(iter(QuietArchiveIterator(fh, check_digests=True)), None)
            if record is None or (
                record.rec_headers.get_header("WARC-Record-ID") != original["record_id"]
            ):
                raise SnapshotError(f"{where}: no record {original['record_id']}")
            body = record.content_stream().read(limit + 1)
            if len(body) > limit:
                raise SnapshotError(
                    f"{where}: its content, decompressed, is larger than {limit:,} bytes; not read"
                )
            while record.raw_stream.read(1 << 16):
                pass  # to the end, so the digests are checked
            if record.digest_checker.passed is False:
                raise SnapshotError(
                    f"{where}: damaged ({'; '.join(record.digest_checker.problems)})"
                )
            return body
    except SnapshotError:
        raise
    except (OSError, EOFError, zlib.error, ArchiveLoadFailed, ValueError) as exc:
        raise SnapshotError(f"{where}: cannot be read ({type(exc).__name__}: {exc})") from exc
