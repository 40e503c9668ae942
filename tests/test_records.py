"""Records a researcher can count: every record says its rendering and its entity.

A page and its text version say the same things, in three languages: six page records,
thirty pilot records and forty-two contact records for five pilots and the project and
seven persons. ``entity_id`` makes them count as what they are.
"""

import json
from pathlib import Path

import pytest

from pilotarchive.diff.entities import entity_of
from pilotarchive.records.build import upgrade
from pilotarchive.records.entities import compute_entity
from pilotarchive.records.validate import record_errors, schema_version
from tests.test_golden import records_for

REPLICA = [
    f"replica-2014-11-19-{lang}{text}" for lang in ("fi", "sv", "en") for text in ("", "-text")
]
GOLDEN_RECORDS = Path(__file__).parent / "golden" / "records"


def _all() -> list[dict]:
    return [r for case in REPLICA for r in records_for(case)]


def test_every_record_says_its_rendering_and_entity() -> None:
    records = _all()
    for record in records:
        assert record["schema_version"] == schema_version(record["record_type"]) == "1.3.0"
        assert record["rendering"] in ("page", "text")
        assert record["entity_id"] == compute_entity(record["record_type"], record)
        assert record_errors(record) == []
    by_page = {r["id"]: r for r in records if r["record_type"] == "page"}
    for record in records:
        page = by_page[record.get("page_id") or record["id"]]
        assert record["rendering"] == ("text" if page["is_text_version"] else "page")


def test_one_entity_per_pilot_person_and_page_across_languages_and_renderings() -> None:
    records = _all()
    pilots = [r for r in records if r["record_type"] == "pilot"]
    assert len(pilots) == 30  # 6 pages x (4 pilots + the project)
    entities = {r["entity_id"] for r in pilots}
    assert len(entities) == 5
    assert sum(e.startswith("project-") for e in entities) == 1
    for entity in entities:  # each entity on all six pages
        assert len({r["page_id"] for r in pilots if r["entity_id"] == entity}) == 6
    pages = {r["entity_id"] for r in records if r["record_type"] == "page"}
    assert len(pages) == 1  # fi, sv, en, page and text: one page family
    people = {
        r["entity_id"]
        for r in records
        if r["record_type"] == "contact" and r["role"] == "further_information"
    }
    assert len(people) == 2  # Olli Alho and Lari Anttonen
    # Counting by entity: five pilots and projects, eight persons (the English page still
    # names the wellbeing pilot's old contact), one page.
    contacts = {r["entity_id"] for r in records if r["record_type"] == "contact"}
    assert len(contacts) == 8


@pytest.mark.parametrize("version", ["1.0.0", "1.1.0", "1.2.0"])
def test_older_records_get_the_same_entity_in_the_diff_and_when_carried(version: str) -> None:
    old = json.loads((GOLDEN_RECORDS / f"fi-table-schema-{version}.json").read_text())
    page = old[0]
    for record in old:
        assert "entity_id" not in record
        kind = record["record_type"]
        upgraded = upgrade(record, page)
        # Current when valid as such (1.1.0 and 1.2.0 are); 1.0.0 lacks more, keeps its version
        assert upgraded["schema_version"] == ("1.0.0" if version == "1.0.0" else "1.3.0")
        assert upgraded["rendering"] == "page"
        assert upgraded["entity_id"] == entity_of(kind, record) == compute_entity(kind, record)
        assert record_errors(upgraded) == [], (version, record["id"])
        assert record_errors(record) == []  # and the old one stays valid as it was


def test_the_diff_prefers_the_records_own_entity() -> None:
    record = {
        "record_type": "pilot",
        "kind": "pilot",
        "theme": "X",
        "entity_id": "pilot-" + "0" * 16,
    }
    assert entity_of("pilot", record) == "pilot-" + "0" * 16


def test_a_current_record_is_not_upgraded_again() -> None:
    record = records_for("replica-2014-11-19-sv")[1]
    assert upgrade(record) is record
