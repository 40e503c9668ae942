"""pilotarchive backfill: web-archive captures become snapshots dated by their captures.

The end-to-end tests build WARCs of the replica's three dated versions at the real site's
URLs (``http://www.tem.fi/...``) with distinct capture times, load them into pywb on
127.0.0.1, and run ``pilotarchive backfill --cdx-api ... --replay ...`` through a small
HTTP server in front of pywb (``Front``) that logs every request and, when a test says so,
answers 429, 404 or holds a request. Nothing here reaches beyond 127.0.0.0/8: every test
passes ``--cdx-api`` and ``--replay``.
"""

import http.client
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from pilotarchive.archive.owner import Ownership
from pilotarchive.archive.snapshot import list_snapshots, make_snapshot_id, snapshot_dir
from pilotarchive.backfill.cdx import Capture, CdxClient, parse_listing, url_key
from pilotarchive.backfill.client import PoliteClient, retry_after
from pilotarchive.backfill.config import load_backfill_config, parse_bound
from pilotarchive.backfill.family import Family, PageLinks, first_group
from pilotarchive.backfill.replay import fetch_capture, original_head, sha1_base32, unarchived
from pilotarchive.cli import main
from pilotarchive.diff.compare import diff_paths
from pilotarchive.exceptions import ArchiveError
from pilotarchive.records.validate import record_errors
from pilotarchive.replica.content import VERSIONS
from pilotarchive.replica.server import ReplicaServer, negotiate, render
from tests.helpers import check_archive, crawl, load_manifest, load_records, records_of
from tests.test_replay import free_port
from tests.tools import pywb_bin

SITE = "http://www.tem.fi"
ALIAS = f"{SITE}/seutukaupunkipilotit"
FI, SV, EN = "/index.phtml?s=4398", "/index.phtml?l=sv&s=4398", "/index.phtml?l=en&s=4398"
FI_TEXT, SV_TEXT, EN_TEXT = (
    "/text.phtml?s=4398",
    "/text.phtml?l=sv&s=4398",
    "/text.phtml?l=en&s=4398",
)
EN_FRONT, EN_FRONT_TEXT = "/index.phtml?l=en", "/text.phtml?l=en"
DAY = 86400
# What a web archive might hold of the site: per replica version, the first capture's time
# and (path, seconds after it, gzipped as sent to a client that accepts gzip). The captures
# of a version spread over up to three days, as a crawler's do.
PLAN = [
    (
        "2014-06",
        datetime(2014, 6, 16, 9, 0, 0),
        [
            ("/seutukaupunkipilotit", 0, False),  # the alias: 301 to the Finnish page
            (FI, 1, False),
            (FI_TEXT, 2, False),
            (SV, DAY, False),
            (SV_TEXT, DAY + 1, False),
            (EN_FRONT, DAY + 60, False),  # "In English" leads to the English front page then
            (EN_FRONT_TEXT, DAY + 61, False),
            (FI, 2 * DAY, False),  # the same bytes again: not read twice
        ],
    ),
    (
        "2014-11-19",
        datetime(2014, 11, 20, 10, 0, 0),
        [
            ("/seutukaupunkipilotit", 0, False),
            (FI, 1, False),
            (SV, 2, False),
            (FI_TEXT, 3, True),
            (SV_TEXT, 4, True),
            (EN, 3 * DAY, False),
            (EN_TEXT, 3 * DAY + 1, True),
        ],
    ),
    (
        "2015-06",
        datetime(2015, 6, 17, 8, 0, 0),
        [
            ("/seutukaupunkipilotit", 0, False),
            (FI, 1, False),
            (SV, 2, False),
            (EN, 3, False),
            (FI_TEXT, 4, False),
            (SV_TEXT, 5, False),  # gone: 404, which a backfill does not take for a capture
            (EN_TEXT, 6, False),
            (EN_FRONT, 7, False),  # the front page, no version of the pilots page any more
        ],
    ),
]
EXPECTED_IDS = ["20140616T090000.000000Z", "20141120T100001.000000Z", "20150617T080001.000000Z"]
# With --from, the alias's first 301 in the range is kept (the one before is out of it).
NOVEMBER_ALONE, JUNE_2015_ALONE = "20141120T100000.000000Z", "20150617T080000.000000Z"


def build_warcs(directory: Path) -> list[Path]:
    """One WARC per replica version, each response at its capture time."""
    out = []
    for version, first, captures in PLAN:
        path = directory / f"tem-{version}.warc.gz"
        with path.open("wb") as fh:
            writer = WARCWriter(fh, gzip=True, warc_version="WARC/1.1")
            for target, after, gz in captures:
                parts = urlsplit(target)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                answer = negotiate(
                    render(VERSIONS[version], parts.path, query),
                    {"Accept-Encoding": "gzip"} if gz else {},
                )
                headers = [*answer.headers.items(), ("Content-Length", str(len(answer.body)))]
                reason = {200: "OK", 301: "Moved Permanently", 404: "Not Found"}[answer.status]
                http = StatusAndHeaders(f"{answer.status} {reason}", headers, protocol="HTTP/1.1")
                when = first + timedelta(seconds=after)
                record = writer.create_warc_record(
                    SITE + target,
                    "response",
                    payload=BytesIO(answer.body),
                    length=len(answer.body),
                    http_headers=http,
                    warc_headers_dict={"WARC-Date": datetime_to_iso_date(when)},
                )
                writer.write_record(record)
        out.append(path)
    return out


@contextmanager
def running_wayback(root: Path, collection: str, warcs: list[Path]) -> Iterator[str]:
    """pywb on a free 127.0.0.1 port with ``warcs`` in ``collection``; yields its base URL."""
    subprocess.run([pywb_bin() / "wb-manager", "init", collection], cwd=root, check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run([pywb_bin() / "wb-manager", "add", collection, *map(str, warcs)], cwd=root,
                   check=True, capture_output=True)  # fmt: skip
    port = free_port()
    # Its log goes to a file: a pipe nobody reads fills up over many tests and pywb stops.
    with (root / "wayback.log").open("wb") as log:
        proc = subprocess.Popen([pywb_bin() / "wayback", "-b", "127.0.0.1", "-p", str(port)],
                                cwd=root, stdout=log, stderr=log)  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while not _listening(port):
                assert proc.poll() is None, (root / "wayback.log").read_text()
                assert time.monotonic() < deadline, "pywb did not start in 30 s"
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def wayback(tmp_path_factory) -> Iterator[str]:
    """pywb with the three versions' WARCs in collection 'pilots'."""
    root = tmp_path_factory.mktemp("wayback")
    with running_wayback(root, "pilots", build_warcs(root)) as url:
        yield url


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


Answer = tuple[int, list[tuple[str, str]], bytes]


class Front:
    """A small server in front of pywb (or of nothing): logs every request, forwards it
    byte for byte (no redirect followed), unless a rule answers it or ``hold`` keeps it."""

    def __init__(self, upstream: str | None = None) -> None:
        self.upstream = urlsplit(upstream) if upstream else None
        self.rules: list[Callable[[str], Answer | None]] = []
        self.log: list[tuple[float, str]] = []
        self.hold: Callable[[str], bool] | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                front.log.append((time.monotonic(), self.path))
                if front.hold is not None and front.hold(self.path):
                    front.holding.set()
                    front.release.wait(60)
                    self.close_connection = True
                    return
                answer = next((a for rule in front.rules if (a := rule(self.path))), None)
                if answer is None:
                    answer = front.forward(self.path, dict(self.headers.items()))
                status, headers, body = answer
                try:
                    self.send_response(status)
                    for k, v in headers:
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def forward(self, path: str, headers: dict[str, str]) -> Answer:
        if self.upstream is None:
            return 404, [("Content-Type", "text/plain")], b"nothing here"
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            conn.request(
                "GET", path, headers={"Accept-Encoding": headers.get("Accept-Encoding", "identity")}
            )
            answer = conn.getresponse()
            body = answer.read()
            kept = [
                (k, v)
                for k, v in answer.getheaders()
                if k.lower() not in ("transfer-encoding", "content-length", "connection")
            ]
            return answer.status, kept, body
        finally:
            conn.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def paths(self) -> list[str]:
        return [p for _, p in self.log]

    def replays(self) -> list[str]:
        """The id_ requests: the captures read."""
        return [p for p in self.paths() if "id_/" in p]

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def front(wayback: str) -> Iterator[Front]:
    server = Front(wayback)
    yield server
    server.close()


def backfill_args(front: Front, out: Path, *extra: str) -> list[str]:
    return [
        "backfill", "--cdx-api", f"{front.url}/pilots/cdx", "--replay", f"{front.url}/pilots/",
        "--output", str(out), "--delay", "0", "-s", "PILOTARCHIVE_BACKFILL_CDX_DELAY=0", *extra,
    ]  # fmt: skip


def warc_of(snapshot: Path) -> list[dict]:
    return records_of(next((snapshot / "archive").glob("*.warc.gz")))


def metadata_fields(record: dict) -> dict[str, str]:
    body = record["block"].decode("utf-8")
    return dict(line.split(": ", 1) for line in body.splitlines() if ": " in line)


# -- Done when 1: one snapshot per version, capture times as snapshot times, diffs -------------


def test_one_snapshot_per_version_dated_by_its_captures(front: Front, tmp_path: Path,
                                                       capsys) -> None:  # fmt: skip
    out = tmp_path / "out"
    assert main(backfill_args(front, out)) == 0
    stdout, stderr = capsys.readouterr()
    snapshots = list_snapshots(out)
    assert [s.id for s in snapshots] == EXPECTED_IDS, stderr
    assert stdout.splitlines()[-1].startswith("backfill: 3 snapshot(s) written")
    for info in snapshots:
        check_archive(info.path)  # our validation and warcio's own check
        manifest = info.manifest
        assert manifest["origin"] == "backfill" and manifest["manifest_version"] == "1.4.0"
        captures = manifest["captures"]
        times = sorted(c["timestamp"] for c in captures)
        first = datetime.strptime(times[0], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        # The snapshot's id and times are its captures' times.
        assert info.id == make_snapshot_id(first)
        assert manifest["started_at"] == first.strftime("%Y-%m-%dT%H:%M:%SZ")
        last = datetime.strptime(times[-1], "%Y%m%d%H%M%S")
        assert manifest["finished_at"] == last.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert {c["result"] for c in captures} == {"fetched"}
        assert manifest["settings"]["cdx_api"] == f"{front.url}/pilots/cdx"
        # The WARC: capture time as WARC-Date, original URL as Target-URI, a metadata
        # record naming the archive's URL and timestamp, no request (we asked no site).
        records = warc_of(info.path)
        by_id = {r["id"]: r for r in records}
        assert not [r for r in records if r["type"] == "request"]
        for capture in captures:
            response = by_id[capture["warc_record_id"]]
            assert response["type"] == "response"
            assert response["uri"] == capture["url"] and response["uri"].startswith(SITE)
            stamp = capture["timestamp"]
            date = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[8:10]}:{stamp[10:12]}:"
            assert response["headers"]["WARC-Date"] == date + stamp[12:] + "Z"
            meta = [r for r in records if r["type"] == "metadata"
                    and r["headers"].get("WARC-Refers-To") == response["id"]]  # fmt: skip
            assert len(meta) == 1
            fields = metadata_fields(meta[0])
            assert fields["via"] == f"{front.url}/pilots/{stamp}id_/{capture['url']}"
            assert fields["archive-timestamp"] == stamp
            assert fields["archive-digest"] == capture["digest"]
            assert fields["digest-verified"] == "yes"
        # Every page record names its capture.
        for page in load_records(info.path)["pages"]:
            capture = page["capture"]
            assert (
                capture["replay_url"]
                == f"{front.url}/pilots/{capture['timestamp']}id_/" + (capture["original_url"])
            )
            assert (
                page["warc_date"]
                .replace("-", "")
                .replace(":", "")
                .startswith(capture["timestamp"][:8])
            )
            assert capture["digest_verified"] and capture["fetched"]
    first_pages = {p["final_url"]: p for p in load_records(snapshots[0].path)["pages"]}
    fi = first_pages[SITE + FI]
    assert fi["url"] == ALIAS and fi["redirects"] == [{"url": ALIAS, "status": 301}]
    assert fi["capture"]["redirects"][0]["location"] == SITE + FI
    # 2014-06: the English version was the English front page; later it is not linked, and
    # its 2015 capture is not read. The repeated Finnish capture is not read either.
    assert SITE + EN_FRONT in first_pages
    assert not [p for p in front.replays() if p.startswith("/pilots/20150617080007")]
    assert not [p for p in front.replays() if p.startswith("/pilots/20140618")]
    assert len(front.replays()) == len(set(front.replays())) == 18
    # The diffs name the changes between the versions.
    june, november, june15 = (s.path for s in snapshots)
    diff = diff_paths(june, november)
    fi_pilot_contacts = [
        (f["old"]["name"], f["new"]["name"])
        for c in diff["changes"]
        if c["language"] == "fi" and c["record_type"] == "pilot"
        for f in c["fields"]
        if f["field"] == "contact"
    ]
    assert ("Juha Heikkinen", "Sanna Kärkkäinen") in fi_pilot_contacts
    assert any(c["kind"] == "appeared" and c["language"] == "en" and "Pilots" in c["label"]
               for c in diff["changes"])  # fmt: skip
    assert {n["reason"] for n in diff["not_fetched"]} == {"not in this crawl"}  # front pages
    later = diff_paths(november, june15)
    coordinators = {(f["old"], f["new"]) for c in later["changes"] for f in c["fields"]
                    if f["field"] == "coordinator" and c["kind"] == "modified"}  # fmt: skip
    assert ("Loviisan kaupunki", "Porvoon kaupunki") in coordinators
    added = {c["label"] for c in later["changes"] if c["kind"] == "added"}
    assert "Matkailu- ja kulttuuripalvelujen kehittäminen" in added
    assert later["summary"]["pilot"]["removed"] == 0
    # The Swedish text version has no capture in 2015 (its 404 is not one): not removed.
    [gone] = later["not_fetched"]
    assert gone["url"] == SITE + SV_TEXT and gone["reason"].startswith("not captured within 7")
    assert later["health"]["verdict"] == "healthy"


def test_quiet_prints_only_the_snapshots_paths(front: Front, tmp_path: Path, capsys) -> None:
    """``-q`` for scripts: stdout holds the paths of the snapshots written, one a line, and
    nothing else; stderr holds no progress line."""
    out = tmp_path / "out"
    assert main(backfill_args(front, out, "-q")) == 0
    stdout, stderr = capsys.readouterr()
    assert stdout.splitlines() == [str(s.path) for s in list_snapshots(out)]
    assert len(stdout.splitlines()) == 3
    assert "listing" not in stderr and "capture" not in stderr, stderr


def test_backfilled_and_crawled_snapshots_in_one_time_line(front: Front, tmp_path: Path,
                                                          capsys) -> None:  # fmt: skip
    """A crawl after a backfill diffs against the last backfilled snapshot (ids are times),
    history walks both, and wacz packages a backfilled snapshot like a crawled one."""
    out = tmp_path / "out"
    assert main(backfill_args(front, out, "--from", "2015")) == 0
    capsys.readouterr()
    assert [s.id for s in list_snapshots(out)] == [JUNE_2015_ALONE]
    with ReplicaServer("2015-06", port=0) as replica:
        live = crawl(replica, out, "--target", "www.tem.fi").snapshot  # the backfill's
    snapshots = list_snapshots(out)
    assert snapshots[0].id == JUNE_2015_ALONE and snapshots[1].path == live
    assert load_manifest(live)["health"]["baseline"] == JUNE_2015_ALONE
    assert load_manifest(live)["origin"] == "crawl"
    diff = diff_paths(snapshots[0].path, live)  # the same site, read two ways
    for kind in ("pilot", "contact"):
        assert {k: v for k, v in diff["summary"][kind].items() if k != "unchanged"} == {
            "added": 0, "removed": 0, "modified": 0, "appeared": 0, "disappeared": 0,
        }  # fmt: skip
    assert main(["history", "Matkailu", "--output", str(out)]) == 0
    history = capsys.readouterr().out
    assert f"{JUNE_2015_ALONE}  first seen" in history
    package = tmp_path / "backfill.wacz"
    assert main(["wacz", JUNE_2015_ALONE, "--file", str(package), "--output", str(out)]) == 0
    assert "valid WACZ" in capsys.readouterr().out


def test_pywb_replays_what_backfill_archived(front: Front, wayback: str, tmp_path: Path,
                                            capsys) -> None:  # fmt: skip
    """The round trip: what backfill archived, pywb serves byte for byte as the source
    archive served it (a gzipped capture stays gzipped)."""
    out = tmp_path / "out"
    assert main(backfill_args(front, out, "--from", "2014-11", "--to", "2014-11")) == 0
    capsys.readouterr()
    [november] = list_snapshots(out)
    warcs = list((november.path / "archive").glob("*.warc.gz"))
    path = f"20141120100003id_/{SITE}{FI_TEXT}"
    with running_wayback(tmp_path, "ours", warcs) as ours:
        bodies = []
        for base in (f"{wayback}/pilots/", f"{ours}/ours/"):
            request = urllib.request.Request(base + path, headers={"Accept-Encoding": "gzip"})
            with urllib.request.urlopen(request, timeout=10) as answer:
                bodies.append((answer.read(), answer.headers.get("Content-Encoding")))
    assert bodies[0] == bodies[1] and bodies[0][1] == "gzip"


def test_a_capture_whose_payload_is_held_is_not_fetched(front: Front, tmp_path: Path,
                                                         capsys) -> None:  # fmt: skip
    """The Finnish page of 18 June 2014 repeats that of 16 June: listed alone (--from), it
    is taken from our own WARC (the archive's SHA-1 is in the digest index), not fetched."""
    out = tmp_path / "out"
    assert main(backfill_args(front, out, "--to", "2014-06")) == 0
    assert main(backfill_args(front, out, "--from", "2014-06-18", "--to", "2014-06")) == 0
    err = capsys.readouterr().err
    first, held = list_snapshots(out)
    assert held.id == "20140618T090000.000000Z"
    assert "payload archived already (snapshot 20140616T090000.000000Z), not fetched" in err
    assert not [p for p in front.replays() if p.startswith("/pilots/20140618")]
    [capture] = held.manifest["captures"]
    assert capture["result"] == "held" and capture["timestamp"] == "20140618090000"
    assert held.manifest["archive"]["depends_on"] == [first.id]
    check_archive(held.path)
    revisit = next(r for r in warc_of(held.path) if r["type"] == "revisit")
    assert revisit["headers"]["WARC-Date"] == "2014-06-18T09:00:00Z"
    before, now = load_records(first.path), load_records(held.path)
    [page] = now["pages"]
    assert page["capture"]["fetched"] is False and page["warc_refers_to"]["snapshot_id"] == first.id
    same = next(p for p in before["pages"] if p["id"] == page["id"])
    assert page["content_sha256"] == same["content_sha256"]  # read back from our own WARC
    fingerprints = {r["id"]: r["fingerprint"] for r in before["pilots"]}
    assert now["pilots"] and all(fingerprints[r["id"]] == r["fingerprint"] for r in now["pilots"])
    assert "held-in: 20140616T090000.000000Z/archive/" in revisit_metadata(held.path, revisit)


def revisit_metadata(snapshot: Path, revisit: dict) -> str:
    meta = next(r for r in warc_of(snapshot) if r["type"] == "metadata"
                and r["headers"]["WARC-Refers-To"] == revisit["id"])  # fmt: skip
    return meta["block"].decode("utf-8")


# -- Done when 2: stopped half-way, resumed without refetching; a second run reads nothing -----


def test_a_killed_backfill_resumes_without_reading_again(front: Front, tmp_path: Path,
                                                        capsys) -> None:  # fmt: skip
    out = tmp_path / "out"
    # Hold the first read of the November captures, then kill the backfill there.
    front.hold = lambda path: "/pilots/20141120" in path and "id_/" in path
    proc = subprocess.Popen(
        [sys.executable, "-m", "pilotarchive", *backfill_args(front, out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert front.holding.wait(60), "the backfill never reached the November captures"
        proc.kill()
        proc.communicate(timeout=30)
    finally:
        front.hold = None
        front.release.set()
    assert [s.id for s in list_snapshots(out)] == EXPECTED_IDS[:1]
    read_before = [p for p in front.replays() if "/pilots/20141120" not in p]
    assert read_before and all("/pilots/201406" in p for p in read_before)
    stale = snapshot_dir(out) / ".tmp-20141120T100001.000000Z-999999999"  # as a kill leaves
    (stale / "records").mkdir(parents=True)
    Ownership(stale).release()  # its owner file stays, its lock went with the process
    front.log.clear()
    assert main(backfill_args(front, out)) == 0
    err = capsys.readouterr().err
    assert err.count(stale.name) == 1 and "left by a killed run" in err
    assert [s.id for s in list_snapshots(out)] == EXPECTED_IDS
    again = front.replays()
    assert again and not set(again) & set(read_before), "a finished snapshot was read again"
    assert not [p for p in again if "/pilots/201406" in p]
    assert not list(snapshot_dir(out).glob(".tmp-*"))
    # A second backfill lists the captures and reads none of them.
    front.log.clear()
    assert main(backfill_args(front, out)) == 0
    stdout = capsys.readouterr().out
    assert front.replays() == []
    assert all("/pilots/cdx?" in p for p in front.paths())
    assert "0 snapshot(s) written, 0 capture(s) read from the archive" in stdout
    assert "18 already in earlier snapshots" in stdout
    assert [s.id for s in list_snapshots(out)] == EXPECTED_IDS


def test_ctrl_c_keeps_finished_snapshots_only(front: Front, tmp_path: Path) -> None:
    out = tmp_path / "out"
    front.hold = lambda path: "/pilots/20150617" in path and "id_/" in path
    # Ctrl-C's default action even when the tests run in the background (`pytest &`: a
    # shell starts background jobs with SIGINT ignored, and Python keeps it ignored).
    proc = subprocess.Popen(
        [sys.executable, "-m", "pilotarchive", *backfill_args(front, out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler),
    )  # fmt: skip
    try:
        assert front.holding.wait(60)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        front.release.set()
    assert proc.returncode == 130, stderr
    assert stderr.splitlines()[-1] == "pilotarchive: interrupted" and "Traceback" not in stderr
    assert [s.id for s in list_snapshots(out)] == EXPECTED_IDS[:2]
    assert stdout.splitlines()[-1].endswith(EXPECTED_IDS[1])
    assert not list(snapshot_dir(out).glob(".tmp-*"))


# -- Done when 3: 429 with Retry-After honoured --------------------------------------------------


def test_429_with_retry_after_is_waited_out(front: Front, tmp_path: Path, capsys) -> None:
    refused: list[str] = []

    def once(path: str) -> Answer | None:
        """The first CDX query and the first read of the Finnish page: 429, once."""
        kind = "cdx" if "/pilots/cdx?" in path else "fi" if "20141120100001id_/" in path else ""
        if kind and not any((kind == "cdx") == ("cdx?" in p) for p in refused):
            refused.append(path)
            return 429, [("Retry-After", "1"), ("Content-Type", "text/plain")], b"slow down"
        return None

    front.rules.append(once)
    out = tmp_path / "out"
    assert main(backfill_args(front, out, "--from", "2014-11", "--to", "2014-11")) == 0
    err = capsys.readouterr().err
    assert [s.id for s in list_snapshots(out)] == [NOVEMBER_ALONE]
    assert "answered 429 (rate-limited): waiting 1 s, as its Retry-After asks" in err
    assert len(refused) == 2
    for path in refused:  # asked again, and not before the second was over
        times = [t for t, p in front.log if p == path]
        assert len(times) == 2 and times[1] - times[0] >= 1.0, (path, times)


def test_an_archive_that_rate_limits_for_ever_stops_cleanly(front: Front, tmp_path: Path,
                                                           capsys) -> None:  # fmt: skip
    def always(path: str) -> Answer | None:
        if "/pilots/2015" in path:
            return 429, [("Retry-After", "1")], b""
        return None

    front.rules.append(always)
    out = tmp_path / "out"
    code = main(backfill_args(front, out, "-s", "PILOTARCHIVE_BACKFILL_MAX_WAIT=2"))
    err = capsys.readouterr().err
    assert code == 1
    last = err.splitlines()[-1]
    assert last.startswith(f"pilotarchive: the archive at 127.0.0.1:{front.url.rsplit(':', 1)[1]} "
                           "keeps answering 429")  # fmt: skip
    assert "run the same command later, it resumes where it stopped" in last
    assert "Traceback" not in err
    assert [s.id for s in list_snapshots(out)] == EXPECTED_IDS[:2]
    assert not list(snapshot_dir(out).glob(".tmp-*"))
    front.rules.clear()
    front.log.clear()
    assert main(backfill_args(front, out)) == 0  # later, the archive lets us in again
    assert [s.id for s in list_snapshots(out)] == EXPECTED_IDS
    assert all("/pilots/2015" in p for p in front.replays())


# -- what a user meets -------------------------------------------------------------------------


def test_a_capture_the_archive_cannot_give_is_a_failure(front: Front, tmp_path: Path,
                                                        capsys) -> None:  # fmt: skip
    def missing(path: str) -> Answer | None:
        if path.startswith("/pilots/20141120100002id_/"):  # the Swedish page of November
            return 404, [("Content-Type", "text/html")], b"<html>Not in archive</html>"
        return None

    front.rules.append(missing)
    out = tmp_path / "out"
    assert main(backfill_args(front, out)) == 0
    capsys.readouterr()
    november = list_snapshots(out)[1]
    failures = november.manifest["failures"]
    assert [(f["url"], f["status"]) for f in failures] == [(SITE + SV, 404)]
    assert "the archive answered 404" in failures[0]["reason"]
    assert [c["result"] for c in november.manifest["captures"]].count("failed") == 1
    diff = diff_paths(list_snapshots(out)[0].path, november.path)
    assert [n["url"] for n in diff["not_fetched"] if "404" in n["reason"]] == [SITE + SV]
    assert not [c for c in diff["changes"] if c["kind"] == "removed"]
    front.log.clear()
    assert main(backfill_args(front, out)) == 0  # named in the snapshot: not asked again
    assert front.replays() == []


def test_a_backfill_where_nothing_can_be_read_writes_nothing(front: Front, tmp_path: Path,
                                                            capsys) -> None:  # fmt: skip
    front.rules.append(lambda p: (404, [], b"gone") if "id_/" in p else None)
    out = tmp_path / "out"
    assert main(backfill_args(front, out, "--to", "2014-06")) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("pilotarchive: no snapshot written: no capture")
    assert list_snapshots(out) == [] and not list(snapshot_dir(out).glob(".tmp-*"))


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (
            (200, [("Content-Type", "application/json")], b'[["urlkey","timestamp"],["fi,te'),
            "did not answer a CDX listing (application/json",
        ),
        (
            (200, [("Content-Type", "text/html")], b"<html><body>Wayback</body></html>"),
            "did not answer a CDX listing (text/html",
        ),
        (
            (200, [("Content-Type", "application/json")], b'{"error": "x"}\n[1,2]'),
            "did not answer a CDX listing",
        ),
        (
            (404, [("Content-Type", "text/plain")], b"No such collection"),
            "answered 404 Not Found ('No such collection'); is --cdx-api right?",
        ),
        ((403, [], b""), "answered 403 Forbidden; the archive refuses us"),
        ((200, [("Content-Type", "application/json")], b"[]"), "lists no capture of"),
    ],
    ids=["truncated-json", "html", "garbage-lines", "404", "403", "empty"],
)
def test_a_cdx_api_answering_nonsense_is_one_line(answer: Answer, says: str, tmp_path: Path,
                                                  capsys) -> None:  # fmt: skip
    server = Front()
    server.rules.append(lambda path: answer)
    try:
        code = main(backfill_args(server, tmp_path / "out"))
    finally:
        server.close()
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith("pilotarchive:")]
    assert code == 1 and len(lines) == 1 and says in lines[0], err
    assert "Traceback" not in err
    assert list_snapshots(tmp_path / "out") == []


def test_an_archive_that_is_down_is_one_line_at_once(tmp_path: Path, capsys) -> None:
    port = free_port()  # nothing listens there
    started = time.monotonic()
    archive = f"http://127.0.0.1:{port}/pilots/"
    code = main(["backfill", "--cdx-api", f"{archive}cdx", "--replay", archive,
                 "--output", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and time.monotonic() - started < 10
    assert err.splitlines()[-1] == (
        f"pilotarchive: cannot reach the archive at 127.0.0.1:{port}: connection refused; "
        "check --cdx-api and --replay, or run the same command later (it resumes where it "
        "stopped)"
    )
    assert list_snapshots(tmp_path / "out") == []


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--window", "0"], "--window 0: give a number of days above 0"),
        (["--from", "2015", "--to", "2014"], "--from 2015 is after --to 2014"),
        (["--from", "yesterday"], "--from 'yesterday': give a date as YYYY"),
        (["--to", "2014-13"], "--to '2014-13' is not a date"),
        (["--cdx-api", "web.archive.org/cdx"], "--cdx-api 'web.archive.org/cdx' is not an http"),
        (["--replay", "http://x/\r\nWARC-Type: x"], "control character"),
        (["ftp://www.tem.fi/"], "URL 'ftp://www.tem.fi/' is not an http(s) URL"),
        (["--delay", "-1"], "--delay must be a number from 0"),
        (["-s", "DOWNLOAD_TIMEOUT=3"], "-s DOWNLOAD_TIMEOUT does not apply to backfill"),
        (["-s", "PILOTARCHIVE_BACKFILL_DELAI=3"], "did you mean PILOTARCHIVE_BACKFILL_DELAY?"),
        (["-s", "PILOTARCHIVE_BACKFILL_RETRIES=x"], "expected a whole number"),
        (["--operator", "Eve\nWARC-Type: x"], "--operator"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_wrong_input_is_refused_before_any_request(argv: list[str], says: str, tmp_path: Path,
                                                   capsys) -> None:  # fmt: skip
    server = Front()
    try:
        code = main(["backfill", "--cdx-api", f"{server.url}/cdx", "--replay", f"{server.url}/",
                     "--output", str(tmp_path), *argv])  # fmt: skip
    finally:
        server.close()
    err = capsys.readouterr().err
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1, err
    assert server.log == []


def test_a_second_backfill_at_once_is_refused(tmp_path: Path, capsys) -> None:
    from pilotarchive.archive.lock import FileLock

    with FileLock(tmp_path / "locks" / "backfill.lock"):
        server = Front()
        try:
            code = main(["backfill", "--cdx-api", f"{server.url}/cdx", "--replay",
                         f"{server.url}/", "--output", str(tmp_path)])  # fmt: skip
        finally:
            server.close()
    err = capsys.readouterr().err
    assert code == 1 and "a backfill into" in err and "is locked by" in err
    assert server.log == []


def test_help_names_the_defaults(capsys) -> None:
    assert main(["backfill", "--help"]) == 0
    out = capsys.readouterr().out
    assert "https://web.archive.org/cdx/search/cdx" in out and "https://web.archive.org/web/" in out
    assert "http://www.tem.fi/seutukaupunkipilotit" in out and "(default: 7)" in out


# -- the parts ---------------------------------------------------------------------------------


def test_cdx_answers_of_every_shape() -> None:
    ia = json.dumps([
        ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"],
        ["fi,tem)/index.phtml?s=4398", "20141120100001", "http://www.tem.fi:80/index.phtml?s=4398",
         "text/html", "200", "ES4WLD6CQPMLW7NQL5BQ5WAISUZ6XCFO", "2451"],
        [],
        ["fi%2Ctem%29%2Findex.phtml%3Fs%3D4398+20141120100001%21"],
    ])  # fmt: skip
    rows, resume = parse_listing(ia)
    assert rows[0]["original"] == "http://www.tem.fi:80/index.phtml?s=4398"
    assert resume == "fi%2Ctem%29%2Findex.phtml%3Fs%3D4398+20141120100001%21"
    pywb = '{"urlkey": "k", "timestamp": "20141120100001", "url": "u", "status": "301"}\n'
    assert parse_listing(pywb)[0] == [
        {"urlkey": "k", "timestamp": "20141120100001", "original": "u", "statuscode": "301"}
    ]
    text = "fi,tem)/ 20141120100001 http://www.tem.fi/ text/html 200 ABC 10\n"
    assert parse_listing(text)[0][0]["digest"] == "ABC"
    assert parse_listing("  ") == ([], None) and parse_listing("[]") == ([], None)
    for garbage in ('[["urlkey"', "<html>", '{"a": 1}\n<html>', "[1, 2]", '"x"'):
        with pytest.raises(ValueError):
            parse_listing(garbage)


def _config(tmp_path: Path, **kw: str):
    return load_backfill_config(
        urls=["http://www.tem.fi/index.phtml?s=4398"], cdx_api="http://127.0.0.1:1/cdx",
        replay="http://127.0.0.1:1/web", start=kw.get("start"), end=kw.get("end"), window=7,
        output=tmp_path, delay=None, operator=None, overrides={},
    )  # fmt: skip


def test_captures_kept_are_200_or_3xx_of_the_url_asked_and_not_repeats(tmp_path: Path) -> None:
    config = _config(tmp_path, start="2014-06", end="2015")
    assert config.replay == "http://127.0.0.1:1/web/"  # the prefix ends in a slash
    cdx = CdxClient(PoliteClient(config), config)
    row = {"original": "http://www.tem.fi/index.phtml?s=4398", "mimetype": "text/html"}
    rows = [
        {**row, "timestamp": "20130101000000", "statuscode": "200", "digest": "A" * 32},
        {**row, "timestamp": "20140612000000", "statuscode": "200", "digest": "A" * 32},
        {**row, "timestamp": "20140613000000", "statuscode": "200", "digest": "A" * 32},
        {**row, "timestamp": "20140614000000", "statuscode": "404", "digest": "B" * 32},
        {**row, "timestamp": "20140615000000", "statuscode": "301", "digest": "C" * 32},
        {**row, "timestamp": "20140616000000", "statuscode": "-", "digest": "C" * 32,
         "mimetype": "warc/revisit"},
        {**row, "timestamp": "20140617000000", "statuscode": "200", "digest": "D" * 32,
         "is_fuzzy": "1"},
        {**row, "timestamp": "20140618000000", "statuscode": "200", "digest": "D" * 32,
         "original": "http://www.tem.fi/index.phtml?s=1"},
        {**row, "timestamp": "2014", "statuscode": "200", "digest": "E" * 32},
        {**row, "timestamp": "20151231235959", "statuscode": "200", "digest": "F" * 32},
        {**row, "timestamp": "20160101000000", "statuscode": "200", "digest": "G" * 32},
        {**row, "timestamp": "x", "statuscode": "200", "digest": "G" * 32},
        {**row, "timestamp": "20149999999999", "statuscode": "200", "digest": "H" * 32},
        {**row, "timestamp": "20150230120000", "statuscode": "200", "digest": "H" * 32},
    ]  # fmt: skip
    listing = cdx._select("http://www.tem.fi/index.phtml?s=4398", rows)
    # 2013, "2014" (1 January) and 2016 are outside --from 2014-06 --to 2015.
    assert [(c.timestamp, c.status) for c in listing.captures] == [
        ("20140612000000", 200),
        ("20140615000000", 301),
        ("20151231235959", 200),
    ]
    assert listing.repeats == 2  # the 13 June copy, the revisit of the 301
    assert listing.other_status == {"404": 1} and listing.other_urls == 2
    assert listing.unreadable == 3  # "x"; digits that are no time; 30 February
    assert listing.captures[0].digest == "sha1:" + "A" * 32
    assert "2 repeating the one before" in listing.summary()


def test_dates_and_their_bounds() -> None:
    assert parse_bound("2014", "--from", upper=False).full == "20140101000000"
    assert parse_bound("2014", "--to", upper=True).full == "20141231235959"
    assert parse_bound("2014-02", "--to", upper=True).full == "20140228235959"
    assert parse_bound("2016-02", "--to", upper=True).full == "20160229235959"
    assert parse_bound("2014-12-31", "--to", upper=True).full == "20141231235959"
    assert parse_bound("20141120101500", "--to", upper=True).full == "20141120101500"
    assert parse_bound("2014-11-20T10:15", "--from", upper=False).cdx == "201411201015"


def _capture(path: str, stamp: str) -> Capture:
    url = SITE + path
    return Capture(url, stamp, 200, None, key=url_key(url))


def test_groups_take_one_capture_per_url_within_the_window() -> None:
    week = timedelta(days=7)
    pending = [
        _capture(FI, "20140616090001"),
        _capture(SV, "20140617090000"),
        _capture(FI, "20140618090000"),  # the Finnish page again: the next snapshot
        _capture(EN, "20140619090000"),
    ]
    assert first_group(pending, week) == pending[:2]
    assert first_group(pending[2:], week) == pending[2:]
    far = [_capture(FI, "20140616090001"), _capture(SV, "20140623090002")]
    assert first_group(far, week) == far[:1]
    assert first_group(far, timedelta(days=8)) == far


def test_a_version_counts_while_the_start_page_links_it() -> None:
    family = Family(timedelta(days=7))
    family.add(SITE + FI, anchor=True)
    june = PageLinks.of("fi", {"fi": SITE + FI, "en": SITE + EN_FRONT}, SITE + FI_TEXT, None)
    november = PageLinks.of("fi", {"fi": SITE + FI, "en": SITE + EN}, SITE + FI_TEXT, None)
    added = family.saw_page(url_key(SITE + FI), "20140616090001", june)
    assert {m.url for m in added} == {SITE + EN_FRONT, SITE + FI_TEXT}
    family.saw_page(url_key(SITE + FI), "20141120100001", november)
    front = url_key(SITE + EN_FRONT)
    text = family.add(SITE + EN_FRONT_TEXT, anchor=False, parent=front)
    assert text is not None

    def at(stamp: str) -> datetime:
        return _capture(FI, stamp).time

    for key in (front, text.key):
        assert not family.relevant(key, at("20130101000000"))
        assert family.relevant(key, at("20140610000000"))  # within the window before
        assert family.relevant(key, at("20141126000000"))  # within the window after
        assert not family.relevant(key, at("20150617080007"))
    assert family.relevant(url_key(SITE + EN), at("20150617080003"))
    assert family.relevant(url_key(SITE + FI), at("19990101000000"))  # the start page: always


def test_the_original_head_is_put_back_together() -> None:
    sent = [
        ("Content-Type", "text/html"),
        ("X-Archive-Orig-ETag", '"abc"'),
        ("X-Archive-Orig-Content-Encoding", "gzip"),
        ("X-Archive-Orig-Content-Length", "100"),
        ("Memento-Datetime", "Thu, 20 Nov 2014 10:00:01 GMT"),
        ("Link", "<http://www.tem.fi/>; rel=original"),
        ("Location", "/index.phtml?s=4398"),
    ]
    assert original_head(sent, encoded=False) == [
        ("Content-Type", "text/html"),
        ("ETag", '"abc"'),
        ("Location", "/index.phtml?s=4398"),
    ]
    assert ("Content-Encoding", "gzip") in original_head(sent, encoded=True)
    base = "https://web.archive.org/web/20141120100000id_/http://www.tem.fi/seutukaupunkipilotit"
    assert unarchived("/web/20141120100001id_/http://www.tem.fi/index.phtml?s=4398", base) == (
        "20141120100001",
        "http://www.tem.fi/index.phtml?s=4398",
    )
    assert unarchived("https://web.archive.org/web/2014/http:/www.tem.fi/", base) == (
        "2014",
        "http://www.tem.fi/",
    )
    assert unarchived("/index.phtml?s=4398", base) is None  # the original's own Location
    assert unarchived("http://www.tem.fi/index.phtml?s=4398", base) is None


def test_the_client_waits_as_asked_and_gives_up_in_time(tmp_path: Path) -> None:
    """Rate limits and retries with a fake sleep: the waits are checked, not waited."""
    answers: list[Answer] = [
        (429, [("Retry-After", "5")], b""),
        (503, [], b""),  # no Retry-After: the backoff, 30 s
        (429, [("Retry-After", "Thu, 01 Jan 2099 00:00:00 GMT")], b""),  # far: too long
    ]
    server = Front()
    server.rules.append(lambda path: answers.pop(0) if answers else (200, [], b"ok"))
    config = load_backfill_config(
        urls=[SITE + FI], cdx_api=f"{server.url}/cdx", replay=f"{server.url}/",
        start=None, end=None, window=7, output=tmp_path, delay=None, operator=None,
        overrides={"PILOTARCHIVE_BACKFILL_MAX_WAIT": "100"},
    )  # fmt: skip
    slept: list[float] = []
    clock = [0.0]

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 1))
        clock[0] += seconds

    lines: list[str] = []
    client = PoliteClient(config, lines.append, sleep=sleep, clock=lambda: clock[0])
    try:
        with pytest.raises(ArchiveError, match="keeps answering 429"):
            client.get(f"{server.url}/x")
        # Retry-After 5, then the backoff (30 s, doubled for the second refusal in a row);
        # the HTTP date asks for decades and is not waited for. The 1.5 s delay between
        # requests is over by then.
        assert slept == [5.0, 60.0]
        assert "waiting 5 s, as its Retry-After asks" in lines[0]
        assert "waiting 60 s, backing off" in lines[1]
        slept.clear()
        assert client.get(f"{server.url}/y").body == b"ok"
        assert slept == [1.5]
    finally:
        server.close()
    now = datetime(2014, 11, 20, 10, 0, 0, tzinfo=UTC)
    assert retry_after("120", now) == 120.0
    assert retry_after("Thu, 20 Nov 2014 10:01:00 GMT", now) == 60.0
    assert retry_after("soon", now) is None and retry_after(None, now) is None


def test_capture_fields_are_in_the_schemas() -> None:
    """A page record of schema 1.2.0 (no capture) still validates; a wrong capture does not."""
    page = json.loads(
        (Path(__file__).parent / "golden" / "pages" / "fi-table.expected.json").read_text()
    )[0]
    assert record_errors({**page, "schema_version": "1.2.0"}) == []
    capture = {
        "original_url": SITE + FI, "timestamp": "20141120100001",
        "replay_url": f"https://web.archive.org/web/20141120100001id_/{SITE}{FI}",
        "archive_digest": "sha1:ES4WLD6CQPMLW7NQL5BQ5WAISUZ6XCFO", "status": 200,
        "cdx_api": "https://web.archive.org/cdx/search/cdx", "fetched": True,
        "digest_verified": True, "redirects": [],
    }  # fmt: skip
    assert record_errors({**page, "capture": capture}) == []
    assert record_errors({**page, "capture": {**capture, "timestamp": "2014"}}) != []
    assert record_errors({**page, "capture": {**capture, "via": "x"}}) != []


def test_an_archive_redirect_to_another_time_is_taken_only_with_the_listed_payload(
    tmp_path: Path,
) -> None:
    """The Wayback Machine may answer an id_ URL with a 302 to its copy at another second
    (a revisit resolved to its original): the same payload is accepted, another is not."""
    body = b"<html><body>Pilotit</body></html>"
    server = Front()
    original = f"{SITE}/x"

    def archive(path: str) -> Answer | None:
        if path == f"/web/20141120100001id_/{original}":
            return 302, [("Location", f"/web/20141120090000id_/{original}")], b""
        if path == f"/web/20141120090000id_/{original}":
            return 200, [("Content-Type", "text/html"),
                         ("Memento-Datetime", "Thu, 20 Nov 2014 09:00:00 GMT")], body  # fmt: skip
        return None

    server.rules.append(archive)
    config = load_backfill_config(
        urls=[original], cdx_api=f"{server.url}/cdx", replay=f"{server.url}/web/", start=None,
        end=None, window=7, output=tmp_path, delay=0, operator=None, overrides={},
    )  # fmt: skip
    client = PoliteClient(config)
    try:
        same = Capture(original, "20141120100001", 200, sha1_base32(body), key=url_key(original))
        got = fetch_capture(client, config.replay, same)
        assert got.usable and got.served == "20141120090000" and got.digest_verified
        assert got.content == body
        other = Capture(original, "20141120100001", 200, "sha1:" + "A" * 32, key=same.key)
        got = fetch_capture(client, config.replay, other)
        assert got.error and "gave its capture of 20141120090000" in got.error
    finally:
        server.close()
