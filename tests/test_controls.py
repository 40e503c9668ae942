"""A page's control characters never reach a record, a terminal or a mail's text.

The hostile page's theme and coordinator hold ESC as a raw character and as ``&#27;``,
an OSC 8 hyperlink, 8-bit CSI (U+009B), NUL and a backspace: what a terminal would obey
(erase the DEGRADED line, make a clickable link).
"""

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from pilotarchive.cli import main
from pilotarchive.controls import (
    CONTROL,
    TerminalSafe,
    may_hold_controls,
    printable,
    strip_controls,
)
from pilotarchive.replica.server import ReplicaServer
from tests.helpers import load_records, run_cli
from tests.hostile import HostileServer

ESC = "\x1b"
HOSTILE_THEME = "Teollisuuden &#27;[2Krakennemuutos\x1b[31m ja uudet\x9b2K kasvualat\x08"
HOSTILE_TOWN = "Raahen &#x1B;]8;;http://evil.example/&#x1b;\\kaupunki&#x1b;]8;;&#x1b;\\"


def _pages(replica: ReplicaServer) -> tuple[bytes, bytes]:
    with urllib.request.urlopen(f"{replica.url}/seutukaupunkipilotit", timeout=10) as answer:
        honest = answer.read().decode("iso-8859-1")
    hostile = honest.replace("Teollisuuden rakennemuutos ja uudet kasvualat", HOSTILE_THEME)
    hostile = hostile.replace("Raahen kaupunki", HOSTILE_TOWN)
    assert hostile != honest
    return honest.encode("utf-8"), hostile.encode("utf-8")


def _crawl(server: HostileServer, output: Path) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        [sys.executable, "-m", "pilotarchive", "crawl", f"{server.url}/p", "--output",
         str(output), "--fast-loopback", "--scope", "page", "-s", "DOWNLOAD_TIMEOUT=5", "-v"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode in (0, 3), run.stderr
    return run


def _no_controls(where: str, text: str) -> None:
    bad = sorted({f"U+{ord(c):04X}" for c in CONTROL.findall(text)} | ({"CR"} & set(text)))
    assert not bad, f"{where}: {bad}"


def test_control_characters_reach_no_record_and_no_terminal(
    replica: ReplicaServer, hostile: HostileServer, tmp_path: Path
) -> None:
    honest, bad = _pages(replica)
    headers = [(b"Content-Type", b"text/html; charset=utf-8")]
    output = tmp_path / "out"
    hostile.route("/p", body=honest, headers=headers)
    _crawl(hostile, output)
    hostile.route("/p", body=bad, headers=headers)
    run = _crawl(hostile, output)
    _no_controls("crawl stdout", run.stdout)
    _no_controls("crawl stderr", run.stderr)

    records = load_records(Path(run.stdout.strip().splitlines()[-1]))
    for kind, rows in records.items():
        _no_controls(kind, json.dumps(rows, ensure_ascii=False))
    themes = [r["theme"] for r in records["pilots"]]
    assert "Teollisuuden [2Krakennemuutos[31m ja uudet2K kasvualat" in themes
    (page,) = [r for r in records["pages"] if r["url"].endswith("/p")]  # the others are 404s
    notes = [n for n in page["notes"] if n["kind"] == "control_characters"]
    # 4 in the theme, 4 in the coordinator's line
    assert notes and notes[0]["message"].startswith("8 control character(s)"), page["notes"]

    for argv in (["diff", "--output", str(output)], ["history", "Raahe", "--output", str(output)],
                 ["snapshots", "--output", str(output)]):  # fmt: skip
        shown = run_cli(*argv)
        assert shown.returncode in (0, 1), (argv, shown.stderr)
        _no_controls(f"{argv[0]} stdout", shown.stdout)
        _no_controls(f"{argv[0]} stderr", shown.stderr)
    assert "rakennemuutos" in run_cli("diff", "--output", str(output)).stdout


def test_what_the_cli_prints_shows_control_characters_instead_of_sending_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A path given by someone else (a script, a shared config) holds an escape sequence:
    # the error that names it must not erase the line before it.
    where = str(tmp_path / f"x{ESC}[2K{ESC}]8;;http://evil.example/{ESC}\\y\rDONE")
    assert main(["diff", "--output", where]) == 2
    err = capsys.readouterr().err
    assert ESC not in err and "\r" not in err
    assert "x\\x1b[2K\\x1b]8;;http:/evil.example/\\x1b\\y\\x0dDONE" in err  # a Path has no //
    assert sys.stdout is not None and not isinstance(sys.stdout, TerminalSafe)  # restored


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("&#27;", True), ("&#x1b;", True), ("&#X1B", True), ("&#0;", True), ("&#127;", True),
        ("&#27a", True), ("a\x1bb", True), ("a\x9bb", True), ("a\x00b", True),
        ("&#8211;", False), ("&#10;", False), ("&#9;", False), ("&#13;", False),
        ("&#x1bc;", False), ("&#270;", False), ("&#155;", False), ("plain\ttext\n", False),
    ],
)  # fmt: skip
def test_which_pages_are_looked_at_closely(source: str, expected: bool) -> None:
    assert may_hold_controls(source) is expected


def test_strip_and_show() -> None:
    assert strip_controls("a\x1b[2Kb\x9b\x00\tc\nd\re") == ("a[2Kb\tc\nd\re", 3)
    assert printable("a\x1b[2K\rb\x9b\tc\n") == "a\\x1b[2K\\x0db\\x9b\tc\n"
    assert printable("gpj.\u202eexe\u2066x\u2069") == "gpj.\\u202eexe\\u2066x\\u2069"
