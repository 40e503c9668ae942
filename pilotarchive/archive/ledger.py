"""``output/ledger.jsonl``: which snapshots were committed and which ``prune`` deleted.

A snapshot folder deleted by hand (or lost) left no trace: ``validate --all`` checked the
snapshots that are there, said "valid", and the entity register was quietly rebuilt
without it. The ledger is appended (one JSON line, fsynced) when a snapshot is committed
under its final name and when ``prune`` deletes one, so ``validate --all`` can name a
committed snapshot that is gone without having been pruned. Snapshots committed before the
ledger existed are not in it, and say nothing.

The ledger is an audit aid, not part of any snapshot: a line that cannot be written (a
full disk right after the commit) is warned about and the snapshot stays committed.
"""

import json
import logging
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LEDGER = "ledger.jsonl"
logger = logging.getLogger(__name__)


def record(output: Path, event: str, snapshot_ids: Iterable[str], target: Any = None) -> None:
    """Append ``event`` ("committed", "pruned") for each snapshot id."""
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    ids = list(snapshot_ids)
    lines = "".join(
        json.dumps({"event": event, "snapshot_id": s, "target": target, "at": now}) + "\n"
        for s in ids
    )
    if not lines:
        return
    path = Path(output) / LEDGER
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, lines.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        logger.warning(
            "%s: the ledger was not written (%s); `validate --all` cannot tell if these "
            "snapshots go missing: %s", path, exc.strerror or exc, " ".join(ids)
        )  # fmt: skip


def missing(output: Path, present: set[str], target: Any = None) -> list[tuple[str, str]]:
    """Committed snapshots (of ``target``, None: any) that are neither in the folder nor
    pruned: (id, when it was committed). A line that is no JSON is skipped (a torn last
    line of a crash), never fatal."""
    path = Path(output) / LEDGER
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    committed: dict[str, tuple[Any, str]] = {}
    pruned: set[str] = set()
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("snapshot_id"), str):
            continue
        if entry.get("event") == "committed":
            committed[entry["snapshot_id"]] = (entry.get("target"), str(entry.get("at")))
        elif entry.get("event") == "pruned":
            pruned.add(entry["snapshot_id"])
    return sorted(
        (sid, at)
        for sid, (of, at) in committed.items()
        if sid not in present and sid not in pruned and (target is None or of == target)
    )
