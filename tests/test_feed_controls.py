"""Control characters in a record never make the site's feeds or pages unreadable.

A record written before control characters were stripped at extraction (or by a path
that missed it) holds BEL, ESC and U+0001 in a theme; XML 1.0 does not allow them even as
references, so escaping alone gave three feeds that no feed reader parses.
"""

import hashlib
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import feedparser
from lxml import etree

from pilotarchive.controls import xml_safe
from pilotarchive.replica.server import ReplicaServer
from tests.hostile import HostileServer

THEME = "Teollisuuden rakennemuutos ja uudet kasvualat"
NEW_THEME = "Teollisuuden murros"
HOSTILE = "Teollisuuden\x07 \x1b[31mmurros\x01"


def _crawl(server: HostileServer, output: Path) -> Path:
    run = subprocess.run(
        [sys.executable, "-m", "pilotarchive", "crawl", f"{server.url}/p", "--output",
         str(output), "--fast-loopback", "--scope", "page", "-s", "DOWNLOAD_TIMEOUT=5"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode in (0, 3), run.stderr
    return Path(run.stdout.strip().splitlines()[-1])


def _two_snapshots_with_an_old_record(
    replica: ReplicaServer, hostile: HostileServer, tmp_path: Path
) -> Path:
    """Two crawls of the replica's page, the newer with a changed theme; that theme then
    rewritten (manifest sums too) as an old record holds it: with BEL, ESC and U+0001."""
    with urllib.request.urlopen(f"{replica.url}/seutukaupunkipilotit", timeout=10) as answer:
        page = answer.read().decode("iso-8859-1")
    assert THEME in page
    headers = [(b"Content-Type", b"text/html; charset=utf-8")]
    output = tmp_path / "output"
    hostile.route("/p", body=page.encode("utf-8"), headers=headers)
    _crawl(hostile, output)
    hostile.route("/p", body=page.replace(THEME, NEW_THEME).encode("utf-8"), headers=headers)
    newer = _crawl(hostile, output)
    pilots = newer / "records" / "pilots.jsonl"
    text = pilots.read_text(encoding="utf-8")
    assert json.dumps(NEW_THEME) in text
    data = text.replace(json.dumps(NEW_THEME), json.dumps(HOSTILE)).encode("utf-8")
    pilots.write_bytes(data)
    manifest = json.loads((newer / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["files"]["records/pilots.jsonl"]
    entry["bytes"], entry["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    (newer / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return output


def test_xml_safe_drops_what_xml_refuses() -> None:
    assert xml_safe("a\x07b\x1bc\x01d\x00e\x9bf\ud800g\ufffeh\tl\nm\rn") == "abcdefgh\tl\nm\rn"
    assert xml_safe("Åbo – 北京 \U0001f600") == "Åbo – 北京 \U0001f600"


def test_a_theme_with_control_characters_gives_feeds_a_reader_parses(
    replica: ReplicaServer, hostile: HostileServer, tmp_path: Path
) -> None:
    output = _two_snapshots_with_an_old_record(replica, hostile, tmp_path)
    built = subprocess.run(
        [sys.executable, "-m", "pilotarchive", "site", "--output", str(output)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    site = output / "site"
    for lang in ("fi", "sv", "en"):
        data = (site / "feeds" / f"changes.{lang}.atom").read_bytes()
        etree.fromstring(data)  # well-formed XML
        feed = feedparser.parse(data)
        assert not feed.bozo, (lang, feed.bozo_exception)
        assert feed.entries, lang
        said = " ".join(e.content[0].value for e in feed.entries)
        assert "murros" in said, lang  # the change is told, without the controls
    pages = sorted(site.rglob("*.html"))
    assert pages
    bad = [p for p in pages if any(c in p.read_text(encoding="utf-8") for c in "\x07\x1b\x01")]
    assert not bad, bad


def test_a_mail_and_an_html_diff_of_such_a_record_hold_no_control_character(
    replica: ReplicaServer, hostile: HostileServer, tmp_path: Path
) -> None:
    """The same old record, in the HTML part of an alert (as html_document writes every
    one) and in ``diff --format html --file``: the text stays, the controls go."""
    from pilotarchive.alerts.headers import html_document

    html = html_document("fi", "t", [f"<p>{HOSTILE}</p>"])
    assert "Teollisuuden [31mmurros" in html
    assert not any(c in html for c in "\x07\x1b\x01")
    output = _two_snapshots_with_an_old_record(replica, hostile, tmp_path)
    out = tmp_path / "diff.html"
    run = subprocess.run(
        [sys.executable, "-m", "pilotarchive", "diff", "--output", str(output), "--format",
         "html", "--file", str(out)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    written = out.read_text(encoding="utf-8")
    assert "murros" in written
    assert not any(c in written for c in "\x07\x1b\x01")
