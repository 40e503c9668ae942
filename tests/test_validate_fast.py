"""The compiled validator never accepts a record that jsonschema, the validator of record,
would reject: random damage to real records, checked by both."""

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pilotarchive.extract.page import extract_page
from pilotarchive.records.build import FetchFacts, build_records
from pilotarchive.records.validate import _fast, errors_for, record_errors, versioned

PAGES = sorted((Path(__file__).parent / "golden" / "pages").glob("*.html"))
FACTS = FetchFacts(snapshot_id="20141119T000000.000000Z", retrieved_at="2014-11-19T00:00:00Z")


def _records() -> list[dict]:
    out = []
    for page in PAGES:
        meta = json.loads(page.with_suffix(".meta.json").read_text(encoding="utf-8"))
        extraction = extract_page(
            page.read_bytes(), meta["url"], status=meta.get("status", 200),
            headers=meta.get("headers", {}),
        )  # fmt: skip
        out += build_records(extraction, FACTS)
    return out


RECORDS = _records()
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**6) | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip


def test_both_agree_on_every_golden_record() -> None:
    assert len(RECORDS) > 100
    valid = 0
    for record in RECORDS:
        name = versioned(record["record_type"], record["schema_version"])
        reference = errors_for(record, name)
        assert record_errors(record) == reference
        if not reference:
            _fast(name)(record)  # accepted by both, without falling back
            valid += 1
    assert valid > 100


@settings(max_examples=400, deadline=None)
@given(st.integers(0, len(RECORDS) - 1), st.data())
def test_the_fast_path_accepts_no_more_than_jsonschema(index: int, data) -> None:
    record = json.loads(json.dumps(RECORDS[index]))
    target = record
    path = []
    # Walk into the record a few levels, then replace, add or remove something there.
    for _ in range(data.draw(st.integers(0, 2))):
        keys = (
            [k for k, v in target.items() if isinstance(v, dict)]
            if isinstance(target, dict)
            else []
        )
        if not keys:
            break
        key = data.draw(st.sampled_from(sorted(keys)))
        path.append(key)
        target = target[key]
    action = data.draw(st.sampled_from(["replace", "add", "remove"]))
    keys = sorted(target, key=str)
    if action == "replace" and keys:
        target[data.draw(st.sampled_from(keys))] = data.draw(JSON)
    elif action == "remove" and keys:
        del target[data.draw(st.sampled_from(keys))]
    else:
        target[data.draw(st.text(min_size=1, max_size=12))] = data.draw(JSON)
    original = RECORDS[index]
    if (record.get("record_type"), record.get("schema_version")) != (
        original["record_type"],
        original["schema_version"],
    ):
        return  # another schema applies (or none): not what this compares
    name = versioned(original["record_type"], original["schema_version"])
    assert record_errors(record) == errors_for(record, name), (path, action)
