"""Identity through change, end to end: the replica's later versions (2015-06 to 2017-03)
crawled in turn as one target, then the register, the diff, the dataset and ``history``
asked what stayed the same.

The changes (``pilotarchive.replica.content``, IDENTITY_VERSIONS): a pilot led by a town in
none of the old hand-typed tables (Kemijärvi) that must be one pilot in fi, sv and en; its
lead then handed to a joint authority that is no town at all; a partner town joining; a
theme reworded; all six pilots renumbered in a new order; two pilots exchanging their
coordinators in one step; a contact person's new title and e-mail. The expected values
come from the replica's content, never from the code under test.
"""

import csv
import json
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

import pytest

from pilotarchive.cli import main
from pilotarchive.identity.register import ensure_register
from pilotarchive.replica.content import IDENTITY_VERSIONS, VERSIONS, PilotEntry
from pilotarchive.replica.server import ReplicaServer
from tests.helpers import crawl, load_records

TARGET = "tem"
LANGUAGES = ("fi", "sv", "en")


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, list[str]]:
    """The four versions crawled in turn into one output folder; the snapshot ids in
    version order."""
    output = tmp_path_factory.mktemp("identity") / "output"
    ids = []
    with ReplicaServer(port=0) as replica:
        for version in IDENTITY_VERSIONS:
            replica.set_version(version)
            ids.append(crawl(replica, output, "--target", TARGET).snapshot.name)
    return output, ids


def pilots_of(version: str) -> dict[str, PilotEntry]:
    return {p.key: p for p in VERSIONS[version].pages["fi"].pilots}


def entities_by_key(output: Path, ids: list[str]) -> dict[str, set[str]]:
    """Each replica pilot (by its key) with the entities its records were given, in every
    snapshot, language and rendering; the records found by the theme the page stated."""
    register = ensure_register(output, TARGET)
    seen: dict[str, set[str]] = defaultdict(set)
    for version, snapshot in zip(IDENTITY_VERSIONS, ids, strict=True):
        records = load_records(output / "snapshots" / snapshot)["pilots"]
        entity_of = register.entity_of(snapshot)
        for key, pilot in pilots_of(version).items():
            for language in LANGUAGES:
                found = [r for r in records if r["language"] == language
                         and r["theme"] == pilot.themes[language]]  # fmt: skip
                # The page and its text version (the Swedish one was gone in 2015-06).
                renderings = 2 if VERSIONS[version].pages[language].text_version else 1
                assert len(found) == renderings, (version, key, language, found)
                seen[key] |= {entity_of[r["id"]] for r in found}
    return seen


def test_each_pilot_is_one_entity_through_every_change(archive) -> None:
    output, ids = archive
    seen = entities_by_key(output, ids)
    assert set(seen) == {"industry", "wellbeing", "bilingual", "rural", "tourism", "arctic"}
    for key, entities in seen.items():
        assert len(entities) == 1, f"{key}: {entities}"
    assert len({e for entities in seen.values() for e in entities}) == 6  # none merged


def test_the_register_says_how_each_changed_pilot_was_matched(archive) -> None:
    """The changed pilots are matched as "changed" with a score, not begun again."""
    output, ids = archive
    register = ensure_register(output, TARGET)
    renumbered = register.assignment(ids[2])
    assert renumbered["began"] == [] and renumbered["ended"] == []
    exchanged = register.assignment(ids[3])
    assert exchanged["began"] == [] and exchanged["ended"] == []
    # The sixth pilot begins once (in 2016-02), as one entity for all its six records.
    began = register.assignment(ids[1])["began"]
    arctic = [e for e in began if e.startswith("pilot-")]
    assert len(arctic) == 1, began


def test_a_person_keeps_one_entity_through_a_new_title_and_email(archive) -> None:
    output, ids = archive
    register = ensure_register(output, TARGET)
    entities, titles, emails = set(), set(), set()
    for snapshot in ids:
        for r in load_records(output / "snapshots" / snapshot)["contacts"]:
            if r.get("family_name") == "Mäkinen":
                entities.add(register.entity_of(snapshot)[r["id"]])
                titles.add((r["language"], r.get("title")))
                emails.add(r.get("email"))
    assert emails == {"leena.makinen@raahe.fi", "leena.makinen@raahenseutu.fi"}
    assert ("fi", "elinkeinojohtaja") in titles and ("fi", "kehitysjohtaja") in titles
    assert len(entities) == 1, entities


def diff_json(output: Path, old: str, new: str, capsys) -> dict:
    assert main(["diff", old, new, "--output", str(output), "-f", "json"]) == 0
    return json.loads(capsys.readouterr().out)


# What each step changed on the pilots, per the replica's content: (fi theme, fields).
EXPECTED_PILOT_CHANGES = {
    2: {
        ("Arktinen biotalous ja luontomatkailu", ("coordinator",)),
        ("Hyvinvointipalvelut ja seudun elinvoima", ("municipalities",)),
        ("Matkailun ja kulttuuripalvelujen kehittäminen seudulla", ("theme",)),
    },
    3: {
        ("Teollisuuden rakennemuutos ja uudet kasvualat", ("coordinator", "contact")),
        ("Kaupunkien ja maaseudun vuorovaikutus", ("coordinator",)),
    },
}


@pytest.mark.parametrize("step", [2, 3], ids=["renumbered-reworded-joined", "exchanged"])
def test_the_diff_reports_modifications_not_additions_and_removals(archive, step, capsys):
    output, ids = archive
    diff = diff_json(output, ids[step - 1], ids[step], capsys)
    pilots = [c for c in diff["changes"] if c["record_type"] == "pilot"]
    assert {c["kind"] for c in pilots} == {"modified"}
    fi = {(c["label"], tuple(f["field"] for f in c["fields"]))
          for c in pilots if c["language"] == "fi"}  # fmt: skip
    assert fi == EXPECTED_PILOT_CHANGES[step]
    # Every language and rendering says it: 3 languages x page and text version.
    assert len(pilots) == 6 * len(EXPECTED_PILOT_CHANGES[step])
    # A record whose id moved with its reworded theme but whose fields did not change is
    # not a change (the tourism pilot's contact in 2016-09).
    assert all(c["fields"] for c in diff["changes"])
    if step == 3:
        exchanged = {c["label"]: c["fields"][0] for c in pilots if c["language"] == "fi"}
        assert exchanged["Teollisuuden rakennemuutos ja uudet kasvualat"] == {
            "field": "coordinator",
            "old": "Raahen kaupunki",
            "new": "Kokkolan kaupunki",
        }
        assert exchanged["Kaupunkien ja maaseudun vuorovaikutus"] == {
            "field": "coordinator",
            "old": "Kokkolan kaupunki",
            "new": "Raahen kaupunki",
        }
        contacts = [c for c in diff["changes"] if c["record_type"] == "contact"]
        assert {(c["language"], tuple(f["field"] for f in c["fields"])) for c in contacts} == {
            (language, ("title", "email")) for language in LANGUAGES
        }


def test_the_dataset_shows_one_entity_with_adjoining_versions(archive, tmp_path) -> None:
    output, _ = archive
    dataset = tmp_path / "dataset"
    assert main(["export", "--output", str(output), "--target", TARGET, "--to", str(dataset)]) == 0
    with (dataset / "pilots.csv").open(encoding="utf-8", newline="") as f:
        wanted = ("pilot", "fi", "page")
        rows = [r for r in csv.DictReader(f)
                if (r["kind"], r["language"], r["rendering"]) == wanted]  # fmt: skip
    by_entity: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_entity[row["entity_id"]].append(row)
    assert len(by_entity) == 6
    # The states each pilot had, per the replica (coordinator, theme, towns), in time order.
    expected: dict[str, list[tuple]] = defaultdict(list)
    for version in IDENTITY_VERSIONS:
        for key, p in pilots_of(version).items():
            state = (p.coordinators["fi"], p.themes["fi"], list(p.municipalities))
            if not expected[key] or expected[key][-1] != state:
                expected[key].append(state)
    got = {}
    for versions in by_entity.values():
        versions.sort(key=lambda r: r["valid_from"])
        # Validity adjoins: each version ends where the next begins; the last is open.
        for before, after in pairwise(versions):
            assert before["valid_to"] == after["valid_from"], (before, after)
        assert versions[-1]["valid_to"] == ""
        states = [(r["coordinator"], r["theme"], json.loads(r["municipalities"]))
                  for r in versions]  # fmt: skip
        # A change of the contact person's title is a version too (industry in 2017-03).
        deduped = [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s]
        got[versions[-1]["theme"]] = deduped
    assert sorted(got.values()) == sorted(expected.values())
    tourism = next(v for v in by_entity.values() if v[0]["theme"].startswith("Matkailu-"))
    assert [r["theme"] for r in tourism] == [
        "Matkailu- ja kulttuuripalvelujen kehittäminen",
        "Matkailun ja kulttuuripalvelujen kehittäminen seudulla",
    ]
    assert tourism[0]["valid_to"] == tourism[1]["valid_from"] != ""


def test_history_shows_each_change_of_each_field_with_its_snapshot(archive, capsys) -> None:
    output, ids = archive
    argv = ["history", "Teollisuuden", "--output", str(output), "--target", TARGET, "-f", "json"]
    assert main(argv) == 0
    events = json.loads(capsys.readouterr().out)["events"]
    # Modified once; (in 2016-02 its Swedish text version came back: "added with the page")
    changed = [e for e in events if any(c["kind"] == "modified" for c in e["changes"])]
    assert [e["snapshot_id"] for e in changed] == [ids[3]]
    fields = {(c["language"], f["field"], f["old"], f["new"])
              for c in changed[0]["changes"] for f in c["fields"]
              if f["field"] == "coordinator"}  # fmt: skip
    assert fields == {
        ("fi", "coordinator", "Raahen kaupunki", "Kokkolan kaupunki"),
        ("sv", "coordinator", "Brahestads stad", "Karleby stad"),
        ("en", "coordinator", "City of Raahe", "City of Kokkola"),
    }
    assert events[0]["what"] == "first seen" and events[0]["snapshot_id"] == ids[0]
    # The tourism pilot under its new theme has its history under the old one too.
    assert main(["history", "Matkailun ja kulttuuri", "--output", str(output),
                 "--target", TARGET, "-f", "json"]) == 0  # fmt: skip
    events = json.loads(capsys.readouterr().out)["events"]
    assert events[0]["snapshot_id"] == ids[0]
    themes = [(f["old"], f["new"]) for e in events for c in e["changes"]
              if c["language"] == "fi" for f in c["fields"] if f["field"] == "theme"]  # fmt: skip
    assert (
        themes
        == [
            (
                "Matkailu- ja kulttuuripalvelujen kehittäminen",
                "Matkailun ja kulttuuripalvelujen kehittäminen seudulla",
            )
        ]
        * 2
    )
