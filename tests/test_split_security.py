"""A split crawl against whoever can write to its Redis, and against a Redis that dies.

Whoever can write to the Redis of a split crawl could run code on every worker (a pickle
in the request queue) and steer workers to write outside their folder (a job's settings,
its output folder). Now the queue holds JSON and refuses anything else, a job carries only
the crawl's own settings, and a worker's folder is its own. A Redis killed mid-crawl ends
the crawl with one line. Each test runs a real redis-server on 127.0.0.1 and the synthetic
ministry site.
"""

import json
import os
import pickle
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pilotarchive.archive.snapshot import snapshot_dir, validate_snapshot
from pilotarchive.replica.synthetic import SyntheticServer, SyntheticSite
from tests.helpers import load_manifest, load_records
from tests.test_scale import REDIS, _free_port, _gone, crawl_argv, needs_redis

PAGES = 40
QUEUE = "pilotarchive:{job}:requests"


class RedisServer:
    """A redis-server on 127.0.0.1 that a test may kill."""

    def __init__(self, folder: Path) -> None:
        assert REDIS is not None
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        self.client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    found = RedisServer(tmp_path)
    yield found
    found.kill()


@pytest.fixture
def site() -> Iterator[SyntheticServer]:
    with SyntheticServer(SyntheticSite(PAGES)) as served:
        yield served


def start_split(site: SyntheticServer, output: Path, server: RedisServer,
                job: str) -> subprocess.Popen:  # fmt: skip
    """A crawl over two local workers on ``server``, slowed so that it is still running
    when the test acts; returned once both workers have recorded pages."""
    coordinator = subprocess.Popen(
        crawl_argv(site, output, "--workers", "2", "--redis", server.url, "--job", job,
                   "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "DOWNLOAD_DELAY=0.05"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        parts = list(snapshot_dir(output).glob(".tmp-*/parts/*/records/pages.jsonl"))
        if len(parts) == 2 and all(p.stat().st_size for p in parts):
            return coordinator
        assert time.monotonic() < deadline and coordinator.poll() is None, coordinator.stderr
        time.sleep(0.05)


class Touch:
    """A pickle that, loaded, creates a file: what an attacker's shell command would do."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.path), "w"))


# 1. Code execution through the Redis queue.


@needs_redis
def test_a_pickle_in_the_queue_of_a_live_crawl_is_refused_not_run(
    site: SyntheticServer, server: RedisServer, tmp_path: Path
) -> None:
    """Entries pushed into the live crawl's queue ahead of everything else: a pickle whose
    loading creates a file, garbage, JSON of another shape, and a request naming a method
    of the spider that is no callback. None is run; each is refused with one line; the
    crawl goes on and makes its snapshot."""
    output, planted = tmp_path / "out", tmp_path / "pwned"
    coordinator = start_split(site, output, server, "ministry")
    entry = {
        "pilotarchive_request": 1, "url": f"{site.url}/fi/index.html", "method": "GET",
        "headers": {}, "body": "", "cookies": {}, "meta": {}, "encoding": "utf-8",
        "priority": 0, "dont_filter": True, "flags": [], "callback": "close", "errback": None,
    }  # fmt: skip
    hostile = [
        pickle.dumps(Touch(planted), protocol=pickle.HIGHEST_PROTOCOL),
        b"\x00garbage\xff",
        json.dumps({"url": "http://example.org/"}).encode(),
        json.dumps(entry).encode(),
    ]
    server.client.zadd(QUEUE.format(job="ministry"), {data: -1000 for data in hostile})
    out, err = coordinator.communicate(timeout=300)
    assert not planted.exists(), "the pickle in the queue was loaded: code ran on a worker"
    assert coordinator.returncode == 0, err
    refusals = [
        line for line in err.splitlines() if "refused an entry of the crawl's Redis" in line
    ]
    assert len(refusals) == len(hostile), err
    for said in ("not JSON (a pickle, or garbage)", "JSON, but not a pilotarchive request",
                 "callback 'close' is not one of the spider's callbacks"):  # fmt: skip
        assert any(said in line for line in refusals), (said, refusals)
    assert "Traceback" not in err
    assert validate_snapshot(Path(out.strip().splitlines()[-1])) == []


def _entry(**changes: Any) -> dict[str, Any]:
    """A queue entry as the crawl writes one (see the round trip below), with changes."""
    return {
        "pilotarchive_request": 1, "url": "http://127.0.0.1:9/fi/", "method": "GET",
        "headers": {}, "body": "", "cookies": {}, "meta": {"pilotarchive_language": "fi"},
        "encoding": "utf-8", "priority": 0, "dont_filter": False, "flags": [],
        "callback": "parse", "errback": "failed", **changes,
    }  # fmt: skip


REFUSED = {
    "pickle": pickle.dumps({"url": "http://127.0.0.1:9/"}),
    "garbage": b"\x80\x05not json",
    "json-list": b"[1, 2]",
    "other-format": json.dumps(_entry(pilotarchive_request=2)).encode(),
    "request-class": json.dumps({**_entry(), "_class": "subprocess.Popen"}).encode(),
    "callback-not-a-callback": json.dumps(_entry(callback="start")).encode(),
    "callback-dunder": json.dumps(_entry(errback="__init__")).encode(),
    "meta-proxy": json.dumps(_entry(meta={"proxy": "http://evil.example:8080"})).encode(),
    "meta-maxsize": json.dumps(_entry(meta={"download_maxsize": 10**12})).encode(),
    "meta-file": json.dumps(_entry(meta={"ftp_local_filename": "/tmp/x"})).encode(),
    "meta-robots": json.dumps(_entry(meta={"dont_obey_robotstxt": True})).encode(),
    "meta-bad-value": json.dumps(_entry(meta={"redirect_times": "many"})).encode(),
    "meta-warc-record": json.dumps(_entry(meta={"pilotarchive_warc": {"x": 1}})).encode(),
    "file-url": json.dumps(_entry(url="file:///etc/passwd")).encode(),
    "post": json.dumps(_entry(method="POST")).encode(),
    "body-not-latin1": json.dumps(_entry(body="\u20ac")).encode(),
    "deep-json": b"[" * 30_000 + b"]" * 30_000,
    "huge-entry": json.dumps(_entry(url="http://127.0.0.1:9/" + "a" * 70_000)).encode(),
    "header-host": json.dumps(_entry(headers={"Host": ["evil.example"]})).encode(),
    "header-cookie": json.dumps(_entry(headers={"cookie": ["sess=1"]})).encode(),
    "header-authorization": json.dumps(_entry(headers={"Authorization": ["Basic eDp5"]})).encode(),
    "cookies": json.dumps(_entry(cookies={"sess": "1"})).encode(),
    "meta-unknown-ours": json.dumps(_entry(meta={"pilotarchive_other": 1})).encode(),
    "meta-guess-text": json.dumps(_entry(meta={"pilotarchive_guess": "x"})).encode(),
    "meta-guess-short": json.dumps(_entry(meta={"pilotarchive_guess": [1]})).encode(),
    "meta-language-list": json.dumps(_entry(meta={"pilotarchive_language": [1, 2]})).encode(),
    "meta-source-text": json.dumps(_entry(meta={"pilotarchive_guess_source": "x"})).encode(),
    "meta-source-shape": json.dumps(
        _entry(meta={"pilotarchive_guess_source": {"urls": "x", "fingerprint": "y"}})
    ).encode(),
}


@pytest.mark.parametrize("data", REFUSED.values(), ids=REFUSED.keys())
def test_a_queue_entry_that_is_no_request_of_this_crawl_is_refused(data: bytes) -> None:
    from pilotarchive.redis_dupefilter import NotARequest, loads

    with pytest.raises(NotARequest):
        loads(data)


def test_a_request_goes_through_the_queue_as_data() -> None:
    """What the crawl queues comes back whole: bytes, a guess, redirects and retries; a
    process's own meta (the WARC record of the answer, the proxy, the slot) is not queued."""
    from scrapy import Request
    from scrapy.utils.request import request_from_dict

    from pilotarchive.redis_dupefilter import dumps, loads
    from pilotarchive.spiders.ministry import MinistrySpider

    spider = MinistrySpider()
    request = Request(
        "http://127.0.0.1:9/fi/?q=\u00e4", callback=spider.parse, errback=spider.failed,
        headers={"If-None-Match": b'"\xe4"', "Cookie": b"a=1", "Host": b"evil.example"},
        body=b"\xff\x00", priority=-3, dont_filter=True,
        meta={"pilotarchive_language": "sv", "pilotarchive_guess": ("text", "http://x/"),
              "redirect_urls": ["http://127.0.0.1:9/"], "redirect_reasons": [301],
              "redirect_times": 1, "redirect_ttl": 19, "retry_times": 1, "depth": 2,
              "pilotarchive_guess_source": {"urls": ["http://x/"], "fingerprint": "ab"},
              "handle_httpstatus_all": True, "pilotarchive_warc": object(),
              "proxy": "http://p:1", "download_slot": "x",
              "download_maxsize": 10**12, "ftp_local_filename": "/tmp/x"},
    )  # fmt: skip
    data = dumps(request.to_dict(spider=spider))
    assert set(json.loads(data)) == set(_entry())
    assert loads(json.dumps(_entry()))["callback"] == "parse"  # the base of REFUSED is taken
    back = request_from_dict(loads(data.encode()), spider=spider)
    assert (back.url, back.body, back.priority, back.dont_filter) == (
        request.url, b"\xff\x00", -3, True,
    )  # fmt: skip
    assert back.headers[b"If-None-Match"] == b'"\xe4"'
    assert b"Cookie" not in back.headers and b"Host" not in back.headers  # not queued
    assert back.callback == spider.parse and back.errback == spider.failed
    assert back.meta == {
        "pilotarchive_language": "sv", "pilotarchive_guess": ["text", "http://x/"],
        "redirect_urls": ["http://127.0.0.1:9/"], "redirect_reasons": [301],
        "redirect_times": 1, "redirect_ttl": 19, "retry_times": 1, "depth": 2,
        "pilotarchive_guess_source": {"urls": ["http://x/"], "fingerprint": "ab"},
        "handle_httpstatus_all": True,
    }  # fmt: skip


# 2. A job in Redis steers workers outside their folder.


def _publish(server: RedisServer, site: SyntheticServer, **overrides: Any) -> None:
    from pilotarchive.workers import Job

    Job("evil", "20260101T000000Z", "snapshots/.tmp-20260101T000000Z-1",
        {"PILOTARCHIVE_START_URLS": [f"{site.url}/fi/index.html"],
         "PILOTARCHIVE_FAST_LOOPBACK": True, **overrides}).publish(server.client)  # fmt: skip


def _worker(server: RedisServer, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pilotarchive", "crawl-worker", "--redis", server.url,
         "--job", "evil", *args],
        capture_output=True, text=True, timeout=120, cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip


@needs_redis
def test_a_job_that_sets_a_cache_folder_is_refused(
    site: SyntheticServer, server: RedisServer, tmp_path: Path
) -> None:
    """HTTPCACHE_DIR names no code, so a blocklist let it through, and the worker wrote its
    cache wherever the job said."""
    cache = tmp_path / "anywhere"
    _publish(server, site, HTTPCACHE_ENABLED=True, HTTPCACHE_DIR=str(cache))
    run = _worker(server, "--output", str(tmp_path / "out"), cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("pilotarchive: "), run.stderr
    assert "sets HTTPCACHE_DIR, HTTPCACHE_ENABLED, which a worker does not take" in run.stderr
    assert not cache.exists()
    assert not (tmp_path / "out").exists()


@needs_redis
def test_a_worker_never_takes_its_output_folder_from_redis(
    site: SyntheticServer, server: RedisServer, tmp_path: Path
) -> None:
    """Without --output, a worker wrote into the job's PILOTARCHIVE_OUTPUT_DIR."""
    elsewhere, here = tmp_path / "elsewhere", tmp_path / "here"
    here.mkdir()
    _publish(server, site, PILOTARCHIVE_OUTPUT_DIR=str(elsewhere))
    run = _worker(server, cwd=here)
    assert run.returncode == 1, run.stderr
    assert "sets PILOTARCHIVE_OUTPUT_DIR, which a worker does not take" in run.stderr
    assert not elsewhere.exists()
    assert list(here.iterdir()) == []


@needs_redis
def test_a_job_is_checked_field_by_field(server: RedisServer) -> None:
    from pilotarchive.exceptions import CrawlFailed
    from pilotarchive.workers import Job

    tmp = "snapshots/.tmp-20260101T000000Z-1"
    for job, said in (
        (Job("j", "../../x", tmp), "as its snapshot id, which is none"),
        (Job("other", "20260101T000000Z", tmp), "not the job asked for"),
        (Job("j", "20260101T000000Z", tmp, {"LOG_FILE": "/tmp/x"}), "sets LOG_FILE"),
        (Job("j", "20260101T000000Z", tmp, {"DOWNLOAD_DELAY": {"a": 1}}), "not plain data"),
    ):
        server.client.set("pilotarchive:j:job", json.dumps(job.__dict__))
        with pytest.raises(CrawlFailed, match=said):
            Job.load(server.client, "j")
    good = Job("j", "20260101T000000Z", tmp, {"DOWNLOAD_DELAY": 0.5, "USER_AGENT": "x"})
    good.publish(server.client)
    assert Job.load(server.client, "j") == good


def test_the_coordinator_refuses_a_setting_its_workers_would(tmp_path: Path, capsys) -> None:
    from pilotarchive.cli import main

    code = main(["crawl", "http://127.0.0.1:9/", "-o", str(tmp_path), "--workers", "2",
                 "-s", "HTTPCACHE_DIR=/tmp/x"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("pilotarchive: -s HTTPCACHE_DIR: a split crawl's workers take only")
    assert not (tmp_path / "snapshots").exists()


# 3. Redis dying during a --workers crawl.


@needs_redis
def test_redis_killed_mid_crawl_ends_it_with_one_line(
    site: SyntheticServer, server: RedisServer, tmp_path: Path
) -> None:
    """The coordinator and both workers printed redis-py's chained tracebacks (nine), and
    each page a worker had in hand an error. Now: one line, exit 1, nothing left."""
    output = tmp_path / "out"
    coordinator = start_split(site, output, server, "ministry")
    workers = [int(p) for p in subprocess.run(
        ["pgrep", "-P", str(coordinator.pid), "-f", "crawl-worker"],
        capture_output=True, text=True).stdout.split()]  # fmt: skip
    assert len(workers) == 2
    server.kill()
    _, err = coordinator.communicate(timeout=120)
    assert coordinator.returncode == 1, err
    # Which call meets the dead Redis first decides redis-py's words: a read cut off
    # ("Connection reset by peer") or a connect refused ("Error 111 ... refused").
    (line,) = err.splitlines()
    assert line.startswith(f"pilotarchive: lost the connection to Redis at {server.url}: ")
    assert line.endswith("; no snapshot written")
    assert "refused" in line or "reset by peer" in line or "closed" in line, line
    assert _gone(workers)
    assert list(snapshot_dir(output).iterdir()) == []  # no snapshot, no unfinished one


@needs_redis
def test_a_remote_worker_says_a_lost_redis_in_one_line(
    site: SyntheticServer, server: RedisServer, tmp_path: Path
) -> None:
    """A worker on another host has no coordinator on its terminal: it says it itself."""
    _publish(server, site, PILOTARCHIVE_SCOPE="site", PILOTARCHIVE_MAX_PAGES=5000,
             DOWNLOAD_DELAY=0.05)  # fmt: skip
    (tmp_path / "out" / "snapshots" / ".tmp-20260101T000000Z-1").mkdir(parents=True)
    worker = subprocess.Popen(
        [sys.executable, "-m", "pilotarchive", "crawl-worker", "--redis", server.url,
         "--job", "evil", "--output", str(tmp_path / "out")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not list((tmp_path / "out").glob("snapshots/.tmp-*/parts/0/records/pages.jsonl")):
        assert time.monotonic() < deadline and worker.poll() is None
        time.sleep(0.05)
    server.kill()
    _, err = worker.communicate(timeout=120)
    assert worker.returncode == 1, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"pilotarchive: lost the connection to Redis at {server.url}: ")


@needs_redis
def test_heartbeats_that_are_no_time_are_taken_for_silence(server: RedisServer) -> None:
    """Anyone who can write to the Redis can put text where a worker's heartbeat goes: the
    coordinator reads it as "never heard from", never as a traceback."""
    from pilotarchive.exceptions import CrawlFailed
    from pilotarchive.workers import check_free, wait_for_workers

    client = server.client
    client.set("pilotarchive:j:job", "{}")
    client.sadd("pilotarchive:j:workers", "1", "2", "3")
    client.hset("pilotarchive:j:alive", mapping={"1": "garbage", "2": "nan", "3": "inf"})
    check_free(client, "j")  # none of them counts as a live worker: the job is cleared
    assert client.get("pilotarchive:j:job") is None
    client.sadd("pilotarchive:j:workers", "1")
    client.hset("pilotarchive:j:alive", mapping={"1": "1e999"})
    with pytest.raises(CrawlFailed, match="has not been heard from"):
        wait_for_workers(client, "j", [])


# Found by the second attacker's pass.


def _split_of(url: str, output: Path, server: RedisServer, *extra: str) -> Path:
    run = subprocess.run(
        [sys.executable, "-m", "pilotarchive", "crawl", url, "--output", str(output),
         "--fast-loopback", "--workers", "2", "--redis", server.url, "--job", "g", *extra],
        capture_output=True, text=True, timeout=180,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "refused an entry" not in run.stderr, run.stderr
    return Path(run.stdout.strip().splitlines()[-1])


@needs_redis
def test_a_split_crawl_keeps_its_guesses_as_a_single_one_does(
    server: RedisServer, tmp_path: Path
) -> None:
    """A guessed version's request carries the page it was guessed from (a table): the
    queue once refused it, so a split crawl lost every guess and said HEALTHY."""
    from pilotarchive.replica.server import ReplicaServer
    from tests.helpers import crawl

    with ReplicaServer(layout="2016") as replica:
        single = crawl(replica, tmp_path / "single").snapshot
        split = _split_of(f"{replica.url}/seutukaupunkipilotit", tmp_path / "split", server)
    said = [load_manifest(s)["no_such_version"] for s in (single, split)]
    assert said[0] and said[0] == said[1]
    ids = [{r["id"] for rows in load_records(s).values() for r in rows} for s in (single, split)]
    assert ids[0] == ids[1]


@needs_redis
def test_an_entry_no_worker_asked_for_is_refused(
    site: SyntheticServer, server: RedisServer, tmp_path: Path
) -> None:
    """Entries pushed into the queue alone, in scope and well formed: a page no worker asked
    for (past the budget), one with a redirect chain that never happened, one out of
    scope through its chain. None is fetched; each is one line."""
    output = tmp_path / "out"
    coordinator = start_split(site, output, server, "ministry")
    fake = [
        _entry(url=f"{site.url}/injected-{n}.html", meta={}, dont_filter=True) for n in range(5)
    ]
    fake.append(_entry(url=f"{site.url}/p1.html", meta={"redirect_urls": [f"{site.url}/p2"]}))
    fake.append(_entry(url=f"{site.url}/p3.html", meta={"redirect_urls": ["http://evil.example/"]}))
    server.client.zadd(QUEUE.format(job="ministry"), {json.dumps(e): -1000 for e in fake})
    out, err = coordinator.communicate(timeout=300)
    assert coordinator.returncode == 0, err
    refusals = [line for line in err.splitlines() if "refused an entry" in line]
    assert len(refusals) == len(fake), err
    assert sum("was not asked for by this crawl" in line for line in refusals) == 6
    assert sum("out of the crawl's scope" in line for line in refusals) == 1
    snapshot = Path(out.strip().splitlines()[-1])
    urls = {p["final_url"] for p in load_records(snapshot)["pages"]}
    assert not {u for u in urls if "injected" in u or u.endswith(("/p1.html", "/p3.html"))}


@needs_redis
def test_a_worker_that_never_beat_is_taken_for_dead(server: RedisServer) -> None:
    from pilotarchive.exceptions import CrawlFailed
    from pilotarchive.workers import wait_for_workers

    server.client.sadd("pilotarchive:j:workers", "7")  # a number nobody holds, no heartbeat
    started = time.monotonic()
    with pytest.raises(CrawlFailed, match=r"worker 7 .* has not been heard from"):
        wait_for_workers(server.client, "j", [], dead_after=1.0)
    assert time.monotonic() - started < 5
    server.client.hset("pilotarchive:j:alive", "7", str(time.time() + 10**9))  # "beats" later
    with pytest.raises(CrawlFailed, match="has not been heard from"):
        wait_for_workers(server.client, "j", [], dead_after=1.0)


@needs_redis
def test_a_counter_set_back_never_gives_two_workers_one_number(server: RedisServer) -> None:
    from pilotarchive.workers import join

    first = join(server.client, "j")
    server.client.set("pilotarchive:j:next_worker", 0)
    second = join(server.client, "j")
    server.client.set("pilotarchive:j:next_worker", -5)
    third = join(server.client, "j")
    assert len({first, second, third}) == 3 and min(first, second, third) >= 0


@needs_redis
def test_a_garbage_budget_counter_at_the_start_ends_in_one_line(
    site: SyntheticServer, server: RedisServer, tmp_path: Path
) -> None:
    """A page counter that is no number when the workers take their first page: a worker
    closed its spider from inside the spider's start and hung for ever with its crawl."""
    import threading

    def spoil() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if server.client.exists("pilotarchive:g:job"):
                server.client.set("pilotarchive:g:pages", "abc")
                return
            time.sleep(0.005)

    spoiler = threading.Thread(target=spoil, daemon=True)
    spoiler.start()
    started = time.monotonic()
    run = subprocess.run(
        crawl_argv(site, tmp_path / "out", "--workers", "2", "--redis", server.url, "--job", "g"),
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    spoiler.join()
    assert run.returncode == 1, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    assert time.monotonic() - started < 60
    assert not [p for p in (tmp_path / "out" / "snapshots").iterdir() if not p.name.startswith(".")]
