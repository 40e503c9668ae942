"""The export's row store: rows come back in the order sorting them in memory gave, and a
store that cannot be written is a failure that says where, not a traceback."""

import random
from pathlib import Path

import pytest

from pilotarchive.exceptions import DiskFull
from pilotarchive.export.columns import CHANGES
from pilotarchive.export.rowstore import RowStore, sort_key

PARTS = ["", "a", "ab", "a\x00", "a\x00b", "\x00", "ä", "é", "z", "Ö", "0", "10", "9", "\U0001f600"]


def _row(rng: random.Random, n: int) -> dict:
    row = {k: rng.choice([*PARTS, None]) for k in CHANGES.primary_key}
    row["note"] = n  # where it was added, to see that ties keep that order
    return row


def test_rows_come_back_as_sorted_gave_them(tmp_path: Path) -> None:
    rng = random.Random(17)
    rows = [_row(rng, n) for n in range(600)]  # many ties among the key's parts of 15 values
    store = RowStore(tmp_path)
    for row in rows:
        store.add("changes", row)
    expected = sorted(rows, key=lambda r: tuple(str(r[k] or "") for k in CHANGES.primary_key))
    assert list(store.rows("changes")) == expected
    store.close()
    assert list(tmp_path.iterdir()) == []


def test_the_key_orders_part_by_part() -> None:
    def key(*first: str) -> bytes:
        parts = [*first, *[""] * (len(CHANGES.primary_key) - len(first))]
        return sort_key(CHANGES, dict(zip(CHANGES.primary_key, parts, strict=True)))

    assert key("a") < key("a\x00") < key("ab")
    assert key("a", "z") < key("ab")  # a shorter first part first


def test_a_store_that_cannot_be_made_names_where(tmp_path: Path) -> None:
    with pytest.raises(DiskFull, match="TMPDIR"):
        RowStore(tmp_path / "missing")
