"""Describing the dataset: a Frictionless Data Package and a CITATION.cff.

``datapackage.json`` gives every CSV a Table Schema (types, required fields, enums,
primary and foreign keys, descriptions from our JSON Schemas) with its size and sha256, so
``frictionless validate`` checks the files against their description. ``CITATION.cff``
says how to cite the dataset: its version is the id of the newest snapshot in it, its
release date that snapshot's date, and it names the ministry's page it was taken from.
"""

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pilotarchive import PROJECT_URL, __version__
from pilotarchive.export.columns import TABLES, Table, description
from pilotarchive.export.formats import FORMULA_PREFIX
from pilotarchive.export.temporal import Dataset

TITLE = "Pilots for developing regional towns (TEM, 2014-): every version"
SOURCE = (
    "Työ- ja elinkeinoministeriö (Ministry of Employment and the Economy, Finland): "
    "'Pilotit seutukaupunkien kehittämiseen' / 'Pilotprojekt för utveckling av "
    "regionstäder' / 'Pilots for developing regional towns', in every language version"
)
DEFAULT_SOURCE_URL = "http://www.tem.fi/seutukaupunkipilotit"
# What the ministry's pages say of their reuse: the archived pages state no licence.
SOURCE_LICENCE = "unknown"
ENUMS = {
    "language": ["fi", "sv", "en", "und"],
    "rendering": ["page", "text"],
    "change": ["added", "removed", "modified", "appeared", "disappeared"],
    "record_type": ["page", "pilot", "contact"],
    "health": ["healthy", "degraded", "damaged", "unknown"],
}
# Said wherever the CSV files are described (the data package, the dataset's README).
CSV_FORMULAS = (
    "In the CSV files, a text cell that begins with =, +, -, @, a tab or a carriage return "
    "and is not a plain number has a ' put before it, so that no spreadsheet runs text "
    "taken from a web page as a formula (OWASP's rule against CSV injection); the JSON "
    "Lines and SQLite files hold the exact values."
)
DATETIME = "%Y-%m-%dT%H:%M:%S.%fZ"  # every time of the version tables and changes


def source_url(dataset: Dataset) -> str:
    newest = dataset.newest
    urls = (newest.info.manifest.get("start_urls") if newest else None) or []
    return str(urls[0]) if urls else DEFAULT_SOURCE_URL


def about(dataset: Dataset) -> str:
    used = dataset.used
    span = f"{used[0].iso[:10]} to {used[-1].iso[:10]}" if used else "no snapshot"
    return (
        "Every version of every pilot, contact person and page of the ministry's page on the "
        "regional town pilots, in Finnish, Swedish and English, as archived by pilotarchive "
        f"({len(used)} healthy snapshots, {span}). One row per version of an entity per "
        "language (the graphic page and its text version are one row); field-level changes "
        "between consecutive snapshots; every snapshot with its health. Provenance: each "
        "row names the URL and the WARC record it was read from. Licence of the source "
        f"material: {SOURCE_LICENCE} (the ministry's pages state none)."
    )


def _field(table: Table, column: Any) -> dict[str, Any]:
    field: dict[str, Any] = {
        "name": column.name,
        "type": column.type,
        "description": description(table, column),
    }
    if column.type == "datetime":
        # started_at/finished_at come from manifests without fractions of a second.
        field["format"] = "any" if column.name in ("started_at", "finished_at") else DATETIME
    constraints: dict[str, Any] = {}
    if column.required:
        constraints["required"] = True
    if column.name in ENUMS:
        constraints["enum"] = ENUMS[column.name]
    if constraints:
        field["constraints"] = constraints
    return field


def _size_and_hash(data: bytes | Path) -> tuple[int, str]:
    """A file's size and sha256, read in blocks when it is on disk (a long archive's CSV
    files need not be held to be described)."""
    if isinstance(data, bytes):
        return len(data), hashlib.sha256(data).hexdigest()
    digest = hashlib.sha256()
    size = 0
    with Path(data).open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def datapackage(dataset: Dataset, files: Mapping[str, bytes | Path]) -> dict[str, Any]:
    """The Data Package descriptor for the CSV files in ``files`` (name -> bytes, or the
    path of the file written)."""
    resources = []
    for table in TABLES:
        name = f"{table.name}.csv"
        size, sha256 = _size_and_hash(files[name])
        schema: dict[str, Any] = {
            "fields": [_field(table, c) for c in table.columns],
            "missingValues": [""],
            "primaryKey": list(table.primary_key),
        }
        if table.foreign_keys:
            schema["foreignKeys"] = [
                {"fields": col, "reference": {"resource": ref, "fields": ref_col}}
                for col, ref, ref_col in table.foreign_keys
            ]
        resources.append(
            {
                "name": table.name,
                "title": table.title,
                "description": f"{table.description} {CSV_FORMULAS}",
                "path": name,
                "type": "table",
                "scheme": "file",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "dialect": {
                    "csv": {
                        "delimiter": ",",
                        "lineTerminator": "\r\n",
                        "quoteChar": '"',
                        "doubleQuote": True,
                    }
                },
                "hash": "sha256:" + sha256,
                "bytes": size,
                "schema": schema,
            }
        )
    name = "pilotarchive-seutukaupunkipilotit" + (f"-{dataset.target}" if dataset.target else "")
    return {
        "name": "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name.lower()),
        "title": TITLE,
        "description": about(dataset),
        "homepage": PROJECT_URL,
        "sources": [{"title": SOURCE, "path": source_url(dataset)}],
        "contributors": [{"title": "pilotarchive", "path": PROJECT_URL, "role": "author"}],
        "keywords": ["Finland", "regional towns", "pilots", "web archive", "TEM"],
        "pilotarchive:csv_formula_prefix": {
            "prefix": FORMULA_PREFIX,
            "applies_to": "CSV cells that begin with = + - @ TAB or CR and are not plain numbers",
            "why": CSV_FORMULAS,
        },
        "resources": resources,
    }


def datapackage_bytes(dataset: Dataset, files: Mapping[str, bytes | Path]) -> bytes:
    text = json.dumps(datapackage(dataset, files), ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")


README = "README.md"


def readme_bytes(dataset: Dataset, names: list[str]) -> bytes:
    """What a researcher who opens the folder reads first: what the files are, where the
    data came from, and what the CSV files change of the values."""
    table_names = {f"{t.name}.{ext}": t for t in TABLES for ext in ("csv", "jsonl")}
    lines = [f"# {TITLE}", "", about(dataset), "", "## Files", ""]
    for name in sorted(names):
        if name in table_names:
            lines.append(f"- `{name}`: {table_names[name].title}")
        elif name == "datapackage.json":
            lines.append(f"- `{name}`: the Frictionless Data Package describing the CSV files")
        elif name == "CITATION.cff":
            lines.append(f"- `{name}`: how to cite this dataset")
        elif name.endswith(".sqlite"):
            lines.append(f"- `{name}`: every table in one SQLite database (Datasette reads it)")
        elif name == "metadata.json":
            lines.append(f"- `{name}`: Datasette's metadata for the database")
    lines += ["", "## Values in the CSV files", "", CSV_FORMULAS, "",
              f"Source: {SOURCE}, {source_url(dataset)}.", ""]  # fmt: skip
    return "\n".join(lines).encode("utf-8")


def _yaml(text: str) -> str:
    """A YAML scalar: a JSON string is a valid double-quoted YAML scalar."""
    return json.dumps(text, ensure_ascii=False)


def warcinfo_operator(snapshot: Path, manifest: dict[str, Any]) -> str:
    """The ``operator`` of the snapshot's first WARC's warcinfo record ("" when none):
    ``crawl --operator`` writes it there, and the citation's author is that person."""
    from warcio.archiveiterator import ArchiveIterator

    for name in (manifest.get("archive") or {}).get("warc_files") or []:
        try:
            with (snapshot / name).open("rb") as fh:
                for record in ArchiveIterator(fh):
                    if record.rec_type != "warcinfo":
                        break
                    fields = record.content_stream().read().decode("utf-8", "replace")
                    for line in fields.splitlines():
                        key, _, value = line.partition(":")
                        if key.strip().lower() == "operator" and value.strip():
                            return value.strip()
                    break
        except (OSError, ValueError):  # a damaged WARC: validate names it; no author then
            continue
    return ""


def citation_bytes(dataset: Dataset) -> bytes:
    newest = dataset.newest
    version = newest.id if newest else "none"
    released = newest.iso[:10] if newest else "1970-01-01"
    operator = (newest.info.manifest.get("settings") or {}).get("operator") if newest else ""
    if newest and not operator:  # a crawl names its operator in its WARC's warcinfo only
        operator = warcinfo_operator(newest.info.path, newest.info.manifest)
    author = str(operator or "").split("<")[0].strip() or "pilotarchive"
    lines = [
        "cff-version: 1.2.0",
        'message: "If you use this dataset, please cite it as below."',
        "type: dataset",
        f"title: {_yaml(TITLE)}",
        f"abstract: {_yaml(about(dataset))}",
        f"version: {_yaml(version)}",
        f"date-released: {released}",
        f"url: {_yaml(source_url(dataset))}",
        "authors:",
        f"  - name: {_yaml(author)}",
        "keywords:",
        *(f"  - {_yaml(k)}" for k in ("Finland", "regional towns", "pilots", "web archive")),
        "references:",
        "  - type: website",
        f"    title: {_yaml(SOURCE)}",
        f"    url: {_yaml(source_url(dataset))}",
        "    authors:",
        f"      - name: {_yaml('Työ- ja elinkeinoministeriö')}",
        f"    notes: {_yaml('Licence of the source material: ' + SOURCE_LICENCE)}",
        f"# made by pilotarchive {__version__}",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")
