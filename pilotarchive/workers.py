"""One crawl over several processes or machines: the job, the workers, the merge.

A site crawl of a whole ministry is CPU-bound in one process (parsing, extraction,
validation and WARC writing per page). ``--workers N`` runs N crawler processes that share
one frontier through scrapy-redis (the Scrapy ecosystem's scheduler and duplicate filter on
Redis); workers on other machines join the same job with ``pilotarchive crawl-worker``.

The coordinator (the ``crawl`` process) allocates the snapshot, publishes the job in Redis
(snapshot id, its temporary folder, the crawl's settings), starts its local workers, waits
until every worker that joined has finished, and merges their parts into one snapshot: one
WARC per worker, records merged and sorted, one manifest, one health verdict, one commit.
Every worker writes into ``snapshots/.tmp-<id>-<pid>/parts/<n>/`` and
``archive/pilotarchive-<id>-w<n>.warc.gz`` of the same output folder, so workers on other
hosts need that folder shared (NFS, SMB), given with ``--output`` (a worker never takes its
folder from Redis; default ``output``).

Whoever can write to the job's Redis decides what the workers crawl (the settings of
:data:`JOB_SETTINGS`), but not where they write or what code they run: the job is checked
field by field (:meth:`Job.load`) and the request queue holds JSON, never pickles.

Without ``--redis URL`` the coordinator starts a private redis-server on a Unix socket for
the job's length (Debian's ``redis-server``).
"""

import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pilotarchive.archive.names import TARGET_NAME
from pilotarchive.exceptions import CrawlFailed, LostRedis, UsageError

KEY = "pilotarchive:{job}:{what}"
IDLE_GRACE = 2.0  # seconds every worker must have been idle, queue empty, before all stop
BEAT = 2.0  # seconds between a worker's heartbeats
DEAD_AFTER = 60.0  # a worker silent this long is taken for dead (killed, host gone)
# The settings a job in Redis may carry: what the coordinator's command line and a
# target's settings set for the crawl itself (what to fetch, how politely, who runs it).
# Whoever can write to that Redis can change these, and only these: any other setting may
# name code (pipelines, middlewares, ``*_CLASS``) or files (HTTPCACHE_DIR, FEEDS, LOG_FILE),
# and a blocklist of those was never complete (HTTPCACHE_DIR got through). The target's
# extraction rules are data, not code: selectors each worker checks as a crawl does
# (XPath 1.0 core functions only, results capped: extract/rules.py) before it starts.
JOB_SETTINGS = frozenset(
    "PILOTARCHIVE_START_URLS PILOTARCHIVE_SCOPE PILOTARCHIVE_MAX_PAGES PILOTARCHIVE_ALLOWED_HOSTS "
    "PILOTARCHIVE_FAST_LOOPBACK PILOTARCHIVE_DEDUP PILOTARCHIVE_CONDITIONAL PILOTARCHIVE_OPERATOR "
    "PILOTARCHIVE_TARGET PILOTARCHIVE_RULES "
    "USER_AGENT ROBOTSTXT_OBEY DOWNLOAD_DELAY RANDOMIZE_DOWNLOAD_DELAY DOWNLOAD_TIMEOUT "
    "DOWNLOAD_MAXSIZE DOWNLOAD_WARNSIZE CONCURRENT_REQUESTS CONCURRENT_REQUESTS_PER_DOMAIN "
    "AUTOTHROTTLE_ENABLED AUTOTHROTTLE_START_DELAY AUTOTHROTTLE_MAX_DELAY "
    "AUTOTHROTTLE_TARGET_CONCURRENCY RETRY_ENABLED RETRY_TIMES RETRY_HTTP_CODES "
    "URLLENGTH_LIMIT CLOSESPIDER_TIMEOUT CLOSESPIDER_PAGECOUNT CLOSESPIDER_ITEMCOUNT "
    "CLOSESPIDER_ERRORCOUNT LOG_LEVEL".split()
)
# The coordinator's own settings, never published: each worker has its own output folder
# (``crawl-worker --output``) and prints no progress.
NOT_PUBLISHED = frozenset(
    {"PILOTARCHIVE_OUTPUT_DIR", "PILOTARCHIVE_PROGRESS", "PILOTARCHIVE_PROGRESS_INTERVAL"}
)


def lost(url: str, exc: BaseException) -> LostRedis:
    """The one line a coordinator or worker says when its Redis is gone."""
    what = (str(exc) or type(exc).__name__).rstrip(".")
    return LostRedis(f"lost the connection to Redis at {shown(url)}: {what}; no snapshot written")


def redis_errors() -> tuple[type[BaseException], ...]:
    """The exceptions of a Redis that failed us (redis-py's own tree); none without it."""
    try:
        import redis
    except ImportError:
        return ()
    return (redis.RedisError,)


def job_settings(overrides: dict[str, Any]) -> dict[str, Any]:
    """What the coordinator publishes of its settings: a setting workers would refuse from
    Redis is refused here first, before anything starts, naming it."""
    from pilotarchive.exceptions import SettingError

    published = {k: v for k, v in overrides.items() if k not in NOT_PUBLISHED}
    for name in sorted(published):
        if name not in JOB_SETTINGS:
            raise SettingError(
                f"{name}: a split crawl's workers take only the crawl's own settings from "
                f"Redis ({_listed()}), not {name}",
                name,
            )
    return published


def _listed() -> str:
    return ", ".join(sorted(JOB_SETTINGS))


def _plain(value: Any) -> bool:
    """A setting's value as JSON plain data: text, a number, true/false, or a list of them."""
    if isinstance(value, list):
        return all(isinstance(v, str | int | float) for v in value)
    return value is None or isinstance(value, str | int | float)


_JOB_NAME = TARGET_NAME  # a job is named as a target is


def check_job_name(name: str) -> None:
    """A job name is part of Redis keys and of their patterns: ``*`` would match (and
    clear) every job's keys."""
    if not _JOB_NAME.fullmatch(name):
        raise UsageError(
            f"--job {name[:80]!r}: letters, digits, '.', '_' and '-', at most 64, "
            "beginning with a letter or digit"
        )


def key(job: str, what: str) -> str:
    return KEY.format(job=job, what=what)


def shown(url: str) -> str:
    """A Redis URL as it may be printed: without its password."""
    return re.sub(r"(//[^/@]*?:)[^/@]*@", r"\1***@", url)


def connect(url: str) -> Any:
    """A Redis client, or a clear error: the distributed extra or the server is missing."""
    try:
        import redis
    except ImportError:
        raise UsageError(
            "--workers and --redis need scrapy-redis: pip install 'pilotarchive[distributed]'"
        ) from None
    try:
        client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
    except ValueError as exc:
        raise UsageError(f"--redis {shown(url)}: {exc}") from None
    try:
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise CrawlFailed(f"cannot reach Redis at {shown(url)}: {exc}") from exc
    return client


@dataclass
class Job:
    """What every worker needs to take part in one crawl."""

    name: str
    snapshot_id: str
    tmp: str  # the snapshot's temporary folder, relative to the output folder
    overrides: dict[str, Any] = field(default_factory=dict)  # the crawl's settings
    started: float = field(default_factory=time.time)

    def publish(self, client: Any) -> None:
        client.set(key(self.name, "job"), json.dumps(asdict(self)))

    @classmethod
    def load(cls, client: Any, name: str) -> "Job":
        """The job as published, checked, since whoever can write to the Redis can write
        it: a worker writes only into the snapshot's own temporary folder of its own output
        folder, and takes only the settings of :data:`JOB_SETTINGS`, whose values are
        plain data; anything else refuses the whole job, naming what was wrong."""
        from pilotarchive.archive.snapshot import SNAPSHOT_ID

        raw = client.get(key(name, "job"))
        if raw is None:
            raise UsageError(f"no crawl job {name!r} in this Redis; start it with `crawl --job`")
        try:
            job = cls(**json.loads(raw))
        except (ValueError, TypeError) as exc:
            raise CrawlFailed(f"the crawl job {name!r} in Redis cannot be read ({exc})") from None
        said = f"the crawl job {name!r} in Redis"
        if job.name != name or not isinstance(job.snapshot_id, str) or not isinstance(job.tmp, str):
            raise CrawlFailed(f"{said} is not the job asked for, or not a job; not taken")
        if not SNAPSHOT_ID.fullmatch(job.snapshot_id):
            raise CrawlFailed(
                f"{said} names {job.snapshot_id[:80]!r} as its snapshot id, which is none"
            )
        where = Path(job.tmp)
        if (
            where.is_absolute()
            or len(where.parts) != 2
            or where.parts[0] != "snapshots"
            or not where.parts[1].startswith(".tmp-")
        ):
            raise CrawlFailed(
                f"{said} names {job.tmp!r} as its snapshot's folder; "
                "a worker writes only into snapshots/.tmp-... of its output folder"
            )
        if not isinstance(job.overrides, dict):
            raise CrawlFailed(f"{said} has no settings table; not taken")
        bad = sorted(str(k) for k in job.overrides if k not in JOB_SETTINGS)
        if bad:
            raise CrawlFailed(
                f"{said} sets {', '.join(bad)}, which a worker does not take from Redis "
                f"(only {_listed()})"
            )
        odd = sorted(k for k, v in job.overrides.items() if not _plain(v))
        if odd:
            raise CrawlFailed(f"{said} gives {', '.join(odd)} a value that is not plain data")
        return job


MAX_WORKERS_A_JOB = 1024


def join(client: Any, job: str) -> int:
    """A worker's number in the job (0, 1, ...), registered so the coordinator waits for it,
    with where it runs (host:pid) and a first heartbeat."""
    # A number is this worker's only once it is added to the set: a counter set back (by
    # anyone who can write to the Redis) must not give two workers one part folder.
    for _ in range(MAX_WORKERS_A_JOB):
        number = int(client.incr(key(job, "next_worker"))) - 1
        if number >= 0 and client.sadd(key(job, "workers"), number):
            break
    else:
        raise CrawlFailed(f"no free worker number in job {job!r} (its counter in Redis is off)")
    client.hset(key(job, "where"), number, f"{socket.gethostname()}:{os.getpid()}")
    beat(client, job, number)
    return number


def members(client: Any, job: str, what: str) -> set[str]:
    """A set of the job's (worker numbers), decoded."""
    return {m.decode() for m in client.smembers(key(job, what))}


def table(client: Any, job: str, what: str) -> dict[str, str]:
    """A hash of the job's (by worker number), decoded."""
    return {k.decode(): v.decode() for k, v in client.hgetall(key(job, what)).items()}


def beat(client: Any, job: str, number: int) -> None:
    client.hset(key(job, "alive"), number, time.time())


def aborted(client: Any, job: str) -> str | None:
    """Why the coordinator gave the crawl up, when it did: every worker stops."""
    reason = client.get(key(job, "abort"))
    return reason.decode("utf-8", "replace") if reason is not None else None


def abort(client: Any, job: str, reason: str) -> None:
    """Tell every worker to stop; new ones find no job to join."""
    client.set(key(job, "abort"), reason, ex=3600)
    client.delete(key(job, "job"))


def finish(client: Any, job: str, number: int, outcome: str) -> None:
    client.hset(key(job, "finished"), str(number), outcome)


def _died(proc: subprocess.Popen) -> str:
    code = proc.returncode
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with {code} before it finished its part"


def wait_for_workers(
    client: Any, job: str, procs: list[subprocess.Popen], dead_after: float = DEAD_AFTER
) -> dict[str, str]:
    """Block until every worker that joined has finished; their outcomes by number.

    A worker that dies without finishing (SIGKILL, out of memory, its host gone) would
    leave the others waiting for it forever: a local one is seen to die, a remote one to
    stop beating, and the crawl fails with :class:`CrawlFailed` naming it.
    """
    host = socket.gethostname()
    started = time.time()  # a worker that never beat counts as silent from here
    while True:
        joined, done = members(client, job, "workers"), table(client, job, "finished")
        running = [p for p in procs if p.poll() is None]
        if joined and joined <= set(done) and not running:
            return done
        where = table(client, job, "where")
        alive = _beats(client, job)
        ours = {f"{host}:{p.pid}": p for p in procs}
        for number in sorted(joined - set(done)):
            proc = ours.get(where.get(number, ""))
            if proc is not None and proc.poll() is not None:
                raise CrawlFailed(
                    f"worker {number} (pid {proc.pid}) {_died(proc)}; no snapshot written"
                )
            silent = time.time() - alive.get(number, started)
            if proc is None and silent > dead_after:
                raise CrawlFailed(
                    f"worker {number} ({where.get(number, 'unknown host')}) has not been heard "
                    f"from for {silent:.0f} s; taken for dead, no snapshot written"
                )
        for proc in procs:  # a local process gone before it even joined
            gone = proc.poll() is not None and f"{host}:{proc.pid}" not in where.values()
            if gone and proc.returncode != 0:
                raise CrawlFailed(f"a worker (pid {proc.pid}) {_died(proc)}")
        time.sleep(0.2)


def _beats(client: Any, job: str) -> dict[str, float]:
    """Each worker's last heartbeat; a value that is no finite time (anyone who can write
    to the Redis can put one there) counts as never heard from, not as a traceback."""
    beats = {}
    for number, value in table(client, job, "alive").items():
        try:
            beat = float(value)
        except ValueError:
            beat = 0.0
        # A time to come would keep a silent worker "alive" for ever: silence too.
        beats[number] = beat if math.isfinite(beat) and beat <= time.time() + 60 else 0.0
    return beats


def check_free(client: Any, job: str, dead_after: float = DEAD_AFTER) -> None:
    """A job name another live crawl uses is refused (clearing it would stop that crawl);
    one left by a crawl that died is cleared."""
    if client.get(key(job, "job")) is not None:
        joined, done = members(client, job, "workers"), set(table(client, job, "finished"))
        alive = _beats(client, job)
        now = time.time()
        live = [n for n in joined - done if now - alive.get(n, 0.0) < dead_after]
        if live:
            raise CrawlFailed(
                f"a crawl job named {job!r} is running in this Redis (workers "
                f"{', '.join(sorted(live))}); give another --job, or wait for it to end"
            )
    clear(client, job)


def clear(client: Any, job: str) -> None:
    for name in client.scan_iter(match=key(job, "*")):
        client.delete(name)


class PrivateRedis:
    """A redis-server for one job, on a Unix socket of its own, gone with the job."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin")
        if not binary:
            raise UsageError(
                "--workers needs Debian's redis-server (apt-get install redis-server), or an "
                "existing Redis given with --redis URL"
            )
        self.folder = Path(tempfile.mkdtemp(prefix="pa-redis-"))  # short: socket paths are
        self.socket = self.folder / "redis.sock"
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--unixsocket", str(self.socket), "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C at the terminal is for the coordinator only
        )  # fmt: skip
        deadline = time.monotonic() + 10
        try:
            while not self._answers():
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise CrawlFailed("the private redis-server for --workers did not start")
                time.sleep(0.02)
        except BaseException:  # Ctrl-C while it starts: the caller never gets it to close
            self.close()
            raise

    def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        with socket.socket(socket.AF_UNIX) as s:
            try:
                s.connect(str(self.socket))
            except OSError:
                return False
        return True

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def worker_command(redis_url: str, job: str, output: Path, verbose: bool) -> list[str]:
    argv = [sys.executable, "-m", "pilotarchive", "crawl-worker", "--redis", redis_url,
            "--job", job, "--output", str(output), "--coordinated"]  # fmt: skip
    return [*argv, "-v"] if verbose else argv


def start_local_workers(redis_url: str, job: str, output: Path, count: int, verbose: bool,
                        started: list[subprocess.Popen]) -> list[subprocess.Popen]:  # fmt: skip
    """Each worker is put in ``started`` the moment it runs: a Ctrl-C between two starts
    must still find the first one to stop (a list built whole was never assigned, and the
    worker already running was left behind)."""
    env = {**os.environ, "PYTHONWARNINGS": os.environ.get("PYTHONWARNINGS", "ignore")}
    # Each in a session of its own: Ctrl-C at the terminal reaches the coordinator only,
    # which stops the workers in order (one SIGINT each; a second would abort them at once)
    # and the redis-server after them.
    for _ in range(count):
        started.append(
            subprocess.Popen(
                worker_command(redis_url, job, output, verbose), env=env, start_new_session=True
            )
        )
    return started


def part_folder(settings: Any, config: Any) -> tuple[str, Path, int]:
    """For a worker's session: the snapshot id, its temporary folder, the worker's number."""
    job_name, _, number = str(settings.get("PILOTARCHIVE_WORKER")).rpartition("/")
    job = Job.load(connect(settings.get("REDIS_URL")), job_name)
    return job.snapshot_id, Path(config.output_dir) / job.tmp, int(number)
