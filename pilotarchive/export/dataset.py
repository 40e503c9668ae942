"""``export_dataset``: the dataset folder, written whole or not at all.

The files are written into ``.tmp-<name>-<pid>/`` beside the destination, made durable,
and put in place by two renames (the old folder aside, the new one in), so a reader sees
the previous dataset or the new one, never half of one; a failing export removes its
temporary folder and leaves the previous dataset as it was. Each export replaces the whole
folder with what was asked for (``--format csv`` leaves no stale SQLite behind).
"""

import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any

from pilotarchive.archive.lock import FileLock
from pilotarchive.archive.snapshot import ANY_TARGET, os_error, refuse_inside_snapshots
from pilotarchive.exceptions import DiskFull, UsageError
from pilotarchive.export.columns import TABLES, Table
from pilotarchive.export.formats import (
    SQLITE_NAME,
    datasette_metadata,
    write_csv,
    write_jsonl,
    write_sqlite,
)
from pilotarchive.export.marker import MARKER, UNTOLD, absolute, check_ours, marker_bytes
from pilotarchive.export.package import (
    README,
    SOURCE,
    SOURCE_LICENCE,
    TITLE,
    about,
    citation_bytes,
    datapackage_bytes,
    readme_bytes,
    source_url,
)
from pilotarchive.export.rowstore import Rows
from pilotarchive.export.temporal import Dataset, build

FORMATS = ("csv", "jsonl", "sqlite", "datapackage")
CITATION = "CITATION.cff"
METADATA = "metadata.json"


@dataclass(frozen=True)
class ExportResult:
    path: Path
    files: list[str]  # names of the files written, sorted
    dataset: Dataset


def formats_of(choice: str | Iterable[str]) -> tuple[str, ...]:
    """``all`` or a format name (or several) to the formats to write."""
    chosen = [choice] if isinstance(choice, str) else list(choice)
    if "all" in chosen:
        return FORMATS
    unknown = [c for c in chosen if c not in FORMATS]
    if unknown:
        raise UsageError(f"unknown format {unknown[0]!r}; choose from all, {', '.join(FORMATS)}")
    return tuple(f for f in FORMATS if f in chosen)


def _write(path: Path, fill: Callable[[IO[str]], None]) -> None:
    """A text file written row by row and made durable."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        fill(fh)
        fh.flush()
        os.fsync(fh.fileno())


def _write_bytes(path: Path, data: bytes) -> None:
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fill(
    writer: Callable[[Table, Iterable[dict[str, Any]], IO[str]], None],
    table: Table,
    rows: Rows,
    fh: IO[str],
) -> None:
    writer(table, rows.iter(table.name), fh)


def dataset_files(
    dataset: Dataset, formats: tuple[str, ...], tmp: Path, target: Any = UNTOLD
) -> list[str]:
    """Write the files of the dataset into ``tmp``, each table read from the row store one
    row at a time; the names written."""
    names: list[str] = []
    rows = dataset.rows
    if "csv" in formats or "datapackage" in formats:  # a data package describes the CSVs
        for t in TABLES:
            _write(tmp / f"{t.name}.csv", partial(_fill, write_csv, t, rows))
            names.append(f"{t.name}.csv")
    if "jsonl" in formats:
        for t in TABLES:
            _write(tmp / f"{t.name}.jsonl", partial(_fill, write_jsonl, t, rows))
            names.append(f"{t.name}.jsonl")
    if "datapackage" in formats:
        csvs = {f"{t.name}.csv": tmp / f"{t.name}.csv" for t in TABLES}
        _write_bytes(tmp / "datapackage.json", datapackage_bytes(dataset, csvs))
        names.append("datapackage.json")
    if "sqlite" in formats:
        write_sqlite(tmp / SQLITE_NAME, {t.name: rows.iter(t.name) for t in TABLES})
        meta = datasette_metadata(TITLE, about(dataset), SOURCE, source_url(dataset),
                                  SOURCE_LICENCE)  # fmt: skip
        text = json.dumps(meta, ensure_ascii=False, indent=2)
        _write_bytes(tmp / METADATA, (text + "\n").encode("utf-8"))
        names.append(METADATA)
    _write_bytes(tmp / CITATION, citation_bytes(dataset))
    names.append(CITATION)
    sqlite = [SQLITE_NAME] if "sqlite" in formats else []
    _write_bytes(tmp / README, readme_bytes(dataset, [*names, *sqlite]))
    names.append(README)
    named = {} if target is UNTOLD else {"target": target}
    _write_bytes(tmp / MARKER, marker_bytes("dataset", [*names, *sqlite], **named))
    return [*names, MARKER, *sqlite]


# Every name an export may write: a folder holding only these and the marker is a dataset.
KNOWN = frozenset(
    {f"{t.name}.{ext}" for t in TABLES for ext in ("csv", "jsonl")}
    | {"datapackage.json", SQLITE_NAME, METADATA, CITATION, MARKER, README}
)


def _check_destination(to: Path, target: Any = UNTOLD) -> None:
    """Refuse to replace a folder that is not a dataset pilotarchive wrote: ``--to ~`` or
    a research repository that happens to hold a ``CITATION.cff`` must not be emptied; nor
    another target's dataset (``OUTPUT/dataset`` is every target's default)."""
    check_ours(to, "dataset", KNOWN, what="dataset", proof=(CITATION, b"# made by pilotarchive"),
               target=target)  # fmt: skip


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _is_cwd(folder: Path) -> bool:
    """``--to .`` from inside the dataset: renaming the folder away would leave the user's
    shell in a deleted folder that looks empty."""
    try:
        return folder.is_dir() and folder.samefile(Path.cwd())
    except OSError:
        return False


def _swap_files(tmp: Path, to: Path) -> None:
    """The dataset replaced file by file inside a folder that stays: each file is whole at
    every moment (a rename), though old and new files stand side by side for an instant."""
    fresh = {path.name for path in tmp.iterdir()}
    for name in fresh:
        os.replace(tmp / name, to / name)
    for path in to.iterdir():
        if path.name not in fresh:
            path.unlink()  # a stale file of an earlier export (the check allowed no other)
    tmp.rmdir()


def export_dataset(
    output: Path,
    to: Path | None = None,
    formats: str | Iterable[str] = "all",
    target: Any = ANY_TARGET,
    dataset: Dataset | None = None,
) -> ExportResult:
    """Export every version from the snapshots under ``output`` into ``to`` (default
    ``output/dataset``); ``dataset`` reuses tables already built (the site does)."""
    output = Path(output)
    to = absolute(Path(to) if to is not None else output / "dataset")
    if to.is_symlink():
        # The folder the link names is the dataset's: the swap below renames ``to`` away
        # and a new folder in, which replaced the link itself (and left the old one,
        # a link, behind as .old-...), while the folder it named stayed empty.
        to = Path(os.path.realpath(to))
    refuse_inside_snapshots(to, "--to", output)
    chosen = formats_of(formats)
    told = UNTOLD if target is ANY_TARGET else target
    _check_destination(to, told)
    if dataset is None:
        dataset = build(output, target)
    parent = to.parent
    if not parent.is_dir():
        raise UsageError(f"{parent} does not exist; create it or give another --to")
    tmp = parent / f".tmp-{to.name}-{os.getpid()}"
    old = parent / f".old-{to.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        dataset_files(dataset, chosen, tmp, told)
        if (tmp / SQLITE_NAME).exists():
            _fsync(tmp / SQLITE_NAME)
        with FileLock(parent / f".{to.name}.lock", wait=60, what=f"the dataset folder {to}"):
            if _is_cwd(to):
                _swap_files(tmp, to)
            else:
                if to.exists():
                    os.rename(to, old)
                os.rename(tmp, to)
            _fsync(parent)
    except (OSError, sqlite3.Error) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not to.exists():
            os.rename(old, to)  # put the previous dataset back
        if isinstance(exc, OSError):
            raise os_error(exc, to) from exc
        # SQLite says "database or disk is full" (SQLITE_FULL) rather than raise an OSError.
        full = "full" in str(exc)
        raise DiskFull(f"disk full writing {to}" if full else f"cannot write {to}: {exc}") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return ExportResult(to, sorted(p.name for p in to.iterdir()), dataset)
