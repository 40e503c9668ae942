"""One run of a target: crawl, judge, diff against what subscribers last heard, mail.

The order is what makes alerts trustworthy:

1. the target's lock (a second run of it stops at once, naming the holder);
2. change sets a killed run left half-mailed are finished first;
3. the crawl, in a subprocess (Twisted's reactor runs once per process), writing a snapshot
   that remembers its target;
4. a degraded snapshot or a failed crawl: the maintainers get one "the crawler needs
   attention" message and subscribers nothing, and the baseline stays where it was;
5. a healthy snapshot: diffed against the snapshot subscribers were last told about (the
   last healthy one), so after a broken crawl they get the real changes, once; the first
   run of a target has nothing to compare and an unchanged run sends nothing;
6. every message is written to the outbox, then the change set is marked done, then the
   outbox is sent (unless ``--dry-run``);
7. one line in ``output/runs.jsonl``, whatever happened.
"""

import contextlib
import ctypes
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from pilotarchive.alerts.compose import (
    ChangeSet,
    Trouble,
    change_alert,
    change_key,
    digest_alert,
    digest_key,
    health_alert,
    health_key,
    make_change_set,
    news_for,
)
from pilotarchive.alerts.outbox import Outbox
from pilotarchive.alerts.send import SendReport, send_waiting
from pilotarchive.alerts.state import (
    AlertState,
    change_sets,
    due_digests,
    read_state,
    save_change_set,
    write_state,
)
from pilotarchive.alerts.unsubscribe import has_left, unsubscribed
from pilotarchive.archive.lock import target_lock
from pilotarchive.archive.snapshot import (
    check_readable,
    iso,
    list_snapshots,
    make_snapshot_id,
    read_manifest,
    snapshot_dir,
)
from pilotarchive.exceptions import LockHeld, PilotarchiveError
from pilotarchive.schedule.config import Config, Target
from pilotarchive.schedule.runlog import append_run

Clock = Callable[[], datetime]
EXIT_OK, EXIT_FAILURE, EXIT_DEGRADED = 0, 1, 3
EXIT_INTERRUPTED = 130  # what cli.py exits with then (its EXIT_INTERRUPTED), as the log says


@dataclass
class CrawlOutcome:
    code: int
    snapshot: Path | None
    error: str | None


@dataclass
class RunResult:
    target: str
    started: datetime
    ended: datetime | None = None
    snapshot: str | None = None
    health: str | None = None
    outcome: str = "error"  # first unchanged changed degraded crawl_failed mail_failed locked ...
    error: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    queued: int = 0  # messages this run wrote to the outbox
    sent: int = 0  # messages of this target sent by this run
    waiting: int = 0  # messages of this target still in the outbox afterwards
    digest: int = 0  # digest subscribers who get these changes with their digest
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        if self.outcome == "interrupted":
            return EXIT_INTERRUPTED
        if self.outcome in ("crawl_failed", "mail_failed", "locked", "error"):
            return EXIT_FAILURE
        return EXIT_DEGRADED if self.outcome == "degraded" else EXIT_OK

    def record(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "start": iso(self.started),
            "end": iso(self.ended or self.started),
            "snapshot": self.snapshot,
            "counts": self.counts,
            "health": self.health,
            "mails": {
                "queued": self.queued,
                "sent": self.sent,
                "waiting": self.waiting,
                "digest_later": self.digest,
            },
            "outcome": self.outcome,
            "error": self.error,
            "dry_run": self.dry_run,
            "exit": self.exit_code,
        }

    def line(self) -> str:
        """The one line ``pilotarchive run`` prints for the target."""
        parts = [f"{self.target}:"]
        if self.outcome == "locked":
            return f"{self.target}: not run: {self.error}"
        parts.append(f"snapshot {self.snapshot}," if self.snapshot else "no snapshot,")
        changes = self.counts.get("changes")
        described = {
            "first": "first snapshot of the target (nothing to compare, no alert)",
            "unchanged": "no changes",
            "changed": f"{changes} change(s)",
            "degraded": "DEGRADED (subscribers not told)",
            "crawl_failed": "crawl FAILED (subscribers not told)",
            "interrupted": "interrupted",
            "error": "stopped by an error",
        }.get(self.outcome, f"{changes} change(s)" if changes is not None else "")
        if self.outcome == "mail_failed":
            described = f"{changes} change(s)" if changes else "no changes"
        parts.append(described + ",")
        if self.health:
            parts.append(f"health {self.health},")
        mails = f"mails: {self.sent} sent, {self.waiting} waiting in the outbox"
        if self.dry_run:
            mails = f"mails: {self.queued} written to the outbox (dry run: none sent)"
        if self.digest:
            mails += f", {self.digest} subscriber(s) get it in their digest"
        parts.append(mails)
        line = " ".join(parts)
        if self.error:
            line += f" ({self.error})"
        return line


# -- the crawl -----------------------------------------------------------------------------


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """The crawl ends when ``run`` is killed (even by SIGKILL): Linux's PR_SET_PDEATHSIG."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1


def crawl_command(config: Config, target: Target) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "pilotarchive",
        "crawl",
        *target.start_urls,
        "--output",
        str(config.output),
        "--target",
        target.name,
        "--scope",
        target.scope,
    ]
    if target.max_pages:
        cmd += ["--max-pages", str(target.max_pages)]
    for key, value in target.settings.items():
        cmd += ["-s", f"{key}={value}"]
    if target.rules:  # the target's extraction rules (extract/rules.py), checked already
        cmd += ["-s", f"PILOTARCHIVE_RULES={target.rules.to_json()}"]
    return cmd


def crawl_target(config: Config, target: Target, *, verbose: bool = False) -> CrawlOutcome:
    """Run ``pilotarchive crawl`` for the target in a subprocess (one crawl per process)."""
    cmd = crawl_command(config, target) + (["-v"] if verbose else [])
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=None if verbose else subprocess.PIPE,
        text=True,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    try:
        out, err = proc.communicate()
    except BaseException:  # interrupted (Ctrl-C, SIGTERM): the crawl stops with us
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise
    lines = [line for line in (out or "").splitlines() if line.strip()]
    if proc.returncode in (0, 3) and lines:
        return CrawlOutcome(proc.returncode, Path(lines[-1].strip()), None)
    said = [line for line in (err or "").splitlines() if line.strip()]
    reason = said[-1].removeprefix("pilotarchive: ") if said else f"exit {proc.returncode}"
    return CrawlOutcome(proc.returncode, None, reason)


# -- what to mail --------------------------------------------------------------------------


def _baseline(config: Config, target: Target, state: AlertState, new_id: str) -> Path | None:
    """The snapshot to diff against: the one subscribers were last told about, or (before
    any alert) the last healthy one of the target before the new one."""
    if state.last_alerted and state.last_alerted < new_id:
        path = snapshot_dir(config.output) / state.last_alerted
        try:
            check_readable(path)
            return path
        except PilotarchiveError:
            pass  # deleted or damaged: the last healthy one stands in
    from pilotarchive.diff.health import last_healthy

    view = last_healthy(config.output, target.name, before=new_id)
    return view.path if view is not None else None


def _last_healthy(config: Config, target: Target, before: str | None) -> tuple[str, str] | None:
    for info in reversed(list_snapshots(config.output, target=target.name)):
        if before is not None and info.id >= before:
            continue
        if (info.manifest.get("health") or {}).get("verdict") != "degraded":
            return info.id, str(info.path)
    return None


def _queue_change_set(
    config: Config, target: Target, outbox: Outbox, cs: ChangeSet, now: datetime
) -> int:
    queued = 0
    for sub in target.subscribers:
        if sub.digest == "none" and not has_left(config.output, target.name, sub.email):
            key = change_key(target.name, cs.old, cs.new, sub.email)
            if not outbox.known(key):
                msg = change_alert(config, target, sub, cs, now)
                if msg is not None:  # nothing in it is news to this subscriber
                    queued += outbox.put(key, msg)
    return queued


def _queue_trouble(
    config: Config, target: Target, outbox: Outbox, trouble: Trouble, now: datetime
) -> int:
    queued = 0
    for person in config.maintainers(target):
        key = health_key(target.name, trouble, person)
        if not outbox.known(key):
            queued += outbox.put(key, health_alert(config, target, person, trouble, now))
    return queued


def queue_digests(
    config: Config,
    target: Target,
    outbox: Outbox,
    state: AlertState,
    now: datetime,
    tz: tzinfo | None,
) -> int:
    """Digests of the periods that have ended; the caller holds the target's lock."""
    queued = 0
    sets: list[ChangeSet] | None = None
    for kind in ("daily", "weekly"):
        if sets is None:
            sets = change_sets(config.output, target.name)
        for period, in_period in due_digests(sets, kind, state.digests.get(kind), now, tz):
            for sub in target.subscribers:
                if sub.digest == kind and not has_left(config.output, target.name, sub.email):
                    key = digest_key(target.name, period, sub.email)
                    if not outbox.known(key):
                        msg = digest_alert(config, target, sub, period, in_period, now)
                        if msg is not None:
                            queued += outbox.put(key, msg)
            state.digests[kind] = period
            write_state(config.output, target.name, state)
    return queued


def resume(config: Config, target: Target, outbox: Outbox, state: AlertState, now: datetime) -> int:
    """Finish the change sets a killed run kept but did not finish mailing."""
    queued = 0
    for cs in change_sets(config.output, target.name):
        if state.last_alerted is None or cs.new > state.last_alerted:
            queued += _queue_change_set(config, target, outbox, cs, now)
            state.last_alerted = cs.new
            write_state(config.output, target.name, state)
    return queued


def _counts(manifest: dict[str, Any]) -> dict[str, Any]:
    counts = manifest.get("counts") or {}
    return {kind: (counts.get(kind) or {}).get("total", 0) for kind in ("page", "pilot", "contact")}


def _failing_since(config: Config, target: Target, healthy: str | None) -> tuple[str | None, int]:
    """The first snapshot after the last healthy one (a failing run that wrote one) and how
    many runs failed since, this one included, from the run log."""
    from pilotarchive.schedule.runlog import read_runs

    first, n = None, 1
    for record in read_runs(config.output):
        if record.get("target") != target.name or record.get("outcome") == "locked":
            continue
        if record.get("outcome") in ("degraded", "crawl_failed"):
            # A snapshot id, or the run's start as one (a failed crawl wrote none).
            ident = record.get("snapshot") or _run_id(record.get("start")) or ""
            if healthy is None or ident > healthy:
                first = first or ident
                n += 1
        elif record.get("health") not in (None, "degraded"):
            first, n = None, 1
    return first, n


def _run_id(start: Any) -> str | None:
    try:
        return make_snapshot_id(datetime.fromisoformat(str(start)))
    except ValueError:
        return None


def _locked_run(
    config: Config,
    target: Target,
    result: RunResult,
    *,
    clock: Clock,
    tz: tzinfo | None,
    verbose: bool,
    crawl: Callable[..., CrawlOutcome],
) -> None:
    outbox = Outbox(config.output)
    state = read_state(config.output, target.name)
    result.queued += resume(config, target, outbox, state, clock())
    outcome = crawl(config, target, verbose=verbose)
    now = clock()
    if outcome.snapshot is None:
        result.outcome, result.error = "crawl_failed", outcome.error
        healthy = _last_healthy(config, target, None)
        run_id = make_snapshot_id(result.started)
        since, runs = _failing_since(config, target, healthy[0] if healthy else None)
        trouble = Trouble(
            "failed",
            run_id,
            f"the crawl wrote no snapshot: {outcome.error}",
            last_healthy=healthy[0] if healthy else None,
            last_healthy_path=healthy[1] if healthy else None,
            since=since or run_id,
            failing_runs=runs,
        )
        result.queued += _queue_trouble(config, target, outbox, trouble, now)
        return
    manifest = read_manifest(outcome.snapshot)
    new_id = outcome.snapshot.name
    result.snapshot = new_id
    result.counts = _counts(manifest)
    health = manifest.get("health") or {}
    result.health = health.get("verdict")
    findings = tuple(health.get("findings") or ())
    if result.health != "degraded":
        baseline = _baseline(config, target, state, new_id)
        if baseline is None:
            result.outcome = "first"
        else:
            from pilotarchive.diff.compare import diff_paths

            diff = diff_paths(baseline, outcome.snapshot)
            if diff["health"]["verdict"] == "degraded":  # against what subscribers last heard
                result.health = "degraded"
                findings = tuple(diff["health"]["findings"])
            else:
                # What changed for people: entities, after noise and the target's ignored
                # fields; the records that differ stay in the archive's diff.
                cs = make_change_set(target.name, baseline, outcome.snapshot, diff, config.output)
                news = news_for(cs, target) if diff["changes"] else []
                result.counts["changes"] = len(news)
                result.counts["records_changed"] = len(diff["changes"])
                result.outcome = "changed" if news else "unchanged"
                if news:
                    save_change_set(config.output, cs)
                    result.queued += _queue_change_set(config, target, outbox, cs, now)
                    result.digest = sum(1 for s in target.subscribers if s.digest != "none")
        if result.health != "degraded":
            state.last_alerted = new_id
            write_state(config.output, target.name, state)
    if result.health == "degraded":
        result.outcome = "degraded"
        healthy = _last_healthy(config, target, new_id)
        errors = [f for f in findings if f.get("severity") == "error"]
        since, runs = _failing_since(config, target, healthy[0] if healthy else None)
        trouble = Trouble(
            "degraded",
            new_id,
            f"the snapshot was judged degraded: {len(errors)} error finding(s) "
            "(extraction problems, not changes of the site)",
            findings=findings,
            snapshot=new_id,
            last_healthy=healthy[0] if healthy else None,
            last_healthy_path=healthy[1] if healthy else None,
            since=since or new_id,
            failing_runs=runs,
        )
        result.queued += _queue_trouble(config, target, outbox, trouble, now)


def run_target(
    config: Config,
    target: Target,
    *,
    dry_run: bool = False,
    clock: Clock,
    tz: tzinfo | None = None,
    verbose: bool = False,
    crawl: Callable[..., CrawlOutcome] = crawl_target,
) -> RunResult:
    """Run one target from lock to run log; never raises for the target's own failures."""
    result = RunResult(target.name, clock(), dry_run=dry_run)
    outbox = Outbox(config.output)
    try:
        if target.subscribers:
            # Who left is read before the crawl: a damaged record stops the target here
            # (UnsubscribeRecordDamaged) instead of after a crawl, and nobody who left is mailed.
            unsubscribed(config.output)
        with target_lock(config.output, target.name):
            _locked_run(config, target, result, clock=clock, tz=tz, verbose=verbose, crawl=crawl)
            state = read_state(config.output, target.name)
            result.queued += queue_digests(config, target, outbox, state, clock(), tz)
            if not dry_run:
                report = send_waiting(config.smtp, outbox, outbox.pending(target.name))
                result.sent = len(report.sent)
                _mail_outcome(result, report)
    except LockHeld as exc:
        result.outcome, result.error = "locked", str(exc)
    except KeyboardInterrupt:
        result.outcome, result.error = "interrupted", "stopped by a signal"
        result.ended = clock()
        result.waiting = len(outbox.pending(target.name))
        append_run(config.output, result.record())
        raise
    except PilotarchiveError as exc:
        result.outcome, result.error = "error", str(exc)
    except Exception as exc:
        # A bug of ours: the run is still logged (the run log is what archivists audit),
        # then the error goes on to be seen whole.
        result.outcome, result.error = "error", f"internal error: {type(exc).__name__}: {exc}"
        result.ended = clock()
        result.waiting = len(outbox.pending(target.name))
        append_run(config.output, result.record())
        raise
    result.ended = clock()
    result.waiting = len(outbox.pending(target.name))
    append_run(config.output, result.record())
    return result


def _mail_outcome(result: RunResult, report: SendReport) -> None:
    if report.ok:
        return
    reason = report.error or report.failed[0][1]
    why = (
        f"{len(report.failed)} message(s) not sent: {reason}; they wait in the outbox and "
        "the next run or `pilotarchive outbox send` delivers them"
    )
    result.error = f"{result.error}; {why}" if result.error else why
    if result.outcome != "crawl_failed":  # the health stays in the record's "health"
        result.outcome = "mail_failed"
