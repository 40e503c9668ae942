"""One module per subcommand, as Scrapy keeps ``scrapy/commands/<name>.py``.

Each module has ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``, and
its docstring is the command's description. Adding a command is adding a module here and
its name to :data:`COMMANDS`; ``cli.py`` only wires them and maps errors to exit codes.
"""

COMMANDS = (
    "crawl",
    "crawl-worker",
    "demo",
    "snapshots",
    "validate",
    "diff",
    "history",
    "identity",
    "wacz",
    "export",
    "site",
    "serve",
    "replica",
    "run",
    "outbox",
    "schedule",
    "backfill",
    "prune",
    "bag",
    "reextract",
)
