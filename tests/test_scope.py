"""Scope, redirects, header bytes and bounded work: what a hostile server tries.

Every crawl here runs against a hostile server on 127.0.0.1 and a canary on another port
that must receive nothing.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import load_manifest, load_records, records_of, run_cli, warc_records
from tests.hostile import HostileServer, html_page

ROOT = Path(__file__).resolve().parent.parent


def crawl_of(server: HostileServer, output: Path, *args: str, path: str = "/",
             expect: int | None = 0):  # fmt: skip
    run = run_cli(
        "crawl", f"{server.url}{path}", "--output", str(output), "--fast-loopback",
        "-s", "DOWNLOAD_TIMEOUT=5", *args,
    )  # fmt: skip
    if expect is not None:
        assert run.returncode == expect, run.stderr
    return run


def failures(snapshot: Path) -> dict[str, str]:
    return {f["url"]: f["reason"] for f in load_manifest(snapshot)["failures"]}


# -- 9. scope --------------------------------------------------------------------------------


def test_site_scope_never_leaves_scheme_host_and_port(hostile, canary, tmp_path: Path) -> None:
    other = canary.url
    hostile.page(
        "/",
        html_page(
            "Etusivu",
            f'<a href="/a">a</a> <a href="/redirect">r</a> <a href="/refresh">m</a>'
            f' <a href="{other}/offsite">offsite, same host, other port</a>'
            f' <a href="http://localhost:{hostile.port}/alias">same port, other host name</a>',
        ),
    )
    hostile.page("/a", html_page("A"))
    hostile.redirect("/redirect", f"{other}/from-301")
    hostile.page(
        "/refresh",
        f'<html><head><meta http-equiv="refresh" content="0; url={other}/from-refresh">'
        "</head><body>moved</body></html>",
    )
    run = crawl_of(hostile, tmp_path, "--scope", "site")
    assert canary.requests == []
    found = failures(run.snapshot)
    assert found[f"{hostile.url}/redirect"].startswith("redirect out of scope")
    assert f"{other}/from-301" in found[f"{hostile.url}/redirect"]
    assert found[f"{hostile.url}/refresh"].startswith("redirect out of scope")
    assert "--allow-host" in found[f"{hostile.url}/redirect"]
    # The 301 itself is archived (it is what the server said); its target is not fetched.
    assert any(r["uri"] == f"{hostile.url}/redirect" for r in warc_records(run.snapshot))
    assert set(hostile.paths()) >= {"/", "/a", "/redirect", "/refresh"}


def test_page_scope_language_links_stay_on_the_start_hosts(hostile, canary, tmp_path: Path) -> None:
    hostile.page(
        "/fi",
        html_page(
            "Pilotit",
            f'<a href="{canary.url}/sv" hreflang="sv">På svenska</a>'
            f' <a href="{canary.url}/en" lang="en">In English</a>',
        ),
    )
    run = crawl_of(hostile, tmp_path, path="/fi")
    assert canary.requests == []
    skipped = {s["url"]: s["reason"] for s in load_manifest(run.snapshot)["skipped"]}
    assert skipped[f"{canary.url}/sv"].startswith("out of scope")
    assert "skipped:" in run.stdout and f"{canary.url}/sv" in run.stdout
    # Named extra hosts are allowed when asked for.
    canary.page("/sv", html_page("Pilotprojekt", lang="sv"))
    canary.page("/en", html_page("Pilots", lang="en"))
    allowed = crawl_of(hostile, tmp_path / "b", "--allow-host", f"127.0.0.1:{canary.port}",
                       path="/fi")  # fmt: skip
    assert {p["language"] for p in load_records(allowed.snapshot)["pages"]} == {"fi", "sv", "en"}
    # Beyond the two linked pages, the canary host sees only the conventional guesses for
    # the versions its pages do not link to (issue 8), and each 404 is "no such version".
    linked = {"/en", "/robots.txt", "/sv"}
    guesses = set(canary.paths()) - linked
    assert set(canary.paths()) >= linked
    assert all("?" in g for g in guesses)
    missing = {m["url"] for m in load_manifest(allowed.snapshot)["no_such_version"]
               if m["url"].startswith(canary.url)}  # fmt: skip
    assert {f"{canary.url}{g}" for g in guesses} == missing


# -- 6. silent losses ------------------------------------------------------------------------


def test_redirect_loops_and_long_links_are_failures(hostile, tmp_path: Path) -> None:
    long_link = "/x" + "y" * 2100
    hostile.page(
        "/",
        html_page(
            "Etusivu",
            '<a href="/loop-a">a</a> <a href="/self">s</a> <a href="/chain-0">c</a>'
            f' <a href="{long_link}">long</a> <a href="/ok">ok</a>',
        ),
    )
    hostile.redirect("/loop-a", "/loop-b")
    hostile.redirect("/loop-b", "/loop-a")
    hostile.redirect("/self", "/self", status=302)
    for n in range(25):  # longer than REDIRECT_MAX_TIMES
        hostile.redirect(f"/chain-{n}", f"/chain-{n + 1}")
    hostile.page("/ok", html_page("OK"))
    run = crawl_of(hostile, tmp_path, "--scope", "site")
    found = failures(run.snapshot)
    base = hostile.url
    assert (
        found[f"{base}/loop-a"] == f"redirect loop: {base}/loop-a -> {base}/loop-b -> {base}/loop-a"
    )
    assert found[f"{base}/self"] == f"redirect loop: {base}/self -> {base}/self"
    assert found[f"{base}/chain-0"] == (
        f"max redirections reached (20 redirects, the last to {base}/chain-20)"
    )
    (long_failure,) = [r for u, r in found.items() if u.startswith(f"{base}/xyyy")]
    assert "longer than URLLENGTH_LIMIT" in long_failure
    assert any(p["final_url"] == f"{base}/ok" for p in load_records(run.snapshot)["pages"])


def test_a_start_url_that_loops_says_so(hostile, tmp_path: Path) -> None:
    hostile.redirect("/", "/again")
    hostile.redirect("/again", "/")
    run = crawl_of(hostile, tmp_path, expect=1)
    assert "no page could be read" in run.stderr
    assert f"redirect loop: {hostile.url}/ -> {hostile.url}/again -> {hostile.url}/" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_redirect_to_a_page_already_fetched_is_named(hostile, tmp_path: Path) -> None:
    hostile.page("/page", html_page("Sivu"))
    hostile.redirect("/alias", "/page")
    run = run_cli(
        "crawl", f"{hostile.url}/page", f"{hostile.url}/alias", "--output", str(tmp_path),
        "--fast-loopback",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    skipped = load_manifest(run.snapshot)["skipped"]
    assert skipped == [
        {"url": f"{hostile.url}/page",
         "reason": f"already fetched in this crawl (redirected from {hostile.url}/alias)"}
    ]  # fmt: skip


# -- 11. header bytes ------------------------------------------------------------------------


def test_header_bytes_are_kept_as_received(hostile, tmp_path: Path) -> None:
    etag = b'"p\xe4iv\xe4-1"'  # an 8-bit ETag, as some servers send
    hostile.route(
        "/",
        headers=[
            (b"Content-Type", b"text/html; charset=utf-8"),
            (b"ETag", etag),
            (b"X-Note", b"caf\xe9 \xff"),
        ],
        body=html_page("Sivu").encode(),
        etag_304=etag,
    )
    hostile.redirect("/old", "/p\xe4iv\xe4")  # an 8-bit Location
    hostile.page("/p%E4iv%E4", html_page("Päivä"))  # where Scrapy goes: the bytes %-escaped
    first = crawl_of(hostile, tmp_path)
    response = next(r for r in warc_records(first.snapshot) if r["uri"] == f"{hostile.url}/")
    # Values byte for byte; names in Twisted's canonical case ("Etag"), as documented.
    assert b'Etag: "p\xe4iv\xe4-1"\r\n' in response["http_raw"]
    assert b"X-Note: caf\xe9 \xff\r\n" in response["http_raw"]
    page = load_records(first.snapshot)["pages"][0]
    assert page["http_etag"].encode("latin-1") == etag
    # The next crawl sends the ETag back as the server's bytes, and the server says 304.
    second = crawl_of(hostile, tmp_path)
    sent = [r for r in hostile.requests if r.path == "/"][-1]
    assert dict(sent.headers)[b"If-None-Match"] == etag
    assert load_records(second.snapshot)["pages"][0]["fetch_status"] == 304
    redirect = crawl_of(hostile, tmp_path / "r", path="/old")
    head = next(r for r in warc_records(redirect.snapshot) if (r["uri"] or "").endswith("/old"))
    assert b"Location: /p\xe4iv\xe4\r\n" in head["http_raw"]


# -- 12. bounded work ------------------------------------------------------------------------


def test_a_million_links_cost_little_once_the_budget_is_spent(hostile, tmp_path: Path) -> None:
    links = "".join(f"<a href=/{n}>" for n in range(1_000_000)).encode()
    hostile.route("/", body=b"<html><body>" + links + b"</body></html>")
    for n in range(25):
        hostile.page(f"/{n}", html_page(f"Sivu {n}"))
    # The crawl's own peak (VmHWM, tests/memory.py), reported by the crawl's process at its
    # end: RUSAGE_CHILDREN would be the largest child this pytest has reaped so far.
    script = (
        "import json, sys\n"
        "from pilotarchive.cli import main\n"
        "code = main(json.loads(sys.argv[1]))\n"
        "from tests.memory import peak_rss\n"
        "print(json.dumps([code, peak_rss()]), file=sys.stderr)\n"
    )
    argv = ["crawl", f"{hostile.url}/", "--output", str(tmp_path), "--fast-loopback",
            "--scope", "site", "--max-pages", "20", "-s", "DOWNLOAD_MAXSIZE=64000000"]  # fmt: skip
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", script, json.dumps(argv)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    code, peak = json.loads(proc.stderr.strip().splitlines()[-1])
    peak_mb = peak / (1 << 20)
    assert proc.returncode == 0 and code == 0, proc.stderr
    manifest = json.loads((Path(proc.stdout.splitlines()[-1]) / "manifest.json").read_text())
    assert manifest["counts"]["page"]["total"] == 20
    # The page budget was 20, the start page and its versions guessed by convention
    # included; the rest of the million are counted, not requested.
    assert 1_000_000 - 19 - 100 < manifest["left_out"] <= 1_000_000 + 100
    assert len(manifest["skipped"]) == 100  # the first listed by name, the rest counted
    assert (
        "page budget of 20 reached: " in proc.stdout and "more link(s) not followed" in proc.stdout
    )
    # Was 32 s and 1.3 GB before requests stopped being built past the budget; the bound
    # is loose (a busy CI machine), the benchmark measures the speed.
    assert elapsed < 90, elapsed
    assert peak_mb < 700, peak_mb


def test_an_oversize_page_is_recorded_not_buffered(hostile, tmp_path: Path) -> None:
    hostile.page("/", html_page("Etusivu", '<a href="/huge">h</a> <a href="/ok">ok</a>'))
    hostile.route("/huge", body=b"<html><body>" + b"x" * 17_000_000 + b"</body></html>")
    hostile.page("/ok", html_page("OK"))
    run = crawl_of(hostile, tmp_path, "--scope", "site")
    found = failures(run.snapshot)
    assert found[f"{hostile.url}/huge"].startswith("larger than DOWNLOAD_MAXSIZE (16,777,216")
    assert len(load_records(run.snapshot)["pages"]) == 2


def test_bodies_in_the_warc_are_what_was_sent_when_compressed(hostile, tmp_path: Path) -> None:
    """Not new, but with RawHeaders writing the heads: the block digest still holds."""
    hostile.page("/", html_page("Sivu"))
    run = crawl_of(hostile, tmp_path)
    checked = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check",
         *map(str, (run.snapshot / "archive").glob("*.warc.gz"))],
        capture_output=True, text=True,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout
    assert records_of(next((run.snapshot / "archive").glob("*.warc.gz")))[0]["type"] == "warcinfo"


# -- 1. catastrophic patterns, through the crawler ------------------------------------------

GOLDEN_FI = Path(__file__).parent / "golden" / "pages" / "replica-2014-11-19-fi.html"


def test_a_ten_megabyte_contact_crawls_in_seconds_and_the_cap_is_noted(
    hostile: HostileServer, tmp_path: Path
) -> None:
    """The issue's page: one pilot contact of ``a-`` repeated, 10 MB, served by a server that
    is not ours. The reactor is never blocked long, so the crawl ends, with the pilots."""
    body = GOLDEN_FI.read_bytes().replace(b"etunimi.sukunimi@raahe.fi", b"a-" * 5_000_000, 1)
    assert len(body) > 10_000_000
    hostile.route("/", body=body)
    started = time.monotonic()
    run = crawl_of(hostile, tmp_path)
    elapsed = time.monotonic() - started
    records = load_records(run.snapshot)
    [page] = [p for p in records["pages"] if p["url"] == f"{hostile.url}/"]
    assert len([p for p in records["pilots"] if p["page_id"] == page["id"]]) >= 4
    notes = page.get("notes", [])
    assert any(n["kind"] == "text_capped" for n in notes), notes
    assert elapsed < 120, elapsed  # minutes before the fix; loose on a busy machine


# -- 7. one odd link ------------------------------------------------------------------------


def test_an_odd_scheme_in_a_language_link_never_costs_the_page(
    hostile: HostileServer, tmp_path: Path
) -> None:
    hostile.page(
        "/",
        html_page(
            "Pilotit",
            '<a href=" JaVaScRiPt:alert(2)" hreflang="sv">På svenska</a>'
            ' <a href="\tDATA:text/html,x" hreflang="en">In English</a>'
            ' <link rel="alternate" hreflang="sv" href="VBScript:x">',
        ),
    )
    run = crawl_of(hostile, tmp_path)
    records = load_records(run.snapshot)
    [page] = records["pages"]
    assert all(not u.lower().lstrip().startswith(("javascript", "data", "vbscript"))
               for u in page.get("alternates", {}).values())  # fmt: skip
    assert [p for p in hostile.paths() if "script" in p.lower() or "data" in p.lower()] == []
    checked = run_cli("validate", str(run.snapshot))
    assert checked.returncode == 0, checked.stdout + checked.stderr
