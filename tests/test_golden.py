"""Golden cases: a saved page in, the expected records out.

Each ``tests/golden/pages/<case>.html`` has a ``.meta.json`` (URL, status, headers) and an
``.expected.json``. To add a case, save the page and its meta, then run
``PILOTARCHIVE_REGEN_GOLDEN=1 pytest tests/test_golden.py`` and read the new expected file
before committing it. An expected file is never regenerated to make a failing test pass
without saying why in the commit.
"""

import json
import os
from pathlib import Path

import pytest

from pilotarchive.extract.page import extract_page
from pilotarchive.records.build import FetchFacts, build_records
from pilotarchive.records.validate import record_errors

PAGES = Path(__file__).parent / "golden" / "pages"
CASES = sorted(p.name.removesuffix(".html") for p in PAGES.glob("*.html"))
FACTS = FetchFacts(snapshot_id="20141119T000000Z", retrieved_at="2014-11-19T00:00:00Z")


def records_for(case: str) -> list[dict]:
    meta = json.loads((PAGES / f"{case}.meta.json").read_text(encoding="utf-8"))
    body = (PAGES / f"{case}.html").read_bytes()
    page = extract_page(
        body,
        meta["url"],
        status=meta["status"],
        headers=meta["headers"],
        link_hint=meta.get("link_hint"),
    )
    return build_records(
        page, FetchFacts(FACTS.snapshot_id, FACTS.retrieved_at, content_length=len(body))
    )


@pytest.mark.parametrize("case", CASES)
def test_golden_case(case: str) -> None:
    records = records_for(case)
    expected_file = PAGES / f"{case}.expected.json"
    text = json.dumps(records, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if os.environ.get("PILOTARCHIVE_REGEN_GOLDEN"):
        expected_file.write_text(text, encoding="utf-8")
    assert expected_file.exists(), f"no expected output for {case}; see this module's docstring"
    assert records == json.loads(expected_file.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES)
def test_golden_records_are_valid(case: str) -> None:
    for record in records_for(case):
        assert record_errors(record) == [], record["id"]


def test_no_mojibake_in_any_golden_record() -> None:
    for case in CASES:
        text = json.dumps(records_for(case), ensure_ascii=False)
        for bad in ("Ã¤", "Ã¶", "Ã¥", "\ufffd", "&auml;"):
            assert bad not in text, (case, bad)
