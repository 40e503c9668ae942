"""Running one crawl in this process and returning its snapshot, or why there is none.

Twisted's reactor runs once per process, so one process runs one crawl; the CLI and the
demo call :func:`run_crawl` once, tests run the CLI in a subprocess.
"""

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from pilotarchive.archive.snapshot import read_manifest
from pilotarchive.exceptions import CrawlFailed
from pilotarchive.middlewares import LOOPBACK_SLOT
from pilotarchive.progress import announce_shutdown
from pilotarchive.session import STAT_CLEANED, STAT_ERROR, STAT_SNAPSHOT
from pilotarchive.settings import check_overrides, load_config
from pilotarchive.spiders.ministry import MinistrySpider


@dataclass(frozen=True)
class CrawlResult:
    snapshot: Path
    stats: dict[str, Any]
    cleaned: str | None
    manifest: dict[str, Any]

    @property
    def degraded(self) -> bool:
        return (self.manifest.get("health") or {}).get("verdict") == "degraded"


def crawl_settings(overrides: dict[str, Any]) -> Settings:
    """Scrapy's settings with ours and the overrides; a wrong one stops here, named."""
    check_overrides(overrides)
    settings = Settings()
    settings.setmodule("pilotarchive.settings", priority="project")
    settings.update(overrides, priority="cmdline")
    load_config(settings)  # fail before starting anything when a setting is wrong
    # The control port and the telnet console are off (settings.py), so they leave Scrapy's
    # base list: Scrapy imports every extension it lists, even one set to None, and the
    # control port's module imports aiohttp, 0.2 s of every crawl's start.
    base = settings.getdict("EXTENSIONS_BASE")
    unused = (".RemoteControl", ".TelnetConsole")
    settings.set("EXTENSIONS_BASE", {k: v for k, v in base.items() if not k.endswith(unused)},
                 priority="default")  # fmt: skip
    # The loopback slot drops the delay only; it keeps the concurrency asked for per host.
    slots = settings.getdict("DOWNLOAD_SLOTS")
    loopback = dict(slots.get(LOOPBACK_SLOT, {}))
    loopback["concurrency"] = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
    settings.set("DOWNLOAD_SLOTS", {**slots, LOOPBACK_SLOT: loopback}, priority="cmdline")
    return settings


class _OneLine(logging.Filter):
    """Scrapy logs some download errors with a traceback; the CLI shows them as one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            record.msg = f"{record.getMessage()} ({record.exc_info[1]!r})"
            record.args = None
            record.exc_info = record.exc_text = None
        return True


class _Quiet(logging.Filter):
    """Without -v: Scrapy's own errors about fetches are said once, in the crawl's summary
    (failures with reasons), not before it; what is left is our warnings and bugs."""

    SAID_IN_SUMMARY = (
        "scrapy.core.scraper",  # "Error downloading ...": a failure in the manifest
        "scrapy.downloadermiddlewares.retry",  # "Gave up retrying ...": likewise
        "scrapy.core.downloader.handlers",  # "Received ... larger than download max size"
        "scrapy.downloadermiddlewares.robotstxt",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("pilotarchive"):
            return True
        if record.name.startswith(self.SAID_IN_SUMMARY) and "Spider error" not in str(record.msg):
            return False
        return record.levelno >= logging.ERROR


class _Process(CrawlerProcess):
    """Scrapy's process, saying on the first Ctrl-C what happens (at any log level)."""

    worker = False  # a worker of a split crawl: its coordinator speaks for it

    def _log_shutdown(self, signum: int) -> None:  # type: ignore[override]
        if not self.worker:
            announce_shutdown(signum)

    @staticmethod
    def _log_kill(signum: int) -> None:
        sys.stderr.write("pilotarchive: aborting now\n")


def _log_to_stderr(settings: Settings, overrides: dict[str, Any], tracebacks: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if not tracebacks:
        # Scrapy's own log handler would print tracebacks; ours prints one line each.
        handler.addFilter(_OneLine())
        handler.addFilter(_Quiet())
        settings.set("LOG_ENABLED", False, priority="cmdline")
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
        handler.setLevel(overrides.get("LOG_LEVEL", "WARNING"))
    settings.set("LOG_INSTALL_ROOT_HANDLER", tracebacks, priority="cmdline")


def run_process(overrides: dict[str, Any], *, tracebacks: bool = False) -> dict[str, Any]:
    """One Scrapy crawl in this process (a whole crawl, or a worker's part); its stats."""
    from contextlib import nullcontext

    from pilotarchive.archive.lock import FileLock
    from pilotarchive.session import JOBDIR_LOCK, check_jobdir

    settings = crawl_settings(overrides)
    _log_to_stderr(settings, overrides, tracebacks)
    jobdir = Path(settings["JOBDIR"]) if settings.get("JOBDIR") else None
    # Two crawls on one JOBDIR would share (and garble) one disk queue.
    with (
        FileLock(jobdir / JOBDIR_LOCK, wait=0, what=f"--jobdir {jobdir}")
        if jobdir
        else nullcontext()
    ):
        if jobdir and (note := check_jobdir(jobdir, load_config(settings))):
            logging.getLogger(__name__).warning("%s", note)
        process = _Process(settings)
        process.worker = bool(settings.get("PILOTARCHIVE_WORKER"))
        crawler = process.create_crawler(MinistrySpider)
        process.crawl(crawler)
        process.start()
    return crawler.stats.get_stats() if crawler.stats else {}


def run_crawl(overrides: dict[str, Any], *, tracebacks: bool = False) -> CrawlResult:
    stats = run_process(overrides, tracebacks=tracebacks)
    path = stats.get(STAT_SNAPSHOT)
    if not path:
        raise CrawlFailed(stats.get(STAT_ERROR) or "the crawl ended without a snapshot")
    snapshot = Path(path)
    return CrawlResult(snapshot, stats, stats.get(STAT_CLEANED), read_manifest(snapshot))


def worker_overrides(job: Any, number: int, redis_url: str, output: Path) -> dict[str, Any]:
    """A worker's settings: the job's, with scrapy-redis's shared scheduler and filter.

    The queue holds requests as JSON, never pickles (scrapy-redis's default): whoever could
    write a pickle into it would run code on every worker. Entries that are no request of
    this crawl are refused, one line each, and the worker goes on.
    """
    from pilotarchive.workers import key

    return {
        **job.overrides,  # checked by Job.load: only the crawl's own settings
        "PILOTARCHIVE_OUTPUT_DIR": str(output),
        "PILOTARCHIVE_WORKER": f"{job.name}/{number}",
        "PILOTARCHIVE_PROGRESS": "off",
        "REDIS_URL": redis_url,
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_QUEUE_KEY": key(job.name, "requests"),
        "SCHEDULER_QUEUE_CLASS": "pilotarchive.redis_dupefilter.RefusingPriorityQueue",
        "SCHEDULER_SERIALIZER": "pilotarchive.redis_dupefilter",
        "SCHEDULER_DUPEFILTER_KEY": key(job.name, "dupefilter"),
        "DUPEFILTER_CLASS": "pilotarchive.redis_dupefilter.RecordingRedisDupeFilter",
    }


def _poll_often() -> None:
    """A worker whose share of the queue ran dry asks Scrapy's scheduler again only at the
    engine's heartbeat, every 5 s, while another worker may be filling the shared queue the
    next moment. Workers beat four times a second instead (each beat is one Redis call).
    Scrapy has no setting for it: the engine's class attribute is set, if it is there."""
    from scrapy.core.engine import ExecutionEngine

    if hasattr(ExecutionEngine, "_SLOT_HEARTBEAT_INTERVAL"):
        ExecutionEngine._SLOT_HEARTBEAT_INTERVAL = 0.25


def run_worker(redis_url: str, job_name: str, output: Path | None, *,
               tracebacks: bool = False) -> str:  # fmt: skip
    """Join a split crawl as one of its workers; returns where the part was written.

    The output folder is this worker's own (``--output``, else the default ``output``),
    never one named in Redis: whoever can write to the Redis must not choose where workers
    write. A Redis that stops answering ends the worker with :class:`LostRedis`.
    """
    from pilotarchive.distributed import STAT_LOST_REDIS
    from pilotarchive.settings import PILOTARCHIVE_OUTPUT_DIR
    from pilotarchive.workers import Job, connect, finish, join, lost, redis_errors

    where = output or Path(PILOTARCHIVE_OUTPUT_DIR)
    client = connect(redis_url)
    try:
        job = Job.load(client, job_name)
        number = join(client, job.name)
    except redis_errors() as exc:
        raise lost(redis_url, exc) from None
    _poll_often()
    outcome = "failed"
    try:
        stats = run_process(worker_overrides(job, number, redis_url, where), tracebacks=tracebacks)
        if stats.get(STAT_LOST_REDIS):
            raise lost(redis_url, ConnectionError(stats[STAT_LOST_REDIS]))
        if stats.get(STAT_SNAPSHOT):
            outcome = "done"
            return str(stats[STAT_SNAPSHOT])
        raise CrawlFailed(stats.get(STAT_ERROR) or f"worker {number} wrote no part")
    finally:
        try:
            finish(client, job.name, number, outcome)
        except redis_errors() as exc:
            raise lost(redis_url, exc) from None


def run_split_crawl(
    overrides: dict[str, Any],
    workers: int,
    *,
    redis_url: str | None = None,
    job_name: str | None = None,
    tracebacks: bool = False,
) -> CrawlResult:
    """One crawl over ``workers`` local processes (and any worker that joins from another
    host), merged into one snapshot."""
    import contextlib
    import json
    import signal

    from pilotarchive.session import finish, new_writer, prepare
    from pilotarchive.workers import (
        Job,
        PrivateRedis,
        abort,
        check_free,
        clear,
        connect,
        job_settings,
        lost,
        redis_errors,
        start_local_workers,
        wait_for_workers,
    )

    settings = crawl_settings(overrides)
    published = job_settings(overrides)  # a setting workers would refuse: refused here
    config = load_config(settings)
    client = connect(redis_url) if redis_url else None
    if client is not None and job_name:
        check_free(client, job_name)  # before anything is made: a live job keeps its name
    baseline = prepare(config)
    writer = new_writer(config, settings)
    for note in baseline.notes:
        writer.note(note)
    private = None
    name = job_name or f"crawl-{writer.snapshot_id}"
    procs: list[Any] = []
    url = redis_url or ""  # the private one's once it runs

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # SIGTERM (systemd, docker stop) ends it as Ctrl-C does

    try:
        previous: Any = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread (an embedding program): its signals are its own
        previous = None
    try:
        if client is None:
            private = PrivateRedis()
            client = connect(private.url)
        url = redis_url or (private.url if private else "")
        clear(client, name)
        relative = str(writer.path.relative_to(config.output_dir))
        Job(name, writer.snapshot_id, relative, published).publish(client)
        start_local_workers(url, name, config.output_dir, workers, tracebacks, procs)
        done = wait_for_workers(client, name, procs)
        archives, parts = [], []
        for number, outcome in sorted(done.items(), key=lambda kv: int(kv[0])):
            part = writer.path / "parts" / number / "part.json"
            if not part.is_file() and outcome != "done":
                raise CrawlFailed(
                    f"worker {number} failed before it wrote its part (run with -v to see "
                    "why); no snapshot written"
                )
            if not part.is_file():
                raise CrawlFailed(
                    f"worker {number} finished ({outcome}), but its part is not in "
                    f"{part.parent}: was its --output the crawl's shared output folder?"
                )
            state = json.loads(part.read_text(encoding="utf-8"))
            if state.get("error"):
                raise CrawlFailed(f"worker {number}: {state['error']}")
            if state.get("reason") not in ("finished", None) and not str(
                state.get("reason")
            ).startswith("closespider"):
                raise CrawlFailed(
                    f"worker {number} was stopped ({state['reason']}); no snapshot written"
                )
            writer.absorb(state)
            archives.append(state["archive"])
            parts.append(part.parent)
        if not archives:
            raise CrawlFailed("no worker wrote a part; no snapshot written")
        writer.parts = parts
        path = finish(writer, config, archives, baseline)
        with contextlib.suppress(*redis_errors()):  # the snapshot is whole; keys left over
            clear(client, name)  # are cleared by the next crawl of this name (check_free)
    except BaseException as exc:
        if client is not None:
            with contextlib.suppress(Exception):  # remote workers stop at their next beat
                interrupted = isinstance(exc, KeyboardInterrupt)
                abort(client, name, "interrupted" if interrupted else str(exc) or repr(exc))
        for proc in procs:  # SIGTERM: graceful in Scrapy, silent before Scrapy has started
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except Exception:
                proc.kill()
        writer.abort()
        if isinstance(exc, redis_errors()):  # one line, not redis-py's chained tracebacks
            raise lost(url, exc) from None
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if private is not None:
            private.close()
    return CrawlResult(path, {}, ", ".join(baseline.cleaned) or None, read_manifest(path))
