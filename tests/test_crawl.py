"""End-to-end: crawl the replica over 127.0.0.1 with the real CLI, spider and pipeline."""

from pathlib import Path

import pytest

from pilotarchive.replica.server import Fault, ReplicaServer
from tests.helpers import crawl, load_manifest, load_records, run_cli, warc_records
from tests.hostile import HostileServer

EXPECTED_UPDATED = {"fi": "2014-11-19", "sv": "2014-11-19", "en": "2014-10-03"}
THEMES = {
    "fi": {
        "Teollisuuden rakennemuutos ja uudet kasvualat",
        "Hyvinvointipalvelut ja seudun elinvoima",
        "Kaksikielisten kaupunkien yhteistyö ja kansainvälistyminen",
        "Kaupunkien ja maaseudun vuorovaikutus",
    },
    "sv": {
        "Industrins strukturomvandling och nya tillväxtbranscher",
        "Välfärdstjänster och regionens livskraft",
        "Samarbete och internationalisering i tvåspråkiga städer",
        "Växelverkan mellan stad och landsbygd",
    },
    "en": {
        "Industrial restructuring and new growth sectors",
        "Welfare services and regional vitality",
        "Cooperation and internationalisation of bilingual towns",
        "Urban-rural interaction",
    },
}


def check_full_crawl(snapshot: Path) -> None:
    records = load_records(snapshot)
    pages = records["pages"]
    assert sorted((p["language"], p["is_text_version"]) for p in pages) == [
        (lang, text) for lang in ("en", "fi", "sv") for text in (False, True)
    ]
    for page in pages:
        assert page["status"] == 200
        assert page["updated"] == EXPECTED_UPDATED[page["language"]], page["final_url"]
        assert page["programme"] == {
            "pilot_count": 4,
            "municipality_count": 38,
            "years": [2014, 2015],
        }
        assert set(page["alternates"]) == {"fi", "sv", "en"}
    for lang in ("fi", "sv", "en"):
        for text in (False, True):
            page = next(p for p in pages if p["language"] == lang and p["is_text_version"] == text)
            pilots = [r for r in records["pilots"] if r["page_id"] == page["id"]]
            assert {p["theme"] for p in pilots if p["kind"] == "pilot"} == THEMES[lang]
            projects = [p for p in pilots if p["kind"] == "project"]
            assert len(projects) == 1
            assert projects[0]["coordinator"] in ("Salon kaupunki", "Salo stad", "City of Salo")
            assert projects[0]["contact"]["email"] == "tommi.virtanen@yrityssalo.fi"
            contacts = {
                (c["given_name"], c["family_name"], c["email"], c["phone"])
                for c in records["contacts"]
                if c["page_id"] == page["id"] and c["role"] == "further_information"
            }
            assert contacts == {
                ("Olli", "Alho", "olli.alho@tem.fi", "+358295063591"),
                ("Lari", "Anttonen", "lari.anttonen@tem.fi", "+358295047032"),
            }
            wellbeing = {
                c["family_name"]
                for c in records["contacts"]
                if c["page_id"] == page["id"] and c["email"] and c["email"].endswith("@iisalmi.fi")
            }
            # The English page lags: it still names the replaced contact.
            assert wellbeing == ({"Heikkinen"} if lang == "en" else {"Kärkkäinen"})
    mäkinen = [c for c in records["contacts"] if c["family_name"] == "Mäkinen"]
    assert len(mäkinen) == 6
    assert {c["email"] for c in mäkinen} == {"leena.makinen@raahe.fi"}
    manifest = load_manifest(snapshot)
    assert manifest["failures"] == [] and manifest["rejected"] == 0
    assert manifest["counts"]["page"]["by_language"] == {"en": 2, "fi": 2, "sv": 2}


def test_crawl_from_the_finnish_url(replica: ReplicaServer, tmp_path: Path) -> None:
    run = crawl(replica, tmp_path)
    check_full_crawl(run.snapshot)
    fi = next(p for p in load_records(run.snapshot)["pages"] if p["url"].endswith("pilotit"))
    assert fi["redirects"] == [{"url": f"{replica.url}/seutukaupunkipilotit", "status": 301}]
    assert fi["final_url"] == f"{replica.url}/index.phtml?s=4398"
    assert fi["encoding"] == "cp1252"
    # Every language version once, whichever link led to it.
    requisites = ("/css/tem.css", "/img/banner.png")  # fetched with the pages, once each
    fetched = [path for method, path, _ in replica.requests if path != "/robots.txt"]
    assert [p for p in fetched if p in requisites] == list(requisites)
    fetched = [path for path in fetched if path not in requisites]
    assert len(fetched) == len(set(fetched)) == 7  # the alias, its target and 5 more pages
    assert run_cli("validate", str(run.snapshot)).returncode == 0


def test_crawl_from_the_english_url(replica: ReplicaServer, tmp_path: Path) -> None:
    check_full_crawl(crawl(replica, tmp_path, path="/index.phtml?l=en&s=4398").snapshot)


def test_polite_identity_and_robots(replica: ReplicaServer, tmp_path: Path) -> None:
    run = crawl(replica, tmp_path, "--scope", "site", "--max-pages", "80")
    agents = {agent for _, _, agent in replica.requests}
    assert len(agents) == 1 and agents.pop().startswith("pilotarchive/")
    assert replica.requests[0][1] == "/robots.txt"
    assert not [p for _, p, _ in replica.requests if p.startswith("/haku")]
    manifest = load_manifest(run.snapshot)
    robots = [f for f in manifest["failures"] if f["reason"] == "forbidden by robots.txt"]
    assert robots and all("/haku/" in f["url"] for f in robots)
    records = load_records(run.snapshot)
    # Site scope: every page gets the same extraction; contacts pages, sitemaps too.
    titles = {p["title"] for p in records["pages"]}
    assert {"Sivukartta", "Kaupunkipolitiikka", "Yhteystiedot", "Webbkarta"} <= titles
    assert all(p["updated"] for p in records["pages"] if p["content_type"].startswith("text/html"))
    # The stylesheet is a page requisite, archived with the pages, not a page of its own.
    assert not [p for p in records["pages"] if p["content_type"] == "text/css"]
    archived = {(r["uri"] or "").removeprefix(replica.url) for r in warc_records(run.snapshot)}
    assert {"/css/tem.css", "/img/banner.png"} <= archived


def test_max_pages_is_a_budget(replica: ReplicaServer, tmp_path: Path) -> None:
    run = crawl(replica, tmp_path, "--scope", "site", "--max-pages", "5")
    manifest = load_manifest(run.snapshot)
    # The site has dozens of pages: the budget is spent exactly, and nothing more is asked
    # for (robots.txt and the start URL's redirect are no pages).
    assert manifest["fetched"] == 5 and len(load_records(run.snapshot)["pages"]) == 5
    # The pages' stylesheet and image are requisites, fetched with them, outside the budget.
    requisites = {"/css/tem.css", "/img/banner.png"}
    asked = {p for _, p, _ in replica.requests} - {"/robots.txt", "/seutukaupunkipilotit"}
    assert len(asked - requisites) == 5, asked
    assert manifest["left_out"] > 0 and "page budget of 5 reached" in run.stdout


def test_500_and_timeout_are_recorded_and_the_crawl_goes_on(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    replica.inject("/index.phtml?l=sv&s=4398", Fault(status=500))
    replica.inject("/index.phtml?l=en&s=4398", Fault(delay=5))
    run = crawl(replica, tmp_path)
    manifest = load_manifest(run.snapshot)
    reasons = {f["url"].removeprefix(replica.url): f["reason"] for f in manifest["failures"]}
    assert reasons["/index.phtml?l=sv&s=4398"] == "HTTP 500 after 2 retries"
    assert reasons["/index.phtml?l=en&s=4398"].startswith("timeout")
    sv_hits = [p for _, p, _ in replica.requests if p == "/index.phtml?l=sv&s=4398"]
    assert len(sv_hits) == 3  # the first try and two retries
    records = load_records(run.snapshot)
    statuses = {p["final_url"].removeprefix(replica.url): p["status"] for p in records["pages"]}
    assert statuses["/index.phtml?l=sv&s=4398"] == 500
    assert statuses["/index.phtml?s=4398"] == 200
    # The failed pages give no pilots; the four others (fi, and the text versions, which
    # are reached through the Finnish text version's language links) give theirs.
    sources = {p["source_url"].removeprefix(replica.url) for p in records["pilots"]}
    assert sources == {
        "/index.phtml?s=4398",
        "/text.phtml?s=4398",
        "/text.phtml?l=sv&s=4398",
        "/text.phtml?l=en&s=4398",
    }
    assert len(records["pilots"]) == 20


@pytest.mark.parametrize(
    "fault",
    [Fault(drop=True), Fault(truncate=200), Fault(status=404)],
    ids=["dropped-connection", "truncated-body", "not-found"],
)
def test_broken_responses_never_stop_the_crawl(
    replica: ReplicaServer, tmp_path: Path, fault: Fault
) -> None:
    replica.inject("/text.phtml?s=4398", fault)
    run = crawl(replica, tmp_path)
    manifest = load_manifest(run.snapshot)
    assert [f["url"] for f in manifest["failures"]] == [f"{replica.url}/text.phtml?s=4398"]
    assert manifest["counts"]["pilot"]["total"] == 25  # five pages of five entries


def test_version_without_english_page(replica: ReplicaServer, tmp_path: Path) -> None:
    replica.set_version("2014-06")
    records = load_records(crawl(replica, tmp_path).snapshot)
    english = [p for p in records["pages"] if p["language"] == "en"]
    # 'In English' led to the English front page: recorded as what it is, with no pilots.
    assert english and all(p["pilot_count"] == 0 for p in english)
    assert {p["updated"] for p in records["pages"] if p["language"] == "fi"} == {"2014-06-12"}


def test_unreachable_start_url_leaves_no_snapshot(tmp_path: Path) -> None:
    run = run_cli(
        "crawl",
        "http://127.0.0.1:9/seutukaupunkipilotit",
        "--output",
        str(tmp_path),
        "--fast-loopback",
        "-s",
        "RETRY_TIMES=0",
    )
    assert run.returncode == 1
    assert "no page could be read" in run.stderr and "Traceback" not in run.stderr
    assert list((tmp_path / "snapshots").iterdir()) == []


def test_bad_setting_is_named(tmp_path: Path) -> None:
    run = run_cli("crawl", "ftp://example.invalid/", "--output", str(tmp_path))
    assert run.returncode == 2
    # Named as the user wrote it (the start URL), not by the internal setting's name.
    assert "start URL 'ftp://example.invalid/'" in run.stderr
    assert "PILOTARCHIVE_" not in run.stderr


def test_demo_is_a_tour_of_the_product(tmp_path: Path) -> None:
    """The README's first command: offline, under a minute, and everything is there."""
    import time

    out = tmp_path / "out"
    started = time.monotonic()
    run = run_cli("demo", "--output", str(out), timeout=180)
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stderr
    assert elapsed < 60, elapsed
    lines = run.stdout.splitlines()
    assert lines[0].startswith("replica of www.tem.fi serving at http://127.0.0.1:")
    # Four dated steps, one of them degraded (maintainers told, subscribers not).
    assert "first snapshot of the target (nothing to compare, no alert)" in run.stdout
    assert "DEGRADED (subscribers not told)" in run.stdout
    assert run.stdout.count("change(s), health healthy") == 2
    snapshots = sorted((out / "snapshots").iterdir())
    assert len(snapshots) == 4
    for snapshot in snapshots:
        assert run_cli("validate", str(snapshot)).returncode == 0
    # Alerts: two subscribers for each of the two changes, one message to the maintainers.
    assert len(list((out / "outbox").glob("*.eml"))) == 5
    assert {p.name for p in (out / "dataset").iterdir()} >= {
        "pilots.csv", "contacts.csv", "pages.csv", "changes.csv", "snapshots.csv",
        "pilotarchive.sqlite", "datapackage.json", "CITATION.cff", "metadata.json",
    }  # fmt: skip
    assert (out / "site" / "index.html").is_file() and (out / "demo.wacz").is_file()
    where = lines.index(next(x for x in lines if x.startswith("done in ")))
    assert lines[where + 1].startswith("  the site:     file://")
    assert lines[where + 1].split()[2].endswith("/site/index.html")
    assert "earlier tour" not in run.stdout
    # Again into the same folder: the tour says it adds to the earlier one.
    again = run_cli("demo", "--output", str(out), timeout=180)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"{out} already holds 4 snapshot(s) of an earlier tour")


REPO = Path(__file__).resolve().parent.parent


def test_scrapy_commands_work_from_the_project_root(replica: ReplicaServer, tmp_path: Path) -> None:
    import subprocess
    import sys

    listed = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.stdout.split() == ["ministry"], listed.stderr
    crawled = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "ministry",
            "-s",
            f"PILOTARCHIVE_START_URLS={replica.url}/seutukaupunkipilotit",
            "-s",
            f"PILOTARCHIVE_OUTPUT_DIR={tmp_path}",
            "-s",
            "PILOTARCHIVE_FAST_LOOPBACK=1",
            "-s",
            "LOG_LEVEL=WARNING",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert crawled.returncode == 0, crawled.stderr
    snapshots = list((tmp_path / "snapshots").iterdir())
    assert len(snapshots) == 1
    assert load_manifest(snapshots[0])["counts"]["page"]["total"] == 6


def test_a_guessed_version_that_does_not_exist_is_no_failure(tmp_path: Path) -> None:
    """The cms layout links to no text version and, in 2014-06, to no English page: those
    are guessed by convention, marked as guesses, and their 404s are "no such version"."""
    with ReplicaServer("2014-06", layout="cms") as replica:
        run = crawl(replica, tmp_path)
        manifest = load_manifest(run.snapshot)
        records = load_records(run.snapshot)
        requested = [path for _, path, _ in replica.requests if path != "/robots.txt"]
        requested = [p for p in requested if p not in ("/css/tem.css", "/img/banner.png")]
    assert manifest["failures"] == []
    assert sorted((m["version"], m["url"].removeprefix(replica.url), m["status"])
                  for m in manifest["no_such_version"]) == [
        ("en", "/index.phtml?l=en&s=4398", 404),
        ("text", "/text.phtml?l=sv&s=4398", 404),
        ("text", "/text.phtml?s=4398", 404),
    ]  # fmt: skip
    assert all(m["guessed_from"].startswith(replica.url) for m in manifest["no_such_version"])
    # No page record for a version that does not exist, and each guess tried once.
    assert sorted(p["language"] for p in records["pages"]) == ["fi", "sv"]
    assert all(p["status"] == 200 for p in records["pages"])
    assert len(requested) == len(set(requested)) == 6  # the alias and its target, sv, 3 guesses
    fi = next(p for p in records["pages"] if p["language"] == "fi")
    assert fi["guessed_text_version_url"] == f"{replica.url}/text.phtml?s=4398"
    assert fi["guessed_alternates"] == {"en": f"{replica.url}/index.phtml?l=en&s=4398"}


def test_linked_versions_are_never_guessed(replica: ReplicaServer, tmp_path: Path) -> None:
    """The default layout links to every version: nothing is built by convention, and no
    404 is recorded for a version no page links to."""
    for version in ("2014-06", "2014-11-19", "2015-06"):
        replica.set_version(version)
        run = crawl(replica, tmp_path / version)
        manifest = load_manifest(run.snapshot)
        assert manifest["no_such_version"] == []
        pages = load_records(run.snapshot)["pages"]
        assert all(not p["guessed_alternates"] and not p["guessed_text_version_url"]
                   for p in pages)  # fmt: skip
        linked = {u for p in pages for u in [*p["alternates"].values(), p["text_version_url"]]}
        for failure in manifest["failures"]:  # a 404 only for a version a page links to
            assert failure["url"] in linked, failure


@pytest.mark.parametrize("layout", ["div", "2016", "cms"])
def test_every_layout_gives_every_person_in_every_language(layout: str, tmp_path: Path) -> None:
    with ReplicaServer(layout=layout) as replica:
        run = crawl(replica, tmp_path)
    records = load_records(run.snapshot)
    manifest = load_manifest(run.snapshot)
    assert manifest["failures"] == [] and manifest["rejected"] == 0
    pages = records["pages"]
    assert len(pages) == (6 if layout == "div" else 3)
    assert len(manifest["no_such_version"]) == (0 if layout == "div" else 3)
    for page in pages:
        persons = {
            (c["name"], c["title"], c["email"], c["phone"])
            for c in records["contacts"]
            if c["page_id"] == page["id"] and c["role"] == "further_information"
        }
        assert {p[0] for p in persons} == {"Olli Alho", "Lari Anttonen"}, page["final_url"]
        assert all(all(p) for p in persons), persons
        pilots = [r for r in records["pilots"] if r["page_id"] == page["id"]]
        assert len(pilots) == 5 and all(p["coordinator"] for p in pilots)
    # One entity per pilot and the project however many pages repeat them.
    assert len({r["entity_id"] for r in records["pilots"]}) == 5


def test_a_crawl_of_nothing_readable_says_why(hostile: HostileServer, tmp_path: Path) -> None:
    """Found by an attacker's pass: a page served as image/png (an HTML body) left "no page
    could be read" with no reason, unlike every other failure."""
    hostile.route("/img", body=b"<html><body><h1>Pilotit</h1></body></html>",
                  headers=[(b"Content-Type", b"image/png")])  # fmt: skip
    run = run_cli("crawl", f"{hostile.url}/img", "--output", str(tmp_path), "--fast-loopback")
    assert run.returncode == 1
    assert f"no page could be read, so no snapshot was written ({hostile.url}/img: not HTML " in (
        run.stderr
    )
