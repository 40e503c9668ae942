"""The command line: one entry point, a subcommand per module in ``pilotarchive.commands``.

This is the only module that knows about exit codes: 0 success, 1 a failure (a
:class:`PilotarchiveError`), 2 a usage error, 3 a snapshot written but judged degraded
(:class:`Degraded`). Every message is one line on stderr; a traceback is a bug.
"""

import argparse
import difflib
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from pilotarchive import __version__
from pilotarchive.commands import COMMANDS
from pilotarchive.controls import TerminalSafe
from pilotarchive.exceptions import PilotarchiveError, SnapshotInvalid, UsageError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_DEGRADED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"pilotarchive.commands.{name.replace('-', '_')}")


def _check_output(output: Path) -> None:
    """A command that reads the output folder, given one that is not there: a usage error
    (the value as typed names nothing), whatever the command. The default folder missing
    is the commands' own "no snapshots; run crawl"."""
    if output.is_dir():
        return
    if output.exists():
        raise UsageError(f"--output {output}: not a folder")
    if output != Path("output"):
        raise UsageError(f"--output {output}: no such folder")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pilotarchive",
        description="Crawl, extract, validate and snapshot the TEM regional-town pilots pages.",
        epilog="Exit codes: 0 success, 1 failure, 2 usage error, 3 snapshot judged degraded.",
    )
    parser.add_argument("--version", action="version", version=f"pilotarchive {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = _module(name)
        p = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=" ".join((module.__doc__ or module.HELP).split()),
        )
        module.add_arguments(p)
        _COMMAND_PARSERS[module.NAME] = p
    return parser


_COMMAND_PARSERS: dict[str, argparse.ArgumentParser] = {}  # each command's, for its errors


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments; an option the command does not know is said with the command's own
    usage and the nearest option it has ("crawl --ouput": did you mean --output?), where
    argparse says it with the top level's usage, which names no option at all."""
    args, extra = parser.parse_known_args(argv)
    if not extra:
        return args
    sub = _COMMAND_PARSERS.get(args.command or "")
    if sub is None:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    options = [o for action in sub._actions for o in action.option_strings]
    word = extra[0].split("=", 1)[0]
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close and word.startswith("-") else ""
    sub.error(f"unrecognized arguments: {' '.join(extra)}{hint}")
    raise AssertionError("argparse's error() exits")  # pragma: no cover


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; whatever it prints reaches the terminal with its control
    characters shown, not obeyed (text from pages, archives and Redis is printed)."""
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = TerminalSafe(sys.stdout), TerminalSafe(sys.stderr)  # type: ignore[assignment]
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = streams


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = _parse(parser, argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        module = _module(args.command)
        if getattr(module, "READS_OUTPUT", False):
            _check_output(args.output)
        return int(module.run(args))
    except SnapshotInvalid as exc:
        print(f"pilotarchive: {exc}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_FAILURE
    except UsageError as exc:
        print(f"pilotarchive: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except PilotarchiveError as exc:
        print(f"pilotarchive: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("pilotarchive: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`pilotarchive diff | head`): stop quietly, as Unix tools do.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:
        # The last net: a file a command could not read or write is one line naming it and
        # the reason, never a traceback (commands say more where they know more).
        import errno

        where = f"{exc.filename}: " if exc.filename else ""
        what = "disk full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else exc.strerror
        print(f"pilotarchive: {where}{what or exc}", file=sys.stderr)
        return EXIT_FAILURE
