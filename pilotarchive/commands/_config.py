"""The ``--config FILE`` option shared by ``run``, ``outbox`` and ``schedule``."""

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
