"""Commands that replace or prune a folder touch only folders they wrote themselves.

``export --to`` once took any folder holding a ``CITATION.cff`` for an earlier export and
replaced it whole: a research repository was wiped. These tests build the user's folders
by hand and check that every byte of them is still there after the command.
"""

import json
import os
import shutil
from pathlib import Path

import pytest

from pilotarchive.export.marker import MARKER
from tests.helpers import run_cli


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def research_repository(folder: Path) -> Path:
    """A researcher's own project: it cites itself, so it has a CITATION.cff too."""
    (folder / ".git").mkdir(parents=True)
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    (folder / "src").mkdir()
    (folder / "src" / "analysis.py").write_text("print('mine')\n", encoding="utf-8")
    (folder / "README.md").write_text("# my study\n", encoding="utf-8")
    (folder / "CITATION.cff").write_text("cff-version: 1.2.0\ntitle: mine\n", encoding="utf-8")
    (folder / "index.html").write_text(
        '<html><head><meta name="generator" content="pilotarchive"></head></html>',
        encoding="utf-8",
    )  # even a page that names our generator is not proof that the folder is ours
    return folder


@pytest.mark.parametrize("command", ["export", "site"])
def test_a_research_repository_is_never_replaced(
    command: str, archive: Path, tmp_path: Path
) -> None:
    repo = research_repository(tmp_path / "study")
    before = tree(repo)
    for to in (str(repo), f"{repo}/", "."):
        run = run_cli(command, "--output", str(archive), "--to", to, cwd=repo)
        assert run.returncode == 2, (to, run.stderr)
        assert "not empty" in run.stderr and MARKER in run.stderr, run.stderr
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr
        assert tree(repo) == before
    assert sorted(p.name for p in tmp_path.iterdir()) in (["study"], [".study.lock", "study"])


def test_export_replaces_its_own_dataset_and_says_what_it_wrote(
    archive: Path, tmp_path: Path
) -> None:
    to = tmp_path / "dataset"
    assert run_cli("export", "--output", str(archive), "--to", f"{to}/").returncode == 0
    marker = json.loads((to / MARKER).read_text(encoding="utf-8"))
    assert marker["tool"] == "pilotarchive" and marker["output"] == "dataset"
    assert marker["format"] == 1
    assert set(marker["files"]) == {p.name for p in to.iterdir()} - {MARKER}
    # The second export (CSV only) replaces the first whole: no stale SQLite left.
    run = run_cli("export", "--output", str(archive), "--to", str(to), "--format", "csv")
    assert run.returncode == 0, run.stderr
    assert not (to / "pilotarchive.sqlite").exists() and (to / "pilots.csv").is_file()


def test_export_to_dot_from_inside_the_dataset_keeps_the_folder(
    archive: Path, tmp_path: Path
) -> None:
    to = tmp_path / "dataset"
    assert run_cli("export", "--output", str(archive), "--to", str(to)).returncode == 0
    inode = to.stat().st_ino
    run = run_cli("export", "--output", str(archive), "--to", ".", "--format", "jsonl", cwd=to)
    assert run.returncode == 0, run.stderr
    # The folder the user's shell stands in is still the dataset, now JSON Lines only.
    assert to.stat().st_ino == inode
    names = {p.name for p in to.iterdir()}
    assert "pilots.jsonl" in names and "pilots.csv" not in names and "CITATION.cff" in names
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith((".tmp-", ".old-"))] == []


def test_a_file_the_user_added_to_a_dataset_stops_the_export(archive: Path, tmp_path: Path) -> None:
    to = tmp_path / "dataset"
    assert run_cli("export", "--output", str(archive), "--to", str(to)).returncode == 0
    (to / "my-notes.txt").write_text("mine", encoding="utf-8")
    before = tree(to)
    run = run_cli("export", "--output", str(archive), "--to", str(to))
    assert run.returncode == 2 and "my-notes.txt" in run.stderr, run.stderr
    assert tree(to) == before


def test_one_command_does_not_take_the_others_folder(archive: Path, tmp_path: Path) -> None:
    dataset, site = tmp_path / "dataset", tmp_path / "site"
    assert run_cli("export", "--output", str(archive), "--to", str(dataset)).returncode == 0
    assert run_cli("site", "--output", str(archive), "--to", str(site)).returncode == 0
    assert json.loads((site / MARKER).read_text(encoding="utf-8"))["output"] == "site"
    for command, to in (("export", site), ("site", dataset)):
        before = tree(to)
        run = run_cli(command, "--output", str(archive), "--to", str(to))
        assert run.returncode == 2 and "another kind of output" in run.stderr, run.stderr
        assert tree(to) == before
    # Each still updates its own.
    assert run_cli("site", "--output", str(archive), "--to", str(site)).returncode == 0


def test_a_dataset_written_before_the_marker_is_still_replaced(
    archive: Path, tmp_path: Path
) -> None:
    """Exports of earlier releases have no marker: recognised only when every file is one
    an export writes and the CITATION.cff says pilotarchive made it."""
    to = tmp_path / "dataset"
    assert run_cli("export", "--output", str(archive), "--to", str(to)).returncode == 0
    (to / MARKER).unlink()
    assert run_cli("export", "--output", str(archive), "--to", str(to)).returncode == 0
    assert (to / MARKER).is_file()
    (to / MARKER).unlink()
    (to / "notes.md").write_text("mine\n", encoding="utf-8")
    run = run_cli("export", "--output", str(archive), "--to", str(to))
    assert run.returncode == 2 and (to / "notes.md").read_text(encoding="utf-8") == "mine\n"


def test_a_marker_from_a_newer_release_is_not_overwritten(archive: Path, tmp_path: Path) -> None:
    to = tmp_path / "dataset"
    to.mkdir()
    body = {"tool": "pilotarchive", "output": "dataset", "format": 99, "files": []}
    (to / MARKER).write_text(json.dumps(body), encoding="utf-8")
    run = run_cli("export", "--output", str(archive), "--to", str(to))
    assert run.returncode == 2 and "newer" in run.stderr
    assert os.listdir(to) == [MARKER]


def test_only_crawl_and_reextract_write_inside_snapshots(archive: Path, tmp_path: Path) -> None:
    output = tmp_path / "output"
    shutil.copytree(archive, output)
    snapshot = sorted(p for p in (output / "snapshots").iterdir() if not p.name.startswith("."))[0]
    (tmp_path / "link").symlink_to(snapshot)
    before = tree(output)
    attempts = [
        ("diff", "--file", str(snapshot / "records" / "pilots.jsonl")),
        ("diff", "--file", str(tmp_path / "link" / "records" / "pilots.jsonl")),
        ("diff", "--file", str(output / "snapshots" / "diff.txt")),
        ("wacz", "--file", str(snapshot / "x.wacz")),
        ("export", "--to", str(output / "snapshots" / "dataset")),
        ("site", "--to", str(snapshot / "site")),
    ]
    for command, flag, where in attempts:
        run = run_cli(command, "--output", str(output), flag, where)
        assert run.returncode == 2, (command, where, run.stderr)
        assert "only a crawl and reextract write" in run.stderr and "Traceback" not in run.stderr
        assert tree(output) == before, (command, where)
    run = run_cli("diff", "--output", str(output), "--file", str(tmp_path / "diff.txt"))
    assert run.returncode == 0 and (tmp_path / "diff.txt").is_file(), run.stderr


def test_the_site_never_writes_or_prunes_through_a_link(archive: Path, tmp_path: Path) -> None:
    """A link inside the site folder (entities/ pointing at the user's notes) once had its
    HTML files deleted by the site's pruning and the site's pages written into it."""
    site = tmp_path / "site"
    assert run_cli("site", "--output", str(archive), "--to", str(site)).returncode == 0
    notes = tmp_path / "notes"
    (notes / "deep").mkdir(parents=True)
    (notes / "notes.html").write_text("mine", encoding="utf-8")
    (notes / "deep" / "thesis.html").write_text("mine too", encoding="utf-8")
    shutil.rmtree(site / "entities")
    (site / "entities").symlink_to(notes)
    before = tree(notes)
    run = run_cli("site", "--output", str(archive), "--to", str(site))
    assert run.returncode == 2 and "symbolic link inside the site folder" in run.stderr
    assert tree(notes) == before


def test_the_site_prunes_only_pages_it_wrote(archive: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run_cli("site", "--output", str(archive), "--to", str(site)).returncode == 0
    pages = json.loads((site / MARKER).read_text(encoding="utf-8"))["pages"]
    assert "entities/index.html" in pages and all((site / p).is_file() for p in pages)
    (site / "entities" / "my-notes.html").write_text("mine", encoding="utf-8")
    stale = site / "diffs" / "old_new.html"  # as a deleted snapshot's diff would be
    stale.write_text("x", encoding="utf-8")
    marker = json.loads((site / MARKER).read_text(encoding="utf-8"))
    marker["pages"].append("diffs/old_new.html")
    (site / MARKER).write_text(json.dumps(marker), encoding="utf-8")
    run = run_cli("site", "--output", str(archive), "--to", str(site))
    assert run.returncode == 0, run.stderr
    assert not stale.exists()  # ours, no longer made: pruned
    assert (site / "entities" / "my-notes.html").read_text(encoding="utf-8") == "mine"


def test_a_deleted_snapshots_pages_leave_no_empty_folders(archive: Path, tmp_path: Path) -> None:
    """A rebuild after a snapshot is gone removes its pages and the folders they leave
    empty (``snapshots/<id>/archive/``); a folder still holding a file of the user's stays."""
    output = tmp_path / "output"
    shutil.copytree(archive, output)
    site = tmp_path / "site"
    assert run_cli("site", "--output", str(output), "--to", str(site)).returncode == 0
    ids = sorted(p.name for p in (output / "snapshots").iterdir() if not p.name.startswith("."))
    gone, kept = ids[0], ids[-1]
    assert (site / "snapshots" / gone / "archive").is_dir()
    (site / "snapshots" / kept / "notes.txt").write_text("mine", encoding="utf-8")
    shutil.rmtree(output / "snapshots" / gone)
    run = run_cli("site", "--output", str(output), "--to", str(site))
    assert run.returncode == 0, run.stderr
    assert not (site / "snapshots" / gone).exists()
    assert (site / "snapshots" / kept / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (site / "snapshots").is_dir() and (site / "snapshots" / kept / "index.html").is_file()
