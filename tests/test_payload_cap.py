"""A gzip body held in a WARC is read back only up to a cap: 100 KB can hold 100 MB."""

import gzip
import io
import zlib
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pilotarchive.archive.read import read_payload
from pilotarchive.exceptions import SnapshotError


def _bomb(size: int) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as gz:
        chunk = b"\0" * (1 << 20)
        for _ in range(size // len(chunk)):
            gz.write(chunk)
    return out.getvalue()


def _warc(folder: Path, body: bytes) -> dict:
    archive = folder / "snap" / "archive"
    archive.mkdir(parents=True)
    path = archive / "a.warc.gz"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        fields = [("Content-Type", "text/html"), ("Content-Encoding", "gzip")]
        headers = StatusAndHeaders("200 OK", fields, protocol="HTTP/1.1")
        record = writer.create_warc_record(
            "http://127.0.0.1/p", "response", payload=io.BytesIO(body), http_headers=headers
        )
        writer.write_record(record)
    record_id = record.rec_headers.get_header("WARC-Record-ID")
    return {"snapshot_id": "snap", "filename": "a.warc.gz", "offset": 0, "record_id": record_id}


def test_a_held_gzip_bomb_is_not_read_whole(tmp_path: Path) -> None:
    bomb = _bomb(64 << 20)
    assert len(bomb) < 200_000
    original = _warc(tmp_path, bomb)
    with pytest.raises(SnapshotError, match="larger than 1,048,576 bytes"):
        read_payload(tmp_path, original, limit=1 << 20)
    # Under the cap, the same record reads whole and its digest is checked.
    assert len(read_payload(tmp_path, original, limit=65 << 20)) == 64 << 20


def test_a_small_gzip_body_reads_as_before(tmp_path: Path) -> None:
    original = _warc(tmp_path, zlib.compress(b"x", wbits=31))
    assert read_payload(tmp_path, original) == b"x"
