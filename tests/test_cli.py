"""The CLI: help for every command, usage errors exit 2, failures exit 1 with one line."""

import argparse

import pytest

from pilotarchive.cli import build_parser, main


def _commands() -> list[list[str]]:
    parser = build_parser()
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.append([name])
                for sub_action in sub._actions:
                    if isinstance(sub_action, argparse._SubParsersAction):
                        out += [[name, child] for child in sub_action.choices]
    return out


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_command_has_help(command: list[str], capsys) -> None:
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: pilotarchive" in out and len(out.splitlines()) > 3


def test_commands_are_all_there() -> None:
    assert {c[0] for c in _commands()} == {
        "crawl",
        "crawl-worker",
        "demo",
        "validate",
        "snapshots",
        "replica",
        "wacz",
        "diff",
        "history",
        "identity",
        "run",
        "outbox",
        "schedule",
        "backfill",
        "export",
        "site",
        "serve",
        "prune",
        "bag",
        "reextract",
    }


@pytest.mark.parametrize(
    "argv",
    [[], ["nonsense"], ["crawl", "--scope", "world"], ["crawl", "--max-pages", "x"], ["replica"],
     # Found by a fresh-eyes pass: each was ignored, a fork bomb, or a traceback.
     ["crawl", "--workers", "1000"], ["crawl", "--workers", "2", "--jobdir", "j"],
     ["crawl", "--workers", "2", "--job", "*"], ["crawl", "--job", "x"],
     ["crawl", "--redis", "notaurl"], ["crawl", "--redis", "redis://127.0.0.1:99999"],
     ["crawl", "--jobdir", "output/snapshots/job"], ["crawl-worker", "--redis", "x", "--job", "*"],
     ["replica", "serve", "--static", "x"],
     ["replica", "serve", "--synthetic", "5", "--layout", "div"],
     ["replica", "serve", "--synthetic", "999999999", "--static", "x"],
     ["replica", "serve", "--archive", "--archive-port", "70000"],
     ["backfill", "--target", "no/slash", "--cdx-api", "http://127.0.0.1:9/cdx"],
     # A wrong name or a missing folder is the caller's mistake, said before a port is taken.
     ["replica", "serve", "--version", "bad", "--port", "0"],
     ["replica", "serve", "--layout", "nope", "--port", "0"]],
)  # fmt: skip
def test_usage_errors_exit_2(argv: list[str], capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert list(tmp_path.iterdir()) == []  # refused before anything was made
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["crawl", "--ouput", "x"], "pilotarchive crawl: error: unrecognized arguments: --ouput "
         "(did you mean --output?)"),
        (["run", "--dryrun"], "pilotarchive run: error: unrecognized arguments: --dryrun "
         "(did you mean --dry-run?)"),
        (["diff", "--formt=json"], "(did you mean --format?)"),
        (["snapshots", "--zzz"], "pilotarchive snapshots: error: unrecognized arguments: --zzz"),
        (["--bogus"], "pilotarchive: error: unrecognized arguments: --bogus"),
    ],
)  # fmt: skip
def test_a_mistyped_option_is_said_with_the_commands_usage(argv, said, capsys) -> None:
    """Found by a new user's pass: a typo in a command's option was said with the top
    level's usage, which names no option of the command."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert said in err, err
    if argv[0] != "--bogus":
        assert f"usage: pilotarchive {argv[0]} " in err


def test_missing_snapshot_is_a_clear_failure(tmp_path, capsys) -> None:
    assert main(["validate", "--output", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pilotarchive: no snapshots under") and "pilotarchive crawl" in err


READERS = [["snapshots"], ["diff"], ["history", "Salo"], ["export"], ["validate"],
           ["wacz", "--file", "x.wacz"], ["site"], ["serve", "--port", "0"]]  # fmt: skip


@pytest.mark.parametrize("argv", READERS, ids=lambda a: a[0])
def test_an_output_folder_that_is_not_there_is_a_usage_error(argv, tmp_path, capsys) -> None:
    """Every command that reads the output folder says the same of one that names nothing
    (typed wrong) or a file, exit 2: `snapshots` listed nothing and exited 0, `serve` said
    it was a usage error, `validate` a failure."""
    for output, said in ((tmp_path / "typo", "no such folder"), (tmp_path / "f", "not a folder")):
        (tmp_path / "f").write_text("")
        assert main([*argv, "--output", str(output)]) == 2
        err = capsys.readouterr().err
        assert err == f"pilotarchive: --output {output}: {said}\n"
    assert not (tmp_path / "typo").exists()  # nothing made under the wrong name


def test_site_with_a_dataset_or_wacz_that_is_not_there(tmp_path, capsys) -> None:
    """The downloads page would silently list nothing: a usage error instead."""
    for flag, value, said in (("--dataset", tmp_path / "nope", "no dataset there"),
                              ("--dataset", tmp_path, "no dataset there"),
                              ("--wacz", tmp_path / "nope.wacz", "no such file")):  # fmt: skip
        assert main(["site", "--output", str(tmp_path), flag, str(value)]) == 2
        assert said in capsys.readouterr().err
    assert not (tmp_path / "site").exists()


def test_replica_versions(capsys) -> None:
    assert main(["replica", "versions"]) == 0
    out = capsys.readouterr().out
    assert "2014-06" in out and "2014-11-19 (default)" in out and "2015-06" in out


# -- targets everywhere (issue 21) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("http://www.tem.fi/seutukaupunkipilotit", "www.tem.fi"),
        ("http://127.0.0.1:8015/seutukaupunkipilotit", "127.0.0.1"),  # a site is its host
        ("https://TEM.fi:443/", "tem.fi"),
        ("http://bücher.example/", "xn--bcher-kva.example"),
        ("http://[fe80::1]:8080/", "ipv6-fe80-1"),
        ("http://a_b!c/", "a_b-c"),
        ("http://" + "x" * 70 + ".fi/", "x" * 64),
        ("", "crawl"),
        ("http://[::1/", "crawl"),  # no URL at all: the crawl refuses it (exit 2)
    ],
    ids=["www", "loopback-port", "case-and-port", "idn", "ipv6", "odd-characters", "long",
         "no-host", "broken-ipv6"],
)  # fmt: skip
def test_a_target_is_named_after_the_host(url: str, target: str) -> None:
    import re

    from pilotarchive.commands._common import target_from_url

    assert target_from_url(url) == target
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", target)  # as settings.py checks


def _retarget(snapshot, target: str | None) -> None:
    """What an archive made before every crawl had a target holds (None), or another's."""
    import json

    manifest = snapshot / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    if target is None:
        data.pop("target", None)
    else:
        data["target"] = target
    manifest.write_text(json.dumps(data), encoding="utf-8")


def test_every_crawl_has_a_target_and_readers_say_how_to_choose(replica, tmp_path) -> None:
    """A crawl without --target is filed under its host; two targets in a folder make
    every reader of one history name them and how to pick, never mix them."""
    from tests.helpers import crawl, load_manifest, run_cli

    out = tmp_path / "out"
    first = crawl(replica, out)
    assert load_manifest(first.snapshot)["target"] == "127.0.0.1"
    assert first.stdout.startswith(f"snapshot {first.snapshot.name} of target 127.0.0.1: ")
    assert run_cli("export", "--output", str(out)).returncode == 0  # one target: no question
    crawl(replica, out, "--target", "tem")
    listed = "127.0.0.1 (1 snapshot), tem (1 snapshot)"
    for argv in (["export"], ["site"], ["identity"], ["history", "Salo"], ["diff"]):
        run = run_cli(*argv, "--output", str(out))
        assert run.returncode == 2, (argv, run.stderr)
        assert f"several targets, whose histories do not mix: {listed}" in run.stderr, argv
        assert "choose one with --target NAME, e.g. --target 127.0.0.1" in run.stderr, argv
    run = run_cli("export", "--output", str(out), "--target", "nope")
    assert run.returncode == 2
    assert f"--target 'nope': {out} holds no snapshots of it; its targets: {listed}" in run.stderr
    run = run_cli("snapshots", "--output", str(out), "--target", "tem")
    listed = [line for line in run.stdout.splitlines() if not line.startswith(" ")]
    assert run.returncode == 0 and len(listed) == 1 and "target tem" in listed[0]
    run = run_cli("diff", "--output", str(out), "--target", "tem")
    assert run.returncode == 1  # the archive's state, not a wrong command
    assert "diff needs two snapshots of target tem" in run.stderr
    for argv in (["validate"], ["wacz", "--file", str(tmp_path / "t.wacz")]):
        run = run_cli(*argv, "--output", str(out), "--target", "127.0.0.1")
        assert run.returncode == 0, run.stderr
        assert first.snapshot.name in run.stdout  # the target's latest, not the folder's


def test_untargeted_snapshots_of_an_older_archive_are_one_target(replica, tmp_path) -> None:
    from tests.helpers import crawl, run_cli

    out = tmp_path / "out"
    old = crawl(replica, out).snapshot
    _retarget(old, None)
    assert run_cli("history", "Salo", "--output", str(out)).returncode == 0  # the only one
    crawl(replica, out, "--target", "tem")
    run = run_cli("export", "--output", str(out))
    assert run.returncode == 2 and "tem (1 snapshot), untargeted (1 snapshot)" in run.stderr
    run = run_cli("export", "--output", str(out), "--target", "untargeted")
    assert run.returncode == 0, run.stderr
    assert f"(newest {old.name})" in run.stdout
    run = run_cli("snapshots", "--output", str(out))
    assert "target untargeted" in run.stdout and "target tem" in run.stdout


def test_diff_with_too_few_snapshots_is_a_failure(tmp_path, capsys, monkeypatch) -> None:
    """Exit 1, as every reader of an archive without snapshots ("run crawl"): the command
    was typed right, the archive is not there yet (it exited 2 where the README said 1)."""
    assert main(["diff", "--output", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pilotarchive: no snapshots under") and "pilotarchive crawl" in err
    monkeypatch.chdir(tmp_path)  # the default output/ missing
    assert main(["diff"]) == 1


def test_the_citation_names_the_operator(replica, tmp_path) -> None:
    from tests.helpers import crawl, run_cli

    out = tmp_path / "out"
    crawl(replica, out, "--operator", "Jane Doe <jane@example.org>")
    assert run_cli("export", "--output", str(out)).returncode == 0
    citation = (out / "dataset" / "CITATION.cff").read_text(encoding="utf-8")
    assert 'authors:\n  - name: "Jane Doe"\n' in citation
    bare = tmp_path / "bare"
    crawl(replica, bare)
    assert run_cli("export", "--output", str(bare)).returncode == 0
    citation = (bare / "dataset" / "CITATION.cff").read_text(encoding="utf-8")
    assert 'authors:\n  - name: "pilotarchive"\n' in citation  # nobody named: the tool


def test_a_text_version_gone_is_said_so_in_the_summary(replica, tmp_path) -> None:
    """In 2015-06 the Swedish text version answers 404 (replica/content.py): the summary
    said "sv page 404 ... Sidan hittades inte", a page that does not exist."""
    from tests.helpers import crawl

    replica.set_version("2015-06")
    run = crawl(replica, tmp_path / "out")
    gone = f"{replica.url}/text.phtml?l=sv&s=4398"
    assert f"  sv text version: not found (404)  {gone}\n" in run.stdout
    assert "sv page 404" not in run.stdout and "Sidan hittades inte" not in run.stdout
