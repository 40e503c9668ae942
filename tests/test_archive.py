"""End-to-end archiving: what the replica sent is what the WARC holds, and recrawls are cheap."""

from pathlib import Path

from pilotarchive.archive.warc import PROFILE_IDENTICAL, PROFILE_NOT_MODIFIED
from pilotarchive.replica.server import Fault, ReplicaServer
from tests.helpers import crawl, load_manifest, load_records, warc_records

FI = "/index.phtml?s=4398"


def test_every_exchange_is_archived_as_sent(replica: ReplicaServer, tmp_path: Path) -> None:
    replica.inject("/text.phtml?l=sv&s=4398", Fault(status=404))
    replica.inject("/text.phtml?l=en&s=4398", Fault(status=500))
    run = crawl(replica, tmp_path, "-s", "PILOTARCHIVE_OPERATOR=Archivist <a@example.invalid>")
    records = warc_records(run.snapshot)
    info = records[0]
    assert info["type"] == "warcinfo"
    block = info["raw"].decode()
    for line in (
        "format: WARC File Format 1.1",
        "conformsTo: https://iipc.github.io/",
        "robots: obey",
        "operator: Archivist <a@example.invalid>",
        f"isPartOf: {run.snapshot.name}",
        "software: pilotarchive/",
    ):
        assert line in block, line
    responses = [r for r in records if r["type"] == "response"]
    by_path = {}
    for r in responses:
        by_path.setdefault(r["uri"].removeprefix(replica.url), []).append(r)
    assert by_path["/robots.txt"][0]["status"] == "200"
    assert by_path["/seutukaupunkipilotit"][0]["status"] == "301"
    assert [r["status"] for r in by_path["/text.phtml?l=sv&s=4398"]] == ["404"]
    # The 500 and its two retries: the retries' identical error pages are revisits.
    en_text = [
        r
        for r in records
        if r["uri"] == f"{replica.url}/text.phtml?l=en&s=4398" and r["type"] != "request"
    ]
    assert [(r["type"], r["status"]) for r in en_text] == [
        ("response", "500"),
        ("revisit", "500"),
        ("revisit", "500"),
    ]
    # Every request is linked to its answer.
    ids = {r["id"] for r in records}
    requests = [r for r in records if r["type"] == "request"]
    assert len(requests) == len([r for r in records if r["type"] in ("response", "revisit")])
    assert all(r["headers"]["WARC-Concurrent-To"] in ids for r in requests)
    assert all(r["headers"].get("WARC-IP-Address") == "127.0.0.1" for r in responses)
    # The body as the server sent it: still gzip, byte for byte.
    fi = by_path[FI][0]
    served = replica.served[FI]
    assert fi["http"]["Content-Encoding"] == "gzip"
    assert fi["raw"] == served.body
    # From a page record to the bytes it came from.
    page = next(p for p in load_records(run.snapshot)["pages"] if p["final_url"].endswith(FI))
    assert (page["warc_record_id"], page["warc_offset"]) == (fi["id"], fi["offset"])
    assert page["warc_filename"] == f"pilotarchive-{run.snapshot.name}.warc.gz"
    stored = sum(len(r["raw"]) for r in responses)  # raw: the body after the HTTP head
    assert load_manifest(run.snapshot)["archive"]["payload_bytes"] == stored


def test_recrawl_sends_validators_and_archives_304_as_revisits(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    first = crawl(replica, tmp_path).snapshot
    etag = replica.served[FI].headers["ETag"]
    last_modified = replica.served[FI].headers["Last-Modified"]
    replica.request_headers.clear()
    second = crawl(replica, tmp_path).snapshot
    sent = dict(replica.request_headers)
    assert sent[FI]["If-None-Match"] == etag
    assert sent[FI]["If-Modified-Since"] == last_modified
    records = warc_records(second)
    revisits = [r for r in records if r["type"] == "revisit"]
    not_modified = [r for r in revisits if r["headers"]["WARC-Profile"] == PROFILE_NOT_MODIFIED]
    assert len(not_modified) == 6
    originals = {r["id"]: r for r in warc_records(first)}
    for r in not_modified:
        original = originals[r["headers"]["WARC-Refers-To"]]
        assert original["type"] == "response" and original["uri"] == r["uri"]
        assert r["headers"]["WARC-Refers-To-Target-URI"] == r["uri"]
        # No block: replay tools take the original's head (docs/replay.md); the 304 head
        # as the server sent it is in a metadata record concurrent to the revisit.
        assert r["headers"]["Content-Length"] == "0" and r["status"] is None
        kept = next(
            m for m in records
            if m["type"] == "metadata" and m["headers"]["WARC-Concurrent-To"] == r["id"]
        )  # fmt: skip
        assert kept["block"].startswith(b"HTTP-Status-Line: HTTP/1.1 304 Not Modified\r\n")
    manifest = load_manifest(second)
    assert manifest["archive"]["payload_bytes"] == 0
    assert manifest["archive"]["depends_on"] == [first.name]
    # The records are carried over, marked unchanged, and otherwise what they were.
    old, new = load_records(first), load_records(second)
    volatile = {
        "snapshot_id",
        "retrieved_at",
        "unchanged",
        "carried_over_from",
        "fetch_status",
        "warc_record_id",
        "warc_offset",
        "warc_date",
        "warc_record_type",
        "warc_filename",
        "warc_refers_to",
        "redirects",
    }
    for kind in ("pages", "pilots", "contacts"):
        assert len(new[kind]) == len(old[kind])
        for a, b in zip(old[kind], new[kind], strict=True):
            assert b["unchanged"] is True and b["carried_over_from"] == first.name
            assert {k: v for k, v in a.items() if k not in volatile} == {
                k: v for k, v in b.items() if k not in volatile
            }
    assert {p["fetch_status"] for p in new["pages"]} == {304}


def test_identical_payloads_become_revisits_without_conditional_requests(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    first = crawl(replica, tmp_path).snapshot
    second = crawl(replica, tmp_path, "-s", "PILOTARCHIVE_CONDITIONAL=0").snapshot
    revisits = [r for r in warc_records(second) if r["type"] == "revisit"]
    assert revisits and all(r["headers"]["WARC-Profile"] == PROFILE_IDENTICAL for r in revisits)
    first_ids = {r["id"] for r in warc_records(first)}
    assert all(r["headers"]["WARC-Refers-To"] in first_ids for r in revisits)
    assert all(r["headers"]["WARC-Refers-To-Date"] for r in revisits)
    pages = load_records(second)["pages"]
    assert {p["unchanged"] for p in pages} == {False}  # re-read, not carried
    assert {p["warc_record_type"] for p in pages} == {"revisit"}


def test_without_dedup_everything_is_archived_in_full(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    crawl(replica, tmp_path)
    second = crawl(
        replica, tmp_path, "-s", "PILOTARCHIVE_CONDITIONAL=0", "-s", "PILOTARCHIVE_DEDUP=0"
    ).snapshot
    types = {r["type"] for r in warc_records(second)}
    assert "revisit" not in types
    assert load_manifest(second)["archive"]["dedup"] is False


def test_a_changed_site_is_archived_in_full_again(replica: ReplicaServer, tmp_path: Path) -> None:
    crawl(replica, tmp_path)
    replica.set_version("2015-06")
    second = crawl(replica, tmp_path).snapshot
    records = load_records(second)
    fi = next(p for p in records["pages"] if p["final_url"].endswith(FI))
    assert fi["fetch_status"] == 200 and fi["unchanged"] is False
    assert fi["warc_record_type"] == "response"
    assert fi["programme"]["pilot_count"] == 5
    text_sv = next(
        p for p in records["pages"] if p["final_url"].endswith("/text.phtml?l=sv&s=4398")
    )
    assert text_sv["status"] == 404


def test_index_only_names_committed_snapshots(replica: ReplicaServer, tmp_path: Path) -> None:
    import sqlite3

    first = crawl(replica, tmp_path).snapshot
    db = sqlite3.connect(tmp_path / "index.sqlite3")
    rows = db.execute("SELECT snapshot_id, record_id, offset FROM payloads").fetchall()
    full = {
        (r["id"], r["offset"]) for r in warc_records(first) if r["type"] == "response" and r["raw"]
    }
    assert {(rid, off) for _, rid, off in rows} == full
    assert {sid for sid, _, _ in rows} == {first.name}
    # A deleted snapshot is forgotten, so no later revisit points at nothing.
    import shutil

    shutil.rmtree(first)
    second = crawl(replica, tmp_path).snapshot
    assert "revisit" not in {r["type"] for r in warc_records(second)}
    snapshots = {row[0] for row in db.execute("SELECT DISTINCT snapshot_id FROM payloads")}
    assert snapshots == {second.name}
