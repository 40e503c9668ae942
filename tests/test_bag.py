"""bag: a target's archive as a BagIt bag that the Library of Congress library validates."""

import json
import shutil
from pathlib import Path

import bagit
import pytest

from pilotarchive.replica.server import ReplicaServer
from tests.helpers import crawl, run_cli

OPERATOR = "Kansallisarkisto, verkkoarkisto <arkisto@example.org>"


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, str, list[str]]:
    root = tmp_path_factory.mktemp("bag")
    with ReplicaServer(port=0) as replica:
        ids = [crawl(replica, root, "--target", "a").snapshot.name for _ in range(2)]
        start = f"{replica.url}/seutukaupunkipilotit"
    return root, start, ids


def _copy(archive, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(archive[0], out)
    return out


def _bag(out: Path, to: Path, target: str = "a"):
    return run_cli("bag", "--target", target, "--to", str(to), "--operator", OPERATOR,
                   "--output", str(out))  # fmt: skip


def test_the_bag_validates_and_names_source_and_operator(archive, tmp_path) -> None:
    out = _copy(archive, tmp_path)
    _, start, ids = archive
    to = tmp_path / "deposit"
    run = _bag(out, to)
    assert run.returncode == 0, run.stderr
    assert "BagIt bag of target 'a': 2 snapshot(s);" in run.stdout
    bag = bagit.Bag(str(to))
    bag.validate()  # every payload file against both manifests, and the tag manifests
    assert sorted(bag.algorithms) == ["sha256", "sha512"]
    assert bag.info["Source-Organization"] == OPERATOR
    assert bag.info["Source-URL"] == start
    assert bag.info["Pilotarchive-Target"] == "a"
    assert bag.info["Pilotarchive-Snapshots"] == ids
    assert "Pilotarchive-Dependencies" not in bag.info
    for ident in ids:  # every file of every snapshot, byte for byte
        source = out / "snapshots" / ident
        for file in source.rglob("*"):
            if file.is_file():
                copy = to / "data" / "snapshots" / ident / file.relative_to(source)
                assert copy.read_bytes() == file.read_bytes()
    # A bit flipped in the deposit is caught by the manifests.
    warc = next((to / "data" / "snapshots" / ids[0] / "archive").glob("*.warc.gz"))
    data = bytearray(warc.read_bytes())
    data[len(data) // 2] ^= 1
    warc.write_bytes(bytes(data))
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(to)).validate()
    # Its own folder is replaced by a fresh bag.
    again = _bag(out, to)
    assert again.returncode == 0, again.stderr
    bagit.Bag(str(to)).validate()


def test_another_targets_snapshot_the_revisits_need_is_bagged_too(archive, tmp_path) -> None:
    out = _copy(archive, tmp_path)
    first, second = archive[2]
    manifest_file = out / "snapshots" / first / "manifest.json"
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    manifest["target"] = "demo"
    manifest_file.write_text(json.dumps(manifest), encoding="utf-8")
    to = tmp_path / "deposit"
    run = _bag(out, to)
    assert run.returncode == 0, run.stderr
    assert f"1 snapshot(s) of other targets its revisits need ({first})" in run.stdout
    bag = bagit.Bag(str(to))
    bag.validate()
    assert bag.info["Pilotarchive-Snapshots"] == second
    assert bag.info["Pilotarchive-Dependencies"] == first
    assert (to / "data" / "snapshots" / first / "manifest.json").is_file()


def test_bag_refuses_a_foreign_folder_and_a_damaged_archive(archive, tmp_path) -> None:
    out = _copy(archive, tmp_path)
    foreign = tmp_path / "theirs"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    run = _bag(out, foreign)
    assert run.returncode == 2 and "not a bag pilotarchive wrote" in run.stderr
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    # Someone else's bag (no marker of ours) is not replaced either.
    other = tmp_path / "other-bag"
    other.mkdir()
    (other / "a.txt").write_text("x", encoding="utf-8")
    bagit.make_bag(str(other), checksums=["sha256"])
    assert _bag(out, other).returncode == 2
    assert (other / "data" / "a.txt").read_text(encoding="utf-8") == "x"
    assert _bag(out, tmp_path / "x", target="nosuch").returncode == 2
    warc = next((out / "snapshots" / archive[2][0] / "archive").glob("*.warc.gz"))
    data = bytearray(warc.read_bytes())
    data[len(data) // 2] ^= 1
    warc.write_bytes(bytes(data))
    damaged = _bag(out, tmp_path / "new")
    assert damaged.returncode == 1 and "not bagged: the archive is damaged" in damaged.stderr
    assert not (tmp_path / "new").exists()
    assert not list(tmp_path.glob(".tmp-*"))
