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
    """A setting is unknown, missing or has a wrong value; the message names it.

    ``setting`` is the setting's name, so the CLI can name the flag the user typed instead
    (``--max-pages`` rather than ``PILOTARCHIVE_MAX_PAGES``).
    """

    def __init__(self, message: str, setting: str | None = None) -> None:
        self.setting = setting
        super().__init__(message)


class CrawlFailed(PilotarchiveError):
    """A crawl produced no usable page, so no snapshot was written."""


class LostRedis(CrawlFailed):
    """The split crawl's Redis stopped answering (killed, restarted, network gone): its
    frontier is gone, so the crawl ends, with no snapshot. The message names the Redis."""


class Degraded(PilotarchiveError):
    """A snapshot was written but judged degraded (an extraction failure, pages lost).

    Not an error of the run itself: the snapshot is kept, and the CLI exits 3 so that
    automation can tell it from success (0) and failure (1).
    """


class LockHeld(PilotarchiveError):
    """The output folder or a target is locked by another run; the message names the holder."""

    def __init__(self, message: str, holder: str = "") -> None:
        self.holder = holder
        super().__init__(message)


class SnapshotError(PilotarchiveError):
    """A snapshot cannot be found, read or written."""


class SnapshotDamaged(SnapshotError):
    """A snapshot on disk cannot be read: a file missing, garbled or not UTF-8.

    The message names the snapshot, the file and the line; the snapshot is skipped as a
    baseline, never repaired or removed by pilotarchive.
    """


class DiskFull(PilotarchiveError):
    """Writing failed for lack of space (or another OS error); nothing half-written is left."""


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


class ConfigError(UsageError):
    """The configuration file is missing, not TOML, or does not match its schema.

    The message names the file, the line and the key (``pilotarchive.toml:17: target[0].
    schedule: ...``) so the fix is one edit away; the CLI exits 2.
    """


class SendFailed(PilotarchiveError):
    """The SMTP server could not take a message (down, refused, timeout, bad login).

    Nothing is lost: the message stays in ``output/outbox/`` and the next run or
    ``pilotarchive outbox send`` delivers it.
    """


class RunFailed(PilotarchiveError):
    """A scheduled run of one or more targets failed (no snapshot, or mail not delivered);
    the message names each target and why."""


class UnsubscribeRecordDamaged(PilotarchiveError):
    """``output/alerts/unsubscribed.json`` cannot be read (not JSON, not a mapping of lists).

    It is never replaced or guessed around: mailing on would reach people who left, and
    overwriting it would lose who left. The message names the file; restore it from a
    backup or repair it by hand.
    """


class ArchiveError(PilotarchiveError):
    """A web archive cannot be used for a backfill: unreachable, refusing, rate-limiting for
    longer than we wait, or answering something that is not a CDX listing.

    The message names the archive and the cause. Snapshots committed before the stop stay;
    running the same command again resumes where it stopped.
    """
