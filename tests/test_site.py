"""The static site read in headless Chromium, its rebuilds, the HTML diff for people,
``history --format json`` and ``serve``."""

import json
import shutil
import threading
import urllib.request
from pathlib import Path

import pytest

from pilotarchive.archive.snapshot import list_snapshots
from pilotarchive.diff.compare import diff_paths
from pilotarchive.diff.render import render_html, render_text
from pilotarchive.export.site import archive_links, build_site
from tests.helpers import crawl, run_cli
from tests.test_diff_html import opened


@pytest.fixture(scope="module")
def site(archive: Path, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("site") / "site"
    build_site(archive, root)
    return root


def test_the_site_in_chromium(site: Path, tmp_path: Path) -> None:
    errors: list[str] = []
    requests: list[str] = []
    inside = site.resolve().as_uri() + "/"
    with opened(site / "index.html", errors, requests) as page:
        assert page.get_by_text("degraded").first.is_visible()
        # The index to the newest diff (newest first): the coordinator change.
        page.get_by_role("link", name="changes").first.click()
        page.wait_for_load_state()
        assert "/diffs/" in page.url
        assert "Changes on" in page.locator("h1").inner_text()
        row = page.locator("tr", has_text="Loviisan kaupunki").first
        assert row.is_visible() and "Porvoon kaupunki" in row.inner_text()
        assert page.get_by_text("Totals:").is_visible()
        diff_shot = tmp_path / "site-diff.png"
        page.screenshot(path=str(diff_shot), full_page=True)
        # An "archived" link opens the page's view in the site, not a WARC download.
        page.get_by_role("link", name="snapshot of").first.click()
        page.wait_for_load_state()
        assert "/archive/" in page.url and page.url.endswith(".html")
        assert page.locator("h1").inner_text().startswith("Archived page")
        # The index to an entity's timeline, across languages.
        page.goto((site / "index.html").as_uri())
        page.get_by_role("link", name="Pilots, persons and pages").click()
        page.get_by_role("link", name="Kaksikielisten kaupunkien yhteistyö").first.click()
        page.wait_for_load_state()
        assert "/entities/pilot-" in page.url
        for value in ("Loviisan kaupunki", "Porvoon kaupunki", "Borgå stad", "City of Porvoo"):
            assert page.get_by_text(value).first.is_visible(), value
        assert page.get_by_text("current").first.is_visible()
        shot = tmp_path / "site-timeline.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000 and diff_shot.stat().st_size > 10_000
        print(f"\nscreenshots kept: {shot} {diff_shot}")
    assert errors == []
    outside = [url for url in requests if not url.startswith(inside)]
    assert outside == [] and requests


def test_pages_say_their_language(site: Path, archive: Path) -> None:
    newest = list_snapshots(archive)[-1].id
    html = (site / "snapshots" / newest / "index.html").read_text(encoding="utf-8")
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert '<table lang="fi">' in html and '<table lang="sv">' in html
    assert '<span lang="sv">Pilotprojekt för utveckling av regionstäder</span>' in html
    assert "<script" not in html
    for path in site.rglob("*.html"):  # no external assets, no scripts, anywhere
        text = path.read_text(encoding="utf-8")
        assert "<script" not in text and 'src="http' not in text, path
        assert 'rel="stylesheet" href="http' not in text, path


def test_every_link_of_the_site_resolves(site: Path) -> None:
    for path in site.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        for href in (part.split('"', 1)[0] for part in html.split('href="')[1:]):
            assert not href.startswith(("http:", "https:", "//")), (path, href)
            target = (path.parent / href).resolve()
            assert target.exists(), (path, href)
            if "/diffs/" in str(path):
                assert not href.endswith(".warc.gz"), (path, href)


def test_a_rebuild_after_one_more_snapshot_rewrites_only_index_pages(
    archive: Path, history_replica, tmp_path: Path
) -> None:
    output = tmp_path / "output"
    shutil.copytree(archive, output)
    first = build_site(output)
    assert first.written and not first.removed
    before = {
        p.relative_to(output / "site").as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in (output / "site").rglob("*")
        if p.is_file()
    }
    history_replica.set_version("2015-06")  # the same site again: nothing changes
    newest = crawl(history_replica, output).snapshot.name
    second = build_site(output)
    # The marker lists the pages the site wrote, so it is an index too.
    index_pages = {"index.html", "downloads.html", "entities/index.html", ".pilotarchive.json"}
    new_pages = {rel for rel in second.written if rel not in before}
    assert set(second.written) - new_pages <= index_pages, second.written
    assert "index.html" in second.written
    assert f"snapshots/{newest}/index.html" in new_pages
    assert any(rel.startswith("diffs/") and rel.endswith(f"_{newest}.html") for rel in new_pages)
    for rel, (data, mtime) in before.items():
        path = output / "site" / rel
        if rel not in index_pages:
            assert path.read_bytes() == data and path.stat().st_mtime_ns == mtime, rel


def test_the_standalone_diff_links_to_the_site_or_to_nothing(
    archive: Path, site: Path, tmp_path: Path
) -> None:
    snapshots = [s.path for s in list_snapshots(archive)]
    diff = diff_paths(snapshots[1], snapshots[3])  # over the degraded one
    alone = render_html(diff)
    assert ".warc.gz" not in "".join(p.split('"', 1)[0] for p in alone.split('href="')[1:])
    assert "href=" not in alone.split("<h1>", 1)[1]  # no site, no replay: no links
    linked = render_html(diff, archive_href=archive_links(site, tmp_path))
    hrefs = [p.split('"', 1)[0] for p in linked.split('href="')[1:]]
    assert hrefs and all((tmp_path / href).resolve().is_file() for href in hrefs)
    run = run_cli("diff", str(snapshots[1]), str(snapshots[3]), "--format", "html",
                  "--site", str(site), "--file", str(tmp_path / "d.html"))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "/archive/page-" in (tmp_path / "d.html").read_text(encoding="utf-8")


def test_the_html_diff_reads_right(archive: Path) -> None:
    snapshots = [s.path for s in list_snapshots(archive)]
    html = render_html(diff_paths(snapshots[1], snapshots[3]))
    head = html.split('<p class="verdict', 1)[0]
    # Dates, site and page titles in the heading, not only ids.
    assert "Changes on 127.0.0.1:" in head and " UTC to " in head
    assert '<span lang="fi">Pilotit seutukaupunkien kehittämiseen</span> (fi)' in head
    # An added record's "(none)" is greyed, not red; a gone page's 404 is not green.
    assert '<td class="absent">(none)</td><td class="new">Savonlinnan kaupunki</td>' in html
    assert '<td class="before">200</td><td class="gone">404 (page gone)</td>' in html
    assert 'class="old">(none)' not in html and 'class="new">404' not in html
    assert '<p id="totals">Totals: pages:' in html


def test_a_link_through_a_revisit_says_so(archive: Path, history_replica, tmp_path: Path) -> None:
    output = tmp_path / "output"
    shutil.copytree(archive, output)
    first = [s.path for s in list_snapshots(output)]
    history_replica.set_version("2014-11-19")  # the same bytes as the second snapshot's
    back = crawl(history_replica, output).snapshot
    history_replica.set_version("2015-06")  # the same bytes as the fourth's
    again = crawl(history_replica, output).snapshot
    html = render_html(diff_paths(back, again))
    rows = html.split('<tr class="meta"><td>archived</td>')[1:]
    old_cells = [row.split("</td>", 1)[0] for row in rows]
    assert any(
        f"a revisit: the bytes shown are those archived in snapshot {first[1].name}" in cell
        for cell in old_cells
    )  # the old column reaches into a third snapshot, and says so
    assert f"those archived in snapshot {first[3].name}" in html  # so does the new one


def test_the_text_diff_ends_with_its_totals(archive: Path) -> None:
    snapshots = [s.path for s in list_snapshots(archive)]
    text = render_text(diff_paths(snapshots[1], snapshots[3]))
    last = text.rstrip("\n").splitlines()[-1]
    assert last.startswith("Totals: pages: ") and "pilots: " in last and "unchanged" in last
    same = render_text(diff_paths(snapshots[3], snapshots[3]))
    assert same.rstrip("\n").splitlines()[-1].startswith("Totals: pages: 6 unchanged")


def test_history_as_json(archive: Path) -> None:
    run = run_cli("history", "Kaksikielisten", "--format", "json", "--output", str(archive))
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["entity_id"].startswith("pilot-")
    whats = [e["what"] for e in data["events"]]
    assert whats[0] == "first seen" and "changed" in whats
    changed = [c for e in data["events"] for c in e["changes"]]
    coordinator = [f for c in changed for f in c["fields"] if f["field"] == "coordinator"]
    assert {"old": "Loviisan kaupunki", "new": "Porvoon kaupunki", "field": "coordinator"} in (
        coordinator
    )
    assert all(e["time"].endswith("Z") for e in data["events"])
    # The degraded redesign is listed, neither a step nor a baseline: the pilot it could not
    # read is not "added" again in 2015-06, only its coordinator changed.
    by_what = {e["what"]: e for e in data["events"] if e["what"] != "changed"}
    assert by_what["skipped"]["details"][0].startswith("a degraded snapshot")
    last = [e for e in data["events"] if e["what"] == "changed"][-1]
    assert {c["kind"] for c in last["changes"] if c["record_type"] == "pilot"} <= {
        "modified", "removed"}  # fmt: skip
    # The English page appeared with the pilot on it (the diff folds such records under
    # the page): the timeline says so in the step it happened.
    second = next(e for e in data["events"] if e["what"] == "changed")
    assert any(c["kind"] == "added" and c["language"] == "en" and c["record_type"] == "pilot"
               for c in second["changes"]), second  # fmt: skip
    many = run_cli("history", "kaupunki", "--format", "json", "--output", str(archive))
    assert many.returncode == 2 and len(json.loads(many.stdout)["matches"]) > 1


def test_serve_answers_on_loopback_and_a_busy_port_is_one_line(archive: Path, site: Path) -> None:
    from pilotarchive.export.serve import make_server

    server = make_server(site.parent, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/site/index.html") as answer:
            assert answer.status == 200 and b"the archive" in answer.read()
        run = run_cli("serve", "--port", str(port), "--output", str(archive))
        assert run.returncode == 1
        assert run.stderr.strip() == (
            f"pilotarchive: port {port} on 127.0.0.1 is in use; choose another with --port "
            "(0: any free port)"
        )
    finally:
        server.shutdown()
        server.server_close()
    run = run_cli("serve", "--port", "70000", "--output", str(archive))
    assert run.returncode == 2 and run.stderr.count("\n") == 1


def test_serve_answers_only_this_machines_name_and_only_what_is_published(
    archive: Path, tmp_path: Path
) -> None:
    """A web page in the browser can rebind its own name to 127.0.0.1 and read what `serve`
    answers: the outbox holds the subscribers' addresses. Only requests naming this machine
    are answered, and only the site, the dataset, the snapshots and WACZ packages."""
    import http.client

    from pilotarchive.export.serve import make_server

    output = tmp_path / "output"
    shutil.copytree(archive, output)
    build_site(output)
    (output / "outbox").mkdir()
    (output / "outbox" / "m.eml").write_text("To: researcher@example.org\n", encoding="utf-8")
    (output / "runs.jsonl").write_text("{}\n", encoding="utf-8")
    (output / "site" / "leak").symlink_to(output / "outbox")
    (output / "pilots.wacz").write_bytes(b"PK")
    server = make_server(output, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    def get(path: str, host: str = f"127.0.0.1:{port}") -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", path, headers={"Host": host})
            answer = conn.getresponse()
            return answer.status, answer.read()
        finally:
            conn.close()

    try:
        assert get("/site/index.html")[0] == 200
        assert get("/site/index.html", f"localhost:{port}")[0] == 200
        assert get("/pilots.wacz")[0] == 200
        status, body = get("/")
        assert status == 200 and b"site/" in body and b"outbox" not in body
        assert get("/snapshots/")[0] == 200
        for path in ("/outbox/", "/outbox/m.eml", "/runs.jsonl", "/.lock", "/site/leak/m.eml",
                     "/site/../outbox/m.eml"):  # fmt: skip
            assert get(path)[0] == 404, path
        for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}"):
            status, body = get("/site/index.html", host)
            assert status == 421 and b"the archive" not in body, host
    finally:
        server.shutdown()
        server.server_close()


def test_downloads_list_the_dataset_the_wacz_and_the_warcs(archive: Path, tmp_path: Path) -> None:
    from pilotarchive.archive.snapshot import sha256_file
    from pilotarchive.archive.wacz import build_wacz, snapshot_paths
    from pilotarchive.export.dataset import export_dataset

    output = tmp_path / "output"
    shutil.copytree(archive, output)
    dataset = export_dataset(output).path
    wacz = build_wacz(snapshot_paths(output, []), output / "pilots.wacz").path
    root = build_site(output).path
    html = (root / "downloads.html").read_text(encoding="utf-8")
    for path in (dataset / "pilots.csv", dataset / "pilotarchive.sqlite", wacz):
        assert f'href="{Path("..", *path.relative_to(output).parts).as_posix()}"' in html
        assert sha256_file(path) in html and f"{path.stat().st_size:,} bytes" in html
    for info in list_snapshots(output):
        for rel, entry in info.manifest["files"].items():
            if rel.endswith(".warc.gz"):
                assert entry["sha256"] in html and Path(rel).name in html


def test_the_site_and_dataset_of_one_target_never_replace_anothers(replica, tmp_path: Path) -> None:
    """``OUTPUT/site`` and ``OUTPUT/dataset`` are every target's default folders: a second
    target's build is refused there (it silently replaced the first's), with the folder to
    give instead; a site does not list another target's dataset as its own."""
    out = tmp_path / "out"
    for name in ("alpha", "beta"):
        assert crawl(replica, out, "--target", name).returncode == 0
    assert run_cli("site", "--output", str(out), "--target", "alpha").returncode == 0
    assert run_cli("export", "--output", str(out), "--target", "alpha").returncode == 0
    marker = json.loads((out / "site" / ".pilotarchive.json").read_text(encoding="utf-8"))
    assert marker["target"] == "alpha"
    before = {p: p.read_bytes() for p in (out / "site").rglob("*") if p.is_file()}
    for command in ("site", "export"):
        run = run_cli(command, "--output", str(out), "--target", "beta")
        assert run.returncode == 2, run.stdout + run.stderr
        folder = out / ("site" if command == "site" else "dataset")
        assert f"{folder} holds the {'site' if command == 'site' else 'dataset'} of target " \
               f"'alpha'" in run.stderr and f"--to {folder}-beta" in run.stderr  # fmt: skip
    assert {p: p.read_bytes() for p in (out / "site").rglob("*") if p.is_file()} == before
    # Its own folder: built, and the downloads page does not offer alpha's dataset.
    run = run_cli("site", "--output", str(out), "--target", "beta", "--to", str(out / "site-beta"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{out / 'dataset'} holds another target's dataset: not listed" in run.stderr
    downloads = (out / "site-beta" / "downloads.html").read_text(encoding="utf-8")
    assert "Not exported yet" in downloads and "alpha" not in downloads
    alpha = (out / "site" / "downloads.html").read_text(encoding="utf-8")
    assert "datapackage.json" not in alpha  # built before the export; rebuilt, it lists it
    # A WACZ in the output folder is listed by the site of the target it packages only.
    wacz = run_cli("wacz", "--file", str(out / "a.wacz"), "--output", str(out), "--target", "alpha")
    assert wacz.returncode == 0, wacz.stderr
    assert run_cli("site", "--output", str(out), "--target", "alpha").returncode == 0
    alpha = (out / "site" / "downloads.html").read_text(encoding="utf-8")
    assert "datapackage.json" in alpha and "a.wacz" in alpha
    run = run_cli("site", "--output", str(out), "--target", "beta", "--to", str(out / "site-beta"))
    assert run.returncode == 0, run.stderr
    assert f"{out / 'a.wacz'} packages another target's snapshots: not listed" in run.stderr
    assert "a.wacz" not in (out / "site-beta" / "downloads.html").read_text(encoding="utf-8")
