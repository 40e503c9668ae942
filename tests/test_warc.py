"""The WARC writer and checker: golden bytes with a fixed clock and fixed record ids."""

import gzip
import itertools
import os
import subprocess
import sys
import zlib
from datetime import UTC, datetime
from pathlib import Path

from pilotarchive.archive.check import check_warc
from pilotarchive.archive.warc import (
    PROFILE_IDENTICAL,
    HttpExchange,
    WarcArchive,
)

GOLDEN = Path(__file__).parent / "golden" / "warc" / "exchanges.warc"
HTML = "<html lang='fi'><body>Pilotit seutukaupunkien kehittämiseen</body></html>".encode("cp1252")


def fixed_archive(directory: Path) -> WarcArchive:
    ids = (f"<urn:uuid:00000000-0000-4000-8000-{n:012d}>" for n in itertools.count(1))
    return WarcArchive(
        directory,
        "20141119T120000Z",
        info={
            "software": "pilotarchive/test",
            "operator": "Test Operator <test@example.invalid>",
            "robots": "obey",
        },
        clock=lambda: datetime(2014, 11, 19, 12, 0, tzinfo=UTC),
        make_id=lambda: next(ids),
    )


def exchange(status: int = 200, body: bytes = HTML, headers=None) -> HttpExchange:
    return HttpExchange(
        url="http://www.tem.fi/index.phtml?s=4398",
        method="GET",
        request_headers=[
            ("Host", "www.tem.fi"),
            ("User-Agent", "pilotarchive/test"),
            ("Accept-Encoding", "gzip"),
        ],
        protocol="HTTP/1.1",
        status=status,
        response_headers=headers
        or [
            ("Content-Type", "text/html"),
            ("Content-Encoding", "gzip"),
            ("Transfer-Encoding", "chunked"),
        ],
        body=body,
        date=datetime(2014, 11, 19, 12, 0, 1, tzinfo=UTC),
        ip_address="127.0.0.1",
    )


def write_golden_archive(directory: Path) -> Path:
    archive = fixed_archive(directory)
    body = gzip.compress(HTML, mtime=0)
    first = archive.write_response(exchange(body=body))
    archive.write_revisit(
        exchange(body=body), first.as_original("20141119T120000Z"), PROFILE_IDENTICAL
    )
    archive.write_not_modified(
        exchange(304, b"", [("ETag", '"abc"')]), first.as_original("20141119T120000Z")
    )
    archive.close()
    return archive.path


def members(path: Path) -> bytes:
    data, out = path.read_bytes(), []
    while data:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        out.append(inflater.decompress(data))
        data = inflater.unused_data
    return b"".join(out)


def test_golden_bytes(tmp_path: Path) -> None:
    path = write_golden_archive(tmp_path)
    produced = members(path)
    if os.environ.get("PILOTARCHIVE_REGEN_GOLDEN"):
        GOLDEN.write_bytes(produced)
    assert produced == GOLDEN.read_bytes()


def test_each_record_is_its_own_gzip_member(tmp_path: Path) -> None:
    path = write_golden_archive(tmp_path)
    data, count = path.read_bytes(), 0
    while data:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        inflater.decompress(data)
        data = inflater.unused_data
        count += 1
    # warcinfo, then a response or revisit and its request, three times; and the 304 head
    assert count == 8


def test_transfer_encoding_is_removed_and_the_length_stated(tmp_path: Path) -> None:
    text = members(write_golden_archive(tmp_path)).decode("latin-1")
    assert "Transfer-Encoding" not in text
    response = text.split("WARC-Type: response", 1)[1]
    body = gzip.compress(HTML, mtime=0)
    assert f"Content-Length: {len(body)}\r\n" in response
    assert "Content-Encoding: gzip" in response  # the body stays as the server sent it


def test_warcio_check_and_our_check_pass(tmp_path: Path) -> None:
    path = write_golden_archive(tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", str(path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "digest pass" in run.stdout
    problems, records = check_warc(path, "exchanges.warc.gz")
    assert problems == []
    assert [r["type"] for r in records.values()] == [
        "warcinfo",
        "response",
        "request",
        "revisit",
        "request",
        "revisit",
        "request",
        "metadata",
    ]


def test_damage_is_named_by_file_record_and_offset(tmp_path: Path) -> None:
    path = write_golden_archive(tmp_path)
    data, parts = path.read_bytes(), []
    while data:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        parts.append(inflater.decompress(data))
        data = inflater.unused_data
    record = bytearray(parts[1])
    record[-10] ^= 0x01  # one bit of the response body
    parts[1] = bytes(record)
    path.write_bytes(b"".join(gzip.compress(p) for p in parts))
    problems, _ = check_warc(path, "archive/x.warc.gz")
    assert problems, "a changed body must be found"
    assert all(p.startswith("archive/x.warc.gz record 1 at offset") for p in problems)
    assert any("payload" in p and "digest" in p for p in problems)


def test_the_cdxj_indexer_reads_amf_without_importing_pyamf_up_front() -> None:
    """pyamf (and pkg_resources through it) cost 0.1 s of every crawl for Flash AMF POST
    bodies a crawl never sends; it is imported when one is met, and still read."""
    import subprocess
    import sys

    code = """
import sys
from pilotarchive.archive.cdxj import _amf_on_demand
_amf_on_demand()
import cdxj_indexer.main
from cdxj_indexer import postquery
assert "pyamf" not in sys.modules, "pyamf imported up front"
import pyamf
from pyamf import remoting
env = remoting.Envelope(pyamf.AMF3)
env["/1"] = remoting.Request("svc.method", [1, "x"])
print(postquery.amf_parse(remoting.encode(env).getvalue()))
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "svc.method" in run.stdout
