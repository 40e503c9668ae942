"""The field's own tools accept our archives: pywb replays them, wacz validates them."""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pilotarchive.replica.server import ReplicaServer
from tests.helpers import crawl, records_of, run_cli, warc_records
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
