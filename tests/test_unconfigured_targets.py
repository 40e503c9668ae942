"""A target the archive holds but the configuration file does not name (a backfilled host,
a target since removed from the file): ``reextract`` reads it again without rules and says
so; ``prune`` refuses to delete by a policy nobody wrote for it and says what to write. A
name known to neither is a usage error naming both places."""

from pathlib import Path

from pilotarchive.replica.server import ReplicaServer
from tests.helpers import crawl, run_cli

CONFIG = """\
output = "{out}"

[[target]]
name = "pilots"
start_urls = ["{url}"]
"""


def _archive(replica: ReplicaServer, tmp_path: Path) -> tuple[Path, Path]:
    out = tmp_path / "out"
    crawl(replica, out, "--target", "www.tem.fi")
    config = tmp_path / "pilotarchive.toml"
    config.write_text(CONFIG.format(out=out, url=replica.url + "/"), encoding="utf-8")
    return out, config


def test_reextract_reads_a_target_held_only_by_the_archive(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    out, config = _archive(replica, tmp_path)
    run = run_cli("reextract", "--target", "www.tem.fi", "--output", str(out),
                  "--config", str(config), cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"target www.tem.fi has no [[target]] in {config}: read again without rules" in (
        run.stdout
    )
    # Read again by the release that crawled it: the same records, so nothing is written.
    assert "0 snapshot(s) derived again, 1 unchanged, 0 skipped" in run.stdout
    typo = run_cli("reextract", "--target", "www.tem.fl", "--output", str(out),
                   "--config", str(config), cwd=tmp_path)  # fmt: skip
    assert typo.returncode == 2
    assert "no such target in" in typo.stderr and "(known: pilots, www.tem.fi)" in typo.stderr


def test_prune_says_what_to_write_for_a_target_the_file_does_not_name(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    out, config = _archive(replica, tmp_path)
    run = run_cli("prune", "--target", "www.tem.fi", "--output", str(out),
                  "--config", str(config), cwd=tmp_path)  # fmt: skip
    assert run.returncode == 2, run.stdout + run.stderr
    assert "add a [[target]] with name = 'www.tem.fi' and a [target.retention] table" in (
        run.stderr
    )
    assert len(list((out / "snapshots").iterdir())) == 1


def test_reextract_without_a_configuration_knows_the_archives_targets(tmp_path: Path) -> None:
    """Without pilotarchive.toml a mistyped --target read nothing and said "no snapshot to
    derive again" (exit 0); snapshots made without a target are "untargeted", as the other
    commands call them."""
    import shutil

    fixture = Path(__file__).parent / "fixtures" / "archives" / "records-1.3.0-manifest-1.2.0"
    out = tmp_path / "out"
    shutil.copytree(fixture, out)
    typo = run_cli("reextract", "--target", "typo", "--output", str(out), cwd=tmp_path)
    assert typo.returncode == 2, typo.stdout + typo.stderr
    assert f"--target typo: no such target among the snapshots of {out}" in typo.stderr
    assert "untargeted" in typo.stderr
    run = run_cli("reextract", "--target", "untargeted", "--output", str(out), cwd=tmp_path)
    assert run.returncode == 0 and "1 snapshot(s) derived again" in run.stdout, run.stdout
