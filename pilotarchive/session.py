"""One crawl's open snapshot, shared by the Scrapy components that feed it.

The archive middleware writes every exchange to the WARC, the pipeline writes records, the
spider reads back unchanged pages; all of them reach the same :class:`CrawlSession` through
:func:`session_for`. The session opens the snapshot when the spider opens and, when it
closes, commits everything in order: WARC closed, CDXJ written, manifest written, folder
renamed, and only then the new payload digests added to the index (the last three under
the output folder's lock, so concurrent crawls into one folder take turns).

Nothing a damaged earlier snapshot holds stops a crawl: a damaged baseline is skipped (and
named in the manifest's notes), a damaged digest index is moved aside and rebuilt, and an
archived page that cannot be read back is fetched again.
"""

import json
import logging
import shutil
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response

from pilotarchive.archive.cdxj import IndexLines, write_cdxj
from pilotarchive.archive.dedup import DigestIndex, Staged
from pilotarchive.archive.lock import output_lock
from pilotarchive.archive.previous import PreviousSnapshot
from pilotarchive.archive.snapshot import (
    LOCK_WAIT,
    RECORD_FILES,
    RESUMABLE,
    STATE_FILE,
    ArchiveChecks,
    RecordSink,
    SnapshotWriter,
    _record_id,
    clean_stale,
    iso,
    list_snapshots,
    os_error,
    snapshot_dir,
    utc_now,
)
from pilotarchive.archive.warc import (
    PROFILE_IDENTICAL,
    HttpExchange,
    WarcArchive,
    WarcRef,
    payload_digest,
)
from pilotarchive.derive import Derivation
from pilotarchive.exceptions import CrawlFailed, PilotarchiveError, SettingError, UsageError
from pilotarchive.extract.rules import RuleError, rules_from_json
from pilotarchive.settings import Config, load_config

logger = logging.getLogger(__name__)
STAT_SNAPSHOT = "pilotarchive/snapshot"
STAT_ERROR = "pilotarchive/error"
STAT_CLEANED = "pilotarchive/cleaned"
_SESSIONS: "weakref.WeakKeyDictionary[Crawler, CrawlSession]" = weakref.WeakKeyDictionary()


def session_for(crawler: Crawler) -> "CrawlSession":
    if crawler not in _SESSIONS:
        _SESSIONS[crawler] = CrawlSession(crawler)
    return _SESSIONS[crawler]


def _headers(headers: Any) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]


def exchange_from(request: Request, response: Response) -> HttpExchange:
    """The exchange as Scrapy saw it, before any middleware decoded the body."""
    request_headers = [("Host", urlsplit(request.url).netloc), *_headers(request.headers)]
    return HttpExchange(
        url=request.url,
        method=request.method,
        request_headers=request_headers,
        request_body=request.body or b"",
        protocol=response.protocol or "HTTP/1.1",
        status=response.status,
        response_headers=_headers(response.headers),
        body=response.body,
        date=utc_now(),
        ip_address=str(response.ip_address) if response.ip_address else None,
    )


@dataclass
class Baseline:
    """What a crawl starts from: the digest index, the previous snapshot, what was noted."""

    index: DigestIndex | None
    previous: PreviousSnapshot | None
    notes: list[str]
    cleaned: list[str]


INTERRUPTED = "pilotarchive-interrupted.json"  # in a JOBDIR: the snapshot it goes on with


JOBDIR_LOCK = "pilotarchive.lock"
_SCRAPY_JOB_FILES = ("requests.seen", "requests.queue", "spider.state")


def crawl_identity(config: Config) -> dict[str, Any]:
    """What a resumed crawl must share with the one it goes on with."""
    return {
        "output": str(config.output_dir.resolve()),
        "start_urls": list(config.start_urls),
        "scope": config.scope,
        "max_pages": config.max_pages,
        "target": config.target,
        "allowed": config.allowed.describe(),
    }


_SAID = {"output": "--output", "start_urls": "start URLs", "scope": "--scope",
         "max_pages": "--max-pages", "target": "--target", "allowed": "--allow-host"}  # fmt: skip


def check_jobdir(jobdir: Path, config: Config) -> str | None:
    """Before Scrapy opens a JOBDIR: go on only with the crawl it belongs to.

    A JOBDIR kept by an interrupted crawl must be resumed by the same crawl (same output
    folder, start URLs, scope, budget): another one would take its queue and write a
    partial or mislabelled snapshot that looks complete. A JOBDIR whose crawl finished (or
    was killed, so nothing could be kept) holds a queue and a seen-set that would make the
    next crawl fetch nothing: it is emptied, and the returned note says so.
    """
    pointer_file = jobdir / INTERRUPTED
    if pointer_file.exists():
        try:
            pointer = json.loads(pointer_file.read_text(encoding="utf-8"))
            tmp = Path(pointer["tmp"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(
                f"--jobdir {jobdir}: {INTERRUPTED} cannot be read ({exc}); remove the folder "
                "to start a new crawl"
            ) from None
        now = crawl_identity(config)
        then = pointer.get("crawl") or {}
        differ = [k for k in _SAID if k in then and then[k] != now[k]]
        if differ:
            said = "; ".join(f"{_SAID[k]}: {then[k]!r} then, {now[k]!r} now" for k in differ)
            raise UsageError(
                f"--jobdir {jobdir} goes on with an interrupted crawl that was not this one "
                f"({said}): run that crawl as it was to finish it, or give another --jobdir"
            )
        if not tmp.is_dir():
            raise UsageError(
                f"--jobdir {jobdir}: the unfinished snapshot it goes on with ({tmp}) is gone; "
                "remove the folder to start a new crawl"
            )
        if not (tmp / STATE_FILE).is_file():
            # Its state is written when a crawl stops in order; a resumed crawl stopped by
            # force (a second Ctrl-C) or killed never wrote it back.
            raise UsageError(
                f"--jobdir {jobdir}: the unfinished snapshot it goes on with ({tmp}) can no "
                f"longer be finished (its {STATE_FILE} was not written back: the crawl that "
                f"resumed it was stopped by force or killed); remove {jobdir} and {tmp} to "
                "start a new crawl"
            )
        return None
    stale = [jobdir / n for n in _SCRAPY_JOB_FILES if (jobdir / n).exists()]
    if not stale:
        return None
    for path in stale:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    return (
        f"--jobdir {jobdir} held the queue of a crawl that finished or was killed (nothing "
        "to go on with); it was emptied and this crawl started afresh"
    )


def find_interrupted(jobdir: Path, output: Path) -> tuple[Path, dict[str, Any]] | None:
    """The unfinished snapshot an interrupted crawl left for this JOBDIR, and its state."""
    try:
        pointer = json.loads((jobdir / INTERRUPTED).read_text(encoding="utf-8"))
        tmp = Path(pointer["tmp"])
        state = json.loads((tmp / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError):
        return None
    if tmp.parent.resolve() != snapshot_dir(output).resolve():
        return None  # another output folder's crawl
    return tmp, state


def prepare(config: Config, *, clean: bool = True) -> Baseline:
    """Clean what killed runs left, open (or rebuild) the digest index, find the baseline.

    Nothing here stops a crawl for a damaged earlier snapshot or index: each is named in
    the notes and worked around.
    """
    output = config.output_dir
    cleaned = [p.name for p in clean_stale(output)] if clean else []
    notes: list[str] = []
    index = None
    if config.dedup:
        output.mkdir(parents=True, exist_ok=True)
        with output_lock(output, wait=LOCK_WAIT):  # the index changes only under it
            existing = list_snapshots(output)
            index, note = DigestIndex.open_or_rebuild(output, [s.path for s in existing])
            # Forget deleted snapshots, so no revisit of this crawl points at nothing.
            index.prune({s.id for s in existing})
            # Revisits point only into this target's own snapshots (archive/dedup.py).
            index.within(s.id for s in existing if s.manifest.get("target") == config.target)
        if note:
            notes.append(note)
    previous = None
    if config.conditional:
        previous, skipped = PreviousSnapshot.baseline(output, config.target)
        notes += skipped
    for note in notes:
        logger.warning("%s", note)
    return Baseline(index, previous, notes, cleaned)


def derivation_for(settings: Any) -> Derivation:
    """How this crawl derives records: this release's extractor and the target's rules
    (``PILOTARCHIVE_RULES``, which ``run`` takes from pilotarchive.toml)."""
    target = str(settings.get("PILOTARCHIVE_TARGET") or "") or None
    try:
        rules = rules_from_json(str(settings.get("PILOTARCHIVE_RULES") or ""), target)
    except RuleError as exc:
        where = "/".join(map(str, exc.path))
        raise SettingError(
            f"PILOTARCHIVE_RULES{' ' + where if where else ''}: {exc}", "PILOTARCHIVE_RULES"
        ) from None
    return Derivation(rules)


def new_writer(config: Config, settings: Any, **resume: Any) -> SnapshotWriter:
    """The snapshot a crawl writes; ``resume`` (snapshot_id, tmp, started) reopens one."""
    deriver = derivation_for(settings)
    writer = SnapshotWriter(
        config.output_dir,
        **resume,
        start_urls=config.start_urls,
        scope=config.scope,
        max_pages=config.max_pages,
        target=config.target,
        settings={
            "user_agent": settings.get("USER_AGENT"),
            "robotstxt_obey": settings.getbool("ROBOTSTXT_OBEY"),
            "autothrottle": settings.getbool("AUTOTHROTTLE_ENABLED"),
            "download_delay": settings.getfloat("DOWNLOAD_DELAY"),
            "concurrent_requests_per_domain": settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
            "fast_loopback": config.fast_loopback,
            "download_maxsize": settings.getint("DOWNLOAD_MAXSIZE"),
            "allowed": config.allowed.describe(),
        },
    )
    writer.deriver = deriver
    writer.derivation = deriver.describe(1)
    return writer


def finish(
    writer: SnapshotWriter,
    config: Config,
    parts: list[dict[str, Any]],
    baseline: Baseline,
    lines: IndexLines | None = None,
) -> Path:
    """Index the WARCs, write the manifest, judge the health, commit, tell the index.

    ``parts`` says what each process archived (its WARC file, record counts, payload
    bytes, revisits, the snapshots its revisits point into, the originals it staged for
    the digest index): one part for a single crawl, one per worker for a split one.
    ``lines``: the index lines a single crawl wrote with its WARC (see cdxj.IndexLines).
    """
    if writer.usable_pages == 0:
        writer.abort()
        said = [f"{f['url']}: {f['reason']}" for f in writer.failures[:5]]
        failures = "; ".join(said + writer.unread[: 5 - len(said)])
        raise CrawlFailed(
            "no page could be read, so no snapshot was written"
            + (f" ({failures})" if failures else "")
        )
    archive = writer.path / "archive"
    warcs = [archive / p["warc"] for p in parts]
    cdxj = write_cdxj(warcs, archive / "index.cdxj", lines)
    counts: dict[str, int] = {}
    for part in parts:
        for kind, n in part["records"].items():
            counts[kind] = counts.get(kind, 0) + n
    writer.archive_summary = {
        "warc_files": [f"archive/{p['warc']}" for p in parts],
        "cdxj": f"archive/{cdxj.name}",
        "records": dict(sorted(counts.items())),
        "payload_bytes": sum(p["payload_bytes"] for p in parts),
        "revisits": {
            kind: sum(p["revisits"][kind] for p in parts)
            for kind in ("identical_payload", "not_modified")
        },
        "dedup": config.dedup,
        "conditional_requests": config.conditional,
        "previous_snapshot": baseline.previous.id if baseline.previous else None,
        "depends_on": sorted({d for p in parts for d in p["depends_on"]}),
    }
    index = baseline.index

    def tell_index(path: Path) -> None:
        """Under the output lock, with the snapshot in place: the index may name it now."""
        if index is None:
            return
        try:
            index.prune({s.id for s in list_snapshots(config.output_dir)})
            index.add(o for p in parts for o in p["staged"])
        except Exception as exc:  # the snapshot stands; the next crawl rebuilds the index
            logger.warning("the digest index could not be updated (%s)", exc)
        finally:
            index.close()

    deriver: Derivation = writer.deriver or Derivation()
    output, target = config.output_dir, config.target

    def entities(folder: Path) -> None:
        """The register's entity ids into the records; a register that cannot be read
        costs the ids (the records keep those their content gives), never the snapshot."""
        try:
            deriver.entities(output, target, folder, writer.snapshot_id)
        except (PilotarchiveError, OSError, ValueError, KeyError) as exc:
            writer.note(f"entity ids not taken from the entity register ({exc})")

    return writer.commit(
        lambda folder, manifest: deriver.health(output, target, folder, manifest),
        tell_index,
        entities,
    )


def _saved(part: dict[str, Any]) -> dict[str, Any]:
    """A part as JSON can hold it, for a resumed crawl or the coordinator of workers."""
    return {**part, "staged": list(part["staged"])}


class CrawlSession:
    """One process's share of a crawl: the whole of it, or a worker's part of a split one."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.config = load_config(crawler.settings)
        self.worker = crawler.settings.get("PILOTARCHIVE_WORKER") or None  # "job/n" or None
        self.writer: RecordSink | None = None
        self.snapshot: SnapshotWriter | None = None  # a whole crawl's snapshot
        self.warc: WarcArchive | None = None
        self.baseline: Baseline | None = None
        self.staged = Staged()  # payload digest -> original, this crawl
        self.revisits = {"identical_payload": 0, "not_modified": 0}
        self.depends_on: set[str] = set()  # earlier snapshots our revisits point into
        self.error: PilotarchiveError | None = None  # what stopped the crawl, if anything
        self.derivation = Derivation()  # records from responses (the target's rules: open)
        self.dupefilter: Any = None  # the RecordingDupeFilter, once Scrapy made it
        self.archive_checks: ArchiveChecks | None = None  # earlier WARCs, checked when used
        crawler.signals.connect(self.open, signal=signals.spider_opened)
        crawler.signals.connect(self.close, signal=signals.spider_closed)

    @property
    def previous(self) -> PreviousSnapshot | None:
        return self.baseline.previous if self.baseline else None

    @property
    def index(self) -> DigestIndex | None:
        return self.baseline.index if self.baseline else None

    @property
    def ready(self) -> bool:
        return self.writer is not None and self.error is None

    def stop(self, error: PilotarchiveError) -> None:
        """Stop the crawl for a reason that makes going on pointless (a full disk)."""
        if self.error is None:
            self.error = error
            logger.error("%s; stopping the crawl", error)
            engine = self.crawler.engine
            if engine is not None and engine.spider is not None:
                engine.close_spider(engine.spider, "pilotarchive_error")

    def note(self, text: str) -> None:
        if self.writer is not None:
            self.writer.note(text)

    def skip(self, url: str, reason: str) -> None:
        if self.writer is not None:
            self.writer.skip(url, reason)

    # -- opening ---------------------------------------------------------------------------

    def open(self, spider: Any = None) -> None:
        try:
            self.derivation = derivation_for(self.crawler.settings)
            if self.worker:
                self._open_part()
            else:
                self._open()
        except PilotarchiveError as exc:
            self.stop(exc)
        except OSError as exc:
            self.stop(os_error(exc, None if exc.filename else self.config.output_dir))

    def _warc_info(self) -> dict[str, str]:
        settings, config = self.crawler.settings, self.config
        return {
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            "operator": config.operator,
            "http-header-user-agent": settings.get("USER_AGENT"),
            "description": "pilotarchive crawl of " + " ".join(config.start_urls),
        }

    def _warc(self, directory: Path, snapshot_id: str, part: int | None = None) -> WarcArchive:
        # A single crawl writes its index lines as it goes; a split crawl's WARCs are
        # indexed together at the end.
        return WarcArchive(directory, snapshot_id, info=self._warc_info(), part=part,
                           index=part is None)  # fmt: skip

    def _open(self) -> None:
        self.baseline = prepare(self.config)
        if self.baseline.cleaned:
            self.crawler.stats.set_value(STAT_CLEANED, ", ".join(self.baseline.cleaned))
        jobdir = self.crawler.settings.get("JOBDIR")
        interrupted = find_interrupted(Path(jobdir), self.config.output_dir) if jobdir else None
        if interrupted is None:
            self.snapshot = self.writer = new_writer(self.config, self.crawler.settings)
            self.warc = self._warc(self.snapshot.path / "archive", self.snapshot.snapshot_id)
        else:
            self._resume(*interrupted)
        assert self.writer is not None
        for note in self.baseline.notes:
            self.writer.note(note)

    def _resume(self, tmp: Path, state: dict[str, Any]) -> None:
        """Go on with a crawl interrupted with JOBDIR: same snapshot, files appended to."""
        from datetime import datetime

        snapshot_id = state["snapshot_id"]
        writer = new_writer(
            self.config,
            self.crawler.settings,
            snapshot_id=snapshot_id,
            tmp=tmp,
            started=datetime.fromisoformat(state["started"].replace("Z", "+00:00")),
        )
        writer.append = True
        writer.absorb(state)
        for name in RECORD_FILES.values():  # duplicates across the interruption are found
            file = tmp / "records" / name
            if file.exists():
                with file.open(encoding="utf-8") as fh:
                    writer._ids.update(_record_id(line) for line in fh)
        archive = state["archive"]
        self.revisits = dict(archive["revisits"])
        self.depends_on = set(archive["depends_on"])
        self.staged = Staged(archive["staged"])
        self.snapshot = self.writer = writer
        self.warc = WarcArchive(
            tmp / "archive", snapshot_id, info=self._warc_info(), resume=archive
        )
        writer.note(f"interrupted at {state['interrupted_at']} and resumed from its JOBDIR")
        (tmp / STATE_FILE).unlink()
        (tmp / RESUMABLE).unlink()

    def _open_part(self) -> None:
        """A worker: its part of the snapshot the coordinator allocated."""
        from pilotarchive.workers import part_folder

        snapshot_id, tmp, number = part_folder(self.crawler.settings, self.config)
        # The coordinator cleaned, rebuilt the index and noted a damaged baseline already.
        baseline = prepare(self.config, clean=False)
        self.baseline = Baseline(baseline.index, baseline.previous, [], [])
        self.writer = RecordSink(tmp / "parts" / str(number), snapshot_id=snapshot_id)
        self.warc = self._warc(tmp / "archive", snapshot_id, part=number)

    # -- archiving -------------------------------------------------------------------------
    def validators(self, url: str) -> dict[str, str]:
        if not self.previous:
            return {}
        headers = self.previous.validators(url)
        if headers and (held := self.previous.bytes_in(url)) and self._no_evidence(held):
            return {}  # a 304 would make a revisit into a WARC that no longer verifies
        return headers

    def _no_evidence(self, snapshot_id: str) -> bool:
        """Whether an earlier snapshot's WARC no longer verifies (:func:`archive_damage`):
        no revisit of this crawl may point into it. A crawl deduplicated into such a WARC,
        and every later snapshot of the target was left out of the dataset for citing it
        (and the next crawl, as the export advised, did the same again). Its payloads are
        archived in full instead; said once in the notes."""
        if self.writer is None or snapshot_id == self.writer.snapshot_id:
            return False  # not open yet (nothing is archived then), or its own bytes
        if self.archive_checks is None:
            self.archive_checks = ArchiveChecks(self.config.output_dir)
        first = snapshot_id not in self.archive_checks.known
        damage = self.archive_checks.problem(snapshot_id)
        if damage is not None and first:
            self.writer.note(
                f"snapshot {snapshot_id} is no evidence now ({damage}): what this crawl "
                "would have recorded as revisits into it was archived in full"
            )
        return damage is not None

    def archive(self, request: Request, response: Response) -> WarcRef | None:
        """Write one exchange: in full, or as a revisit when the payload is known."""
        if not self.ready:
            return None
        try:
            return self._archive(request, response)
        except OSError as exc:
            assert self.warc is not None
            self.stop(os_error(exc, self.warc.path))
        except PilotarchiveError as exc:  # a value unfit for a WARC header
            assert self.writer is not None
            self.writer.fail(request.url, f"not archived: {exc}", response.status)
        return None

    def _archive(self, request: Request, response: Response) -> WarcRef:
        assert self.warc is not None and self.writer is not None
        ex = exchange_from(request, response)
        if (
            response.status == 304
            and self.previous
            and (original := self.previous.original(request.url))
        ):
            self.revisits["not_modified"] += 1
            self.depends_on.add(original["snapshot_id"])
            return self.warc.write_not_modified(ex, original)
        if self.config.dedup and ex.body:
            digest = payload_digest(ex.body)
            original = self.staged.get(digest) or self._lookup(digest, ex.url)
            if original:
                self.revisits["identical_payload"] += 1
                if original["snapshot_id"] != self.writer.snapshot_id:
                    self.depends_on.add(original["snapshot_id"])
                return self.warc.write_revisit(ex, original, PROFILE_IDENTICAL)
        ref = self.warc.write_response(ex)
        if self.config.dedup and ex.body and ref.payload_digest:
            self.staged.add(ref.as_original(self.writer.snapshot_id))
        return ref

    def _lookup(self, digest: str, url: str) -> dict[str, Any] | None:
        if self.index is None or self.baseline is None:
            return None
        try:
            found = self.index.lookup(digest, url)
        except Exception as exc:  # sqlite3.DatabaseError: the file went bad under us
            assert self.writer is not None
            self.writer.note(f"the digest index failed ({exc}); payloads archived in full")
            self.baseline.index = None
            return None
        if found is not None and self._no_evidence(found["snapshot_id"]):
            return None
        return found

    # -- closing ---------------------------------------------------------------------------

    def part(self) -> dict[str, Any]:
        """What this process archived, for the snapshot's manifest and the digest index."""
        assert self.warc is not None
        return {
            "warc": self.warc.filename,
            "records": dict(self.warc.counts),
            "payload_bytes": self.warc.payload_bytes,
            "revisits": dict(self.revisits),
            "depends_on": sorted(self.depends_on),
            "staged": self.staged,  # a list of dicts in a saved state (see _saved)
        }

    def close(self, spider: Any = None, reason: str = "finished") -> None:
        writer, warc, stats = self.writer, self.warc, self.crawler.stats
        if writer is None or warc is None:
            if self.error is not None:
                stats.set_value(STAT_ERROR, f"no snapshot written: {self.error}")
            return
        try:
            warc.close()
        except OSError as exc:
            self.error = self.error or os_error(exc, warc.path)
        writer.left_out = int(stats.get_value("pilotarchive/left_out") or 0)
        if self.worker:
            self._close_part(writer, reason)
            return
        snapshot = self.snapshot
        assert snapshot is not None and self.baseline is not None
        if self.error is not None:
            snapshot.abort()
            stats.set_value(STAT_ERROR, f"no snapshot written: {self.error}")
            return
        if reason != "finished" and not reason.startswith("closespider"):
            jobdir = self.crawler.settings.get("JOBDIR")
            if jobdir and reason == "shutdown" and self._keep_for_resume(snapshot, Path(jobdir)):
                stats.set_value(
                    STAT_ERROR,
                    f"the crawl was stopped; its unfinished snapshot {snapshot.snapshot_id} is "
                    f"kept: run the same command again (JOBDIR {jobdir}) to go on with it",
                )
                return
            snapshot.abort()
            stats.set_value(STAT_ERROR, f"the crawl was stopped ({reason}); no snapshot written")
            return
        try:
            path = finish(snapshot, self.config, [self.part()], self.baseline,
                          warc.index_lines)  # fmt: skip
        except OSError as exc:
            snapshot.abort()
            where = None if exc.filename else snapshot.path  # a write names no file
            stats.set_value(STAT_ERROR, f"no snapshot written: {os_error(exc, where)}")
            return
        except PilotarchiveError as exc:
            snapshot.abort()
            stats.set_value(STAT_ERROR, f"{exc}" if isinstance(exc, CrawlFailed)
                            else f"no snapshot written: {exc}")  # fmt: skip
            return
        stats.set_value(STAT_SNAPSHOT, str(path))
        if jobdir := self.crawler.settings.get("JOBDIR"):
            (Path(jobdir) / INTERRUPTED).unlink(missing_ok=True)

    def _keep_for_resume(self, snapshot: SnapshotWriter, jobdir: Path) -> bool:
        """Save what an interrupted crawl knows so that its JOBDIR can resume it."""
        try:
            snapshot.close_files()
            snapshot.save_state(
                {
                    "archive": _saved(self.part()),
                    "snapshot_id": snapshot.snapshot_id,
                    "started": iso(snapshot.started or utc_now()),
                    "interrupted_at": iso(utc_now()),
                }
            )
            (snapshot.path / RESUMABLE).write_text(str(jobdir.resolve()), encoding="utf-8")
            jobdir.mkdir(parents=True, exist_ok=True)
            pointer = {
                "tmp": str(snapshot.path.resolve()),
                "snapshot_id": snapshot.snapshot_id,
                "crawl": crawl_identity(self.config),
            }
            (jobdir / INTERRUPTED).write_text(json.dumps(pointer), encoding="utf-8")
        except (OSError, PilotarchiveError) as exc:
            logger.error("the interrupted crawl cannot be kept for resuming: %s", exc)
            return False
        return True

    def _close_part(self, writer: RecordSink, reason: str) -> None:
        """A worker hands its part over: records closed, state and archive facts saved."""
        stats = self.crawler.stats
        try:
            writer.close_files()
            writer.save_state({"archive": _saved(self.part()), "reason": reason,
                               "error": str(self.error) if self.error else None})  # fmt: skip
        except (OSError, PilotarchiveError) as exc:
            self.error = self.error or (os_error(exc) if isinstance(exc, OSError) else exc)
        if self.error is not None:
            stats.set_value(STAT_ERROR, str(self.error))
        else:
            stats.set_value(STAT_SNAPSHOT, str(writer.directory / STATE_FILE))
        if self.index:
            self.index.close()
