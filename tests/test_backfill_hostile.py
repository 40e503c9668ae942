"""A hostile web archive against ``pilotarchive backfill`` (issue 16: items 6-9, 14).

The archive here is a small server on 127.0.0.1 that answers CDX queries and id_ replays
as a test tells it, streaming its bodies as it likes: a redirect to another host, captures
dated 2999, a byte every few tenths of a second, gzip bombs, endless resume pages. Each
test says what backfill must do instead of what it did: stay in scope, skip impossible
times, end at its deadline, and hold no more memory than a bound, whatever the archive
sends. Memory is measured in a subprocess (its own high-water mark, ``VmHWM``), so the
test's own servers and bombs do not count.
"""

import base64
import hashlib
import json
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from pilotarchive.archive.snapshot import list_snapshots
from pilotarchive.backfill import cdx as cdx_module
from pilotarchive.backfill.cdx import CdxClient, url_key
from pilotarchive.backfill.client import BoundedDecoder, PoliteClient
from pilotarchive.backfill.config import load_backfill_config
from pilotarchive.backfill.family import Family, PageLinks
from pilotarchive.cli import main
from pilotarchive.replica.content import VERSIONS
from pilotarchive.replica.server import render
from tests.helpers import load_manifest, load_records

SITE = "http://www.tem.fi"
ALIAS = f"{SITE}/seutukaupunkipilotit"
FI = f"{SITE}/index.phtml?s=4398"
SV = f"{SITE}/index.phtml?l=sv&s=4398"
EVIL = "http://evil.example"
HEADER = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
ROOT = Path(__file__).resolve().parent.parent


def sha1(body: bytes) -> str:
    return base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def page(path: str = "/index.phtml", **query: str) -> bytes:
    """A real page of the replica (2014-06), as the archive would hold it."""
    return render(VERSIONS["2014-06"], path, query or {"s": "4398"}).body


@dataclass
class Reply:
    """What the archive answers: a status, headers, and the body in pieces (any iterable,
    so a body can be generated lazily), each piece after ``pause`` seconds; with
    ``drip_head`` the status line and headers are dripped a byte at a time too."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: Iterable[bytes] = (b"",)
    pause: float = 0.0
    drip_head: bool = False


@dataclass
class Capture:
    url: str
    timestamp: str
    status: int = 200
    digest: str = "-"


def cdx_page(rows: Iterable[Capture], resume: str | None = None) -> Iterator[bytes]:
    """An Internet Archive JSON listing, generated row by row."""
    yield b"[" + json.dumps(HEADER).encode()
    for c in rows:
        row = ["fi,tem)/x", c.timestamp, c.url, "text/html", str(c.status), c.digest, "100"]
        yield b",\n" + json.dumps(row).encode()
    if resume is not None:
        yield b",\n[],\n" + json.dumps([resume]).encode()
    yield b"]\n"


class Archive:
    """CDX API at /cdx, replay at /web/ on 127.0.0.1; ``cdx(url, resume)`` and
    ``replay(timestamp, url)`` say what to answer. Every request is logged."""

    def __init__(self) -> None:
        self.captures: dict[str, list[Capture]] = {}
        self.bodies: dict[str, bytes] = {}  # original URL -> what its captures hold
        self.cdx: Callable[[str, str | None], Reply] = self.default_cdx
        self.replay: Callable[[str, str], Reply] = self.default_replay
        self.log: list[str] = []
        archive = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the body ends when the connection closes

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                archive.log.append(self.path)
                parts = urlsplit(self.path)
                if parts.path == "/cdx":
                    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                    reply = archive.cdx(query["url"], query.get("resumeKey"))
                elif parts.path.startswith("/web/") and "id_/" in self.path:
                    stamp, _, url = self.path[len("/web/") :].partition("id_/")
                    reply = archive.replay(stamp, url)
                else:
                    reply = Reply(404, body=[b"not here"])
                head = f"HTTP/1.0 {reply.status} X\r\n" + "".join(
                    f"{k}: {v}\r\n" for k, v in reply.headers
                )
                head_bytes = (head + "Connection: close\r\n\r\n").encode("latin-1")
                try:
                    if reply.drip_head:
                        for i in range(len(head_bytes)):
                            self.wfile.write(head_bytes[i : i + 1])
                            self.wfile.flush()
                            time.sleep(reply.pause)
                    else:
                        self.wfile.write(head_bytes)
                    for piece in reply.body:
                        if reply.pause:
                            time.sleep(reply.pause)
                        self.wfile.write(piece)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def add(self, url: str, timestamp: str, body: bytes, status: int = 200) -> None:
        digest = sha1(body) if status == 200 else "-"
        self.captures.setdefault(url, []).append(Capture(url, timestamp, status, digest))
        self.bodies[url] = body

    def default_cdx(self, url: str, resume: str | None) -> Reply:
        return Reply(headers=[("Content-Type", "application/json")],
                     body=cdx_page(self.captures.get(url, [])))  # fmt: skip

    def default_replay(self, stamp: str, url: str) -> Reply:
        if url not in self.bodies:
            return Reply(404, body=[b"no capture"])
        return Reply(headers=[("Content-Type", "text/html")], body=[self.bodies[url]])

    def asked_about(self, text: str) -> list[str]:
        return [p for p in self.log if text in p]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def archive() -> Iterator[Archive]:
    server = Archive()
    yield server
    server.close()


def args(archive: Archive, out: Path, *extra: str) -> list[str]:
    return [
        "backfill", "--cdx-api", f"{archive.url}/cdx", "--replay", f"{archive.url}/web/",
        "--output", str(out), "--delay", "0", "-s", "PILOTARCHIVE_BACKFILL_CDX_DELAY=0",
        "-s", "PILOTARCHIVE_BACKFILL_RETRIES=0", *extra,
    ]  # fmt: skip


def in_subprocess(argv: list[str], timeout: float = 120) -> tuple[int, int, str, str]:
    """``pilotarchive ARGV`` in a fresh interpreter: exit code, peak memory (bytes, from
    ``VmHWM``, see tests/memory.py), stdout and stderr."""
    script = (
        "import json, sys\n"
        "from pilotarchive.cli import main\n"
        "code = main(json.loads(sys.argv[1]))\n"
        "from tests.memory import peak_rss\n"
        "peak = peak_rss()\n"
        "print(json.dumps([code, peak]), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, json.dumps(argv)],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )  # fmt: skip
    assert proc.stderr.strip(), proc.stdout
    code, peak = json.loads(proc.stderr.strip().splitlines()[-1])
    return code, peak, proc.stdout, proc.stderr


MB = 1 << 20
MEMORY_BOUND = 200 * MB  # the interpreter and pilotarchive take about 50 MB; a page 16 MB


# -- 6. backfill keeps to the crawl's scope -----------------------------------------------


def test_a_captured_redirect_to_another_host_is_a_failure_not_a_page(archive: Archive,
                                                                     tmp_path: Path,
                                                                     capsys) -> None:  # fmt: skip
    fi = page().replace(b'href="/text.phtml?s=4398"', f'href="{EVIL}/text.phtml"'.encode())
    archive.add(ALIAS, "20140616090000", b"", status=301)
    archive.add(FI, "20140616090001", fi)
    archive.add(f"{EVIL}/x", "20140616090002", page())  # what the archive holds there
    archive.add(f"{EVIL}/text.phtml", "20140616090003", page("/text.phtml"))

    def replay(stamp: str, url: str) -> Reply:
        if url == ALIAS:
            where = f"/web/{stamp}id_/{EVIL}/x"  # rewritten into the archive, as IA does
            return Reply(301, [("Location", where), ("Content-Type", "text/html")])
        return archive.default_replay(stamp, url)

    archive.replay = replay
    out = tmp_path / "out"
    assert main(args(archive, out, ALIAS, FI)) == 0
    stdout, stderr = capsys.readouterr()
    assert archive.asked_about("evil.example") == archive.asked_about(f"{ALIAS}")[1:] == [], (
        "another host's captures were listed or read"
    )
    [snapshot] = list_snapshots(out)
    manifest = load_manifest(snapshot.path)
    [failure] = manifest["failures"]
    assert failure["url"] == ALIAS
    assert failure["reason"].startswith(
        f"redirect out of scope: {ALIAS} -> {EVIL}/x (allowed: http://www.tem.fi; --allow-host"
    )
    pages = load_records(snapshot.path)["pages"]
    assert [p["final_url"] for p in pages] == [FI]
    assert "1 failed" in stdout
    assert "links out of scope not followed" in stderr and f"{EVIL}/text.phtml" in stderr


def test_allow_host_lets_backfill_follow_a_redirect_there(archive: Archive, tmp_path: Path,
                                                          capsys) -> None:  # fmt: skip
    archive.add(ALIAS, "20140616090000", b"", status=301)
    archive.add(f"{EVIL}/x", "20140616090002", page())

    def replay(stamp: str, url: str) -> Reply:
        if url == ALIAS:
            return Reply(301, [("Location", f"{EVIL}/x")])
        return archive.default_replay(stamp, url)

    archive.replay = replay
    out = tmp_path / "out"
    assert main(args(archive, out, ALIAS, "--allow-host", "evil.example")) == 0
    assert archive.asked_about("evil.example")
    [snapshot] = list_snapshots(out)
    assert load_manifest(snapshot.path)["failures"] == []


def test_a_page_family_link_out_of_scope_is_not_a_member() -> None:
    family = Family(timedelta(days=7), allows=lambda url: url.startswith(SITE + "/"))
    family.add(FI, anchor=True)
    links = PageLinks.of("fi", {"en": f"{EVIL}/en"}, f"{EVIL}/text", None)
    assert family.saw_page(url_key(FI), "20140616090001", links) == []
    assert family.saw_redirect(url_key(FI), f"{EVIL}/x") == []
    assert family.out_of_scope == [f"{EVIL}/en", f"{EVIL}/text", f"{EVIL}/x"]


# -- 7. impossible capture times ----------------------------------------------------------


def test_captures_dated_before_the_web_or_after_now_are_skipped(archive: Archive,
                                                                tmp_path: Path,
                                                                capsys) -> None:  # fmt: skip
    body = page()
    archive.add(FI, "20140616090001", body)
    for n, stamp in enumerate(["29990101000000", "99991231235959", "00010101000000",
                               "19900101000000"]):  # fmt: skip
        archive.captures[FI].append(Capture(FI, stamp, 200, chr(ord("A") + n) * 32))
    out = tmp_path / "out"
    assert main(args(archive, out, FI)) == 0
    stdout, stderr = capsys.readouterr()
    assert [s.id for s in list_snapshots(out)] == ["20140616T090001.000000Z"]
    assert "4 dated before 1991 or after now skipped" in stdout
    assert "4 dated before 1991 or after now (impossible) skipped" in stderr
    assert archive.asked_about("id_/") == [f"/web/20140616090001id_/{FI}"]


def test_a_capture_within_a_day_of_clock_skew_is_kept(tmp_path: Path) -> None:
    now = datetime(2026, 1, 10, 12, 0, 0, tzinfo=UTC)
    config = load_backfill_config(
        urls=[FI], cdx_api="http://127.0.0.1:1/cdx", replay="http://127.0.0.1:1/web/",
        start=None, end=None, window=7, output=tmp_path, delay=0, operator=None, overrides={},
        now=now,
    )  # fmt: skip
    cdx = CdxClient(PoliteClient(config), config, now=lambda: now)
    row = {"original": FI, "mimetype": "text/html", "statuscode": "200"}
    rows = [
        {**row, "timestamp": "19910101000000", "digest": "A" * 32},
        {**row, "timestamp": "20260111110000", "digest": "B" * 32},  # 23 h ahead: skew
        {**row, "timestamp": "20260111130000", "digest": "C" * 32},  # 25 h ahead
        {**row, "timestamp": "19901231235959", "digest": "D" * 32},
    ]
    listing = cdx._select(FI, rows)
    assert [c.timestamp for c in listing.captures] == ["19910101000000", "20260111110000"]
    assert listing.impossible == 2


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--to", "9999"], "--to '9999': no capture can be from then"),
        (["--to", "2999-01-01"], "--to '2999-01-01': no capture can be from then"),
        (["--from", "1990"], "--from '1990': no capture can be from then"),
        (["--from", "0001"], "--from '0001': no capture can be from then"),
        (["--from", "99999999999999"], "--from '99999999999999' is not a date"),
        (["--to", "2014-1"], "--to '2014-1': give a date as YYYY"),
    ],
    ids=["to-9999", "to-2999", "from-1990", "from-0001", "not-a-date", "unparsable"],
)
def test_dates_no_capture_can_have_are_usage_errors(argv: list[str], says: str,
                                                   archive: Archive, tmp_path: Path,
                                                   capsys) -> None:  # fmt: skip
    code = main(args(archive, tmp_path / "out", FI, *argv))
    err = capsys.readouterr().err
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1, err
    assert archive.log == []


# -- 8. a deadline for the whole answer ---------------------------------------------------


def drip(n: int) -> Iterator[bytes]:
    for _ in range(n):
        yield b" "


@pytest.mark.parametrize("where", ["body", "head"])
def test_a_replay_that_drips_fails_at_the_deadline(where: str, archive: Archive,
                                                   tmp_path: Path, capsys) -> None:  # fmt: skip
    archive.add(FI, "20140616090001", page())
    archive.add(SV, "20140616090002", page(l="sv", s="4398"))

    def replay(stamp: str, url: str) -> Reply:
        if url == SV:  # a byte every 0.2 s, each well within the 2 s timeout, for 60 s
            return Reply(200, [("Content-Type", "text/html")], drip(300), pause=0.2,
                         drip_head=where == "head")  # fmt: skip
        return archive.default_replay(stamp, url)

    archive.replay = replay
    out = tmp_path / "out"
    started = time.monotonic()
    code = main(args(archive, out, FI, SV, "-s", "PILOTARCHIVE_BACKFILL_TIMEOUT=2"))
    took = time.monotonic() - started
    stdout, stderr = capsys.readouterr()
    assert took < 2 + 3, f"backfill ran {took:.1f} s with a timeout of 2 s"
    assert code == 0, stderr
    [snapshot] = list_snapshots(out)
    [failure] = load_manifest(snapshot.path)["failures"]
    assert failure["url"] == SV
    assert "did not finish its answer within 2 s" in failure["reason"]
    assert "1 failed" in stdout
    assert len(archive.asked_about(f"id_/{SV}")) == 1  # not tried again


def test_a_cdx_api_that_drips_stops_the_backfill_at_the_deadline(archive: Archive,
                                                                 tmp_path: Path,
                                                                 capsys) -> None:  # fmt: skip
    archive.cdx = lambda url, resume: Reply(200, [("Content-Type", "application/json")],
                                            drip(300), pause=0.2)  # fmt: skip
    started = time.monotonic()
    code = main(args(archive, tmp_path / "out", FI, "-s", "PILOTARCHIVE_BACKFILL_TIMEOUT=2"))
    took = time.monotonic() - started
    err = capsys.readouterr().err
    assert took < 2 + 3, f"backfill ran {took:.1f} s with a timeout of 2 s"
    assert code == 1 and "Traceback" not in err
    assert err.splitlines()[-1].startswith(
        f"pilotarchive: the CDX API at {archive.url}/cdx did not finish its answer within 2 s"
    )


# -- 9. decompression bombs ---------------------------------------------------------------


def gzip_stream(parts: Iterable[bytes]) -> bytes:
    """``parts`` gzipped as they come: the bomb is never whole in the test's memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [compressor.compress(p) for p in parts]
    out.append(compressor.flush())
    return b"".join(out)


def zeros(total: int, piece: bytes = b"\0") -> Iterator[bytes]:
    block = piece * MB
    for _ in range(total // MB):
        yield block


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """1 GiB of zeros in about 1 MB of gzip."""
    return gzip_stream(zeros(1 << 30))


def test_a_replay_gzip_bomb_is_cut_at_download_maxsize(bomb: bytes, archive: Archive,
                                                       tmp_path: Path) -> None:  # fmt: skip
    archive.add(FI, "20140616090001", page())
    archive.captures[SV] = [Capture(SV, "20140616090002", 200, sha1(bomb))]

    def replay(stamp: str, url: str) -> Reply:
        if url == SV:
            return Reply(200, [("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
                         [bomb])  # fmt: skip
        return archive.default_replay(stamp, url)

    archive.replay = replay
    out = tmp_path / "out"
    code, peak, _, stderr = in_subprocess(args(archive, out, FI, SV), timeout=60)
    assert code == 0, stderr
    assert peak < MEMORY_BOUND, f"peak memory {peak / MB:.0f} MB"
    [snapshot] = list_snapshots(out)
    [failure] = load_manifest(snapshot.path)["failures"]
    assert failure["url"] == SV
    cut = "decompressed, is larger than DOWNLOAD_MAXSIZE (16,777,216 bytes): cut"
    assert cut in failure["reason"]


def test_a_cdx_gzip_bomb_is_cut_at_download_maxsize(archive: Archive, tmp_path: Path) -> None:
    body = page()
    archive.add(FI, "20140616090001", body)
    row = ["fi,tem)/x", "20140616090001", FI, "text/html", "200", sha1(body), "100"]
    # A listing with one row, then 1 GiB of white space (JSON allows it) before the next.
    listing = [b"[" + json.dumps(HEADER).encode() + b",\n" + json.dumps(row).encode() + b","]
    cdx_bomb = gzip_stream([*listing, *zeros(1 << 30, b" "), json.dumps(row).encode() + b"]"])
    archive.cdx = lambda url, resume: Reply(
        200, [("Content-Type", "application/json"), ("Content-Encoding", "gzip")], [cdx_bomb]
    )
    out = tmp_path / "out"
    code, peak, _, stderr = in_subprocess(args(archive, out, FI))
    assert code == 0, stderr
    assert peak < MEMORY_BOUND, f"peak memory {peak / MB:.0f} MB"
    note = (
        f"the CDX API's answer for {FI} was cut at DOWNLOAD_MAXSIZE (16,777,216 bytes once "
        "decompressed)"
    )
    assert note in stderr
    [snapshot] = list_snapshots(out)
    assert any(note in n for n in load_manifest(snapshot.path)["notes"])


def test_content_is_decoded_as_a_stream_with_a_cap() -> None:
    data = b"<html>" + b"x" * 100_000
    assert BoundedDecoder(gzip_stream([data]), "gzip", 1 << 20).read() == data
    assert BoundedDecoder(zlib.compress(data), "deflate", 1 << 20).read() == data
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    assert BoundedDecoder(raw.compress(data) + raw.flush(), "deflate", 1 << 20).read() == data
    two = gzip_stream([b"a"]) + gzip_stream([b"b"])  # two gzip members
    assert BoundedDecoder(two, "gzip", 10).read() == b"ab"
    cut = BoundedDecoder(gzip_stream([data]), "gzip", 1000)
    assert cut.read() == data[:1000] and cut.cut
    assert BoundedDecoder(b"plain", "gzip", 100, lenient=True).read() == b"plain"
    with pytest.raises(ValueError, match="cannot decode gzip"):
        BoundedDecoder(b"plain", "gzip", 100).read()
    with pytest.raises(ValueError, match="cut short"):
        BoundedDecoder(gzip_stream([data])[:-6], "gzip", 1 << 20).read()
    with pytest.raises(ValueError, match="not supported"):
        BoundedDecoder(data, "br", 100)


# -- 14. endless CDX pages ----------------------------------------------------------------


def test_many_large_resume_pages_are_read_in_bounded_memory(archive: Archive,
                                                           tmp_path: Path) -> None:  # fmt: skip
    """10 pages of 50,000 rows each (half a million rows, 70 MB of JSON), generated as they
    are sent; all but one repeat the capture before, as an index without collapse lists."""
    body = page()
    archive.bodies[FI] = body
    digest, pages, per_page = sha1(body), 10, 50_000
    start = datetime(2014, 1, 1, tzinfo=UTC)

    def rows(n: int) -> Iterator[Capture]:
        for i in range(n * per_page, (n + 1) * per_page):
            stamp = (start + timedelta(seconds=i)).strftime("%Y%m%d%H%M%S")
            yield Capture(FI, stamp, 200, digest)

    def cdx(url: str, resume: str | None) -> Reply:
        if url != FI:  # the versions it links to: no capture
            return Reply(200, [("Content-Type", "application/json")], [b"[]"])
        n = int(resume or 0)
        more = str(n + 1) if n + 1 < pages else None
        return Reply(200, [("Content-Type", "application/json")], cdx_page(rows(n), more))

    archive.cdx = cdx
    out = tmp_path / "out"
    code, peak, _, stderr = in_subprocess(args(archive, out, FI), timeout=300)
    assert code == 0, stderr
    asked = archive.asked_about("url=http%3A%2F%2Fwww.tem.fi%2Findex.phtml%3Fs%3D4398&")
    assert len(asked) == pages
    assert "1 capture(s) kept of 500000 listed; 499999 repeating the one before" in stderr
    assert peak < MEMORY_BOUND, f"peak memory {peak / MB:.0f} MB"


def test_listing_stops_at_its_bounds_with_a_note(archive: Archive, tmp_path: Path,
                                                 monkeypatch) -> None:  # fmt: skip
    """Distinct captures without end: at most MAX_CAPTURES kept; pages without end: at most
    MAX_PAGES read. Either is said in a note."""
    monkeypatch.setattr(cdx_module, "MAX_CAPTURES", 50)

    def cdx(url: str, resume: str | None) -> Reply:
        n = int(resume or 0)
        stamps = [f"2014{1 + n // 28:02d}{1 + n % 28:02d}0000{i:02d}" for i in range(3)]
        rows = [Capture(url, s, 200, sha1(s.encode())) for s in stamps]
        return Reply(200, [("Content-Type", "application/json")], cdx_page(rows, str(n + 1)))

    archive.cdx = cdx
    config = load_backfill_config(
        urls=[FI], cdx_api=f"{archive.url}/cdx", replay=f"{archive.url}/web/", start=None,
        end=None, window=7, output=tmp_path, delay=0, operator=None,
        overrides={"PILOTARCHIVE_BACKFILL_CDX_DELAY": "0"},
    )  # fmt: skip
    listing = CdxClient(PoliteClient(config), config).captures_of(FI)
    assert len(listing.captures) == 50 and len(archive.log) == 17
    assert listing.notes == [
        f"the archive lists more than 50 captures of {FI}: those up to 20140117000001 kept, "
        "the rest is not read (narrow the time with --from/--to)"
    ]
    monkeypatch.setattr(cdx_module, "MAX_CAPTURES", 10_000)
    archive.log.clear()
    listing = CdxClient(PoliteClient(config), config).captures_of(SV)
    assert len(archive.log) == cdx_module.MAX_PAGES and len(listing.captures) == 60
    assert listing.notes == [
        f"the archive's listing of {SV} goes on past 20 pages; the rest is not read (narrow "
        "the time with --from/--to)"
    ]


@pytest.mark.parametrize("odd", ["&a b x=1", "&a\x1bb=1", "&ä=1"], ids=["space", "esc", "8bit"])
def test_a_captured_redirect_to_an_odd_url_is_normalised_once(
    odd: str, archive: Archive, tmp_path: Path
) -> None:
    """A Location with spaces, a control character or 8-bit text is percent-encoded as the
    crawl's Scrapy does, before it becomes a URL of the family: the WARC record and the page
    record then name the same URL, and `validate` agrees."""
    from w3lib.url import safe_url_string

    target = safe_url_string(f"{FI}{odd}")
    assert " " not in target and "\x1b" not in target
    archive.add(ALIAS, "20140616090000", b"", status=301)
    archive.add(target, "20140616090001", page())

    def replay(stamp: str, url: str) -> Reply:
        if url == ALIAS:
            return Reply(301, [("Location", f"/index.phtml?s=4398{odd}".encode().decode(
                "latin-1"))])  # fmt: skip
        return archive.default_replay(stamp, url)

    archive.replay = replay
    out = tmp_path / "out"
    assert main(args(archive, out, ALIAS)) == 0
    [snapshot] = list_snapshots(out)
    pages = load_records(snapshot.path)["pages"]
    assert target in {p["final_url"] for p in pages}, [p["final_url"] for p in pages]
    assert main(["validate", "--output", str(out), snapshot.id]) == 0
