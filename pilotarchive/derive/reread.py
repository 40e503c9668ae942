"""``reextract``: snapshots derived again from their own WARCs, in time order.

For each target, under its run lock (a ``run`` of it and a ``reextract`` never overlap) and
the entity register's lock, the target's snapshots are walked oldest first; each one
selected is derived again, under the output folder's lock (the one a crawl's commit takes),
from its captured responses (:func:`pilotarchive.derive.derive_snapshot`), its records given
the register's entity ids as the snapshots before it now stand, and its health judged
against the last healthy snapshot before it as it now stands. The new derivation is built
beside the snapshot and swapped in whole (:mod:`pilotarchive.archive.derivations`); the
earlier one is kept in ``derivations/<n>/``. A snapshot that cannot be read again (no WARC,
a damaged one, a page without its bytes) is named and left exactly as it was. The entity
register is rebuilt on the way.

Alerts: changes that only re-reading revealed are not mailed. When the target has alerts,
the snapshot its next alert starts from moves to the newest snapshot re-derived healthy,
so ``run`` never presents old changes, found by a better reading, as news; the re-derived
snapshots say in their manifest (``derivation.reextracted``) that they were re-read.
"""

import contextlib
import errno
import json
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pilotarchive.archive.derivations import Staging
from pilotarchive.archive.lock import output_lock, target_lock
from pilotarchive.archive.snapshot import (
    LOCK_WAIT,
    RECORD_FILES,
    REJECTED_FILE,
    RecordSink,
    SnapshotInfo,
    clean_stale,
    iso,
    list_snapshots,
    listed_state,
    read_manifest,
    sha256_file,
    sort_records,
    utc_now,
    validate_snapshot,
)
from pilotarchive.derive import Derivation, derive_snapshot
from pilotarchive.derive.responses import NoCapture, archived_responses
from pilotarchive.exceptions import PilotarchiveError, SnapshotError
from pilotarchive.extract.rules import Rules
from pilotarchive.identity.register import Rebuild
from pilotarchive.records.validate import errors_for, schema_version

_MANIFEST_DEFAULTS: dict[str, Any] = {
    "origin": "crawl",
    "target": None,
    "skipped": [],
    "notes": [],
    "left_out": 0,
    "no_such_version": [],
}


@dataclass
class Outcome:
    """What became of one snapshot."""

    snapshot_id: str
    target: str | None
    reason: str | None = None  # why it was skipped; None: derived again
    failed: bool = False  # skipped for damage (a snapshot without a WARC is not)
    before: dict[str, Any] = field(default_factory=dict)  # verdict and counts
    after: dict[str, Any] = field(default_factory=dict)
    derivation: int | None = None
    rules_pages: int = 0
    # Read again, it reads as its current derivation does: nothing was written.
    unchanged: bool = False
    # The reading changed: other records (or a snapshot whose manifest listed none), or
    # another verdict. Only such a snapshot moves the alerts (see _advance_alerts).
    changed: bool = False

    @property
    def skipped(self) -> bool:
        return self.reason is not None


def _summary(manifest: dict[str, Any]) -> dict[str, Any]:
    counts = manifest.get("counts") or {}
    return {
        "verdict": (manifest.get("health") or {}).get("verdict", "unknown"),
        **{kind: (counts.get(kind) or {}).get("total", 0) for kind in ("pilot", "contact")},
    }


def _check_files(info: SnapshotInfo) -> None:
    """A snapshot is derived again only as it was written: every file its manifest lists
    (the WARCs, the records, earlier derivations) must have the bytes and sha256 the
    manifest gave it, and none may be added. A re-derivation writes a new manifest and keeps
    the current records as an earlier derivation, so without this a cut WARC, an edited
    record or an edited earlier derivation would be summed anew and then pass every later
    audit (and deposit): ``validate`` found it, ``reextract`` would have hidden it."""
    listed = info.manifest.get("files") or {}
    present = {p.relative_to(info.path).as_posix()
               for p in info.path.rglob("*") if p.is_file()} - {"manifest.json"}  # fmt: skip
    if not listed and not any(p.startswith("archive/") for p in present):
        return  # a manifest that lists no file and no WARC: nothing to read again, said later
    for extra in sorted(present - set(listed)):
        raise SnapshotError(f"{info.id}: {extra} is not in its manifest (added after it)")
    for name, facts in sorted(listed.items()):
        state = listed_state(info.path / name, facts)
        if state == "missing":
            raise SnapshotError(f"{info.id}: {name} is missing")
        if state == "differs":
            raise SnapshotError(f"{info.id}: {name} differs from its manifest (changed or damaged)")


def _files(folder: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel not in ("manifest.json", "OWNER.json"):
            out[rel] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    return out


def _sorted_records(sink: RecordSink) -> None:
    """Record files sorted by id, as a crawl leaves them (identical input, identical files)."""
    sink.close_files()
    records = sink.directory / "records"

    def duplicate(line: str) -> None:  # the sink refused duplicates already; kept if any
        with (records / REJECTED_FILE).open("a", encoding="utf-8") as fh:
            fh.write(line)

    for name in RECORD_FILES.values():
        if (records / name).exists():
            sort_records([records / name], records / name, duplicate)


def _manifest(
    old: dict[str, Any],
    sink: RecordSink,
    staging: Staging,
    derivation: Derivation,
    now: datetime,
) -> dict[str, Any]:
    new = {**_MANIFEST_DEFAULTS, **old}
    new.pop("health", None)
    new["manifest_version"] = schema_version("manifest")
    new["counts"] = {
        kind: {
            "total": sum(sink.counts[kind].values()),
            "by_language": dict(sorted(sink.counts[kind].items())),
        }
        for kind in RECORD_FILES
    }
    new["rejected"] = sink.rejected
    number = staging.old_number + 1
    rules = "its target's rules" if derivation.rules else "no rules"
    note = (
        f"records derived again from the archived responses by pilotarchive "
        f"{derivation.release} with {rules} on {iso(now)} (reextract); the earlier "
        f"derivation is kept in derivations/{staging.old_number}/"
    )
    new["notes"] = [*new["notes"], note]
    new["derivation"] = derivation.describe(
        number, derived_at=iso(now), reextracted=True, earlier=staging.earlier
    )
    return new


def _records_listed(manifest: dict[str, Any]) -> dict[str, Any]:
    """The record files a manifest lists, the empty ones left out: a crawl writes a file
    for each kind, a re-derivation only those it has records for."""
    files = manifest.get("files") or {}
    return {k: v for k, v in files.items() if k.startswith("records/") and v.get("bytes") != 0}


def _same_records(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """The same record files byte for byte; never for a manifest that lists none."""
    return bool(_records_listed(old)) and _records_listed(old) == _records_listed(new)


def _reading_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    verdict = (old.get("health") or {}).get("verdict"), (new.get("health") or {}).get("verdict")
    return not _same_records(old, new) or verdict[0] != verdict[1]


def _reads_the_same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether a new derivation would say nothing the current one does not: the same record
    files byte for byte (entity ids included), the same health, the same rules.

    Without this, every ``reextract`` of an unchanged archive added a ``derivations/<n>/``
    per snapshot (a nightly re-read grows the archive by its records each night, and the
    history of derivations, meant to show what a better reading changed, fills with
    copies). A newer release that reads the same records is no reason to write: the
    manifest still names truthfully what derived them. ``--force`` writes anyway.
    """

    return (
        _same_records(old, new)
        and old.get("health") == new.get("health")
        and old.get("rejected") == new.get("rejected")
        and (old.get("derivation") or {}).get("rules") == new["derivation"]["rules"]
    )


def rederive(
    output: Path,
    info: SnapshotInfo,
    derivation: Derivation,
    assign: Callable[[str, dict[str, list[dict[str, Any]]]], dict[str, str]],
    now: datetime,
    force: bool = False,
) -> tuple[SnapshotInfo, Outcome]:
    """One snapshot derived again and swapped in, or left as it was with the reason (or,
    unless ``force``, because it reads the same: see :func:`_reads_the_same`)."""
    # The whole manifest: a listing may hold only a slimmed copy (target, health).
    info = replace(info, manifest=read_manifest(info.path))
    outcome = Outcome(info.id, info.target, before=_summary(info.manifest))
    responses: Generator[Any, None, None] = archived_responses(info.path, info.id)
    staging: Staging | None = None
    swapped = False
    try:
        if info.path.is_symlink():
            raise SnapshotError(
                f"{info.id}: the snapshot's folder is a symbolic link; reextract rewrites a "
                "snapshot only where the archive keeps it (copy it in, then run again)"
            )
        if link := next((p for p in info.path.rglob("*") if p.is_symlink()), None):
            raise SnapshotError(
                f"{info.id}: {link.relative_to(info.path)} is a symbolic link; a snapshot "
                "holds its own files, and reextract never carries a link into a derivation"
            )
        _check_files(info)  # never re-sum what is not what was written
        first = next(responses, None)  # the WARCs are checked whole before anything else
        staging = Staging(info.path, info.manifest)
        sink = RecordSink(staging.path, snapshot_id=info.id)

        def every() -> Iterator[Any]:
            if first is not None:
                yield first
            yield from responses

        derived = derive_snapshot(every(), sink.add, derivation)
        _sorted_records(sink)
        if derived.usable_pages == 0:
            raise SnapshotError(f"{info.id}: no page could be read again")
        derivation.entities(output, info.target, staging.path, info.id, assign)
        manifest = _manifest(info.manifest, sink, staging, derivation, now)
        manifest["files"] = _files(staging.path)
        manifest["health"] = derivation.health(
            output, info.target, staging.path, manifest, before=info.id
        )
        if not force and _reads_the_same(info.manifest, manifest):
            staging.abort()
            outcome.unchanged = True
            outcome.after = outcome.before
            outcome.derivation = staging.old_number
            return info, outcome
        problems = [f"manifest.json{e['pointer']}: {e['message']}"
                    for e in errors_for(manifest, "manifest")]  # fmt: skip
        data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        (staging.path / "manifest.json").write_text(data, encoding="utf-8")
        problems += [p for p in validate_snapshot(staging.path) if not p.startswith("OWNER")]
        if problems:
            raise SnapshotError(f"{info.id}: the new derivation would not validate: {problems[0]}")
        staging.swap()
        swapped = True
    except (PilotarchiveError, OSError) as exc:
        if staging is not None:
            staging.abort()
        outcome.reason = _reason(exc)
        outcome.failed = not isinstance(exc, NoCapture)
        return info, outcome
    except BaseException:  # Ctrl-C, SIGTERM (the command makes it an exception), a bug
        # The staging folder holds the new derivation (before the exchange) or the old
        # folder, every file linked in the new one (after it): either way it goes now, not
        # after the ten minutes a leftover without its owner waits.
        if staging is not None and not swapped:
            staging.abort()
        raise
    finally:
        responses.close()
    outcome.after = _summary(manifest)
    outcome.changed = _reading_changed(info.manifest, manifest)
    outcome.derivation = manifest["derivation"]["number"]
    outcome.rules_pages = len(derived.rules_pages)
    return SnapshotInfo(info.path, manifest), outcome


def _reason(exc: BaseException) -> str:
    """Why a snapshot was left as it was, in words: a full disk is not damage."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"no space left on the device to write its new derivation ({exc.filename})"
    if isinstance(exc, OSError):
        return f"cannot write its new derivation: {exc}"
    return str(exc)


def _advance_alerts(output: Path, target: str, outcomes: list[Outcome]) -> str | None:
    """Where the target's next alert starts, moved when re-reading alone would make news.

    The next alert diffs the snapshot the last one ended at (``last_alerted``) with the
    newest. When that snapshot was read again here too, both sides of that diff are read
    by the same reader: what it shows are the site's changes since the last alert, those
    a degraded crawl hid included (the maintainers' mail promises them "once the crawl is
    healthy again"), and nothing a better reading found in both. Then nothing moves: moving
    it lost those changes (a crawl degraded by bad rules, repaired by good ones; a crawl
    made by hand and never mailed).

    When it was not read again (not selected, skipped, gone), the diff would set its old
    reading against new ones, and what a better reading found would be mailed as news:
    then the next alert starts from the newest snapshot whose reading changed and that is
    healthy now (never from one read again as it was)."""
    from pilotarchive.alerts.state import read_state, write_state

    state = read_state(output, target)
    if state.last_alerted is None:
        return None
    start = next((o for o in outcomes if o.snapshot_id == state.last_alerted), None)
    if start is not None and not start.skipped:
        return None  # both sides of the next alert's diff are read by this reader
    healthy = [
        o.snapshot_id
        for o in outcomes
        if not o.skipped and o.changed and o.after["verdict"] != "degraded"
    ]
    if not healthy or max(healthy) <= state.last_alerted:
        return None
    state.last_alerted = max(healthy)
    write_state(output, target, state)
    return state.last_alerted


def reextract(
    output: Path,
    selected: list[str] | None,
    rules_for: Callable[[str | None], Rules],
    *,
    target: Any = None,
    any_target: bool = True,
    clock: Callable[[], datetime] = utc_now,
    report: Callable[[Outcome], None] | None = None,
    force: bool = False,
) -> tuple[list[Outcome], dict[str, str]]:
    """Derive again the ``selected`` snapshot ids (None: every snapshot, of ``target``
    unless ``any_target``); returns each one's outcome and, per target whose alerts moved,
    the snapshot its next alert starts from. ``force``: write a new derivation even where
    it would read as the current one does."""
    output = Path(output)
    clean_stale(output)  # what killed crawls and re-derivations left, their writers gone
    infos = list_snapshots(output, damaged=True)
    damaged = {i.id: i.damaged for i in infos if i.damaged}
    outcomes: list[Outcome] = []
    # A snapshot whose manifest cannot be read is named whatever was asked (its target
    # cannot be told), and counts as skipped for damage: the command then exits 1.
    for ident in sorted(damaged):
        if selected is None or ident in selected:
            reason = f"its manifest is damaged: {damaged[ident]}"
            outcomes.append(Outcome(ident, None, reason=reason, failed=True))
    wanted = {
        i.id
        for i in infos
        if not i.damaged
        and (selected is None or i.id in selected)
        and (any_target or i.target == target)
    }
    targets = sorted({i.target for i in infos if i.id in wanted}, key=lambda t: t or "")
    moved: dict[str, str] = {}
    for name in targets:
        derivation = Derivation(rules_for(name))
        done: list[Outcome] = []
        run_lock = target_lock(output, name) if name else contextlib.nullcontext()
        with run_lock:
            walk = Rebuild(output, name)
            complete = False
            try:
                for info in walk.open():
                    if info.id in wanted:
                        # The output folder's lock, as a crawl's commit takes it: one snapshot
                        # at a time, so a crawl finishing meanwhile waits for one, not all.
                        with output_lock(output, wait=LOCK_WAIT):
                            info, outcome = rederive(
                                output, info, derivation, walk.preview, clock(), force
                            )
                        done.append(outcome)
                        if report is not None:
                            report(outcome)
                    walk.add(info)
                complete = True
            finally:
                walk.close(save=complete)
        outcomes += done
        if name and (start := _advance_alerts(output, name, done)):
            moved[name] = start
    return outcomes, moved
