"""The tables of the dataset: their columns, types, keys and descriptions.

One definition serves every format (CSV, JSONL, SQLite, Datasette's metadata, the data
package), so they can never disagree. A column describing a record field takes its
description from our JSON Schemas (``schemas/``) when the schema has one, and from the
text here otherwise. The column sets are fixed, never derived from the data, so a row
written today reads byte for byte the same in next week's export.
"""

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from pilotarchive.records.validate import schema_dir

# Frictionless Table Schema types used here: string, integer, boolean, date, datetime, array.


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    field: str | None = None  # the record field (schema path "a/b") the column comes from
    required: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()
    foreign_keys: tuple[tuple[str, str, str], ...] = ()  # (column, table, its column)
    record_type: str | None = None

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def C(
    name: str, type: str, description: str, field: str | None = None, *, required: bool = False
) -> Column:
    return Column(name, type, description, field, required)


_VERSION_HEAD = (
    C(
        "entity_id",
        "string",
        "The entity (pilot, person or page family) this row is a "
        "version of: one id for the same entity in every language and rendering.",
        required=True,
    ),
    C(
        "language",
        "string",
        "Language of the page the values were read from: fi, sv, en "
        "(und when no evidence told it).",
        required=True,
    ),
    C(
        "valid_from",
        "datetime",
        "Time of the snapshot in which this version was first seen (UTC, ISO 8601).",
        required=True,
    ),
    C(
        "valid_to",
        "datetime",
        "Time of the first healthy snapshot that no longer showed this "
        "version (it changed or was gone); empty while the version is current.",
    ),
    C(
        "first_snapshot",
        "string",
        "Id of the snapshot in which this version was first seen.",
        required=True,
    ),
    C(
        "last_snapshot",
        "string",
        "Id of the last snapshot that showed this version; empty "
        "while the version is current (the newest snapshot shows it).",
    ),
    C(
        "rendering",
        "string",
        "Where the values were read: page (the graphic page) or text "
        "(its text version, used only while the graphic page did not give the entity).",
        required=True,
    ),
    C(
        "id",
        "string",
        "The record's stable id in the snapshots (per page, language and rendering).",
        "id",
        required=True,
    ),
)
_PROVENANCE = (
    C("source_url", "string", "The URL the values were read from.", "source_url"),
    C(
        "warc_filename",
        "string",
        "The WARC file (under the snapshot's archive/ folder, named "
        "after the snapshot) holding the response the values were read from.",
        "warc_filename",
    ),
    C(
        "warc_record_id",
        "string",
        "WARC-Record-ID of that response record (for a revisit, the original it refers to).",
        "warc_record_id",
    ),
)
_PERSON = ("name", "given_name", "family_name", "title", "email", "email_source", "phone")

PILOTS = Table(
    "pilots",
    "Pilot versions",
    "Every version of every pilot (and of the separate project) per language: one row from "
    "the snapshot where the values were first seen until the snapshot that changed them.",
    (
        *_VERSION_HEAD,
        C("page_id", "string", "Id of the page record the pilot was read from.", "page_id"),
        C("kind", "string", "pilot, or project for the separate project.", "kind"),
        C("theme", "string", "The pilot's theme, as written.", "theme"),
        C("coordinator", "string", "The coordinating town or body, as written.", "coordinator"),
        *(
            C(
                f"contact_{k}",
                "string",
                f"The pilot's contact person: {k.replace('_', ' ')}.",
                f"contact/{k}",
            )
            for k in _PERSON
        ),
        C(
            "municipalities",
            "array",
            "The partner municipalities as written (JSON array).",
            "municipalities",
        ),
        C("form", "string", "How the page wrote the entry.", "form"),
        *_PROVENANCE,
    ),
    ("entity_id", "language", "first_snapshot"),
    (("entity_id",), ("valid_from",), ("valid_to",), ("language", "valid_to")),
    (("first_snapshot", "snapshots", "snapshot_id"), ("last_snapshot", "snapshots", "snapshot_id")),
    "pilot",
)

CONTACTS = Table(
    "contacts",
    "Contact person versions",
    "Every version of every contact person per language: the persons of the 'further "
    "information' box and the pilot and project contacts.",
    (
        *_VERSION_HEAD,
        C("page_id", "string", "Id of the page record the person was read from.", "page_id"),
        C("pilot_id", "string", "Record id of the pilot the person is the contact of.", "pilot_id"),
        C(
            "pilot_entity_id",
            "string",
            "Entity id of that pilot (joins pilots.entity_id across languages).",
        ),
        *(
            C(k, "string", k.replace("_", " ").capitalize() + ".", k)
            for k in (*_PERSON, "organization", "role", "name_order")
        ),
        *_PROVENANCE,
    ),
    ("entity_id", "language", "first_snapshot"),
    (("entity_id",), ("valid_from",), ("valid_to",), ("pilot_entity_id",)),
    (("first_snapshot", "snapshots", "snapshot_id"), ("last_snapshot", "snapshots", "snapshot_id")),
    "contact",
)

PAGES = Table(
    "pages",
    "Page versions",
    "Every version of every page family per language (the graphic page; its text version "
    "stands in only while the graphic page is missing). A page answering 404 ends its "
    "version.",
    (
        *_VERSION_HEAD,
        C("url", "string", "The URL requested.", "url"),
        C("final_url", "string", "The URL after redirects.", "final_url"),
        C("status", "integer", "HTTP status of the page.", "status"),
        C("content_type", "string", "Content-Type of the answer.", "content_type"),
        C("title", "string", "The page's title.", "title"),
        C("updated", "date", "The update date the page states (ISO date).", "updated"),
        C("updated_time", "string", "The update time the page states (HH:MM).", "updated_time"),
        C("updated_text", "string", "The update statement as written.", "updated_text"),
        C(
            "updated_source",
            "string",
            "Where the update date was read: text, meta:<name> or http-last-modified.",
            "updated_source",
        ),
        *(
            C(
                f"alternates_{lang}",
                "string",
                f"URL of the {name} version the page links to.",
                f"alternates/{lang}",
            )
            for lang, name in (("fi", "Finnish"), ("sv", "Swedish"), ("en", "English"))
        ),
        C("text_version_url", "string", "URL of the page's text version.", "text_version_url"),
        C(
            "graphic_version_url",
            "string",
            "URL of the graphic version (on a text version).",
            "graphic_version_url",
        ),
        C("content_sha256", "string", "SHA-256 of the page's body as received.", "content_sha256"),
        C(
            "programme_pilot_count",
            "integer",
            "Number of pilots the page states.",
            "programme/pilot_count",
        ),
        C(
            "programme_municipality_count",
            "integer",
            "Number of municipalities the page states.",
            "programme/municipality_count",
        ),
        C(
            "programme_years",
            "array",
            "Years of the programme the page states (JSON array).",
            "programme/years",
        ),
        C(
            "pilot_count",
            "integer",
            "Pilot and project records read from this page.",
            "pilot_count",
        ),
        C("contact_count", "integer", "Contact records read from this page.", "contact_count"),
        C("error", "string", "Why nothing was extracted, if so.", "error"),
        *_PROVENANCE,
    ),
    ("entity_id", "language", "first_snapshot"),
    (("entity_id",), ("valid_from",), ("valid_to",)),
    (("first_snapshot", "snapshots", "snapshot_id"), ("last_snapshot", "snapshots", "snapshot_id")),
    "page",
)

CHANGES = Table(
    "changes",
    "Field-level changes",
    "One row per field that changed between two consecutive healthy snapshots, as the diff "
    "reports it, in every language and rendering (the text versions too).",
    (
        C("old_snapshot", "string", "The older snapshot of the pair.", required=True),
        C("new_snapshot", "string", "The newer snapshot of the pair.", required=True),
        C("detected_at", "datetime", "Time of the newer snapshot (UTC, ISO 8601).", required=True),
        C("record_type", "string", "page, pilot or contact.", required=True),
        C(
            "entity_id",
            "string",
            "The entity, as in the pilots, contacts and pages tables.",
            required=True,
        ),
        C("language", "string", "Language of the record (und when unknown).", required=True),
        C(
            "rendering",
            "string",
            "page or text: which rendering of the page the record is on.",
            required=True,
        ),
        C(
            "record_id",
            "string",
            "The record's id (the new one when it was renamed).",
            required=True,
        ),
        C(
            "change",
            "string",
            "added, removed, modified, appeared (a page) or disappeared (a page gone, e.g. 404).",
            required=True,
        ),
        C(
            "field",
            "string",
            "The field that changed; 'record' for an added or removed "
            "record that said nothing more, 'text' for a change of the page's text alone.",
            required=True,
        ),
        C("old", "string", "The old value: text as is, other values as JSON; empty for none."),
        C("new", "string", "The new value, written as old is."),
        C("label", "string", "The record as a person reads it: theme, name or title."),
        C(
            "note",
            "string",
            "More: the text diff, a pairing by similarity, the records that "
            "came or went with a page.",
        ),
    ),
    # The entity too: a record that ended with its entity and came back with a new one
    # (the snapshot between them left out, damaged) is removed from the one and added to
    # the other under the same record id; without it those two rows had one key and the
    # whole export stopped ("a bug").
    ("old_snapshot", "new_snapshot", "record_type", "record_id", "entity_id", "field"),
    (("entity_id",), ("new_snapshot",), ("detected_at",)),
    (("old_snapshot", "snapshots", "snapshot_id"), ("new_snapshot", "snapshots", "snapshot_id")),
)

SNAPSHOTS = Table(
    "snapshots",
    "Snapshots",
    "One row per snapshot, used or not: degraded and damaged ones are listed but give no versions.",
    (
        C("snapshot_id", "string", "The snapshot's id (a UTC time).", required=True),
        C(
            "time",
            "datetime",
            "The time the id names (UTC, ISO 8601); empty for a folder "
            "whose name is no snapshot id.",
        ),
        C("target", "string", "The scheduled target the snapshot belongs to, if any."),
        C("origin", "string", "crawl, or backfill from web-archive captures."),
        C("started_at", "datetime", "When the crawl started."),
        C("finished_at", "datetime", "When the crawl finished."),
        C(
            "health",
            "string",
            "healthy, degraded (judged when made), damaged (cannot be read) or unknown.",
            required=True,
        ),
        C(
            "used",
            "boolean",
            "Whether its records are in the version tables (healthy and readable).",
            required=True,
        ),
        C("health_baseline", "string", "The snapshot it was judged against."),
        C("pages", "integer", "Page records."),
        C("pilots", "integer", "Pilot and project records."),
        C("contacts", "integer", "Contact records."),
        C("failures", "integer", "Fetches that failed."),
        C("rejected", "integer", "Records that failed their schema."),
        C("software_version", "string", "pilotarchive version that made it."),
        C("start_urls", "array", "The crawl's start URLs (JSON array)."),
        C("note", "string", "Why it is not used: the health findings or the damage."),
    ),
    ("snapshot_id",),
    (("time",),),
)

TABLES: tuple[Table, ...] = (PILOTS, CONTACTS, PAGES, CHANGES, SNAPSHOTS)


@cache
def _schemas() -> dict[str, dict[str, Any]]:
    out = {}
    for name in ("page", "pilot", "contact", "common"):
        path = schema_dir() / f"{name}.schema.json"
        out[name] = json.loads(path.read_text(encoding="utf-8"))
    return out


def schema_description(record_type: str, field: str) -> str | None:
    """A field's description in our JSON Schemas (``contact/email``: the person's e-mail)."""
    schemas = _schemas()
    head, _, rest = field.partition("/")
    prop = schemas[record_type].get("properties", {}).get(head)
    if prop is None:
        prop = schemas["common"]["$defs"]["base"]["properties"].get(head)
    if prop is None:
        return None
    if rest and head == "contact":
        prop = schemas["common"]["$defs"]["person"]["properties"].get(rest) or {}
    elif rest:
        prop = (prop.get("properties") or {}).get(rest) or {}
    described = prop.get("description")
    return str(described) if described else None


def description(table: Table, column: Column) -> str:
    """The column's description: the schema's words for the field when it has some."""
    if table.record_type and column.field:
        found = schema_description(table.record_type, column.field)
        if found and "/" in column.field:  # a part of an object: say of which
            return f"{column.description.rstrip('.')}: {found}"
        if found:
            return found
    return column.description
