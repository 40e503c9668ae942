"""Thinning a target's snapshots by a retention policy, without breaking a kept revisit.

The policy (``[target.retention]``, :class:`~pilotarchive.schedule.config.Retention`)
keeps the newest N snapshots and the newest of each day, week and month within its
windows. Besides, a snapshot is kept when

* a kept snapshot's revisit records (of any target) point at originals in it: revisits
  are resolved from the WARCs (:mod:`pilotarchive.archive.depends`), and what kept
  snapshots need is kept, to the end of the chain;
* it is the target's newest healthy snapshot, the next crawl's baseline (conditional
  requests, health).

Why keep what revisits need rather than move the originals into the kept snapshots:
a committed snapshot is never written to again (capture is immutable; its manifest lists
every file's sha256, and a bag deposited earlier holds those sums). Moving a record would
mean adding a WARC to a kept snapshot and rewriting its manifest and index, so the kept
snapshot would no longer be the one validated and deposited. Keeping the original's
snapshot costs its disk space; ``prune`` says which snapshots are kept for that reason.

Deleting is atomic per snapshot and ordered so that the archive is consistent at every
instant, also when the prune is killed: the digest index forgets the doomed snapshots
first (a crawl never writes a new revisit into one), then each is renamed out of
``snapshots/`` into ``output/.pruning/``, newest first (a revisit points back in time, so
whatever remains still has its originals), and only then removed. A prune killed half way
leaves fewer snapshots deleted than planned, each kept one whole; the next prune empties
``.pruning/``. All of it runs under the output folder's lock (no crawl commits meanwhile)
and the target's lock (no scheduled run of it), and refuses while a crawl is writing.
"""

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pilotarchive.archive.depends import archive_dependencies, needed_closure
from pilotarchive.archive.ledger import record
from pilotarchive.archive.lock import output_lock, target_lock
from pilotarchive.archive.snapshot import (
    TMP_PREFIX,
    SnapshotInfo,
    fsync_dir,
    list_snapshots,
    snapshot_dir,
    snapshot_time,
)
from pilotarchive.exceptions import SnapshotError, UsageError
from pilotarchive.schedule.config import Retention

TRASH = ".pruning"  # output/.pruning/<id>: renamed out of snapshots/, being removed
LOCK_WAIT = 60.0  # seconds to wait for a crawl's commit to finish


@dataclass
class Decision:
    id: str
    reasons: list[str] = field(default_factory=list)  # why it is kept; empty: deleted

    @property
    def keep(self) -> bool:
        return bool(self.reasons)


@dataclass
class Plan:
    target: str
    policy: Retention
    decisions: list[Decision]  # the target's snapshots, oldest first
    dangling: int = 0  # revisits already dangling before the prune (validate names them)

    @property
    def delete(self) -> list[str]:
        return [d.id for d in self.decisions if not d.keep]

    @property
    def kept(self) -> list[str]:
        return [d.id for d in self.decisions if d.keep]


def by_policy(snapshots: list[SnapshotInfo], policy: Retention, now: datetime,
              ) -> dict[str, list[str]]:  # fmt: skip
    """The snapshots the policy alone keeps, each with its reasons (newest of a bucket)."""
    times = {s.id: snapshot_time(s.id) or datetime.min.replace(tzinfo=UTC) for s in snapshots}
    newest_first = sorted(snapshots, key=lambda s: times[s.id], reverse=True)
    reasons: dict[str, list[str]] = {}
    for info in newest_first[: policy.keep_last]:
        reasons.setdefault(info.id, []).append(f"one of the last {policy.keep_last}")
    days, weeks, months = policy.daily_days, policy.weekly_weeks, policy.monthly_months
    windows: list[tuple[str, timedelta | None, Callable[[datetime], str]]] = [
        ("daily", None if days is None else timedelta(days=days), lambda t: t.strftime("%Y-%m-%d")),
        ("weekly", None if weeks is None else timedelta(weeks=weeks),
         lambda t: f"{t.isocalendar()[0]:04d}-W{t.isocalendar()[1]:02d}"),
        ("monthly", None if months is None else timedelta(days=round(months * 30.44)),
         lambda t: t.strftime("%Y-%m")),
    ]  # fmt: skip
    for name, window, bucket in windows:
        if window is not None and window <= timedelta(0):
            continue
        seen: set[str] = set()
        for info in newest_first:
            when = times[info.id]
            if window is not None and now - when >= window:
                continue
            key = bucket(when)
            if key not in seen:
                seen.add(key)
                reasons.setdefault(info.id, []).append(f"{name} {key}")
    return reasons


def plan(output: Path, target: str, policy: Retention, now: datetime) -> Plan:
    """What a prune of ``target`` would keep and delete, and why."""
    every = list_snapshots(output, damaged=True)
    damaged = [s for s in every if s.damaged]
    if damaged:
        raise SnapshotError(
            f"snapshot {damaged[0].id} is damaged ({damaged[0].damaged}); its revisits cannot "
            "be read, so nothing is pruned (`pilotarchive validate --all` lists the damage)"
        )
    mine = [s for s in every if s.target == target]
    if not mine:
        known = sorted({str(s.target) for s in every if s.target})
        raise UsageError(f"no snapshot of target {target!r} under {snapshot_dir(output)} "
                         f"(targets: {', '.join(known) or 'none'})")  # fmt: skip
    deps = archive_dependencies(output)
    unread = [(i, u) for i, d in deps.items() for u in d.unreadable]
    if unread:
        raise SnapshotError(
            f"snapshot {unread[0][0]}: {unread[0][1]}; what its revisits need cannot be known "
            "for certain, so nothing is pruned (`pilotarchive validate --all` names the damage)"
        )
    reasons = by_policy(mine, policy, now)
    healthy = [s for s in mine if (s.manifest.get("health") or {}).get("verdict") != "degraded"]
    if healthy:
        reasons.setdefault(healthy[-1].id, []).append("the newest healthy one (next baseline)")
    mine_ids = {s.id for s in mine}
    others = [s.id for s in every if s.id not in mine_ids]  # never pruned here
    needed = needed_closure(deps, [*reasons, *others])
    for ident, users in needed.items():
        if ident in mine_ids:
            count = sum(deps[u].needs[ident] for u in users if u in deps)
            shown = ", ".join(sorted(users)[:3]) + (" ..." if len(users) > 3 else "")
            reasons.setdefault(ident, []).append(f"needed by {count} revisit(s) of kept {shown}")
    decisions = [Decision(s.id, reasons.get(s.id, [])) for s in mine]
    dangling = sum(len(d.dangling) for d in deps.values())
    return Plan(target, policy, decisions, dangling)


def _writing(output: Path) -> list[str]:
    """Unfinished snapshots in ``snapshots/``: crawls writing, or interrupted to resume."""
    root = snapshot_dir(output)
    return sorted(e.name for e in root.iterdir() if e.name.startswith(TMP_PREFIX))


def empty_trash(output: Path) -> list[str]:
    """Remove what a killed prune renamed out of ``snapshots/`` and did not remove."""
    trash = Path(output) / TRASH
    if not trash.is_dir():
        return []
    gone = sorted(p.name for p in trash.iterdir())
    shutil.rmtree(trash)
    return gone


def execute(output: Path, target: str, policy: Retention, now: datetime) -> Plan:
    """Prune for real: under the locks, plan again and delete (see the module's docstring)."""
    from pilotarchive.archive.dedup import DigestIndex

    output = Path(output)
    with target_lock(output, target), output_lock(output, wait=LOCK_WAIT):
        empty_trash(output)
        if busy := _writing(output):
            raise SnapshotError(
                f"a crawl is writing into {snapshot_dir(output)} ({busy[0]}), or was interrupted "
                "and may be resumed; its revisits may point anywhere, so nothing is pruned: "
                "prune once it is done (or removed)"
            )
        result = plan(output, target, policy, now)
        doomed = result.delete
        if not doomed:
            return result
        remaining = {s.id for s in list_snapshots(output)} - set(doomed)
        if (output / "index.sqlite3").exists():
            index = DigestIndex(output)
            try:
                index.prune(remaining)
            finally:
                index.close()
        trash = output / TRASH
        trash.mkdir(exist_ok=True)
        root = snapshot_dir(output)
        # Recorded before they go: a prune killed half-way leaves snapshots the ledger
        # calls pruned and that are still there (harmless), never missing ones it does not.
        record(output, "pruned", sorted(doomed), target)
        for ident in sorted(doomed, reverse=True):  # newest first: see the docstring
            os.rename(root / ident, trash / ident)
            fsync_dir(root)
        fsync_dir(trash)
        empty_trash(output)
        return result
