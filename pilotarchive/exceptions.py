"""The one exception tree of pilotarchive.

Every error a user can meet derives from :class:`PilotarchiveError`; its message says what
went wrong and what to do. Only the CLI turns these into exit codes, so library code never
calls ``sys.exit`` and a traceback reaching the user is a bug.
"""


class PilotarchiveError(Exception):
    """Root of all pilotarchive errors; the CLI exits 1 with its message."""


class UsageError(PilotarchiveError):
    """The command line or a setting is wrong; the CLI exits 2."""


class SettingError(UsageError):
    """A ``PILOTARCHIVE_*`` setting is missing or has a wrong value; the message names it."""


class CrawlFailed(PilotarchiveError):
    """A crawl produced no usable page, so no snapshot was written."""


class SnapshotError(PilotarchiveError):
    """A snapshot cannot be found, read or written."""


class SnapshotInvalid(SnapshotError):
    """A snapshot failed validation; ``problems`` lists every finding."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s) found")


class ExtractionError(PilotarchiveError):
    """A page could not be read at all (empty, not HTML).

    The page is still recorded, with the reason, and the crawl goes on.
    """


class SchemaError(PilotarchiveError):
    """A schema file is missing or broken: reinstall pilotarchive or restore ``schemas/``."""


class ReplicaError(PilotarchiveError):
    """The bundled replica cannot serve what was asked (unknown version, port in use)."""
