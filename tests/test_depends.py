"""Revisits resolved to their originals: validate --all audits every snapshot, names a
damaged record by file and position, and reports a revisit whose original is gone."""

import gzip
import json
import shutil
from pathlib import Path

import pytest

from pilotarchive.replica.server import ReplicaServer
from tests.helpers import crawl, records_of, run_cli, warc_records


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, Path, Path]:
    """Two crawls of target 'a' of an unchanged replica: the second's revisits point into
    the first."""
    root = tmp_path_factory.mktemp("depends")
    with ReplicaServer(port=0) as replica:
        first = crawl(replica, root, "--target", "a").snapshot
        second = crawl(replica, root, "--target", "a").snapshot
    return root, first, second


def _copy(archive: tuple[Path, Path, Path], tmp_path: Path) -> tuple[Path, Path, Path]:
    root, first, second = archive
    out = tmp_path / "out"
    shutil.copytree(root, out)
    return out, out / "snapshots" / first.name, out / "snapshots" / second.name


def _warc(snapshot: Path) -> Path:
    return next((snapshot / "archive").glob("*.warc.gz"))


def _revisits(snapshot: Path) -> list[dict]:
    return [r for r in warc_records(snapshot) if r["type"] == "revisit"]


def _rewrite_member(warc: Path, index: int, change) -> None:
    """Record ``index`` of ``warc`` (each record its own gzip member) changed by ``change``."""
    records = records_of(warc)
    data = warc.read_bytes()
    bounds = [r["offset"] for r in records] + [len(data)]
    member = data[bounds[index] : bounds[index + 1]]
    fresh = gzip.compress(change(gzip.decompress(member)))
    warc.write_bytes(data[: bounds[index]] + fresh + data[bounds[index + 1] :])


def test_validate_all_resolves_every_revisit_and_snapshots_shows_them(archive, tmp_path) -> None:
    out, first, second = _copy(archive, tmp_path)
    revisits = _revisits(second)
    assert revisits and {r["refers_to"] for r in revisits} <= {
        r["id"] for r in warc_records(first) if r["type"] == "response"
    }
    run = run_cli("validate", "--all", "--output", str(out))
    assert run.returncode == 0, run.stderr
    assert f"{first.name}  valid  target a" in run.stdout
    assert "2 snapshot(s) valid, every revisit resolved" in run.stdout
    listed = run_cli("snapshots", "--output", str(out))
    assert f"depends on {first.name} ({len(revisits)} revisits)" in listed.stdout
    lines = [json.loads(x) for x in run_cli("snapshots", "--output", str(out), "--json").stdout
             .splitlines()]  # fmt: skip
    assert lines[0]["depends_on"] == {} and lines[0]["dangling"] == 0
    assert lines[1]["depends_on"] == {first.name: len(revisits)}
    assert lines[1]["revisits"] == len(revisits)


def test_a_damaged_byte_is_named_by_file_and_record(archive, tmp_path) -> None:
    out, first, second = _copy(archive, tmp_path)
    warc = _warc(first)
    records = records_of(warc)
    wanted = {r["refers_to"] for r in _revisits(second)}
    n, target = next((n, r) for n, r in enumerate(records) if r["id"] in wanted)
    end = records[n + 1]["offset"]
    data = bytearray(warc.read_bytes())
    data[(target["offset"] + end) // 2] ^= 0x20  # one bit of one byte, mid-record
    warc.write_bytes(bytes(data))
    run = run_cli("validate", "--all", "--output", str(out))
    assert run.returncode == 1
    assert (
        f"{first.name}: archive/{warc.name} record {n} at offset {target['offset']} "
        f"(response {target['id']} {target['uri']}): damaged" in run.stderr
    )
    # The later snapshot's revisit of that record replays nothing now: said so.
    assert f"its original {target['id']} at {first.name}/archive/{warc.name} offset " in run.stderr
    assert f"{first.name}  " in run.stdout and "problem(s)" in run.stdout
    # Validating the later snapshot alone re-computes its originals' digests too.
    alone = run_cli("validate", second.name, "--output", str(out))
    assert alone.returncode == 1 and f"its original {target['id']}" in alone.stderr


def test_another_targets_snapshot_deleted_leaves_dangling_revisits(archive, tmp_path) -> None:
    out, first, second = _copy(archive, tmp_path)
    manifest = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    manifest["target"] = "demo"  # the first crawl now belongs to another target
    (first / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    run = run_cli("validate", "--all", "--target", "a", "--output", str(out))
    assert run.returncode == 0, run.stderr
    revisits = _revisits(second)
    assert (
        f"note: {len(revisits)} revisit(s) point into snapshot {first.name} of target 'demo', "
        "not of this snapshot's target 'a'" in run.stdout
    )
    shutil.rmtree(first)
    run = run_cli("validate", "--all", "--target", "a", "--output", str(out))
    assert run.returncode == 1
    for r in revisits:
        assert (
            f"revisit at offset {r['offset']} ({r['id']}, {r['uri']}): dangling: original "
            f"{r['refers_to']}" in run.stderr
        )
    assert run_cli("validate", "--output", str(out)).returncode == 1
    listed = run_cli("snapshots", "--output", str(out))
    assert f"DANGLING: {len(revisits)} revisit(s)" in listed.stdout
    package = run_cli("wacz", "--target", "a", "--file", str(tmp_path / "a.wacz"),
                      "--output", str(out))  # fmt: skip
    assert package.returncode == 1 and "could not be replayed" in package.stderr


def test_a_revisit_whose_digest_differs_from_its_original_is_dangling(archive, tmp_path) -> None:
    out, _first, second = _copy(archive, tmp_path)
    warc = _warc(second)
    records = records_of(warc)
    n, revisit = next((n, r) for n, r in enumerate(records) if r["type"] == "revisit")
    digest = revisit["headers"]["WARC-Payload-Digest"]
    wrong = "sha1:" + "A" * (len(digest) - 5)
    _rewrite_member(warc, n, lambda block: block.replace(digest.encode(), wrong.encode()))
    run = run_cli("validate", second.name, "--output", str(out))
    assert run.returncode == 1
    assert (
        f"revisit at offset {revisit['offset']} ({revisit['id']}, {revisit['uri']}): dangling: "
        f"payload digest {wrong} differs from its original's ({digest} at " in run.stderr
    )


def test_validate_usage(archive, tmp_path) -> None:
    out, first, _ = _copy(archive, tmp_path)
    both = run_cli("validate", first.name, "--all", "--output", str(out))
    assert both.returncode == 2 and "not both" in both.stderr
    unknown = run_cli("validate", "--all", "--target", "nosuch", "--output", str(out))
    assert unknown.returncode == 2 and "no snapshot of target 'nosuch'" in unknown.stderr
    assert "targets: a" in unknown.stderr


def test_the_listing_reads_headers_by_the_index_and_falls_back_to_the_warcs(
    archive, tmp_path
) -> None:
    from pilotarchive.archive.depends import archive_dependencies

    out, first, second = _copy(archive, tmp_path)
    through = archive_dependencies(out)
    indexed = archive_dependencies(out, indexed=True)
    assert {k: v.as_json() for k, v in indexed.items()} == {
        k: v.as_json() for k, v in through.items()
    }
    (second / "archive" / "index.cdxj").unlink()  # no index: the WARC is read through
    listed = run_cli("snapshots", "--output", str(out))
    assert f"depends on {first.name} ({len(_revisits(second))} revisits)" in listed.stdout
