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
        "run",
        "outbox",
        "schedule",
        "backfill",
        "export",
        "site",
        "serve",
    }


@pytest.mark.parametrize(
    "argv",
    [[], ["nonsense"], ["crawl", "--scope", "world"], ["crawl", "--max-pages", "x"], ["replica"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys) -> None:
    assert main(argv) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_missing_snapshot_is_a_clear_failure(tmp_path, capsys) -> None:
    assert main(["validate", "--output", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pilotarchive: no snapshots under") and "pilotarchive crawl" in err


def test_replica_versions(capsys) -> None:
    assert main(["replica", "versions"]) == 0
    out = capsys.readouterr().out
    assert "2014-06" in out and "2014-11-19 (default)" in out and "2015-06" in out
