"""Records from one page's extraction: plain dicts shaped by ``schemas/``.

The crawl's facts (snapshot id, retrieval time, redirects) come in as arguments, so the
same extraction gives byte-identical records in tests with a fixed clock.

Every record says which ``rendering`` it was read from ("page" or "text": a page and its
text version say the same things, and both are kept as evidence) and which ``entity_id``
it is an instance of, shared across languages and renderings (records/entities.py), so a
dataset counts each pilot, person and page once.
"""

from dataclasses import dataclass, field
from typing import Any

from pilotarchive.archive.warc import WarcRef
from pilotarchive.extract.contacts import Contact
from pilotarchive.extract.page import PageExtraction
from pilotarchive.records.entities import compute_entity
from pilotarchive.records.ids import contact_id, fingerprint, page_id, pilot_id
from pilotarchive.records.validate import record_errors, schema_version


@dataclass(frozen=True, slots=True)
class FetchFacts:
    """What the crawler knows about a fetch that the page itself does not say."""

    snapshot_id: str
    retrieved_at: str  # ISO 8601 UTC
    redirects: list[dict[str, Any]] = field(default_factory=list)
    content_length: int = 0
    fetch_status: int | None = None  # this fetch's HTTP status (304 for a carried page)
    http_etag: str | None = None
    http_last_modified: str | None = None
    warc: WarcRef | None = None


def provenance(facts: FetchFacts) -> dict[str, Any]:
    """The page record's fields that say where its bytes are and how they were fetched."""
    warc = facts.warc
    return {
        "redirects": facts.redirects,
        "fetch_status": facts.fetch_status,
        "http_etag": facts.http_etag,
        "http_last_modified": facts.http_last_modified,
        "warc_filename": warc.filename if warc else None,
        "warc_record_id": warc.record_id if warc else None,
        "warc_offset": warc.offset if warc else None,
        "warc_date": warc.date if warc else None,
        "warc_record_type": warc.record_type if warc else None,
        "warc_payload_digest": warc.payload_digest if warc else None,
        "warc_refers_to": warc.refers_to if warc else None,
    }


def _person(contact: Contact) -> dict[str, Any]:
    p = contact.person
    return {
        "name": p.name,
        "given_name": p.given_name,
        "family_name": p.family_name,
        "title": p.title,
        "email": contact.email,
        "email_source": contact.email_source,
        "phone": contact.phone,
    }


def build_records(page: PageExtraction, facts: FetchFacts) -> list[dict[str, Any]]:
    """The page record first, then its pilots, then its contacts."""
    pid = page_id(page.final_url)
    base = {
        "language": page.language,
        "source_url": page.final_url,
        "snapshot_id": facts.snapshot_id,
        "retrieved_at": facts.retrieved_at,
        "rendering": "text" if page.is_text_version else "page",
    }
    updated = page.updated
    programme = page.programme
    records: list[dict[str, Any]] = [
        {
            "record_type": "page",
            "schema_version": schema_version("page"),
            "id": pid,
            **base,
            "language_source": page.language_source,
            "url": page.url,
            "final_url": page.final_url,
            "status": page.status,
            "content_type": page.content_type,
            "encoding": page.encoding,
            "title": page.title,
            "updated": updated.date if updated else None,
            "updated_time": updated.time if updated else None,
            "updated_text": updated.text if updated else None,
            "updated_source": updated.source if updated else None,
            "alternates": dict(sorted(page.alternates.items())),
            "guessed_alternates": dict(sorted(page.guessed_alternates.items())),
            "text_version_url": page.text_version_url,
            "guessed_text_version_url": page.guessed_text_version_url,
            "graphic_version_url": page.graphic_version_url,
            "is_text_version": page.is_text_version,
            "content_sha256": page.content_sha256,
            "content_length": facts.content_length,
            "programme": (
                {
                    "pilot_count": programme.pilot_count,
                    "municipality_count": programme.municipality_count,
                    "years": programme.years,
                }
                if programme
                else None
            ),
            "pilot_count": len(page.pilots),
            "contact_count": len(page.contacts) + sum(1 for p in page.pilots if p.contact),
            "error": page.error,
            "encoding_errors": page.encoding_errors,
            "notes": [note.as_dict() for note in page.notes],
            **provenance(facts),
            "unchanged": False,
            "carried_over_from": None,
        }
    ]
    contacts: list[dict[str, Any]] = []

    def add_contact(contact: Contact, pilot: str | None) -> None:
        p = contact.person
        contacts.append(
            {
                "record_type": "contact",
                "schema_version": schema_version("contact"),
                "id": contact_id(pid, contact.role, pilot, p.given_name, p.family_name),
                **base,
                "page_id": pid,
                "pilot_id": pilot,
                **_person(contact),
                "organization": contact.organization,
                "role": contact.role,
                "name_order": p.order,
                "unchanged": False,
                "carried_over_from": None,
            }
        )

    for position, pilot in enumerate(page.pilots):
        ident = pilot_id(pid, pilot.kind, pilot.theme, pilot.coordinator)
        records.append(
            {
                "record_type": "pilot",
                "schema_version": schema_version("pilot"),
                "id": ident,
                **base,
                "page_id": pid,
                "kind": pilot.kind,
                "theme": pilot.theme,
                "coordinator": pilot.coordinator,
                "contact": _person(pilot.contact) if pilot.contact else None,
                "municipalities": pilot.municipalities,
                "form": pilot.form,
                "position": position,
                "unchanged": False,
                "carried_over_from": None,
            }
        )
        if pilot.contact:
            add_contact(pilot.contact, ident)
    for contact in page.contacts:
        add_contact(contact, None)
    out = records + contacts
    for record in out:
        record["entity_id"] = compute_entity(record["record_type"], record)
        record["fingerprint"] = fingerprint(record)
    return out


def upgrade(record: dict[str, Any], page: dict[str, Any] | None = None) -> dict[str, Any]:
    """A record of an earlier schema version carried into a new snapshot (304 Not
    Modified), given what the current version requires and can be known without the page:
    ``rendering`` and ``entity_id``. Fields only a new extraction knows (``notes``,
    ``encoding_errors``, guessed URLs) stay absent. The record then claims the current
    schema version when it is valid under it (a 1.2.0 record is); an older one keeps its
    version and gains the two fields (the old schemas allow more fields). The fingerprint is
    recomputed by the snapshot writer. ``page`` is the page record a pilot or contact came
    from (its rendering is the page's). A record already current is returned as it is."""
    kind = record.get("record_type")
    if kind not in ("page", "pilot", "contact") or record.get("entity_id"):
        return record
    out = dict(record)
    if "rendering" not in out:
        source = out if kind == "page" else (page or {})
        out["rendering"] = "text" if source.get("is_text_version") else "page"
    out["entity_id"] = compute_entity(kind, out)
    current = {**out, "schema_version": schema_version(kind)}
    current.setdefault("fingerprint", fingerprint(current))
    return current if not record_errors(current) else out
