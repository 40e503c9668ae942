"""Entities for the diff: the record's own ``entity_id``, or, for records written before
schemas 1.3.0 carried one, the same computation (``records/entities.py``) made here.
"""

from typing import Any

from pilotarchive.records.entities import (
    PLACES,
    compute_entity,
    page_entity,
    page_family,
    person_entity,
    person_key,
    pilot_entity,
    place,
)

__all__ = [
    "PLACES",
    "entity_of",
    "page_entity",
    "page_family",
    "person_entity",
    "person_key",
    "pilot_entity",
    "place",
]


def entity_of(kind: str, record: dict[str, Any]) -> str:
    """The record's ``entity_id`` when it has one; computed for older records."""
    return record.get("entity_id") or compute_entity(kind, record)
