"""The records of a snapshot being written get the entity register's ``entity_id``.

Identity is state kept in one place (``identity/register.py``); a record's
``entity_id`` is the register's id of the entity it is an instance of, never a hash of
what it says now. While a snapshot is still being written (a crawl before its commit, a
snapshot's new derivation before it replaces the old), its records are assigned against
the register as it stands (nothing written there), and each record file is rewritten with
the ids: line by line into a temporary file, then renamed over the old one.
"""

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pilotarchive.archive.snapshot import RECORD_FILES, TMP_PREFIX
from pilotarchive.identity.records import identity_records
from pilotarchive.records.ids import fingerprint

REGISTER_WAIT = 10.0  # seconds a crawl's commit waits for the entity register's lock
Assign = Callable[[str, dict[str, list[dict[str, Any]]]], dict[str, str]]


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def set_entities(folder: Path, entity_of: dict[str, str]) -> int:
    """Rewrite each record file of ``folder`` with the given entity ids (fingerprints
    recomputed: they cover the entity); returns how many records changed id."""
    changed = 0
    for name in RECORD_FILES.values():
        file = folder / "records" / name
        if not file.exists():
            continue
        tmp = file.with_name(f"{TMP_PREFIX}{name}.{os.getpid()}")
        try:
            with file.open(encoding="utf-8") as src, tmp.open("w", encoding="utf-8") as out:
                for line in src:
                    record = json.loads(line)
                    entity = entity_of.get(str(record.get("id")))
                    if entity is not None and entity != record.get("entity_id"):
                        record["entity_id"] = entity
                        record["fingerprint"] = fingerprint(record)
                        changed += 1
                        line = _dumps(record) + "\n"
                    out.write(line)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, file)
        finally:
            tmp.unlink(missing_ok=True)
    return changed


def assign_entities(
    output: Path,
    target: str | None,
    folder: Path,
    snapshot_id: str,
    assign: Assign | None = None,
) -> int:
    """Assign the records in ``folder`` to the register's entities and write the ids into
    them. ``assign`` maps (snapshot id, records by type) to record id -> entity id; by
    default the register of ``target`` in ``output`` as it stands, waited for a few seconds
    only: a crawl committing while ``reextract`` rebuilds the register goes on without its
    ids (the register assigns the snapshot later all the same) rather than keep the output
    folder locked."""
    if assign is None:
        from pilotarchive.identity.register import preview

        def assign(ident: str, current: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
            return preview(output, target, ident, current, wait=REGISTER_WAIT)

    return set_entities(folder, assign(snapshot_id, identity_records(folder)))
