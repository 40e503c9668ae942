"""Writing the tables: CSV, JSON Lines, SQLite, and Datasette's metadata.

Every writer is deterministic: rows come sorted by primary key, columns in their fixed
order, numbers and times in one spelling, no "written at" anywhere, so exporting twice
gives the same bytes and a row's bytes depend on that row alone.

- CSV: UTF-8 without a byte-order mark, a header row, RFC 4180 (CRLF line ends, fields
  quoted only when they hold a comma, quote or line break); an empty field is a null;
  booleans ``true``/``false``; arrays as JSON text. A cell that a spreadsheet would run
  as a formula (it begins with ``=``, ``+``, ``-``, ``@``, TAB or CR and is not a plain
  number) gets a leading ``'``, OWASP's rule against CSV injection: a crawled page's text
  must not run code when a researcher opens the file. JSON Lines and SQLite keep the
  exact value.
- JSON Lines: one object per row, keys in column order, nulls as ``null``, arrays as
  arrays.
- SQLite: one table per table, its primary key, indexes on entity ids and times; booleans
  as 0/1, arrays as JSON text (SQLite's JSON functions read them).
"""

import csv
import io
import json
import re
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from pilotarchive.export.columns import TABLES, Column, Table, description

SQLITE_TYPES = {"integer": "INTEGER", "boolean": "INTEGER"}
SQLITE_NAME = "pilotarchive.sqlite"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMULA_PREFIX = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def defuse(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs: a formula gets a leading ``'``."""
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return FORMULA_PREFIX + text
    return text


def csv_cell(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if column.type == "array" or isinstance(value, list | dict):
        return _json(value)  # begins with [ or {: no spreadsheet reads it as a formula
    return defuse(str(value))


def write_csv(table: Table, rows: Iterable[dict[str, Any]], out: IO[str]) -> None:
    """The table as CSV into ``out`` (a text file opened with ``newline=""``), row by row."""
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(table.names)
    for row in rows:
        writer.writerow([csv_cell(c, row.get(c.name)) for c in table.columns])


def csv_bytes(table: Table, rows: Iterable[dict[str, Any]]) -> bytes:
    out = io.StringIO(newline="")
    write_csv(table, rows, out)
    return out.getvalue().encode("utf-8")


def write_jsonl(table: Table, rows: Iterable[dict[str, Any]], out: IO[str]) -> None:
    """The table as JSON Lines into ``out``, row by row."""
    for row in rows:
        out.write(
            json.dumps(
                {c.name: row.get(c.name) for c in table.columns},
                ensure_ascii=False,
                separators=(",", ":"),
            )
            + "\n"
        )


def jsonl_bytes(table: Table, rows: Iterable[dict[str, Any]]) -> bytes:
    out = io.StringIO(newline="")
    write_jsonl(table, rows, out)
    return out.getvalue().encode("utf-8")


def _sql_value(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if column.type == "array" or isinstance(value, list | dict):
        return _json(value)
    return value


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def write_sqlite(path: Path, rows: Mapping[str, Iterable[dict[str, Any]]]) -> None:
    """One database with every table; written fresh, so two exports give the same bytes.
    ``rows``: each table's rows, read one at a time."""
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
        for table in TABLES:
            columns = ", ".join(
                f"{_quote(c.name)} {SQLITE_TYPES.get(c.type, 'TEXT')}"
                + (" NOT NULL" if c.required else "")
                for c in table.columns
            )
            keys = ", ".join(map(_quote, table.primary_key))
            db.execute(f"CREATE TABLE {_quote(table.name)} ({columns}, PRIMARY KEY ({keys}))")
            marks = ", ".join("?" for _ in table.columns)
            db.executemany(
                f"INSERT INTO {_quote(table.name)} VALUES ({marks})",
                (
                    [_sql_value(c, row.get(c.name)) for c in table.columns]
                    for row in rows.get(table.name, [])
                ),
            )
            for index in table.indexes:
                name = f"idx_{table.name}_{'_'.join(index)}"
                db.execute(
                    f"CREATE INDEX {_quote(name)} ON {_quote(table.name)} "
                    f"({', '.join(map(_quote, index))})"
                )
        db.commit()
        db.execute("VACUUM")
    finally:
        db.close()


def datasette_metadata(
    title: str, about: str, source: str, source_url: str | None, licence: str
) -> dict[str, Any]:
    """Datasette's ``metadata.json``: the dataset's title, source and licence, and a
    description of every table and column."""
    return {
        "title": title,
        "description": about,
        "source": source,
        **({"source_url": source_url} if source_url else {}),
        "license": licence,
        "databases": {
            SQLITE_NAME.removesuffix(".sqlite"): {
                "tables": {
                    table.name: {
                        "title": table.title,
                        "description": table.description,
                        "columns": {c.name: description(table, c) for c in table.columns},
                    }
                    for table in TABLES
                }
            }
        },
    }
