"""Helpers for tests that run the CLI in a subprocess and read what it wrote."""

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator

from pilotarchive.archive.cdxj import write_cdxj
from pilotarchive.archive.snapshot import validate_snapshot
from pilotarchive.replica.server import ReplicaServer


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def snapshot(self) -> Path:
        return Path(self.stdout.strip().splitlines()[-1])


def run_cli(
    *args: str,
    cwd: Path | None = None,
    timeout: float = 120,
    env_changes: dict[str, str | None] | None = None,
) -> Run:
    """``pilotarchive ARGS`` in a subprocess; ``env_changes`` sets variables (None: unset)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    for key, value in (env_changes or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    proc = subprocess.run(
        [sys.executable, "-m", "pilotarchive", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env=env,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def crawl(
    replica: ReplicaServer,
    output: Path,
    *args: str,
    path: str = "/seutukaupunkipilotit",
    expect: int = 0,
) -> Run:
    run = run_cli(
        "crawl",
        f"{replica.url}{path}",
        "--output",
        str(output),
        "--fast-loopback",
        "-s",
        "DOWNLOAD_TIMEOUT=3",
        *args,
    )
    assert run.returncode == expect, run.stderr
    if expect in (0, 3):  # 3: written, judged degraded
        check_archive(run.snapshot)
    return run


def start_crawl(replica: ReplicaServer, output: Path, *args: str) -> subprocess.Popen:
    """``pilotarchive crawl`` of the replica's pilots page in the background, for tests that
    act while it runs (kill it, crawl beside it, press Ctrl-C)."""
    return subprocess.Popen(
        [sys.executable, "-m", "pilotarchive", "crawl", f"{replica.url}/seutukaupunkipilotit",
         "--output", str(output), "--fast-loopback", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def check_archive(snapshot: Path) -> None:
    """Every snapshot a test makes passes our validation and warcio's own check, and its
    CDXJ index (written as the crawl went, see cdxj.IndexLines) is byte for byte the one
    webrecorder's indexer writes from its WARCs."""
    assert validate_snapshot(snapshot) == []
    warcs = sorted((snapshot / "archive").glob("*.warc.gz"))
    assert warcs, f"{snapshot} has no WARC"
    index = snapshot / "archive" / "index.cdxj"
    if index.exists():
        with tempfile.TemporaryDirectory() as work:
            reference = write_cdxj(warcs, Path(work) / "index.cdxj")
            assert index.read_bytes() == reference.read_bytes(), f"{index} is not the indexer's"
    checked = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", *map(str, warcs)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def load_records(snapshot: Path) -> dict[str, list[dict]]:
    out = {}
    for kind in ("pages", "pilots", "contacts"):
        lines = (snapshot / "records" / f"{kind}.jsonl").read_text(encoding="utf-8").splitlines()
        out[kind] = [json.loads(line) for line in lines]
    return out


def load_manifest(snapshot: Path) -> dict:
    return json.loads((snapshot / "manifest.json").read_text(encoding="utf-8"))


def records_of(source: bytes | Path | BinaryIO) -> list[dict]:
    """Every record of a WARC (bytes, path or open file) with its headers and raw block."""
    if isinstance(source, bytes):
        source = BytesIO(source)
    if isinstance(source, Path):
        with source.open("rb") as fh:
            return records_of(fh)
    data = source.read()
    blocks = [r.raw_stream.read() for r in ArchiveIterator(BytesIO(data), no_record_parse=True)]
    out = []
    iterator = ArchiveIterator(BytesIO(data))
    for block, record in zip(blocks, iterator, strict=True):
        h = record.rec_headers
        raw = record.raw_stream.read()  # before asking the offset, which reads on
        out.append(
            {
                "type": h.get_header("WARC-Type"),
                "id": h.get_header("WARC-Record-ID"),
                "uri": h.get_header("WARC-Target-URI"),
                "refers_to": h.get_header("WARC-Refers-To"),
                "offset": iterator.get_record_offset(),
                "headers": dict(h.headers),
                "status": record.http_headers.get_statuscode() if record.http_headers else None,
                "http": dict(record.http_headers.headers) if record.http_headers else {},
                "block": block,  # the whole block as stored: HTTP head and body
                "http_raw": block[: block.find(b"\r\n\r\n") + 4] if record.http_headers else b"",
                "raw": raw,
            }
        )
    return out


def warc_records(snapshot: Path) -> list[dict]:
    """Every record of a snapshot's WARC files, in order."""
    return [
        r for warc in sorted((snapshot / "archive").glob("*.warc.gz")) for r in records_of(warc)
    ]
