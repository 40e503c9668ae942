"""The rows of the dataset on disk while they are made, read back sorted.

A long archive gives rows in proportion to its snapshots (every change, every version,
every snapshot), and the diffs between consecutive snapshots that the site shows. Held in
memory until written, they made ``export`` grow by some 0.4 MB per snapshot; here they go
into a private SQLite file in a temporary folder as they are made, and each writer reads
them back one at a time in primary-key order, so memory stays what one snapshot needs.

Order is the one ``sorted()`` gave over ``tuple(str(row[k] or "") for k in key)``: the key
is stored as the UTF-8 bytes of that tuple with each part escaped and terminated
(``\\x00`` -> ``\\x00\\x01``, then ``\\x00\\x00``), which compare byte for byte as the tuples
compare part by part; rows with one key keep the order they were added in (their rowid).
"""

import json
import pickle
import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pilotarchive.exceptions import DiskFull
from pilotarchive.export.columns import TABLES, Table

_TABLES: dict[str, Table] = {t.name: t for t in TABLES}
# How one entity's rows can be read: by key, or by time (then language) as its page lists
# them, ties in key order as a stable sort of the keyed rows leaves them.
ORDERS = {
    "key": "key, rowid",
    "from": "json_extract(row, '$.valid_from'), key, rowid",
    "from, language": "json_extract(row, '$.valid_from'), json_extract(row, '$.language'), "
    "key, rowid",
}


def sort_key(table: Table, row: Mapping[str, Any]) -> bytes:
    """Bytes that order rows as ``tuple(str(row[k] or "") for k in primary_key)`` does."""
    parts = (str(row[k] or "").replace("\x00", "\x00\x01") + "\x00\x00" for k in table.primary_key)
    return "".join(parts).encode("utf-8", "surrogatepass")


@contextmanager
def _failing(folder: str | Path | None) -> Iterator[None]:
    """SQLite's and the OS's errors as the one a full disk gives ("database or disk is
    full" is an SQLite error, not an OSError), naming where the rows were going."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        where = folder or tempfile.gettempdir()
        raise DiskFull(
            f"cannot keep the export's rows in {where} ({exc}); free some space there "
            "or point TMPDIR at a folder with room"
        ) from exc


def _close(db: sqlite3.Connection, folder: str) -> None:
    db.close()
    shutil.rmtree(folder, ignore_errors=True)


class RowStore:
    """Rows of every table, and the diffs by pair of snapshots, in a temporary SQLite file
    that goes when the store does (or at exit)."""

    def __init__(self, folder: Path | None = None) -> None:
        with _failing(folder):
            self.folder = tempfile.mkdtemp(prefix="pilotarchive-rows-", dir=folder)
            self.db = sqlite3.connect(Path(self.folder) / "rows.sqlite")
            self._finalizer = weakref.finalize(self, _close, self.db, self.folder)
            self.db.execute("PRAGMA journal_mode=OFF")
            self.db.execute("PRAGMA synchronous=OFF")
            for name in _TABLES:
                self.db.execute(f'CREATE TABLE "{name}" (key BLOB, entity TEXT, row TEXT)')
            self.db.execute("CREATE TABLE diffs (old TEXT, new TEXT, diff BLOB)")
        self.counts = dict.fromkeys(_TABLES, 0)
        self._indexed = False

    def add(self, table: str, row: dict[str, Any]) -> None:
        text = json.dumps(row, ensure_ascii=True)  # lone surrogates survive the round trip
        entity = row.get("entity_id")
        with _failing(self.folder):
            self.db.execute(
                f'INSERT INTO "{table}" VALUES (?, ?, ?)',
                (sort_key(_TABLES[table], row), None if entity is None else str(entity), text),
            )
        self.counts[table] += 1
        self._indexed = False

    def add_diff(self, old: str, new: str, diff: dict[str, Any]) -> None:
        data = pickle.dumps(diff, protocol=pickle.HIGHEST_PROTOCOL)
        with _failing(self.folder):
            self.db.execute("INSERT INTO diffs VALUES (?, ?, ?)", (old, new, data))

    def _index(self) -> None:
        if self._indexed:
            return
        with _failing(self.folder):
            for name in _TABLES:
                self.db.execute(f'CREATE INDEX IF NOT EXISTS "k_{name}" ON "{name}" (key)')
                self.db.execute(f'CREATE INDEX IF NOT EXISTS "e_{name}" ON "{name}" (entity, key)')
        self._indexed = True

    def rows(self, table: str) -> Iterator[dict[str, Any]]:
        """The table's rows in primary-key order, one at a time."""
        yield from self._select(f'SELECT row FROM "{table}" ORDER BY key, rowid')

    def rows_of(self, table: str, entity: str, order: str = "key") -> Iterator[dict[str, Any]]:
        """One entity's rows of the table, one at a time, in ``order`` (see ``ORDERS``)."""
        query = f'SELECT row FROM "{table}" WHERE entity = ? ORDER BY {ORDERS[order]}'
        yield from self._select(query, (entity,))

    def entities(self, table: str) -> Iterator[str]:
        """The entities with rows in the table, in the order of its keys."""
        self._index()
        with _failing(self.folder):
            cursor = self.db.execute(f'SELECT DISTINCT entity FROM "{table}" ORDER BY entity')
            for (entity,) in cursor:
                yield str(entity)

    def diffs(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Each pair's diff, in the order they were made."""
        with _failing(self.folder):
            cursor = self.db.execute("SELECT old, new, diff FROM diffs ORDER BY rowid")
            for old, new, data in cursor:
                yield old, new, pickle.loads(data)

    def _select(self, query: str, params: tuple[str, ...] = ()) -> Iterator[dict[str, Any]]:
        self._index()
        with _failing(self.folder):
            for (text,) in self.db.execute(query, params):
                yield json.loads(text)

    def close(self) -> None:
        self._finalizer()


class Rows(Mapping[str, list[dict[str, Any]]]):
    """The tables by name: ``rows[name]`` is the whole table as a list (for a script or a
    test); the writers use :meth:`iter` and :meth:`count`, which hold one row at a time."""

    def __init__(self, store: RowStore) -> None:
        self.store = store

    def __getitem__(self, name: str) -> list[dict[str, Any]]:
        if name not in _TABLES:
            raise KeyError(name)
        return list(self.store.rows(name))

    def __iter__(self) -> Iterator[str]:
        return iter(_TABLES)

    def __len__(self) -> int:
        return len(_TABLES)

    def iter(self, name: str) -> Iterator[dict[str, Any]]:
        return self.store.rows(name)

    def count(self, name: str) -> int:
        return self.store.counts[name]
