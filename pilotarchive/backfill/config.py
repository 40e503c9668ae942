"""The backfill's settings: flags and ``PILOTARCHIVE_BACKFILL_*``, checked before any request.

Every value is checked here, once, so a wrong one stops the command before the archive is
asked anything; the error names the flag or setting as the user typed it.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pilotarchive import settings as defaults
from pilotarchive.exceptions import SettingError, UsageError
from pilotarchive.settings import (
    Origin,
    Scope,
    _allowed_origins,
    check_overrides,
    no_control_characters,
    origin,
)

DEFAULT_CDX_API = "https://web.archive.org/cdx/search/cdx"
DEFAULT_REPLAY = "https://web.archive.org/web/"
# What ``-s`` may set for a backfill; Scrapy's settings do not apply to it.
APPLIES = (
    "PILOTARCHIVE_BACKFILL_DELAY",
    "PILOTARCHIVE_BACKFILL_CDX_DELAY",
    "PILOTARCHIVE_BACKFILL_BACKOFF",
    "PILOTARCHIVE_BACKFILL_MAX_WAIT",
    "PILOTARCHIVE_BACKFILL_RETRIES",
    "PILOTARCHIVE_BACKFILL_TIMEOUT",
    "PILOTARCHIVE_OPERATOR",
    "USER_AGENT",
    "DOWNLOAD_MAXSIZE",
)
# No capture is older than the web (the first web server went public in 1991), and none is
# from the future; an index entry that says otherwise is wrong (a 2999 capture would be the
# snapshot every later crawl diffs against). A day of skew allows for clocks that are off.
FIRST_WEB = datetime(1991, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(days=1)
_DATE = re.compile(r"^(\d{4})(?:-?(\d{2})(?:-?(\d{2})(?:[T ]?(\d{2}):?(\d{2})?:?(\d{2})?)?)?)?Z?$")


@dataclass(frozen=True)
class Bound:
    """A --from or --to date: as the CDX API takes it (1-14 digits) and as a full
    timestamp for filtering client-side (the first or last second it covers)."""

    text: str  # as typed
    cdx: str  # digits, e.g. "201406"
    full: str  # 14 digits


@dataclass(frozen=True)
class BackfillConfig:
    urls: list[str]
    cdx_api: str
    replay: str
    start: Bound | None
    end: Bound | None
    window: timedelta
    output: Path
    delay: float
    cdx_delay: float
    backoff: float
    max_wait: float
    retries: int
    timeout: float
    user_agent: str
    operator: str
    max_size: int
    # Where captures may be of, and redirects may lead: the start URLs' scheme, host and
    # port, and --allow-host; the crawl's own rule (pilotarchive.settings.Scope).
    scope: Scope = field(default_factory=lambda: Scope(frozenset()))
    target: str | None = None  # the target its snapshots belong to, as a crawl's

    def describe(self) -> dict[str, Any]:
        """The settings as the manifest keeps them."""
        return {
            "cdx_api": self.cdx_api,
            "replay": self.replay,
            "from": self.start.text if self.start else None,
            "to": self.end.text if self.end else None,
            "window_days": self.window / timedelta(days=1),
            "delay": self.delay,
            "cdx_delay": self.cdx_delay,
            "user_agent": self.user_agent,
        }


def possible_time(when: datetime, now: datetime) -> bool:
    """Whether a capture can have been made at ``when``: not before the web, not after now
    (give or take ``CLOCK_SKEW``)."""
    return FIRST_WEB <= when <= now + CLOCK_SKEW


def parse_bound(text: str, flag: str, *, upper: bool, now: datetime | None = None) -> Bound:
    """``2014``, ``2014-06``, ``2014-06-12``, ``20140612101500`` ... as a :class:`Bound`.

    A date no capture can have (before 1991, or after ``now`` and its skew) is a usage
    error: a bound there is a typo, and ``--to 9999`` would overflow the date arithmetic.
    ``--to`` may name the year or month in progress: its first second is what is checked.
    """
    m = _DATE.match(text.strip())
    if not m:
        raise UsageError(
            f"{flag} {text!r}: give a date as YYYY, YYYY-MM, YYYY-MM-DD or yyyyMMddhhmmss"
        )
    parts = [p for p in m.groups() if p is not None]
    digits = "".join(parts)
    low = (digits + "0101000000"[len(digits) - 4 :]) if len(digits) < 14 else digits
    try:
        first = datetime.strptime(low, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a date") from None
    now = now or datetime.now(UTC)
    if not possible_time(first, now):
        raise UsageError(
            f"{flag} {text!r}: no capture can be from then; give a date from 1991 to today "
            f"({now:%Y-%m-%d})"
        )
    if not upper:
        return Bound(text, digits, low)
    # The last second the text covers: the next unit's start, less a second.
    if len(digits) == 4:
        last = first.replace(year=first.year + 1) - timedelta(seconds=1)
    elif len(digits) == 6:
        nxt = first.replace(day=28) + timedelta(days=4)
        last = nxt.replace(day=1) - timedelta(seconds=1)
    else:
        size = {8: timedelta(days=1), 10: timedelta(hours=1), 12: timedelta(minutes=1)}
        last = first + size.get(len(digits), timedelta(seconds=1)) - timedelta(seconds=1)
    return Bound(text, digits, last.strftime("%Y%m%d%H%M%S"))


def _http_url(value: str, what: str) -> str:
    value = no_control_characters(what, value.strip())
    if origin(value) is None:
        raise UsageError(f"{what} {value[:200]!r} is not an http(s) URL with a host")
    return value


def _number(name: str, value: Any, kind: type, minimum: float, maximum: float) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not minimum <= number <= maximum:
        what = "a whole number" if kind is int else "a number"
        raise SettingError(
            f"{name} must be {what} from {minimum:g} to {maximum:g}, not {value!r}", name
        )
    return number


def load_backfill_config(
    *,
    urls: list[str],
    cdx_api: str,
    replay: str,
    start: str | None,
    end: str | None,
    window: float,
    output: Path,
    delay: float | None,
    operator: str | None,
    overrides: dict[str, Any],
    allow_hosts: Sequence[str] = (),
    now: datetime | None = None,
) -> BackfillConfig:
    """Every flag and setting of one backfill, checked; the error names the wrong one.

    ``now`` (injected in tests) bounds ``--from`` and ``--to``."""
    check_overrides(overrides)
    for key in overrides:
        if key not in APPLIES:
            raise SettingError(
                f"-s {key} does not apply to backfill; it reads {', '.join(APPLIES)}", key
            )

    def get(name: str) -> Any:
        return overrides.get(name, getattr(defaults, name))

    checked = [_http_url(u, "URL") for u in urls]
    origins: set[Origin] = {found for u in checked if (found := origin(u)) is not None}
    for entry in allow_hosts:
        origins |= _allowed_origins(no_control_characters("--allow-host", str(entry).strip()))
    bound_start = parse_bound(start, "--from", upper=False, now=now) if start else None
    bound_end = parse_bound(end, "--to", upper=True, now=now) if end else None
    if bound_start and bound_end and bound_start.full > bound_end.full:
        raise UsageError(f"--from {start} is after --to {end}")
    if not 0 < window <= 366:
        raise UsageError(f"--window {window:g}: give a number of days above 0 and up to 366")
    if output.exists() and not output.is_dir():
        raise UsageError(f"--output {output} is not a folder")
    prefix = _http_url(replay, "--replay")
    if not prefix.endswith("/"):
        prefix += "/"
    user_agent = no_control_characters("USER_AGENT", str(get("USER_AGENT") or "").strip())
    if not user_agent:
        raise SettingError("USER_AGENT is empty: the archive should know who asks", "USER_AGENT")
    return BackfillConfig(
        urls=checked,
        cdx_api=_http_url(cdx_api, "--cdx-api"),
        replay=prefix,
        start=bound_start,
        end=bound_end,
        window=timedelta(days=window),
        output=output,
        delay=_number(
            "PILOTARCHIVE_BACKFILL_DELAY",
            get("PILOTARCHIVE_BACKFILL_DELAY") if delay is None else delay,
            float,
            0,
            3600,
        ),
        cdx_delay=_number(
            "PILOTARCHIVE_BACKFILL_CDX_DELAY",
            get("PILOTARCHIVE_BACKFILL_CDX_DELAY"),
            float,
            0,
            3600,
        ),
        backoff=_number(
            "PILOTARCHIVE_BACKFILL_BACKOFF", get("PILOTARCHIVE_BACKFILL_BACKOFF"), float, 0, 3600
        ),
        max_wait=_number(
            "PILOTARCHIVE_BACKFILL_MAX_WAIT", get("PILOTARCHIVE_BACKFILL_MAX_WAIT"), float, 0, 86400
        ),
        retries=_number(
            "PILOTARCHIVE_BACKFILL_RETRIES", get("PILOTARCHIVE_BACKFILL_RETRIES"), int, 0, 20
        ),
        timeout=_number(
            "PILOTARCHIVE_BACKFILL_TIMEOUT", get("PILOTARCHIVE_BACKFILL_TIMEOUT"), float, 0.1, 3600
        ),
        user_agent=user_agent,
        operator=no_control_characters(
            "--operator", operator if operator is not None else str(get("PILOTARCHIVE_OPERATOR"))
        ),
        max_size=_number("DOWNLOAD_MAXSIZE", get("DOWNLOAD_MAXSIZE"), int, 1, 1 << 34),
        scope=Scope(frozenset(origins)),
    )
