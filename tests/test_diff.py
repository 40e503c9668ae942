"""Diffing the replica's versions: exactly the changes made, and no false alarms."""

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from pilotarchive.diff.compare import diff_paths
from pilotarchive.records.ids import fingerprint
from pilotarchive.records.validate import errors_for
from tests.helpers import run_cli


def summary(diff: dict) -> Counter[tuple]:
    """Each change as (language, what, kind, label, the fields that changed), counted: the
    page and its text version carry the same pilot change, and both must be reported."""
    return Counter(
        (
            c["language"],
            c["record_type"],
            c["kind"],
            c["label"],
            tuple(sorted(f["field"] for f in c["fields"])),
        )
        for c in diff["changes"]
    )


def test_from_2014_06_to_2014_11_19(snapshots) -> None:
    diff = diff_paths(snapshots["2014-06"], snapshots["2014-11-19"])
    assert diff["health"]["verdict"] == "healthy" and diff["health"]["findings"] == []
    pilots_fi = "Pilotit seutukaupunkien kehittämiseen"
    pilots_sv = "Pilotprojekt för utveckling av regionstäder"
    pilots_en = "Pilots for developing regional towns"
    text = " (text version)"
    wellbeing = ("pilot", "modified")
    assert summary(diff) == Counter(
        {
            # The pages are updated and link to the new English pilots page.
            ("fi", "page", "modified", pilots_fi, ("alternates", "updated")): 1,
            ("fi", "page", "modified", pilots_fi + text, ("alternates", "updated")): 1,
            ("sv", "page", "modified", pilots_sv, ("alternates", "updated")): 1,
            ("sv", "page", "modified", pilots_sv + text, ("alternates", "updated")): 1,
            # The English pilots page and its text version appear.
            ("en", "page", "appeared", pilots_en, ("status",)): 1,
            ("en", "page", "appeared", pilots_en + text, ("status",)): 1,
            # The wellbeing pilot's contact is replaced, in Finnish and Swedish, each on the
            # page and on its text version.
            ("fi", *wellbeing, "Hyvinvointipalvelut ja seudun elinvoima", ("contact",)): 2,
            ("sv", *wellbeing, "Välfärdstjänster och regionens livskraft", ("contact",)): 2,
        }
    )
    contact = [c for c in diff["changes"] if c["record_type"] == "pilot"]
    assert len(contact) == 4  # fi, fi text, sv, sv text
    for c in contact:
        (field,) = c["fields"]
        assert (field["old"]["name"], field["new"]["name"]) == (
            "Juha Heikkinen",
            "Sanna Kärkkäinen",
        )
        assert {r["name"] for r in c["contact_records"]} == {"Juha Heikkinen", "Sanna Kärkkäinen"}
    appeared = [c for c in diff["changes"] if c["kind"] == "appeared"]
    assert all(len(c["records"]["added"]) == 12 for c in appeared)  # 5 pilots, 7 contacts
    # The English front pages were linked in 2014-06 only: not fetched, not "removed".
    assert {p["label"] for p in diff["not_fetched"] if p["language"] == "en"} == {
        "Front page",
        "Front page (text version)",
    }
    # English lags: the old contact, an older update date.
    lag = {(x["behind"], x["field"], tuple(x["changed_in"])) for x in diff["translation_lag"]}
    assert lag == {("en", "contact", ("fi", "sv")), ("en", "updated", ("fi", "sv"))}
    stale = next(x for x in diff["translation_lag"] if x["field"] == "contact")
    assert stale["value_there"]["name"] == "Juha Heikkinen"


def test_from_2014_11_19_to_2015_06(snapshots) -> None:
    diff = diff_paths(snapshots["2014-11-19"], snapshots["2015-06"])
    assert diff["health"]["verdict"] == "healthy"
    got = summary(diff)
    pages = {
        (lang, label)
        for lang, label in (
            ("fi", "Pilotit seutukaupunkien kehittämiseen"),
            ("fi", "Pilotit seutukaupunkien kehittämiseen (text version)"),
            ("sv", "Pilotprojekt för utveckling av regionstäder"),
            ("en", "Pilots for developing regional towns"),
            ("en", "Pilots for developing regional towns (text version)"),
        )
    }
    expected = Counter(
        {(lang, "page", "modified", label, ("programme", "updated")): 1 for lang, label in pages}
    )
    sv_text = "Pilotprojekt för utveckling av regionstäder (text version)"
    expected[("sv", "page", "disappeared", sv_text, ("status",))] = 1
    tourism = {
        "fi": "Matkailu- ja kulttuuripalvelujen kehittäminen",
        "sv": "Utveckling av turism- och kulturtjänster",
        "en": "Developing tourism and cultural services",
    }
    bilingual = {
        "fi": "Kaksikielisten kaupunkien yhteistyö ja kansainvälistyminen",
        "sv": "Samarbete och internationalisering i tvåspråkiga städer",
        "en": "Cooperation and internationalisation of bilingual towns",
    }
    # Each pilot change twice where the language has a text version (fi, en), once in sv.
    for lang, times in (("fi", 2), ("sv", 1), ("en", 2)):
        fields = ("contact", "coordinator", "municipalities")
        expected[(lang, "pilot", "added", tourism[lang], fields)] = times
        expected[(lang, "pilot", "modified", bilingual[lang], ("coordinator",))] = times
    welfare = "Welfare services and regional vitality"
    expected[("en", "pilot", "modified", welfare, ("contact",))] = 2
    assert got == expected
    assert len(diff["changes"]) == 18  # fi and en twice (page and text version), sv once
    coordinators = {
        (c["language"], c["fields"][0]["old"], c["fields"][0]["new"])
        for c in diff["changes"]
        if c["label"] in bilingual.values()
    }
    assert coordinators == {
        ("fi", "Loviisan kaupunki", "Porvoon kaupunki"),
        ("sv", "Lovisa stad", "Borgå stad"),
        ("en", "Town of Loviisa", "City of Porvoo"),
    }
    gone = next(c for c in diff["changes"] if c["kind"] == "disappeared")
    assert len(gone["records"]["removed"]) == 12  # a real removal: the page is a 404
    assert diff["translation_lag"] == []  # English caught up
    # One pilot, one entity, in every language.
    entities = {c["entity_id"] for c in diff["changes"] if c["label"] in bilingual.values()}
    assert len(entities) == 1


@pytest.mark.parametrize("broken", ["2014-11-19-redesign", "2014-11-19-empty"])
def test_broken_pages_are_findings_not_removals(snapshots, broken: str) -> None:
    diff = diff_paths(snapshots["2014-11-19"], snapshots[broken])
    assert diff["health"]["verdict"] == "degraded"
    failed = [f for f in diff["health"]["findings"] if f["kind"] == "extraction_failed"]
    assert {f["language"] for f in failed if f["record_type"] == "pilot"} == {"fi", "sv", "en"}
    assert all(f["suppressed_removals"] > 0 for f in failed if f["record_type"] == "pilot")
    assert [c for c in diff["changes"] if c["kind"] == "removed"] == []
    assert diff["changes"] == []  # same content: nothing else to report


def test_similar_records_pair_instead_of_add_and_remove(snapshots, tmp_path: Path) -> None:
    old = snapshots["2014-11-19"]
    new = tmp_path / "snapshots" / "20990101T000000Z"
    shutil.copytree(old, new)
    pilots = new / "records" / "pilots.jsonl"
    lines, renamed_ids = [], iter(f"pilot-00000000000000a{n}" for n in range(10))
    for line in pilots.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["theme"] == "Kaupunkien ja maaseudun vuorovaikutus":
            record["theme"] = "Kaupunkien ja maaseudun välinen vuorovaikutus"
            record["id"] = next(renamed_ids)  # a new theme gives a new id
            record["fingerprint"] = fingerprint(record)
        lines.append(json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
    pilots.write_text("\n".join(lines) + "\n", encoding="utf-8")
    diff = diff_paths(old, new)
    renamed = [c for c in diff["changes"] if c["record_type"] == "pilot"]
    assert len(renamed) == 2  # on the page and on its text version
    for change in renamed:
        assert change["kind"] == "modified" and change["matched_by"] == "similarity"
        assert change["old_id"] and change["old_id"] != change["id"]
        assert change["fields"] == [
            {
                "field": "theme",
                "old": "Kaupunkien ja maaseudun vuorovaikutus",
                "new": "Kaupunkien ja maaseudun välinen vuorovaikutus",
            }
        ]


def test_json_validates_and_cli_defaults_to_the_two_latest(snapshots, tmp_path: Path) -> None:
    root = tmp_path / "out"
    (root / "snapshots").mkdir(parents=True)
    for version in ("2014-06", "2014-11-19", "2015-06"):
        shutil.copytree(snapshots[version], root / "snapshots" / snapshots[version].name)
    run = run_cli("diff", "--output", str(root), "--format", "json")
    assert run.returncode == 0, run.stderr
    diff = json.loads(run.stdout)
    assert errors_for(diff, "diff") == []
    assert (diff["old"]["snapshot_id"], diff["new"]["snapshot_id"]) == (
        snapshots["2014-11-19"].name,
        snapshots["2015-06"].name,
    )
    text = run_cli(
        "diff", snapshots["2014-06"].name, snapshots["2014-11-19"].name, "--output", str(root)
    )
    assert "new snapshot HEALTHY" in text.stdout
    assert "contact: Juha Heikkinen" in text.stdout and "-> Sanna Kärkkäinen" in text.stdout
    assert "Translation lag" in text.stdout
    assert run_cli("diff", "--output", str(tmp_path / "none")).returncode == 2


def test_history_of_a_pilot(snapshots, tmp_path: Path) -> None:
    root = tmp_path / "out"
    (root / "snapshots").mkdir(parents=True)
    for version in ("2014-06", "2014-11-19", "2015-06"):
        shutil.copytree(snapshots[version], root / "snapshots" / snapshots[version].name)
    run = run_cli("history", "Kaksikielisten", "--output", str(root))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("history of pilot-")
    assert f"{snapshots['2014-06'].name}  first seen" in run.stdout
    assert "in fi, sv" in run.stdout
    assert "coordinator: Loviisan kaupunki -> Porvoon kaupunki" in run.stdout
    # Still on the page in the newest snapshot: present, not "last seen" (issue 21).
    assert f"{snapshots['2015-06'].name}  present" in run.stdout
    assert f"present since {snapshots['2014-06'].name}" in run.stdout
    assert "last seen" not in run.stdout
    several = run_cli("history", "Heikkinen", "--output", str(root))
    assert several.returncode == 0 and "person-" in several.stdout


def test_text_diff_of_a_page_reads_both_warcs(snapshots) -> None:
    from pilotarchive.diff.compare import text_diff
    from pilotarchive.diff.load import load_snapshot

    old, new = load_snapshot(snapshots["2014-11-19"]), load_snapshot(snapshots["2015-06"])
    fi = next(pid for pid, p in old.pages.items() if p["final_url"].endswith("/index.phtml?s=4398"))
    lines, problem = text_diff(old, new, old.pages[fi], new.pages[fi])
    assert problem is None
    assert lines[0] == "--- old" and lines[1] == "+++ new"
    removed = [x for x in lines if x.startswith("-") and "neljä pilottia" in x]
    added = [x for x in lines if x.startswith("+") and "viisi pilottia" in x]
    assert removed and added
    assert not any("Sivukartta" in x for x in lines)  # navigation is not main text


def test_html_links_never_download_a_whole_warc(snapshots, tmp_path: Path) -> None:
    # Issue 10: the "archived" links went to whole .warc.gz files; now they go to the
    # archive site's view of the page (tests/test_site.py) or a replay, or name the record.
    from pilotarchive.diff.render import render_html

    diff = diff_paths(snapshots["2014-11-19"], snapshots["2015-06"])
    html = render_html(diff)
    hrefs = [part.split('"', 1)[0] for part in html.split('href="')[1:]]
    assert not [href for href in hrefs if ".warc" in href]
    assert ".warc.gz @" in html  # the record is named, as text
    replay = render_html(diff, replay="http://127.0.0.1:8080/pilots/{timestamp}/{url}")
    assert "http://127.0.0.1:8080/pilots/" in replay


def test_every_snapshot_gets_a_health_verdict(replica, tmp_path: Path) -> None:
    """Judged when made, against the last healthy snapshot: two broken crawls in a row
    are both degraded."""
    from tests.helpers import crawl, load_manifest

    first = crawl(replica, tmp_path).snapshot
    health = load_manifest(first)["health"]  # judged on its own: nothing to compare with
    assert (health["verdict"], health["baseline"]) == ("healthy", None)
    replica.set_version("2014-11-19-empty")
    broken = crawl(replica, tmp_path, expect=3)  # exit 3: written, but degraded
    again = crawl(replica, tmp_path, expect=3)
    for run in (broken, again):
        health = load_manifest(run.snapshot)["health"]
        assert (health["verdict"], health["baseline"]) == ("degraded", first.name)
        assert f"health against {first.name}: DEGRADED" in run.stdout
    listed = run_cli("snapshots", "--json", "--output", str(tmp_path))
    verdicts = [json.loads(line)["health"] for line in listed.stdout.splitlines()]
    assert verdicts == ["healthy", "degraded", "degraded"]


def test_snapshots_of_an_earlier_schema_version_still_diff(snapshots, tmp_path: Path) -> None:
    """A 1.2.0 snapshot (records without rendering and entity_id) against 1.3.0 ones: the
    same changes, the same entities, computed for the old records."""
    old = tmp_path / "snapshots" / snapshots["2014-11-19"].name
    shutil.copytree(snapshots["2014-11-19"], old)
    for name in ("pages", "pilots", "contacts"):
        path = old / "records" / f"{name}.jsonl"
        lines = []
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            for field in ("rendering", "entity_id", "notes", "encoding_errors",
                          "guessed_alternates", "guessed_text_version_url"):  # fmt: skip
                record.pop(field, None)
            record["schema_version"] = "1.2.0"
            record["fingerprint"] = fingerprint(record)
            lines.append(
                json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            )
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    current = diff_paths(snapshots["2014-11-19"], snapshots["2015-06"])
    earlier = diff_paths(old, snapshots["2015-06"])

    def key(diff: dict) -> list[tuple]:
        return sorted((c["entity_id"], c["id"], c["kind"], c["label"]) for c in diff["changes"])

    assert key(earlier) == key(current)
    assert earlier["translation_lag"] == current["translation_lag"]


@pytest.mark.parametrize(
    "old, new",
    [("2014-06", "2014-11-19"), ("2014-11-19", "2014-11-19-redesign"),
     ("2014-11-19", "2014-11-19-empty"), ("2014-11-19", "2015-06")],
)  # fmt: skip
def test_health_from_counts_alone_and_from_unsorted_pages(
    snapshots, tmp_path: Path, old: str, new: str
) -> None:
    """Health is judged from per-page counts (no record entries: a site crawl of 100,000
    pages cannot hold them at its end) and the two page files side by side; it must say
    exactly what the full views say, and the same again when a page file is not in id
    order (written by hand or by an older version): then it is judged the slow way."""
    from pilotarchive.diff.health import judge
    from pilotarchive.diff.load import load_snapshot

    a, b = snapshots[old], snapshots[new]
    full = judge(load_snapshot(a), load_snapshot(b))
    light = judge(load_snapshot(a, detail=False), load_snapshot(b, detail=False))
    assert light == full
    assert full["counts"]["pilots"]["new"] > 0 or new.endswith(("redesign", "empty"))
    shuffled = tmp_path / b.name
    shutil.copytree(b, shuffled)
    pages = shuffled / "records" / "pages.jsonl"
    lines = pages.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) > 2 and lines == sorted(lines, key=lambda ln: json.loads(ln)["id"])
    pages.write_text("".join(reversed(lines)), encoding="utf-8")
    assert judge(load_snapshot(a, detail=False), load_snapshot(shuffled, detail=False)) == full


def test_two_targets_snapshots_compared_by_id_are_said_to_be(replica, tmp_path: Path) -> None:
    """Asked for by id, snapshots of two targets were compared without a word: their
    "changes" are the difference of two sites, not news of one."""
    from tests.helpers import crawl

    out = tmp_path / "out"
    for name in ("alpha", "beta"):
        assert crawl(replica, out, "--target", name).returncode == 0
    a, b = sorted(p.name for p in (out / "snapshots").iterdir())
    run = run_cli("diff", a, b, "--output", str(out))
    assert run.returncode == 0, run.stderr
    assert f"note: {a} is a snapshot of target alpha, {b} of target beta" in run.stderr
    assert crawl(replica, out, "--target", "alpha").returncode == 0
    c = sorted(p.name for p in (out / "snapshots").iterdir())[-1]
    same = run_cli("diff", a, c, "--output", str(out))
    assert same.returncode == 0 and "note:" not in same.stderr, same.stderr
