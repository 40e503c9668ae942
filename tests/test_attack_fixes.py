"""What an attacker's pass over this release's new features found, each now held: a server
that answers 304 to everything, a page with one broken URL, text lxml will not take back,
and target names that would become paths outside the output folder."""

import json
import shutil
from pathlib import Path

import pytest

from pilotarchive.extract.page import extract_page
from pilotarchive.extract.requisites import html_requisites
from pilotarchive.replica.server import ReplicaServer
from tests.helpers import crawl, load_manifest, load_records, run_cli
from tests.hostile import HostileServer, html_page
from tests.test_scope import crawl_of, failures


def test_a_304_to_a_request_without_validators_is_a_failure_not_a_loop(
    hostile: HostileServer, tmp_path: Path
) -> None:
    hostile.page("/", html_page("Etusivu", '<a href="/a">a</a>'))
    hostile.route("/a", status=304, body=b"")
    run = crawl_of(hostile, tmp_path, "--scope", "site")  # ends, within DOWNLOAD_TIMEOUT
    snapshot = Path(run.stdout.strip().splitlines()[-1])
    # Asked once with nothing to compare with, once more in full: then it is a failure.
    assert hostile.paths().count("/a") == 2, hostile.paths()
    assert failures(snapshot)[f"{hostile.url}/a"] == (
        "HTTP 304 Not Modified to a request that sent no validators"
    )


def test_one_broken_url_on_a_page_loses_nothing_else(hostile: HostileServer, tmp_path) -> None:
    body = '<img src="http://[::1/x.png"><img src="/ok.png"><a href="/a">a</a><a href="/b">b</a>'
    hostile.page("/", html_page("Etusivu", body))
    hostile.page("/a", html_page("A"))
    hostile.page("/b", html_page("B"))
    hostile.route("/ok.png", headers=[(b"Content-Type", b"image/png")], body=b"\x89PNG")
    run = crawl_of(hostile, tmp_path, "--scope", "site")
    snapshot = Path(run.stdout.strip().splitlines()[-1])
    pages = {p["final_url"] for p in load_records(snapshot)["pages"]}
    assert pages == {f"{hostile.url}/", f"{hostile.url}/a", f"{hostile.url}/b"}
    assert "/ok.png" in hostile.paths()
    assert html_requisites(b'<base href="http://[::1/"><img src="x.png">', "http://h/") == [
        "http://h/x.png"
    ]


@pytest.mark.parametrize("text", ["&#27;&#xFFFE;", "&#1;&#xFFFF;x", "\x1b&#xFFFE;"])
def test_text_lxml_refuses_back_is_cleaned_not_a_lost_page(text: str) -> None:
    page = extract_page(
        html_page("K", f"<p>x {text}</p><p title='{text}'>y</p>").encode(), "http://x/"
    )
    assert page.error is None
    assert page.title == "K"


def test_a_target_name_that_is_a_path_is_refused_where_it_enters(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for name in ("../x", "/etc", "a/../../b", ".hidden", "x..y"):
        for command in (["prune", "--target", name], ["identity", "--target", name],
                        ["reextract", "--target", name], ["export", "--target", name]):  # fmt: skip
            run = run_cli(*command, "--output", str(out), cwd=tmp_path)
            assert run.returncode == 2, (command, run.stderr)
            assert "is no target name" in run.stderr, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert list(out.iterdir()) == []


def test_a_manifest_naming_a_path_as_its_target_is_damage(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with ReplicaServer(port=0) as replica:
        snapshot = crawl(replica, out, "--target", "tem").snapshot
    manifest = load_manifest(snapshot)
    manifest["target"] = "../../esc/M"
    (snapshot / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    listed = run_cli("snapshots", "--output", str(out))
    assert "target: '../../esc/M' is no target name" in listed.stdout + listed.stderr
    run_cli("identity", "--output", str(out))
    run_cli("reextract", "--output", str(out))
    assert not (tmp_path / "esc").exists() and not (out.parent.parent / "esc").exists()
    shutil.rmtree(out)
