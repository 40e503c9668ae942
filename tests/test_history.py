"""``history`` as a reader meets it (issue 21): a thing still on the site is present, not
"last seen"; a person replaced as a pilot's contact, or becoming one, is told so.

The archive is the replica's versions crawled in turn (conftest ``archive``): in 2014-11-19
the wellbeing pilot's contact Juha Heikkinen is replaced by Sanna Kärkkäinen in Finnish and
Swedish, while the English page, new then, still names him; the 2015-06 English page names
her (``replica/content.py``). The expected lines are written by hand from that content.
"""

import json
from pathlib import Path

import pytest

from pilotarchive.archive.snapshot import list_snapshots
from tests.helpers import run_cli

FI_THEME = "Hyvinvointipalvelut ja seudun elinvoima"
SV_THEME = "Välfärdstjänster och regionens livskraft"
EN_THEME = "Welfare services and regional vitality"
FI_PAGE = "Pilotit seutukaupunkien kehittämiseen"
SV_PAGE = "Pilotprojekt för utveckling av regionstäder"
EN_PAGE = "Pilots for developing regional towns"


@pytest.fixture(scope="module")
def ids(archive: Path) -> list[str]:
    """The snapshots: 2014-06, 2014-11-19, the degraded redesign, 2015-06."""
    found = [s.id for s in list_snapshots(archive)]
    assert len(found) == 4
    return found


def history(archive: Path, *args: str) -> str:
    run = run_cli("history", *args, "--output", str(archive))
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_a_pilot_still_there_is_present_since_it_was_first_seen(archive, ids) -> None:
    out = history(archive, "Kaksikielisten")
    assert (
        f"  {ids[3]}  present\n      still there in the newest snapshot; present since {ids[0]}\n"
        in out
    )
    assert "last seen" not in out
    assert out.splitlines()[-2] == f"  {ids[3]}  present"


def test_a_person_gone_is_last_seen_then_gone(archive, ids) -> None:
    out = history(archive, "Heikkinen")
    assert f"  {ids[1]}  last seen\n" in out
    assert f"  {ids[3]}  gone\n      not in this snapshot\n" in out
    assert "present" not in out


def test_a_person_replaced_as_contact_says_by_whom(archive, ids) -> None:
    out = history(archive, "Heikkinen")
    expected_then = [
        f"      [fi] replaced as the contact of '{FI_THEME}' on {FI_PAGE} by Sanna Kärkkäinen",
        f"      [fi] replaced as the contact of '{FI_THEME}' on {FI_PAGE} (text version) "
        "by Sanna Kärkkäinen",
        f"      [sv] replaced as the contact of '{SV_THEME}' on {SV_PAGE} by Sanna Kärkkäinen",
        f"      [sv] replaced as the contact of '{SV_THEME}' on {SV_PAGE} (text version) "
        "by Sanna Kärkkäinen",
    ]
    lines = out.splitlines()
    at = lines.index(f"  {ids[1]}  changed")
    assert lines[at + 1 : at + 5] == expected_then
    later = lines.index(f"  {ids[3]}  changed")
    assert lines[later + 1 : later + 3] == [
        f"      [en] replaced as the contact of '{EN_THEME}' on {EN_PAGE} by Sanna Kärkkäinen",
        f"      [en] replaced as the contact of '{EN_THEME}' on {EN_PAGE} (text version) "
        "by Sanna Kärkkäinen",
    ]


def test_the_new_contact_says_whom_she_replaced(archive, ids) -> None:
    out = history(archive, "Kärkkäinen")
    lines = out.splitlines()
    at = lines.index(f"  {ids[1]}  first seen")
    assert lines[at + 1] == "      in fi, sv: Sanna Kärkkäinen"
    assert (
        f"      [fi] became the contact of '{FI_THEME}' on {FI_PAGE}, replacing Juha Heikkinen"
        in lines
    )
    assert (
        f"      [en] became the contact of '{EN_THEME}' on {EN_PAGE}, replacing Juha Heikkinen"
        in lines[lines.index(f"  {ids[3]}  changed") :]
    )
    assert lines[-2:] == [
        f"  {ids[3]}  present",
        f"      still there in the newest snapshot; present since {ids[1]}",
    ]


def test_json_names_the_replacement(archive, ids) -> None:
    data = json.loads(history(archive, "Heikkinen", "--format", "json"))
    (changed,) = [
        e for e in data["events"] if e["snapshot_id"] == ids[1] and e["what"] == "changed"
    ]
    replaced = [c for c in changed["changes"] if c["kind"] == "replaced as contact"]
    assert {(c["language"], c["pilot"]) for c in replaced} == {("fi", FI_THEME), ("sv", SV_THEME)}
    assert all(c["by"] == ["Sanna Kärkkäinen"] and c["label"] == "Juha Heikkinen" for c in replaced)
    whats = [e["what"] for e in data["events"]]
    assert "present" not in whats and whats[-1] == "gone"


def test_diff_and_history_name_a_record_file_changed_since_its_commit(
    archive: Path, ids: list[str], tmp_path: Path
) -> None:
    """Found by a new user's pass: a record file edited after the commit was diffed and
    its edits shown as the site's changes, while export, site and validate refused it."""
    import shutil

    copy = tmp_path / "out"
    shutil.copytree(archive, copy)
    pilots = copy / "snapshots" / ids[1] / "records" / "pilots.jsonl"
    pilots.write_text(pilots.read_text().replace("Loviisa", "Lovisa!"))
    run = run_cli("diff", ids[1], ids[3], "--output", str(copy))
    assert run.returncode == 1, run.stdout
    assert f"{pilots}: changed or damaged (sha256 differs)" in run.stderr
    assert "Lovisa!" not in run.stdout
    run = run_cli("history", "Porvoo", "--output", str(copy))
    assert f"skipping damaged snapshot {ids[1]}" in run.stderr
    assert "Lovisa!" not in run.stdout


def test_a_degraded_snapshot_before_the_entity_was_first_seen_is_not_listed(archive, ids) -> None:
    """Pekka Laine is first named in 2015-06, after the degraded redesign: that snapshot
    says nothing of him, so his history begins with "first seen" (it listed the degraded
    one first, as if it were part of his story)."""
    out = history(archive, "Pekka Laine")
    lines = [line for line in out.splitlines() if line.strip()]
    assert "first seen" in lines[1], out
    assert ids[2] not in out and "degraded" not in out
    # A pilot seen before the redesign still lists it, in its place.
    assert "a degraded snapshot" in history(archive, FI_THEME)
