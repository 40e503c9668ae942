"""One crawl over several processes and machines, and a crawl resumed from its JOBDIR.

Run against the synthetic ministry site (realistic pages, a link graph of depth 5) on
127.0.0.1; the distributed test starts Debian's redis-server on 127.0.0.1 itself.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pilotarchive.archive.snapshot import list_snapshots, snapshot_dir, validate_snapshot
from pilotarchive.replica.synthetic import SyntheticServer, SyntheticSite
from tests.helpers import load_manifest, load_records, warc_records

PAGES = 40  # per language: 40 x 3 graphic + 40 x 3 text + 6 front pages = 246 pages
REDIS = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin")
needs_redis = pytest.mark.skipif(REDIS is None, reason="Debian's redis-server is not installed")


@pytest.fixture
def site():
    with SyntheticServer(SyntheticSite(PAGES)) as server:
        yield server


def expected_urls(server: SyntheticServer) -> set[str]:
    paths = set(SyntheticSite(PAGES).paths())
    return {f"{server.url}{p}" for p in paths} | {f"{server.url}/text{p}" for p in paths}


def crawl_argv(server: SyntheticServer, output: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pilotarchive", "crawl", f"{server.url}/fi/index.html",
            "--scope", "site", "--max-pages", "5000", "--output", str(output),
            "--fast-loopback", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4", *extra]  # fmt: skip


def check_every_page_once(server: SyntheticServer, snapshot: Path) -> dict:
    assert validate_snapshot(snapshot) == []
    pages = load_records(snapshot)["pages"]
    urls = [p["final_url"] for p in pages]
    assert len(urls) == len(set(urls)), "a page was recorded twice"
    assert set(urls) == expected_urls(server)
    return load_manifest(snapshot)


@needs_redis
def test_two_local_workers_make_one_snapshot(site, tmp_path: Path) -> None:
    run = subprocess.run(crawl_argv(site, tmp_path, "--workers", "2"),
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr
    snapshot = Path(run.stdout.strip().splitlines()[-1])
    manifest = check_every_page_once(site, snapshot)
    assert [Path(w).name for w in manifest["archive"]["warc_files"]] == [
        f"pilotarchive-{snapshot.name}-w0.warc.gz",
        f"pilotarchive-{snapshot.name}-w1.warc.gz",
    ]
    assert not (snapshot / "parts").exists()
    assert len(list_snapshots(tmp_path)) == 1
    # Both workers took pages: the crawl was really shared.
    per_warc = {}
    for page in load_records(snapshot)["pages"]:
        per_warc[page["warc_filename"]] = per_warc.get(page["warc_filename"], 0) + 1
    assert len(per_warc) == 2 and min(per_warc.values()) > 10, per_warc


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: Path):
    """A real redis-server on 127.0.0.1, as the workers of several hosts would share."""
    port = _free_port()
    proc = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@needs_redis
def test_a_worker_from_another_host_joins_through_redis(site, tmp_path: Path, redis_url) -> None:
    """The coordinator and one worker here, one more worker started as another host would
    (`pilotarchive crawl-worker`), all on one redis-server; one snapshot comes out."""
    import redis

    client = redis.Redis.from_url(redis_url)
    coordinator = subprocess.Popen(
        crawl_argv(site, tmp_path, "--redis", redis_url, "--job", "ministry", "--workers", "1"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while client.get("pilotarchive:ministry:job") is None:
        assert time.monotonic() < deadline and coordinator.poll() is None
        time.sleep(0.02)
    other = subprocess.run(
        [sys.executable, "-m", "pilotarchive", "crawl-worker", "--redis", redis_url, "--job",
         "ministry", "--output", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    out, err = coordinator.communicate(timeout=300)
    assert other.returncode == 0, other.stderr
    assert "this worker's part is written" in other.stdout  # it said nothing
    assert coordinator.returncode == 0, err
    snapshot = Path(out.strip().splitlines()[-1])
    manifest = check_every_page_once(site, snapshot)
    assert len(manifest["archive"]["warc_files"]) == 2
    assert not list(client.scan_iter("pilotarchive:ministry:*"))  # the job cleaned up after


def test_a_crawl_stopped_with_ctrl_c_resumes_into_the_same_snapshot(site, tmp_path) -> None:
    output, jobdir = tmp_path / "out", tmp_path / "job"
    first = subprocess.Popen(
        crawl_argv(site, output, "--jobdir", str(jobdir), "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    pages = None
    while True:
        pages = next(snapshot_dir(output).glob(".tmp-*/records/pages.jsonl"), None) if (
            snapshot_dir(output).exists()) else None  # fmt: skip
        if pages is not None and len(pages.read_text().splitlines()) >= 30:
            break
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.05)
    # A second crawl on the same JOBDIR meanwhile would garble its disk queue: refused.
    meanwhile = subprocess.run(crawl_argv(site, output, "--jobdir", str(jobdir)),
                               capture_output=True, text=True, timeout=60)  # fmt: skip
    assert meanwhile.returncode == 1
    assert f"--jobdir {jobdir} is locked by pid {first.pid}" in meanwhile.stderr
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 1
    assert "kept: run the same command again" in err
    assert not list_snapshots(output)  # nothing under a final name yet
    kept = [p.name for p in snapshot_dir(output).iterdir()]
    assert len(kept) == 1 and kept[0].startswith(".tmp-")
    # Another crawl would take the interrupted one's queue and write a partial or
    # mislabelled snapshot that looks whole: each is refused, naming what differs.
    for argv, differs in (
        (crawl_argv(site, tmp_path / "other", "--jobdir", str(jobdir)), "--output"),
        ([*crawl_argv(site, output, "--jobdir", str(jobdir))[:4], f"{site.url}/sv/index.html",
          *crawl_argv(site, output, "--jobdir", str(jobdir))[5:]], "start URLs"),
        (crawl_argv(site, output, "--jobdir", str(jobdir), "--max-pages", "20"), "--max-pages"),
    ):  # fmt: skip
        wrong = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert wrong.returncode == 2, wrong.stderr
        assert "goes on with an interrupted crawl that was not this one" in wrong.stderr
        assert f"({differs}: " in wrong.stderr
    assert [p.name for p in snapshot_dir(output).iterdir()] == kept
    listed = subprocess.run([sys.executable, "-m", "pilotarchive", "snapshots", "-o", str(output)],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert (
        f"unfinished: {kept[0]} (an interrupted crawl; its command with --jobdir" in listed.stderr
    )
    assert not (tmp_path / "other").exists() or not list_snapshots(tmp_path / "other")
    second = subprocess.run(
        crawl_argv(site, output, "--jobdir", str(jobdir), "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    snapshot = Path(second.stdout.strip().splitlines()[-1])
    assert snapshot.name == kept[0].removeprefix(".tmp-").rsplit("-", 1)[0]  # the same id
    manifest = check_every_page_once(site, snapshot)
    assert any("resumed from its JOBDIR" in n for n in manifest["notes"])
    # The WARC goes on in the same file: a second warcinfo record says where.
    infos = [r for r in warc_records(snapshot) if r["type"] == "warcinfo"]
    assert len(infos) == 2 and b"description-resumed" in infos[1]["raw"]
    assert json.loads((snapshot / "manifest.json").read_text())["fetched"] >= len(
        expected_urls(site)
    )
    # The same command once more: the finished crawl's queue and seen-set would make it
    # fetch nothing ("no page could be read"); the JOBDIR is emptied and it crawls afresh.
    third = subprocess.run(crawl_argv(site, output, "--jobdir", str(jobdir)),
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert third.returncode == 0, third.stderr
    assert "held the queue of a crawl that finished or was killed" in third.stderr
    again = Path(third.stdout.strip().splitlines()[-1])
    assert again != snapshot
    check_every_page_once(site, again)


def _records_so_far(output: Path) -> int:
    pages = next(snapshot_dir(output).glob(".tmp-*/records/pages.jsonl"), None) if (
        snapshot_dir(output).exists()) else None  # fmt: skip
    return len(pages.read_text().splitlines()) if pages is not None else 0


def _interrupted(argv: list[str], output: Path, more: int, how: int) -> None:
    """Run the crawl until it has written ``more`` page records beyond those it had, then
    stop it with signal ``how`` (it keeps its JOBDIR and says so)."""
    start = _records_so_far(output)
    crawl = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while _records_so_far(output) < start + more:
        assert time.monotonic() < deadline and crawl.poll() is None, crawl.communicate()
        time.sleep(0.05)
    crawl.send_signal(how)
    _, err = crawl.communicate(timeout=60)
    assert crawl.returncode == 1 and "kept: run the same command again" in err, err


def test_a_resumed_crawl_spends_its_page_budget_once(site, tmp_path) -> None:
    """The budget (--max-pages) counts each page asked for once, across resumes. The
    spider's set of URLs asked for is not kept in JOBDIR: a resumed crawl built a request
    again for every link of every page it read, counted it in the budget, and Scrapy's
    kept duplicate filter dropped it. With a budget of exactly the site, the last pages
    found were left out of a snapshot judged healthy (a new user's crawl of 1,206 pages
    lost 1 to 5 of them). Stopped twice, as in that report (Ctrl-C, then SIGTERM)."""
    output, jobdir = tmp_path / "out", tmp_path / "job"
    argv = crawl_argv(
        site, output, "--jobdir", str(jobdir), "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"
    )
    argv[argv.index("--max-pages") + 1] = str(len(expected_urls(site)))  # nothing to spare
    _interrupted(argv, output, 40, signal.SIGINT)
    _interrupted(argv, output, 40, signal.SIGTERM)
    last = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert last.returncode == 0, last.stderr
    manifest = check_every_page_once(site, Path(last.stdout.strip().splitlines()[-1]))
    assert manifest["skipped"] == [] and manifest["left_out"] == 0


def test_a_jobdir_whose_snapshot_is_gone_or_unusable_is_refused(site, tmp_path) -> None:
    """One line and exit 2, never a traceback or a partial snapshot that looks whole."""
    output, jobdir = tmp_path / "out", tmp_path / "job"
    jobdir.mkdir()
    (jobdir / "pilotarchive-interrupted.json").write_text(
        json.dumps({"tmp": str(snapshot_dir(output) / ".tmp-gone-1"), "snapshot_id": "gone"})
    )
    (jobdir / "requests.seen").write_text("")
    gone = subprocess.run(crawl_argv(site, output, "--jobdir", str(jobdir)),
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert gone.returncode == 2
    assert "the unfinished snapshot it goes on with" in gone.stderr and "is gone" in gone.stderr
    # Its folder there but not its state (a resumed crawl stopped by force never wrote it
    # back): not "gone", and both folders are named.
    (snapshot_dir(output) / ".tmp-gone-1").mkdir(parents=True)
    stateless = subprocess.run(crawl_argv(site, output, "--jobdir", str(jobdir)),
                               capture_output=True, text=True, timeout=60)  # fmt: skip
    assert stateless.returncode == 2 and "is gone" not in stateless.stderr, stateless.stderr
    assert "can no longer be finished (its part.json was not written back" in stateless.stderr
    assert f"remove {jobdir} and {snapshot_dir(output) / '.tmp-gone-1'}" in stateless.stderr
    (tmp_path / "file").write_text("")
    for bad, said in (
        (tmp_path / "file", "not a folder"),
        (tmp_path / "file" / "sub", "cannot be made"),
    ):
        run = subprocess.run(crawl_argv(site, output, "--jobdir", str(bad)),
                             capture_output=True, text=True, timeout=60)  # fmt: skip
        assert run.returncode == 2 and f"--jobdir {bad}: {said}" in run.stderr, run.stderr
        assert "Traceback" not in run.stderr
    assert not list_snapshots(output)


def _workers_of(coordinator: subprocess.Popen) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(coordinator.pid), "-f", "crawl-worker"],
                         capture_output=True, text=True)  # fmt: skip
    return [int(p) for p in out.stdout.split()]  # not the private redis-server


def _start_split(site, output: Path) -> tuple[subprocess.Popen, list[int]]:
    """A crawl over two local workers, slowed so that it is still running when the test
    acts; returns it once both workers fetch."""
    coordinator = subprocess.Popen(
        crawl_argv(site, output, "--workers", "2", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
                   "-s", "DOWNLOAD_DELAY=0.05"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        parts = list(snapshot_dir(output).glob(".tmp-*/parts/*/records/pages.jsonl"))
        if len(parts) == 2 and all(p.stat().st_size for p in parts):
            break
        assert time.monotonic() < deadline and coordinator.poll() is None
        time.sleep(0.05)
    return coordinator, _workers_of(coordinator)


def _gone(pids: list[int]) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if all(not Path(f"/proc/{pid}").exists() for pid in pids):
            return True
        time.sleep(0.1)
    return False


@needs_redis
def test_a_worker_killed_ends_the_split_crawl_with_one_line(site, tmp_path: Path) -> None:
    """A worker killed with SIGKILL never says it finished: the others waited for it
    forever. The coordinator sees it die, stops the rest, and says so; nothing is left."""
    output = tmp_path / "out"
    coordinator, workers = _start_split(site, output)
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    _, err = coordinator.communicate(timeout=90)
    assert coordinator.returncode == 1, err
    assert err.splitlines()[-1].endswith(f"(pid {workers[0]}) was killed by SIGKILL; "
                                         "no snapshot written")  # fmt: skip
    assert "Traceback" not in err
    assert _gone(workers)
    assert list(snapshot_dir(output).iterdir()) == []  # the unfinished snapshot removed


@needs_redis
def test_sigterm_stops_a_split_crawl_and_its_workers(site, tmp_path: Path) -> None:
    """systemd and `docker stop` send SIGTERM to the coordinator only: its workers were left
    crawling (and its redis-server running). It ends as Ctrl-C does, workers too."""
    output = tmp_path / "out"
    coordinator, workers = _start_split(site, output)
    coordinator.send_signal(signal.SIGTERM)
    _, err = coordinator.communicate(timeout=90)
    assert coordinator.returncode == 130, err
    assert err.splitlines()[-1] == "pilotarchive: interrupted"
    assert _gone(workers)
    assert list(snapshot_dir(output).iterdir()) == []


@needs_redis
def test_a_job_in_redis_is_checked_before_a_worker_takes_it(redis_url, tmp_path) -> None:
    """Whoever can write to the Redis must not make workers write elsewhere or load code;
    a live job's name is not taken over, and a name is no Redis pattern."""
    from pilotarchive.exceptions import CrawlFailed, UsageError
    from pilotarchive.workers import Job, check_free, check_job_name, connect, join

    client = connect(redis_url)
    for tmp, overrides, said in (
        ("../../../tmp/evil", {}, "a worker writes only into snapshots/.tmp-"),
        ("/tmp/evil", {}, "a worker writes only into snapshots/.tmp-"),
        ("snapshots/.tmp-x-1", {"ITEM_PIPELINES": {"os.system": 1}}, "ITEM_PIPELINES"),
        # An allowlist now: a setting that names no code is refused as well.
        ("snapshots/.tmp-x-1", {"DOWNLOADER_CLIENTCONTEXTFACTORY": "x"}, "DOWNLOADER_CLIENT"),
        ("snapshots/.tmp-x-1", {"STATS_CLASS": "os.system"}, "STATS_CLASS"),
        ("snapshots/.tmp-x-1", {"DOWNLOAD_DELAY": 0.5}, None),
    ):
        Job("j", "20260101T000000Z", tmp, overrides).publish(client)
        if said is None:
            assert Job.load(client, "j").tmp == tmp
            continue
        with pytest.raises(CrawlFailed, match=said):
            Job.load(client, "j")
    # A live job (a worker beating now) keeps its name; one whose workers are silent is
    # cleared for the new crawl.
    Job("live", "20260101T000000Z", "snapshots/.tmp-x-1").publish(client)
    join(client, "live")
    with pytest.raises(CrawlFailed, match="a crawl job named 'live' is running"):
        check_free(client, "live")
    check_free(client, "live", dead_after=0.0)
    assert client.get("pilotarchive:live:job") is None
    for name in ("*", "a b", "-x", "x" * 65, "ä"):
        with pytest.raises(UsageError):
            check_job_name(name)


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(c) for c in found.stdout.split()]


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _redis_up(coordinator: subprocess.Popen, site: SyntheticServer) -> bool:
    """The private redis-server started; the workers may not be yet."""
    return any(_name(c) == "redis-server" for c in _children(coordinator.pid))


def _workers_crawl(coordinator: subprocess.Popen, site: SyntheticServer) -> bool:
    """The workers are fetching pages."""
    return site.requests >= 5


@needs_redis
@pytest.mark.parametrize("phase", [_redis_up, _workers_crawl], ids=["redis-up", "workers-crawl"])
def test_ctrl_c_at_the_terminal_while_a_split_crawl_starts(site, tmp_path, phase) -> None:
    """A terminal's Ctrl-C reaches its whole process group: the private redis-server died
    at once and the workers printed Redis and import tracebacks. Only the coordinator gets
    it now, and it stops the rest in order."""
    output = tmp_path / "out"
    # Its own process group, as a terminal's foreground job; and Ctrl-C's default action
    # even when the tests run in the background (a shell starts those with SIGINT ignored).
    coordinator = subprocess.Popen(
        crawl_argv(site, output, "--workers", "2"), start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not phase(coordinator, site):
        assert time.monotonic() < deadline and coordinator.poll() is None, phase.__name__
        time.sleep(0.02)
    children = _children(coordinator.pid)
    os.killpg(coordinator.pid, signal.SIGINT)
    _, err = coordinator.communicate(timeout=90)
    assert coordinator.returncode == 130, err
    assert err.splitlines()[-1] == "pilotarchive: interrupted"
    assert "Traceback" not in err and "cannot reach Redis" not in err, err
    assert _gone(children)
    assert not snapshot_dir(output).exists() or list(snapshot_dir(output).iterdir()) == []


@needs_redis
def test_ctrl_c_while_the_private_redis_starts_leaves_no_server(monkeypatch) -> None:
    """The Ctrl-C test above failed now and then: interrupted while the private
    redis-server was coming up, the coordinator never got it to close, and it lived on."""
    from pilotarchive import workers

    started: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def popen(*args, **kwargs):  # the real one, remembered
        proc = real_popen(*args, **kwargs)
        started.append(proc)
        return proc

    def interrupted(self) -> bool:
        raise KeyboardInterrupt  # the terminal's Ctrl-C, during the wait for the socket

    monkeypatch.setattr(workers.subprocess, "Popen", popen)
    monkeypatch.setattr(workers.PrivateRedis, "_answers", interrupted)
    with pytest.raises(KeyboardInterrupt):
        workers.PrivateRedis()
    assert [p.poll() is not None for p in started] == [True]
