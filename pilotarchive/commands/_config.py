"""The ``--config FILE`` option shared by ``run``, ``outbox``, ``schedule``, ``prune`` and
``reextract``, and the ``--output`` of those that read the archive the configuration names."""

import argparse
from pathlib import Path


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        "-c",
        type=Path,
        metavar="FILE",
        help="the configuration file (default: pilotarchive.toml when it exists, else the "
        "defaults: one target 'pilots', the ministry's page, nobody to mail)",
    )


def add_config_output(parser: argparse.ArgumentParser) -> None:
    """``--output`` for commands that act on the archive the configuration names."""
    parser.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="DIR",
        help="output folder holding snapshots/ (default: the configuration's, else output)",
    )


def config_output(given: Path | None, configured: Path) -> Path:
    """``--output`` when given (a folder that is not there is a usage error), else the
    configuration's ``output``: the archive ``run`` writes is the one these commands read."""
    from pilotarchive.exceptions import UsageError

    if given is None:
        return configured
    if not given.is_dir():
        raise UsageError(
            f"--output {given}: {'not a folder' if given.exists() else 'no such folder'}"
        )
    return given
