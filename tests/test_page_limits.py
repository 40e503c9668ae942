"""One page cannot fill the archive: records past a bound per page are not kept, and the
snapshot that met such a page is judged degraded (so no alert goes out from it)."""

import re
import urllib.request
from pathlib import Path

from pilotarchive.extract.notes import MAX_PILOTS_PER_PAGE
from pilotarchive.replica.server import ReplicaServer
from tests.helpers import load_manifest, load_records, run_cli
from tests.hostile import HostileServer

ITEMS = 1_000


def test_a_page_of_a_thousand_pilots_keeps_the_first_and_is_degraded(
    replica: ReplicaServer, hostile: HostileServer, tmp_path: Path
) -> None:
    with urllib.request.urlopen(f"{replica.url}/seutukaupunkipilotit", timeout=10) as answer:
        page = answer.read().decode("iso-8859-1")
    items = "".join(
        f"<li><strong>Teema {n} uusi</strong> &#8211; koordinaattorina Raahen kaupunki. "
        "Kumppanikunnat: Raahe, Kalajoki ja Nivala.</li>"
        for n in range(ITEMS)
    )
    flooded, found = re.subn(r'(<ul class="pilotit">).*?(</ul>)', rf"\g<1>{items}\g<2>", page,
                             flags=re.S)  # fmt: skip
    assert found == 1
    hostile.route("/p", body=flooded.encode("utf-8"),
                  headers=[(b"Content-Type", b"text/html; charset=utf-8")])  # fmt: skip
    run = run_cli("crawl", f"{hostile.url}/p", "--output", str(tmp_path), "--fast-loopback",
                  "--scope", "page", "-s", "DOWNLOAD_TIMEOUT=10")  # fmt: skip
    assert run.returncode == 3, run.stderr  # written, judged degraded
    snapshot = Path(run.stdout.strip().splitlines()[-1])
    records = load_records(snapshot)
    assert len([p for p in records["pilots"] if p["kind"] == "pilot"]) == MAX_PILOTS_PER_PAGE
    (main,) = [p for p in records["pages"] if p["url"].endswith("/p")]
    notes = [n["message"] for n in main["notes"] if n["kind"] == "records_capped"]
    # The thousand, and the separate project the page names in its text.
    assert notes == [f"{ITEMS + 1:,} pilots read on one page; only the first 200 kept"]
    health = load_manifest(snapshot)["health"]
    assert health["verdict"] == "degraded"
    assert any("only the first 200 kept" in f["message"] for f in health["findings"])


def test_a_page_nested_past_the_parsers_depth_is_noted_and_degraded(
    replica: ReplicaServer, hostile: HostileServer, tmp_path: Path
) -> None:
    """Found by an attacker's pass: the pilots below 100,000 nested divs, and libxml2
    stops reading at a depth of 2,048 without an error, dropping the rest of the page. The
    page said nothing and the snapshot was judged healthy; now the page says why it was
    read only in part, and the snapshot is degraded (nobody is alerted by it)."""
    with urllib.request.urlopen(f"{replica.url}/seutukaupunkipilotit", timeout=10) as answer:
        page = answer.read().decode("iso-8859-1")
    deep, found = re.subn(r'(<ul class="pilotit">.*?</ul>)', "<div>" * 100_000 + r"\g<1>"
                          + "</div>" * 100_000, page, flags=re.S)  # fmt: skip
    assert found == 1
    hostile.route("/d", body=deep.encode("utf-8"),
                  headers=[(b"Content-Type", b"text/html; charset=utf-8")])  # fmt: skip
    run = run_cli("crawl", f"{hostile.url}/d", "--output", str(tmp_path), "--fast-loopback",
                  "--scope", "page", "-s", "DOWNLOAD_TIMEOUT=10")  # fmt: skip
    assert run.returncode == 3, run.stderr
    snapshot = Path(run.stdout.strip().splitlines()[-1])
    (main,) = [p for p in load_records(snapshot)["pages"] if p["url"].endswith("/d")]
    (note,) = [n["message"] for n in main["notes"] if n["kind"] == "parse_truncated"]
    assert "deeper than the HTML parser reads" in note and "was not read" in note
    health = load_manifest(snapshot)["health"]
    assert health["verdict"] == "degraded"
    assert any("deeper than the HTML parser reads" in f["message"] for f in health["findings"])
