"""What has been alerted, per target: change sets kept for digests, and how far alerts got.

``output/alerts/<target>/changes/<new snapshot>.json`` keeps each change set (the diff and
the page titles) that subscribers were told of, for the digests; ``state.json`` says the
last snapshot whose changes were turned into messages (the baseline of the next diff) and
the last digest period done. Both are written atomically, the change set before its
messages and the state after them, so a run killed half-way is finished by the next one:
the messages of a kept change set are written again where missing (the outbox skips those
already written) before anything else.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from pilotarchive.alerts.changeset import ChangeSet
from pilotarchive.archive.snapshot import snapshot_time, write_atomic
from pilotarchive.exceptions import SnapshotDamaged


@dataclass
class AlertState:
    last_alerted: str | None = None  # the snapshot the last change set ended at
    digests: dict[str, str] = field(default_factory=dict)  # "daily"/"weekly" -> last period done


def _dir(output: Path, target: str) -> Path:
    return Path(output) / "alerts" / target


def read_state(output: Path, target: str) -> AlertState:
    file = _dir(output, target) / "state.json"
    try:
        data: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return AlertState()
    except (OSError, ValueError) as exc:
        raise SnapshotDamaged(
            f"{file}: cannot read ({exc}); move it aside to start the target's alerts afresh"
        ) from exc
    return AlertState(data.get("last_alerted"), dict(data.get("digests") or {}))


def write_state(output: Path, target: str, state: AlertState) -> None:
    folder = _dir(output, target)
    folder.mkdir(parents=True, exist_ok=True)
    data = {"last_alerted": state.last_alerted, "digests": state.digests}
    write_atomic(folder / "state.json", (json.dumps(data, indent=2) + "\n").encode("utf-8"))


def save_change_set(output: Path, change_set: ChangeSet) -> None:
    folder = _dir(output, change_set.target) / "changes"
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / f"{change_set.new}.json", change_set.to_json())


def change_sets(output: Path, target: str) -> list[ChangeSet]:
    """Every kept change set of ``target``, oldest first."""
    folder = _dir(output, target) / "changes"
    if not folder.is_dir():
        return []
    out = []
    for file in sorted(folder.glob("*.json")):
        if file.name.startswith("."):
            continue
        try:
            out.append(ChangeSet.from_json(file.read_bytes()))
        except (OSError, ValueError, KeyError) as exc:
            raise SnapshotDamaged(f"{file}: cannot read ({exc})") from exc
    return out


# -- digest periods ------------------------------------------------------------------------


def period_of(snapshot_id: str, kind: str, tz: tzinfo | None) -> tuple[str, datetime]:
    """The period a snapshot falls in (``daily-2026-11-28``, ``weekly-2026-W48``, local time
    of ``tz``, the host's when None) and when that period ends."""
    ts = snapshot_time(snapshot_id) or datetime.fromtimestamp(0, UTC)
    local = ts.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "daily":
        return f"daily-{local.date().isoformat()}", _next_midnight(midnight, 1, tz)
    year, week, weekday = local.isocalendar()
    start = midnight - timedelta(days=weekday - 1)
    return f"weekly-{year}-W{week:02d}", _next_midnight(start, 7, tz)


def _next_midnight(midnight: datetime, days: int, tz: tzinfo | None) -> datetime:
    """``days`` calendar days after a local midnight (DST-proof: by date, not by hours)."""
    day = (midnight + timedelta(days=days, hours=12)).date()
    naive = datetime(day.year, day.month, day.day)
    return naive.astimezone(tz) if tz is None else naive.replace(tzinfo=tz)


def due_digests(
    sets: list[ChangeSet], kind: str, done: str | None, now: datetime, tz: tzinfo | None
) -> list[tuple[str, list[ChangeSet]]]:
    """Periods of ``kind`` that have ended, come after ``done`` and hold change sets, each
    with its change sets in order."""
    periods: dict[str, list[ChangeSet]] = {}
    for cs in sets:
        period, end = period_of(cs.new, kind, tz)
        if end <= now and (done is None or period > done):
            periods.setdefault(period, []).append(cs)
    return sorted(periods.items())
