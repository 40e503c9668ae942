"""The field's own tools accept our archives: pywb replays them, wacz validates them."""

import functools
import http.server
import io
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from pilotarchive.replica.server import ReplicaServer
from tests.helpers import crawl, load_manifest, records_of, run_cli, warc_records
from tests.tools import pywb_bin

BIN = Path(sys.executable).parent
FI = "/index.phtml?s=4398"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pywb(tmp_path: Path):
    """A pywb root with an empty collection 'pilots', and a free port for its server.

    The test adds its WARC first, then starts the server with ``start_pywb`` and stops it.
    """
    root = tmp_path / "pywb"
    root.mkdir()
    subprocess.run(
        [pywb_bin() / "wb-manager", "init", "pilots"], cwd=root, check=True, capture_output=True
    )
    port = free_port()
    return root, port


def start_pywb(root: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [pywb_bin() / "wayback", "-b", "127.0.0.1", "-p", str(port)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode()) from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("pywb did not start in 30 s")


def test_pywb_replays_the_finnish_page_byte_for_byte(
    replica: ReplicaServer, tmp_path: Path, pywb
) -> None:
    root, port = pywb
    snapshot = crawl(replica, tmp_path / "out").snapshot
    warc = next((snapshot / "archive").glob("*.warc.gz"))
    subprocess.run(
        [pywb_bin() / "wb-manager", "add", "pilots", str(warc)],
        cwd=root,
        check=True,
        capture_output=True,
    )
    proc = start_pywb(root, port)
    try:
        url = f"{replica.url}{FI}"
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/pilots/cdx?url={url}", timeout=10
        ) as r:
            cdx = r.read().decode()
        assert cdx.count("\n") == 1 and '"status": "200"' in cdx and url in cdx
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/pilots/2026id_/{url}", headers={"Accept-Encoding": "gzip"}
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            replayed = r.read()
            encoding = r.headers.get("Content-Encoding")
        served = replica.served[FI]
        assert encoding == "gzip"
        assert replayed == served.body  # what the replica sent, byte for byte
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_wacz_is_valid_for_webrecorders_validator(replica: ReplicaServer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = crawl(replica, out).snapshot
    second = crawl(replica, out).snapshot  # revisits pointing into the first
    package = tmp_path / "pilots.wacz"
    run = run_cli("wacz", second.name, "--file", str(package), "--output", str(out))
    assert run.returncode == 0, run.stderr
    assert f"snapshot(s) {second.name}, {first.name}" in run.stdout
    # Both WARCs the package holds are counted and named (the revisited subset was not).
    assert (
        f"2 WARC file(s) (pilotarchive-{second.name}.warc.gz, "
        f"pilotarchive-{first.name}-revisited.warc.gz)" in run.stdout
    )
    checked = subprocess.run(
        [BIN / "wacz", "validate", "-f", str(package)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Validation succeeded" in checked.stdout
    import json
    import zipfile

    with zipfile.ZipFile(package) as z:
        names = set(z.namelist())
        assert {"datapackage.json", "pages/pages.jsonl", "indexes/index.cdx.gz"} <= names
        # Of the first snapshot, only the originals the revisits point at (and its
        # warcinfo): not its whole WARC, and none of its pages in the page list.
        assert f"archive/pilotarchive-{first.name}.warc.gz" not in names
        subset = z.read(f"archive/pilotarchive-{first.name}-revisited.warc.gz")
        revisits = [r for r in warc_records(second) if r["type"] == "revisit"]
        copied = [r for r in records_of(subset) if r["type"] != "warcinfo"]
        assert {r["id"] for r in copied} == {r["refers_to"] for r in revisits}
        assert all(r["type"] == "response" for r in copied)
        pages = [json.loads(x) for x in z.read("pages/pages.jsonl").splitlines()]
        assert pages[0]["format"] == "json-pages-1.0"
        assert all({"url", "ts", "title"} <= set(p) for p in pages[1:])
        assert {p["id"].split("-page-")[0] for p in pages[1:]} == {second.name}
        assert json.loads(z.read("datapackage.json"))["wacz_version"] == "1.1.1"


def test_wacz_refuses_a_wrong_name(tmp_path: Path) -> None:
    run = run_cli("wacz", "--file", str(tmp_path / "x.zip"), "--output", str(tmp_path))
    assert run.returncode == 2 and "ends in .wacz" in run.stderr


# -- Three crawls of a site replayed at their own times (issue 19) ------------------------

CSS_PATH = "/css/tem.css"
IMG_PATH = "/img/banner.png"
V1, V2 = "2014-11-19", "2015-06"


def timestamp(warc_date: str) -> str:
    """A WARC-Date as the 14 digits replay URLs and CDX lines use."""
    return "".join(ch for ch in warc_date if ch.isdigit())[:14]


def only_in(version: str, other: str) -> str:
    """A coordinator named on the Finnish pilots page of ``version`` and not of ``other``,
    from the replica's own content."""
    from pilotarchive.replica.content import VERSIONS

    def names(v: str) -> set[str]:
        return {p.coordinators["fi"] for p in VERSIONS[v].pages["fi"].pilots}

    return sorted(names(version) - names(other))[0]


@dataclass
class Capture:
    """One crawl of the history: its snapshot, its page's time, what the server sent."""

    snapshot: Path
    ts: str
    page_status: int  # what the replica answered for the Finnish pilots page: 200 or 304
    page: bytes  # the page's bytes as served in full (by this crawl or the one it revisits)
    css: bytes
    marker: str  # text only this version's page shows
    absent: str  # text only the other version's page shows


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Iterator[tuple[ReplicaServer, Path, list[Capture]]]:
    """v1, v1 again (answered 304), then a changed version, crawled into one folder."""
    out = tmp_path_factory.mktemp("history") / "out"
    captures: list[Capture] = []
    with ReplicaServer(port=0) as replica:
        replica.set_version(V1)
        full = b""
        for version in (V1, V1, V2):
            replica.set_version(version)
            replica.served.clear()
            snapshot = crawl(replica, out).snapshot
            served = replica.served[FI]
            if served.status == 200:
                full = served.body
            page = next(p for p in records_of_pages(snapshot) if p["final_url"].endswith(FI))
            other = V2 if version == V1 else V1
            captures.append(
                Capture(
                    snapshot,
                    timestamp(page["warc_date"]),
                    served.status,
                    full,
                    replica.served[CSS_PATH].body,
                    only_in(version, other),
                    only_in(other, version),
                )
            )
            time.sleep(1.1)  # replay tools tell captures apart by the second
        yield replica, out, captures


def records_of_pages(snapshot: Path) -> list[dict]:
    import json

    lines = (snapshot / "records" / "pages.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_history_is_a_first_crawl_a_304_recrawl_and_a_changed_one(history) -> None:
    _, _, captures = history
    assert [c.page_status for c in captures] == [200, 304, 200]
    first, unchanged, changed = captures
    assert unchanged.page == first.page and changed.page != first.page
    # The recrawl's page is a block-less server-not-modified revisit of the first crawl's.
    revisit = next(
        r for r in warc_records(unchanged.snapshot) if r["uri"] and r["uri"].endswith(FI)
    )
    assert revisit["type"] == "revisit" and revisit["status"] is None
    assert revisit["headers"]["WARC-Profile"].endswith("/server-not-modified")
    # The stylesheet and its image were archived in full once, then as revisits.
    for capture, kind in ((first, "response"), (unchanged, "revisit"), (changed, "revisit")):
        by_uri = {
            r["uri"]: r["type"]
            for r in warc_records(capture.snapshot)
            if r["type"] in ("response", "revisit")
        }
        for path in (CSS_PATH, IMG_PATH):
            assert any(u.endswith(path) and t == kind for u, t in by_uri.items()), (path, kind)


def test_pywb_replays_each_snapshot_at_its_own_time(history, tmp_path: Path, pywb) -> None:
    replica, _, captures = history
    root, port = pywb
    for capture in captures:
        for warc in (capture.snapshot / "archive").glob("*.warc.gz"):
            subprocess.run(
                [pywb_bin() / "wb-manager", "add", "pilots", str(warc)],
                cwd=root, check=True, capture_output=True,
            )  # fmt: skip
    proc = start_pywb(root, port)
    base = f"http://127.0.0.1:{port}/pilots"
    url, css = f"{replica.url}{FI}", f"{replica.url}{CSS_PATH}"
    try:
        for capture in captures:
            request = urllib.request.Request(
                f"{base}/{capture.ts}id_/{url}", headers={"Accept-Encoding": "gzip"}
            )
            with urllib.request.urlopen(request, timeout=10) as r:
                assert r.status == 200
                # This snapshot's own capture, not the nearest other one.
                memento = r.headers["Memento-Datetime"]
                assert timestamp_of_http_date(memento) == capture.ts
                assert r.read() == capture.page  # the bytes served then
            with urllib.request.urlopen(
                urllib.request.Request(
                    f"{base}/{capture.ts}id_/{css}", headers={"Accept-Encoding": "gzip"}
                ),
                timeout=10,
            ) as r:
                assert r.status == 200 and r.read() == capture.css
            # Framed mode: the frame, then the page in it, rewritten, with its stylesheet.
            with urllib.request.urlopen(f"{base}/{capture.ts}/{url}", timeout=10) as r:
                frame = r.read().decode()
                assert r.status == 200 and f'"{capture.ts}"' in frame and "replay_iframe" in frame
            with urllib.request.urlopen(f"{base}/{capture.ts}mp_/{url}", timeout=10) as r:
                html = r.read().decode("iso-8859-1")
                assert r.status == 200
            assert capture.marker in html and capture.absent not in html
            assert f"/pilots/{capture.ts}cs_/{replica.url}{CSS_PATH}" in html
            with urllib.request.urlopen(f"{base}/{capture.ts}cs_/{css}", timeout=10) as r:
                assert r.status == 200 and b"#00507a" in r.read()
        # The replica serves the last version still: its page live and replayed look alike.
        # pywb puts its banner above a replayed page, so what is compared is the page's
        # heading (the stylesheet's colour and rule) and its top band (the banner image,
        # the stylesheet's background), each as Chromium paints it.
        live, replayed = screenshots(url, f"{base}/{captures[-1].ts}mp_/{url}")
        assert live == replayed
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def timestamp_of_http_date(value: str) -> str:
    from email.utils import parsedate_to_datetime

    return parsedate_to_datetime(value).strftime("%Y%m%d%H%M%S")


def test_a_targets_archive_stands_without_another_targets(
    replica: ReplicaServer, tmp_path: Path, pywb
) -> None:
    """The demo's snapshots come first and hold every payload; the pilots target's revisits
    still point only into its own, so deleting the demo's leaves it whole and replayable."""
    out = tmp_path / "out"
    demo = crawl(replica, out, "--target", "demo").snapshot
    time.sleep(1.1)
    own = [crawl(replica, out, "--target", "pilots").snapshot]
    time.sleep(1.1)
    own.append(crawl(replica, out, "--target", "pilots").snapshot)
    for snapshot in own:
        deps = load_manifest(snapshot)["archive"]["depends_on"]
        assert demo.name not in deps and set(deps) <= {s.name for s in own}
    import shutil

    shutil.rmtree(demo)
    root, port = pywb
    for snapshot in own:
        check = run_cli("validate", str(snapshot))
        assert check.returncode == 0, check.stdout + check.stderr
        package = tmp_path / f"{snapshot.name}.wacz"
        made = run_cli("wacz", snapshot.name, "--file", str(package), "--output", str(out))
        assert made.returncode == 0, made.stderr
        for warc in (snapshot / "archive").glob("*.warc.gz"):
            subprocess.run(
                [pywb_bin() / "wb-manager", "add", "pilots", str(warc)],
                cwd=root, check=True, capture_output=True,
            )  # fmt: skip
    proc = start_pywb(root, port)
    try:
        for snapshot in own:
            page = next(p for p in records_of_pages(snapshot) if p["final_url"].endswith(FI))
            ts = timestamp(page["warc_date"])
            for path in (FI, CSS_PATH, IMG_PATH):
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/pilots/{ts}id_/{replica.url}{path}", timeout=10
                ) as r:
                    assert r.status == 200 and r.read()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# -- ReplayWeb.page, in headless Chromium ---------------------------------------------------

REPLAYWEBPAGE = "replaywebpage@2.5.3"
RWP_CACHE = Path(__file__).resolve().parent.parent / ".cache" / REPLAYWEBPAGE.replace("@", "-")


@pytest.fixture(scope="module")
def replaywebpage() -> Path:
    """ReplayWeb.page's built ui.js and sw.js, from ``npm pack`` (no dependencies installed,
    nothing built), kept in .cache/ for the next run."""
    import shutil
    import tarfile

    if not (RWP_CACHE / "sw.js").exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed to fetch ReplayWeb.page (apt-get install npm)"
        RWP_CACHE.mkdir(parents=True, exist_ok=True)
        packed = subprocess.run(
            [npm, "pack", REPLAYWEBPAGE, "--silent", "--pack-destination", str(RWP_CACHE)],
            capture_output=True, text=True, check=True, timeout=300,
        )  # fmt: skip
        tarball = RWP_CACHE / packed.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as tar:
            for name in ("ui.js", "sw.js"):
                member = tar.extractfile(f"package/{name}")
                assert member is not None
                (RWP_CACHE / f".{name}").write_bytes(member.read())
                (RWP_CACHE / f".{name}").replace(RWP_CACHE / name)
        tarball.unlink()
    return RWP_CACHE


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with byte ranges, as ReplayWeb.page reads a WACZ."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_head(self):  # type: ignore[no-untyped-def]
        header = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if not header or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        start_text, _, end_text = header.removeprefix("bytes=").partition("-")
        start = int(start_text) if start_text else max(0, size - int(end_text))
        end = min(int(end_text), size - 1) if start_text and end_text else size - 1
        fh = path.open("rb")
        fh.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        return io.BytesIO(fh.read(end - start + 1))

    def end_headers(self) -> None:
        if not self.headers.get("Range"):
            self.send_header("Accept-Ranges", "bytes")
        super().end_headers()


@contextmanager
def served_folder(folder: Path) -> Iterator[str]:
    handler = functools.partial(_RangeHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


# What the embed's frame loads from replayBase: ReplayWeb.page's own app.
REPLAY_APP = """<!doctype html>
<html><head><meta charset="utf-8"><script src="/ui.js"></script></head>
<body><replay-app-main></replay-app-main></body></html>
"""
EMBED = """<!doctype html>
<html><head><meta charset="utf-8"><script src="/ui.js"></script></head>
<body style="margin:0">
<replay-web-page source="/{wacz}" url="{url}" ts="{ts}" replayBase="/replay/"
  embed="replayonly" style="display:block;width:1200px;height:900px"></replay-web-page>
</body></html>
"""


def test_replaywebpage_replays_each_snapshot_at_its_own_time(
    history, replaywebpage: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    from tests.test_diff_html import CHROMIUM, FLAGS

    replica, out, captures = history
    site = tmp_path / "site"
    (site / "replay").mkdir(parents=True)
    (site / "ui.js").write_bytes((replaywebpage / "ui.js").read_bytes())
    (site / "replay" / "sw.js").write_bytes((replaywebpage / "sw.js").read_bytes())
    (site / "replay" / "index.html").write_text(REPLAY_APP, encoding="utf-8")
    url = f"{replica.url}{FI}"
    for n, capture in enumerate(captures):
        made = run_cli(
            "wacz", capture.snapshot.name, "--file", str(site / f"s{n}.wacz"), "--output", str(out)
        )
        assert made.returncode == 0, made.stderr
        (site / f"s{n}.html").write_text(
            EMBED.format(wacz=f"s{n}.wacz", url=url, ts=capture.ts), encoding="utf-8"
        )
    with served_folder(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, chromium_sandbox=False)
        try:
            for n, capture in enumerate(captures):
                context = browser.new_context(viewport={"width": 1200, "height": 900})
                page = context.new_page()
                page.goto(f"{base}/s{n}.html")
                frame = None
                deadline = time.monotonic() + 60
                while frame is None and time.monotonic() < deadline:
                    frame = next(
                        (f for f in page.frames if f"mp_/{url}" in f.url and capture.ts in f.url),
                        None,
                    )
                    page.wait_for_timeout(250)
                assert frame is not None, [f.url for f in page.frames]
                frame.wait_for_function(
                    "t => document.body && document.body.innerText.includes(t)",
                    arg=capture.marker,
                    timeout=30000,
                )
                text = frame.evaluate("document.body.innerText")
                assert capture.marker in text and capture.absent not in text
                # The stylesheet replayed and applied: the replica's colours, not defaults.
                colour = frame.evaluate("getComputedStyle(document.body).backgroundColor")
                assert colour == "rgb(244, 240, 225)"
                heading = frame.evaluate("getComputedStyle(document.querySelector('h1')).color")
                assert heading == "rgb(0, 80, 122)"
                context.close()
        finally:
            browser.close()


def screenshots(*urls: str) -> list[list[bytes]]:
    """Each URL in headless Chromium at one viewport: its first heading as painted, and a
    strip of its body's top band."""
    from playwright.sync_api import sync_playwright

    from tests.test_diff_html import CHROMIUM, FLAGS

    shots = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            for url in urls:
                page = browser.new_page(viewport={"width": 1000, "height": 700})
                page.goto(url, wait_until="load")
                # pywb shows a replayed page in a frame below its banner: the page is there.
                frame, offset = page.main_frame, 0.0
                if page.locator("#replay_iframe").count():
                    frame = page.locator("#replay_iframe").element_handle().content_frame()
                    box = page.locator("#replay_iframe").bounding_box()
                    assert frame is not None and box is not None
                    offset = box["y"]
                heading = frame.locator("h1").first
                heading.wait_for()
                top = offset + frame.evaluate("document.body.getBoundingClientRect().top")
                band = {"x": 0, "y": top, "width": 1000, "height": 60}
                shots.append([heading.screenshot(), page.screenshot(clip=band)])
                page.close()
        finally:
            browser.close()
    return shots
