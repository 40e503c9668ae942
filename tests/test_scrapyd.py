"""The project deployed to a real scrapyd on 127.0.0.1 with scrapyd-client, as an archivist
who runs Scrapy on a server would, and the spider scheduled against the replica.

The project is copied to a temporary folder first: scrapyd-deploy builds its egg in the
project folder (build/, *.egg-info), which the test must not leave in the work tree.
"""

import json
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from pilotarchive.archive.snapshot import list_snapshots, validate_snapshot
from pilotarchive.replica.server import ReplicaServer
from tests.mailserver import free_port

ROOT = Path(__file__).resolve().parent.parent


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


def _post(url: str, fields: list[tuple[str, str]]) -> dict:
    data = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(url, data=data, timeout=30) as answer:
        return json.loads(answer.read())


def test_deploy_and_schedule_on_scrapyd(replica: ReplicaServer, tmp_path: Path):
    project = tmp_path / "project"
    project.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "pilotarchive", project / "pilotarchive", symlinks=True, ignore=ignore)
    shutil.copytree(ROOT / "schemas", project / "schemas")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, project / name)
    port = free_port()
    cfg = (ROOT / "scrapy.cfg").read_text().replace("127.0.0.1:6800", f"127.0.0.1:{port}")
    assert f"url = http://127.0.0.1:{port}/" in cfg, "scrapy.cfg has a [deploy] target"
    (project / "scrapy.cfg").write_text(cfg)

    server_dir = tmp_path / "scrapyd"
    server_dir.mkdir()
    (server_dir / "scrapyd.conf").write_text(
        "[scrapyd]\nbind_address = 127.0.0.1\n"
        f"http_port = {port}\neggs_dir = eggs\nlogs_dir = logs\nitems_dir =\n"
        "dbs_dir = dbs\nmax_proc = 1\npoll_interval = 0.2\n"
    )
    scrapyd = subprocess.Popen(
        [sys.executable, "-m", "scrapyd"],
        cwd=server_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert _get(f"{base}/daemonstatus.json")["status"] == "ok"
                break
            except OSError:
                assert time.monotonic() < deadline, "scrapyd did not start"
                time.sleep(0.2)
        deployed = subprocess.run(
            [sys.executable, "-m", "scrapyd_client.deploy"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert '"status": "ok"' in deployed.stdout and '"spiders": 1' in deployed.stdout

        output = tmp_path / "archive"  # the configured output folder, given as a setting
        job = _post(
            f"{base}/schedule.json",
            [
                ("project", "pilotarchive"),
                ("spider", "ministry"),
                ("setting", f"PILOTARCHIVE_START_URLS={replica.url}/seutukaupunkipilotit"),
                ("setting", f"PILOTARCHIVE_OUTPUT_DIR={output}"),
                ("setting", "PILOTARCHIVE_TARGET=pilots"),
                ("setting", "PILOTARCHIVE_FAST_LOOPBACK=true"),
            ],
        )
        assert job["status"] == "ok", job
        deadline = time.monotonic() + 120
        while True:
            jobs = _get(f"{base}/listjobs.json?project=pilotarchive")
            if any(j["id"] == job["jobid"] for j in jobs["finished"]):
                break
            assert time.monotonic() < deadline, jobs
            time.sleep(0.3)
    finally:
        scrapyd.terminate()
        try:
            scrapyd.wait(timeout=15)
        except subprocess.TimeoutExpired:
            scrapyd.kill()
    (snapshot,) = list_snapshots(output, target="pilots")
    assert snapshot.manifest["counts"]["pilot"]["total"] == 30
    assert snapshot.manifest["health"]["verdict"] == "healthy"
    assert validate_snapshot(snapshot.path) == []
    assert not (server_dir / "output").exists(), "nothing written to scrapyd's own folder"
