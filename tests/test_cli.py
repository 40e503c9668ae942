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
     ["replica", "serve", "--synthetic", "999999999", "--static", "x"]],
)  # fmt: skip
def test_usage_errors_exit_2(argv: list[str], capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert list(tmp_path.iterdir()) == []  # refused before anything was made
    assert "Traceback" not in capsys.readouterr().err


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
