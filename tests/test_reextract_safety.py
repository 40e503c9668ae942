"""``reextract`` against what a fresh-eyes attacker's pass tried: it never hides a change
``validate`` finds, names every snapshot it cannot read, refuses what it would not rewrite
cleanly, and leaves nothing behind when it is interrupted."""

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pilotarchive.derive import reread
from tests.helpers import run_cli
from tests.test_reextract import WITH_WARC, copy, tree


def _derive_once(tmp_path: Path) -> tuple[Path, Path]:
    """A fixture archive derived once again: it then has records and derivations/1/."""
    output, snapshot = copy(WITH_WARC[-1], tmp_path)
    assert run_cli("reextract", "--output", str(output)).returncode == 0
    return output, snapshot


@pytest.mark.parametrize(
    "edited",
    ["records/pilots.jsonl", "derivations/1/records/pilots.jsonl", "archive/added.txt"],
)
def test_a_changed_file_is_never_summed_anew(edited: str, tmp_path: Path) -> None:
    output, snapshot = _derive_once(tmp_path)
    file = snapshot / edited
    if file.exists():
        text = file.read_text(encoding="utf-8")
        assert "Raahe" in text
        file.write_text(text.replace("Raahe", "Evilraahe"), encoding="utf-8")
    else:
        file.write_text("added", encoding="utf-8")
    assert run_cli("validate", "--output", str(output)).returncode == 1
    before = tree(output / "snapshots")
    run = run_cli("reextract", "--output", str(output))
    assert run.returncode == 1, run.stdout + run.stderr
    said = next(line for line in run.stdout.splitlines() if "SKIPPED" in line)
    assert said.startswith(f"{snapshot.name}  SKIPPED, left as it was: {snapshot.name}: {edited}")
    assert tree(output / "snapshots") == before
    assert run_cli("validate", "--output", str(output)).returncode == 1  # still found


@pytest.mark.parametrize("content", ["", "[]", '{"snapshot_id": '])
def test_a_damaged_manifest_is_named_in_every_mode_and_fails(content: str, tmp_path: Path) -> None:
    output, snapshot = copy(WITH_WARC[-1], tmp_path)
    (snapshot / "manifest.json").write_text(content, encoding="utf-8")
    for extra in ([], [snapshot.name], ["--target", "pilots"]):
        run = run_cli("reextract", "--output", str(output), *extra)
        assert run.returncode == 1, (extra, run.stdout + run.stderr)
        assert f"{snapshot.name}  SKIPPED, left as it was: its manifest is damaged" in run.stdout
        assert "0 snapshot(s) derived again, 1 skipped for damage or an error" in run.stdout


def test_a_symlinked_snapshot_is_refused_and_nothing_is_left(tmp_path: Path) -> None:
    output, snapshot = copy(WITH_WARC[-1], tmp_path)
    outside = tmp_path / "elsewhere" / snapshot.name
    outside.parent.mkdir()
    snapshot.rename(outside)
    snapshot.symlink_to(outside)
    before = tree(outside)
    run = run_cli("reextract", "--output", str(output))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "the snapshot's folder is a symbolic link" in run.stdout
    assert snapshot.is_symlink() and tree(outside) == before
    assert sorted(p.name for p in (output / "snapshots").iterdir()) == [snapshot.name]


def test_a_symlinked_warc_is_named_by_validate_and_refused_by_reextract(tmp_path: Path) -> None:
    """Found by an attacker's pass: a WARC swapped for a link to a file outside the archive
    passed validate, and reextract carried the link into the new derivation, so the
    snapshot depended on a file the archive does not hold."""
    output, snapshot = copy(WITH_WARC[-1], tmp_path)
    (warc,) = (snapshot / "archive").glob("*.warc.gz")
    outside = tmp_path / "elsewhere.warc.gz"
    warc.rename(outside)
    warc.symlink_to(outside)
    run = run_cli("validate", "--output", str(output))
    assert run.returncode == 1
    assert f"archive/{warc.name}: a symbolic link (to {outside})" in run.stdout + run.stderr
    before = tree(output / "snapshots")
    run = run_cli("reextract", "--output", str(output))
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"archive/{warc.name} is a symbolic link" in run.stdout
    assert tree(output / "snapshots") == before and warc.is_symlink()


def test_a_snapshot_of_another_target_is_a_usage_error(tmp_path: Path) -> None:
    output, snapshot = copy(WITH_WARC[-1], tmp_path)
    # "pilots" is a target the (default) configuration names; the snapshot has none.
    run = run_cli("reextract", snapshot.name, "--target", "pilots", "--output", str(output),
                  cwd=tmp_path)  # fmt: skip
    assert run.returncode == 2
    assert f"{snapshot.name}: a snapshot of target " in run.stderr
    assert "not of --target pilots" in run.stderr
    # A name neither the configuration nor the archive knows is said first.
    run = run_cli("reextract", snapshot.name, "--target", "another", "--output", str(output),
                  cwd=tmp_path)  # fmt: skip
    assert run.returncode == 2 and "--target another: no such target" in run.stderr


def test_a_full_disk_is_said_as_such() -> None:
    full = OSError(errno.ENOSPC, "No space left on device", "/x/.tmp-1")
    assert reread._reason(full) == (
        "no space left on the device to write its new derivation (/x/.tmp-1)"
    )
    assert reread._reason(OSError(errno.EACCES, "Permission denied", "/x")).startswith(
        "cannot write its new derivation: "
    )


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_reextract_leaves_no_half_built_derivation(how: int, tmp_path: Path) -> None:
    """Stopped while it derives (the derivation waits on a pipe the test holds, so the
    signal lands there every time): the snapshot is as it was and no .tmp- folder stays."""
    output, snapshot = copy(WITH_WARC[-1], tmp_path)
    before = tree(output / "snapshots")
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    code = (
        "import sys\n"
        "from pilotarchive.derive import reread\n"
        "real = reread.derive_snapshot\n"
        "def slow(*a, **k):\n"
        f"    print('deriving', flush=True); open({str(gate)!r}).read()\n"
        "    return real(*a, **k)\n"
        "reread.derive_snapshot = slow\n"
        "from pilotarchive.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "reextract", "--output", str(output)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "deriving"
    staging = [p for p in (output / "snapshots").iterdir() if p.name.startswith(".tmp-")]
    assert len(staging) == 1  # built beside the snapshot while it derives
    proc.send_signal(how)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert tree(output / "snapshots") == before
    assert [p.name for p in (output / "snapshots").iterdir()] == [snapshot.name]
