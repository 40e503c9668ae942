"""wacz --target: every snapshot of the target, its WARCs whole, and pages.jsonl with each
page's title, time and visible text, as Browsertrix writes it for ReplayWeb.page's search."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from pilotarchive.replica import content
from pilotarchive.replica.server import ReplicaServer
from tests.helpers import crawl, load_records, run_cli

BIN = Path(sys.executable).parent


def test_wacz_of_a_target_holds_every_snapshot_with_page_text(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    replica.set_version("2014-11-19")
    old = crawl(replica, out, "--target", "a").snapshot
    replica.set_version("2015-06")
    new = crawl(replica, out, "--target", "a").snapshot
    crawl(replica, out, "--target", "b")  # another target's: not in the package
    package = tmp_path / "a.wacz"
    run = run_cli("wacz", "--target", "a", "--file", str(package), "--output", str(out))
    assert run.returncode == 0, run.stderr
    assert f"from snapshot(s) {old.name}, {new.name}," in run.stdout
    checked = subprocess.run(
        [BIN / "wacz", "validate", "-f", str(package)], capture_output=True, text=True
    )
    assert checked.returncode == 0 and "Validation succeeded" in checked.stdout

    with zipfile.ZipFile(package) as z:
        for snapshot in (old, new):  # every record of both, requisites included: whole files
            warc = next((snapshot / "archive").glob("*.warc.gz"))
            assert z.read(f"archive/{warc.name}") == warc.read_bytes()
        lines = [json.loads(x) for x in z.read("pages/pages.jsonl").splitlines()]
    header, pages = lines[0], lines[1:]
    assert header == {"format": "json-pages-1.0", "id": "pages", "title": "All Pages",
                      "hasText": True}  # fmt: skip
    by_id = {p["id"]: p for p in pages}
    expected = {}
    for snapshot in (old, new):
        for page in load_records(snapshot)["pages"]:
            if page["status"] == 200 and page["content_type"].startswith("text/html"):
                expected[f"{snapshot.name}-{page['id']}"] = page
    assert set(by_id) == set(expected)  # every page of both snapshots, none of target b
    for ident, page in expected.items():
        entry = by_id[ident]
        assert entry["url"] == page["final_url"] and entry["ts"] == page["warc_date"]
        assert entry["title"] == page["title"]
        assert entry["text"] and "<" not in entry["text"]
    fi = {
        s.name: next(
            by_id[f"{s.name}-{p['id']}"]["text"]
            for p in load_records(s)["pages"]
            if p["final_url"].endswith("/index.phtml?s=4398")
        )
        for s in (old, new)
    }
    # The tourism pilot (Savonlinna) was added in the 2015 version: searchable in its
    # snapshot only; the wellbeing pilot's contact is in both.
    town = content.TOURISM.municipalities[0]
    assert town not in fi[old.name] and town in fi[new.name]
    person = content.KÄRKKÄINEN.family  # the page writes "Kärkkäinen, Sanna"
    assert person in fi[old.name] and person in fi[new.name]


def test_wacz_never_replaces_a_file_it_did_not_write(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    """Found by an attacker's pass: ``--file`` named an existing file of the user's and it
    was replaced without a word. Only a package pilotarchive wrote is replaced (its
    datapackage.json says so); a symbolic link is replaced itself, never written through."""
    out = tmp_path / "out"
    crawl(replica, out, "--target", "a")
    mine = tmp_path / "mine.wacz"
    foreign = tmp_path / "browsertrix.wacz"
    mine.write_text("my notes, not a package\n")
    with zipfile.ZipFile(foreign, "w") as z:
        z.writestr("datapackage.json", json.dumps({"title": "my crawl", "software": "x"}))
    for path in (mine, foreign):
        before = path.read_bytes()
        run = run_cli("wacz", "--target", "a", "--file", str(path), "--output", str(out))
        assert run.returncode == 2, run.stderr
        assert f"{path} exists and is not a WACZ package pilotarchive wrote" in run.stderr
        assert path.read_bytes() == before
    ours = tmp_path / "ours.wacz"
    for title in ([], ["--title", "Seutukaupunkipilotit"], []):  # ours, whatever its title
        run = run_cli("wacz", "--target", "a", "--file", str(ours), "--output", str(out), *title)
        assert run.returncode == 0, run.stderr
    link = tmp_path / "link.wacz"
    link.symlink_to(mine)
    run = run_cli("wacz", "--target", "a", "--file", str(link), "--output", str(out))
    assert run.returncode == 0, run.stderr
    assert not link.is_symlink() and mine.read_text() == "my notes, not a package\n"
