"""Versions guessed by URL convention, against servers that do not keep the convention.

A page that links to no other language or text version makes the crawl build those URLs
by the site's conventions (``?l=sv``, ``tv=1``) and try each once. Many servers ignore a
query parameter they do not know, or redirect it away: the guess is then answered with
the very page it was guessed from. That answer is "no such version", never a second copy
of the page, and nothing is ever guessed from a guess (issue 16, item 12: on such a
server the crawl once appended ``tv=1`` to its own guesses until a 500-page budget was
spent, writing 2,500 pilots).
"""

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from pilotarchive.extract.conventions import text_version_url
from tests.helpers import load_manifest, load_records, run_cli
from tests.hostile import HostileServer, html_page

PILOTS = """<p>Työ- ja elinkeinoministeriö on käynnistänyt kolme pilottia.</p><ul>
<li>Teollisuuden rakennemuutos, koordinoi Raahen kaupunki. Yhteyshenkilö: Leena Mäkinen,
etunimi.sukunimi@raahe.fi, puh. 044-439 3301</li>
<li>Hyvinvointipalvelut, jota koordinoi Iisalmen kaupunki. Yhteyshenkilö: kehittämispäällikkö
Heikkinen Juha, juha.heikkinen [at] iisalmi.fi, puh. +358 40 830 2711</li>
<li>Kaupunkien ja maaseudun vuorovaikutus (koordinaattorina Kokkolan kaupunki), yhteyshenkilö
Niemi, Kaisa, kaisa.niemi(at)kokkola.fi, p. 040 806 5123</li></ul>
<p>Päivitetty 19.11.2014 klo 14.20</p>"""
# The pilots page with no link to any other version: every version is guessed.
PAGE = html_page("Seutukaupunkipilotit", PILOTS)


def crawl_of(server: HostileServer, output: Path, path: str, *args: str):
    run = run_cli(
        "crawl", f"{server.url}{path}", "--output", str(output), "--fast-loopback",
        "--max-pages", "50", "-s", "DOWNLOAD_TIMEOUT=5", *args,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return run


def asked(server: HostileServer) -> list[str]:
    return [p for p in server.paths() if p != "/robots.txt"]


def assert_no_parameter_twice(paths: list[str]) -> None:
    for path in paths:
        keys = [k for k, _ in parse_qsl(urlsplit(path).query, keep_blank_values=True)]
        assert len(keys) == len(set(keys)), path


def assert_one_page(snapshot: Path, url: str) -> None:
    """The snapshot holds the records of the one page, as if no guess had been made."""
    records = load_records(snapshot)
    assert [p["url"] for p in records["pages"]] == [url]
    page_id = records["pages"][0]["id"]
    assert len(records["pilots"]) == 3
    assert {r["page_id"] for r in records["pilots"] + records["contacts"]} == {page_id}


def test_a_server_that_ignores_the_query_answers_each_guess_once(
    hostile: HostileServer, tmp_path: Path
) -> None:
    """The named case: every query is ignored, so every guess is the page itself."""
    hostile.unknown_query = "ignore"
    hostile.page("/pilotit", PAGE)
    start = f"{hostile.url}/pilotit?s=4398"
    run = crawl_of(hostile, tmp_path, "/pilotit?s=4398")
    paths = asked(hostile)
    # The page and its three guesses, each asked once; no guess built on a guess.
    assert sorted(paths) == [
        "/pilotit?l=en&s=4398", "/pilotit?l=sv&s=4398", "/pilotit?s=4398", "/pilotit?s=4398&tv=1",
    ]  # fmt: skip
    assert_no_parameter_twice(paths)
    manifest = load_manifest(run.snapshot)
    assert sorted((m["version"], m["url"], m["guessed_from"], m["status"])
                  for m in manifest["no_such_version"]) == [
        ("en", f"{hostile.url}/pilotit?l=en&s=4398", start, 200),
        ("sv", f"{hostile.url}/pilotit?l=sv&s=4398", start, 200),
        ("text", f"{hostile.url}/pilotit?s=4398&tv=1", start, 200),
    ]  # fmt: skip
    assert manifest["failures"] == [] and manifest["skipped"] == []
    assert_one_page(run.snapshot, start)


def test_a_guess_redirected_to_the_page_it_was_guessed_from_is_no_such_version(
    hostile: HostileServer, tmp_path: Path
) -> None:
    """A server that tidies away unknown parameters: each guess is a 301 to the page. It is
    not "already fetched" (skipped) but "no such version", and the page is not asked again."""
    hostile.unknown_query = "redirect"
    hostile.page("/pilotit", PAGE)
    start = f"{hostile.url}/pilotit"
    run = crawl_of(hostile, tmp_path, "/pilotit")
    paths = asked(hostile)
    assert sorted(paths) == ["/pilotit", "/pilotit?l=en", "/pilotit?l=sv", "/pilotit?tv=1"]
    manifest = load_manifest(run.snapshot)
    assert sorted((m["version"], m["url"], m["guessed_from"], m["status"])
                  for m in manifest["no_such_version"]) == [
        ("en", f"{start}?l=en", start, 301),
        ("sv", f"{start}?l=sv", start, 301),
        ("text", f"{start}?tv=1", start, 301),
    ]  # fmt: skip
    assert manifest["failures"] == [] and manifest["skipped"] == []
    assert_one_page(run.snapshot, start)


def test_a_guess_refreshed_back_to_its_page_is_no_such_version(
    hostile: HostileServer, tmp_path: Path
) -> None:
    """The same, by a ``<meta http-equiv=refresh>`` page instead of an HTTP redirect."""
    hostile.page("/pilotit", PAGE)
    refresh = '<html><head><meta http-equiv="refresh" content="0; url=/pilotit"></head></html>'
    for query in ("l=sv", "l=en", "tv=1"):
        hostile.page(f"/pilotit?{query}", refresh)
    start = f"{hostile.url}/pilotit"
    run = crawl_of(hostile, tmp_path, "/pilotit")
    assert sorted(asked(hostile)) == [
        "/pilotit", "/pilotit?l=en", "/pilotit?l=sv", "/pilotit?tv=1"
    ]  # fmt: skip
    manifest = load_manifest(run.snapshot)
    assert sorted((m["version"], m["url"], m["status"]) for m in manifest["no_such_version"]) == [
        ("en", f"{start}?l=en", 200), ("sv", f"{start}?l=sv", 200), ("text", f"{start}?tv=1", 200)
    ]  # fmt: skip
    assert manifest["failures"] == [] and manifest["skipped"] == []
    assert_one_page(run.snapshot, start)


def test_every_hop_of_a_guess_is_judged_and_other_redirects_are_followed(
    hostile: HostileServer, canary: HostileServer, tmp_path: Path
) -> None:
    """A guess back to its page through another URL is no such version too; a guess
    redirected to a real version is that page, its redirect kept; a guess redirected out of
    scope fails as any redirect out of scope does, and the other host hears nothing."""
    hostile.page("/pilotit", PAGE)
    hostile.redirect("/pilotit?l=sv", "/valinta?kieli=sv", 302)
    hostile.redirect("/valinta?kieli=sv", "/pilotit")
    hostile.redirect("/pilotit?l=en", "/en/pilots")
    hostile.page("/en/pilots", html_page("Regional town pilots", "<p>Three pilots.</p>", "en"))
    hostile.redirect("/pilotit?tv=1", f"{canary.url}/text")
    start = f"{hostile.url}/pilotit"
    run = crawl_of(hostile, tmp_path, "/pilotit")
    assert canary.requests == []
    assert sorted(asked(hostile)) == [
        "/en/pilots", "/pilotit", "/pilotit?l=en", "/pilotit?l=sv", "/pilotit?tv=1",
        "/valinta?kieli=sv",
    ]  # fmt: skip
    manifest = load_manifest(run.snapshot)
    assert manifest["no_such_version"] == [
        {"url": f"{start}?l=sv", "version": "sv", "guessed_from": start, "status": 301}
    ]
    assert [(f["url"], f["reason"].split(" (")[0]) for f in manifest["failures"]] == [
        (f"{start}?tv=1", f"redirect out of scope: {start}?tv=1 -> {canary.url}/text")
    ]
    assert "a URL guessed by convention for the text version" in manifest["failures"][0]["reason"]
    pages = {p["language"]: p for p in load_records(run.snapshot)["pages"]}
    assert sorted(pages) == ["en", "fi"]
    assert pages["en"]["url"] == f"{start}?l=en"
    assert pages["en"]["final_url"] == f"{hostile.url}/en/pilots"
    assert pages["en"]["redirects"] == [{"url": f"{start}?l=en", "status": 301}]


def test_the_same_page_laid_out_anew_is_the_same_document(
    hostile: HostileServer, tmp_path: Path
) -> None:
    """Same document means the same bytes once whitespace is set aside: a server that
    re-indents or re-wraps its answer (or ends it with another newline) still ignored the
    guess. (A page that differs in anything else, a timestamp in a comment, is a page.)"""
    hostile.unknown_query = "ignore"
    hostile.page("/pilotit", PAGE)
    hostile.page("/pilotit?l=sv", PAGE.replace("><", ">\n  <") + "\r\n")
    hostile.page("/pilotit?l=en", PAGE.replace(" ", "\t"))
    hostile.page("/pilotit?tv=1", PAGE.replace("\n", " "))
    run = crawl_of(hostile, tmp_path, "/pilotit")
    assert sorted(asked(hostile)) == [
        "/pilotit", "/pilotit?l=en", "/pilotit?l=sv", "/pilotit?tv=1",
    ]  # fmt: skip
    manifest = load_manifest(run.snapshot)
    assert sorted(m["version"] for m in manifest["no_such_version"]) == ["en", "sv", "text"]
    assert_one_page(run.snapshot, f"{hostile.url}/pilotit")


def test_a_guess_that_finds_a_version_is_a_page_and_is_not_guessed_from(
    hostile: HostileServer, tmp_path: Path
) -> None:
    """A guess answered by another document is that version, recorded as a page; the
    conventions are not applied again to it (its own guesses would be guesses of guesses:
    ``?l=en&tv=1``), and everything else the server ignores is no such version."""
    hostile.unknown_query = "ignore"
    hostile.page("/pilotit", PAGE)
    hostile.page("/pilotit?l=en", html_page("Regional town pilots", "<p>Three pilots.</p>", "en"))
    run = crawl_of(hostile, tmp_path, "/pilotit")
    paths = asked(hostile)
    assert sorted(paths) == ["/pilotit", "/pilotit?l=en", "/pilotit?l=sv", "/pilotit?tv=1"]
    manifest = load_manifest(run.snapshot)
    assert sorted(m["version"] for m in manifest["no_such_version"]) == ["sv", "text"]
    pages = load_records(run.snapshot)["pages"]
    assert sorted((p["language"], p["url"]) for p in pages) == [
        ("en", f"{hostile.url}/pilotit?l=en"), ("fi", f"{hostile.url}/pilotit"),
    ]  # fmt: skip


def test_a_site_crawl_of_a_server_that_ignores_queries_stays_within_its_pages(
    hostile: HostileServer, tmp_path: Path
) -> None:
    """In site scope every page is guessed from, and each guess answered by its own page:
    three pages cost twelve requests, and the snapshot holds three pages."""
    hostile.unknown_query = "ignore"
    nav = '<a href="/a">A</a> <a href="/b">B</a>'
    hostile.page("/", html_page("Etusivu", nav))
    hostile.page("/a", html_page("Sivu A", nav))
    hostile.page("/b", html_page("Sivu B", nav))
    run = crawl_of(hostile, tmp_path, "/", "--scope", "site")
    paths = asked(hostile)
    assert len(paths) == len(set(paths)) == 12, paths
    assert_no_parameter_twice(paths)
    manifest = load_manifest(run.snapshot)
    assert len(manifest["no_such_version"]) == 9
    assert sorted(p["url"] for p in load_records(run.snapshot)["pages"]) == [
        f"{hostile.url}/", f"{hostile.url}/a", f"{hostile.url}/b",
    ]  # fmt: skip


def test_a_parameter_already_in_the_url_is_never_added_again(
    hostile: HostileServer, tmp_path: Path
) -> None:
    """A linked text version at ``?tv=1`` that does not say it is one (no link back to the
    graphic page) is not guessed a text version ``?tv=1&tv=1``: the convention's parameter
    is there already. (The server knows ``tv`` and ignores ``l``.)"""
    hostile.unknown_query = "ignore"
    hostile.page("/pilotit", html_page("Pilotit", '<a href="?tv=1">Tekstiversio</a>' + PILOTS))
    for path in ("/pilotit?tv=1", "/pilotit?l=sv&tv=1", "/pilotit?l=en&tv=1"):
        hostile.page(path, html_page("Pilotit", PILOTS))
    run = crawl_of(hostile, tmp_path, "/pilotit")
    paths = asked(hostile)
    assert_no_parameter_twice(paths)
    assert sorted(paths) == [
        "/pilotit", "/pilotit?l=en", "/pilotit?l=en&tv=1", "/pilotit?l=sv",
        "/pilotit?l=sv&tv=1", "/pilotit?tv=1",
    ]  # fmt: skip
    pages = load_records(run.snapshot)["pages"]
    text = next(p for p in pages if p["url"].endswith("?tv=1"))
    assert sorted(p["url"] for p in pages) == [f"{hostile.url}/pilotit", text["url"]]
    assert text["guessed_text_version_url"] is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://h/p", "http://h/p?tv=1"),
        ("http://h/p?s=1", "http://h/p?s=1&tv=1"),
        ("http://h/p?tv=0&s=1", "http://h/p?tv=1&s=1"),
        ("http://h/p?tv=1", None),
        ("http://h/p?s=1&tv=1#x", None),
        ("http://h/index.phtml?l=sv", "http://h/text.phtml?l=sv"),
    ],
    ids=["added", "appended", "set-not-added", "there-already", "there-with-fragment", "path"],
)
def test_the_text_convention_never_repeats_its_parameter(url: str, expected: str | None) -> None:
    assert text_version_url(url) == expected
