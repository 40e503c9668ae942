"""Scrapy settings with polite defaults, and the one place ``PILOTARCHIVE_*`` keys are read.

The defaults are for the real ministry site: robots.txt obeyed, one request at a time per
host, AutoThrottle, a User-Agent that names us and how to reach us. Only requests to
loopback addresses may go faster, and only when ``PILOTARCHIVE_FAST_LOOPBACK`` is on (the
demo and the tests, crawling the bundled replica).
"""

import difflib
import ipaddress
import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pilotarchive import PROJECT_URL, __version__
from pilotarchive.archive.names import is_target_name
from pilotarchive.exceptions import SettingError

BOT_NAME = "pilotarchive"
SPIDER_MODULES = ["pilotarchive.spiders"]
NEWSPIDER_MODULE = "pilotarchive.spiders"

USER_AGENT = f"pilotarchive/{__version__} (+{PROJECT_URL})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 2.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
# HTML pages of a ministry site are tens of KiB; Scrapy's defaults (1 GiB, warn at 32 MiB)
# are for file downloads. A page over 16 MiB is cancelled and recorded as a failure
# ("larger than DOWNLOAD_MAXSIZE"), not buffered; over 2 MiB it is logged as unusual.
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
HTTPERROR_ALLOW_ALL = True  # 404s and 5xx reach the spider and are recorded, not dropped
COOKIES_ENABLED = False
# Scrapy starts up to CONCURRENT_ITEMS tasks for each page's output; a page gives a handful
# of items, so 100 only costs task churn on the event loop.
CONCURRENT_ITEMS = 16
# Scrapy re-reads the source of every callback that is a generator, for every response, to
# warn of a `return value`; ours return none, so skip that parse.
WARN_ON_GENERATOR_RETURN_VALUE = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19 opens a control port by default; a crawler needs none
LOG_LEVEL = "INFO"
ITEM_PIPELINES = {"pilotarchive.pipelines.SnapshotPipeline": 300}
DOWNLOADER_MIDDLEWARES = {
    "pilotarchive.middlewares.LoopbackSlotMiddleware": 50,
    # Before anything is sent: a URL outside the crawl's scope is never requested.
    "pilotarchive.middlewares.ScopeMiddleware": 60,
    # Scrapy's redirect handling, with loops and out-of-scope targets recorded as failures
    # instead of dropped by the duplicate filter or followed to another host.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "pilotarchive.middlewares.ScopedMetaRefreshMiddleware": 580,
    "pilotarchive.middlewares.ScopedRedirectMiddleware": 600,
    # Next to the downloader: sees every answer (redirects, 5xx before retries, robots.txt)
    # with its body still content-encoded, before HttpCompressionMiddleware (590) decodes it.
    "pilotarchive.middlewares.ArchiveMiddleware": 950,
}
SPIDER_MIDDLEWARES = {
    # Links too long are recorded by the spider itself (a failure with its reason), so
    # Scrapy's silent filter has nothing left to drop.
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
}
EXTENSIONS = {
    "pilotarchive.progress.Progress": 500,
    "pilotarchive.distributed.SharedIdle": 510,  # only in a worker of a split crawl
}
DUPEFILTER_CLASS = "pilotarchive.dupefilter.RecordingDupeFilter"
# `scrapy crawl ministry` exits non-zero when no snapshot was written (see commands).
COMMANDS_MODULE = "pilotarchive.scrapy_commands"
# The slot LoopbackSlotMiddleware puts loopback requests in: still one at a time, no delay.
DOWNLOAD_SLOTS = {"pilotarchive-loopback": {"delay": 0.0, "concurrency": 1, "jitter": 0}}

PILOTARCHIVE_START_URLS = ["http://www.tem.fi/seutukaupunkipilotit"]
PILOTARCHIVE_OUTPUT_DIR = "output"
PILOTARCHIVE_SCOPE = "page"
PILOTARCHIVE_MAX_PAGES = 500
PILOTARCHIVE_FAST_LOOPBACK = False
PILOTARCHIVE_DEDUP = True  # identical payloads become revisit records (output/index.sqlite3)
PILOTARCHIVE_CONDITIONAL = True  # If-None-Match / If-Modified-Since from the last snapshot
PILOTARCHIVE_OPERATOR = ""  # who runs the crawl, for the WARC's warcinfo (name and e-mail)
PILOTARCHIVE_TARGET = ""  # the scheduled target a snapshot belongs to (pilotarchive run)
# The target's extraction rules as JSON (extract/rules.py); `run` passes the [target.rules]
# of pilotarchive.toml, checked when the file loaded. Empty: the generic reader alone.
PILOTARCHIVE_RULES = ""
# Hosts besides those of the start URLs that the crawl may fetch from: "host" (http and
# https on their default ports), "host:port", or "https://host[:port]".
PILOTARCHIVE_ALLOWED_HOSTS: list[str] = []
# Hosts (host, host:port or https://host) whose page requisites (styles, images, scripts,
# fonts: a CDN) are archived with the pages, though no page is crawled there (docs/replay.md).
PILOTARCHIVE_REQUISITE_HOSTS: list[str] = []
PILOTARCHIVE_REQUISITES = True  # archive the pages' requisites with them
PILOTARCHIVE_MAX_REQUISITES = 0  # requisites a crawl fetches at most; 0: 20 a page, >= 1,000
PILOTARCHIVE_PROGRESS = "auto"  # "auto" (on a terminal), "on", "off"
PILOTARCHIVE_WORKER = ""  # "<job>/<n>" in a worker of a crawl split over processes
PILOTARCHIVE_PROGRESS_INTERVAL = 3.0  # seconds between progress lines
# `pilotarchive backfill` (web-archive captures; read by pilotarchive.backfill.config): one
# request at a time, _DELAY seconds apart, CDX queries at least _CDX_DELAY apart (the
# Wayback Machine allows 24 CDX queries a minute); a 429 or 503 is waited out (Retry-After
# honoured, else _BACKOFF seconds doubling) up to _MAX_WAIT seconds per request, then the
# backfill stops; a dropped connection, timeout or 5xx is tried _RETRIES more times.
PILOTARCHIVE_BACKFILL_DELAY = 1.5
PILOTARCHIVE_BACKFILL_CDX_DELAY = 2.5
PILOTARCHIVE_BACKFILL_BACKOFF = 30.0
PILOTARCHIVE_BACKFILL_MAX_WAIT = 300.0
PILOTARCHIVE_BACKFILL_RETRIES = 3
PILOTARCHIVE_BACKFILL_TIMEOUT = 60.0

SCOPES = ("page", "site")
# The flags that set our settings, for messages: the user typed the flag, not the setting.
FLAGS = {
    "PILOTARCHIVE_START_URLS": "START_URL",
    "PILOTARCHIVE_OUTPUT_DIR": "--output",
    "PILOTARCHIVE_SCOPE": "--scope",
    "PILOTARCHIVE_MAX_PAGES": "--max-pages",
    "PILOTARCHIVE_OPERATOR": "--operator",
    "PILOTARCHIVE_ALLOWED_HOSTS": "--allow-host",
    "PILOTARCHIVE_TARGET": "--target",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x80-\x9f\u2028\u2029]")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def no_control_characters(name: str, value: str) -> str:
    """``value`` unchanged, or :class:`SettingError`: it would reach a WARC header, where a
    CR or LF starts a new field (header injection)."""
    if m := _CONTROL.search(value):
        raise SettingError(
            f"{name}: {value[:60]!r} contains a control character ({m.group()!r} at "
            f"position {m.start()}); remove it",
            name,
        )
    return value


Origin = tuple[str, str, int]  # scheme, host, port


def origin(url: str) -> Origin | None:
    """``(scheme, host, port)`` of an http(s) URL, the port filled in; None otherwise."""
    try:
        parts = urlsplit(url.strip())
        scheme, host, port = parts.scheme.lower(), (parts.hostname or ""), parts.port
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    return scheme, host.lower(), port or _DEFAULT_PORTS[scheme]


def _allowed_origins(entry: str) -> set[Origin]:
    """An ``PILOTARCHIVE_ALLOWED_HOSTS`` entry as the origins it allows."""
    if "://" in entry:
        found = origin(entry)
        if found is None:
            raise SettingError(
                f"--allow-host {entry!r}: not an http(s) origin",
                FLAGS["PILOTARCHIVE_ALLOWED_HOSTS"],
            )
        return {found}
    host, _, port = entry.lower().partition(":")
    if not host or (port and not port.isdigit()):
        raise SettingError(
            f"--allow-host {entry!r}: give a host, host:port or https://host",
            "PILOTARCHIVE_ALLOWED_HOSTS",
        )
    return {
        (scheme, host, int(port) if port else default) for scheme, default in _DEFAULT_PORTS.items()
    }


@lru_cache(maxsize=4096)
def _origin_allowed(origins: frozenset[Origin], scheme: str, authority: str) -> bool:
    found = origin(f"{scheme}://{authority}/")
    return found is not None and found in origins


@dataclass(frozen=True)
class Scope:
    """Where a crawl may go: the scheme, host and port of its start URLs, and named extras."""

    origins: frozenset[Origin]

    def allows(self, url: str) -> bool:
        # A site crawl asks this for every link: the scheme and authority are read off the
        # string once per distinct authority, not parsed as a URL each time.
        scheme, sep, rest = url.partition("://")
        if not sep:
            return False
        authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        return _origin_allowed(self.origins, scheme, authority)

    def describe(self) -> str:
        return ", ".join(
            f"{s}://{h}" + ("" if p == _DEFAULT_PORTS[s] else f":{p}")
            for s, h, p in sorted(self.origins)
        )


@dataclass(frozen=True)
class Config:
    """The validated ``PILOTARCHIVE_*`` settings of one crawl."""

    start_urls: list[str]
    output_dir: Path
    scope: str
    max_pages: int
    fast_loopback: bool
    dedup: bool = True
    conditional: bool = True
    operator: str = ""
    target: str | None = None
    allowed: Scope = field(default_factory=lambda: Scope(frozenset()))
    progress: str = "auto"
    progress_interval: float = 3.0
    # Where page requisites may come from besides ``allowed`` (a CDN; docs/replay.md).
    requisite_hosts: Scope = field(default_factory=lambda: Scope(frozenset()))
    max_requisites: int = 1000


def load_config(settings: Any) -> Config:
    """Read and check every ``PILOTARCHIVE_*`` setting; the error names the wrong one."""
    urls = settings.getlist("PILOTARCHIVE_START_URLS")
    if not urls:
        raise SettingError(
            "PILOTARCHIVE_START_URLS is empty: give at least one start URL",
            "PILOTARCHIVE_START_URLS",
        )
    origins: set[Origin] = set()
    for url in urls:
        if not isinstance(url, str):
            raise SettingError(f"start URL {url!r} is not text", "PILOTARCHIVE_START_URLS")
        no_control_characters("start URL", url)
        found = origin(url)
        if found is None:
            raise SettingError(
                f"start URL {url[:200]!r} is not an http(s) URL with a host and a valid port",
                "PILOTARCHIVE_START_URLS",
            )
        if not url.isascii():
            try:
                url.encode("utf-8")
            except UnicodeEncodeError:
                raise SettingError(
                    f"start URL {url[:200]!r} is not valid text (not UTF-8)",
                    "PILOTARCHIVE_START_URLS",
                ) from None
        origins.add(found)
    for entry in settings.getlist("PILOTARCHIVE_ALLOWED_HOSTS"):
        origins |= _allowed_origins(no_control_characters("--allow-host", str(entry).strip()))
    scope = settings.get("PILOTARCHIVE_SCOPE")
    if scope not in SCOPES:
        raise SettingError(
            f"PILOTARCHIVE_SCOPE must be one of {', '.join(SCOPES)}, not {scope!r}",
            "PILOTARCHIVE_SCOPE",
        )
    try:
        max_pages = int(settings.get("PILOTARCHIVE_MAX_PAGES"))
    except (TypeError, ValueError):
        max_pages = 0
    if max_pages < 1:
        raise SettingError(
            "PILOTARCHIVE_MAX_PAGES must be a positive integer, not "
            f"{settings.get('PILOTARCHIVE_MAX_PAGES')!r}",
            "PILOTARCHIVE_MAX_PAGES",
        )
    output = Path(settings.get("PILOTARCHIVE_OUTPUT_DIR") or "")
    if not str(output) or (output.exists() and not output.is_dir()):
        raise SettingError(
            f"PILOTARCHIVE_OUTPUT_DIR {str(output)!r} is not a folder", "PILOTARCHIVE_OUTPUT_DIR"
        )
    operator = no_control_characters(
        "PILOTARCHIVE_OPERATOR", str(settings.get("PILOTARCHIVE_OPERATOR") or "")
    )
    no_control_characters("USER_AGENT", str(settings.get("USER_AGENT") or ""))
    target = str(settings.get("PILOTARCHIVE_TARGET") or "") or None
    if target is not None and not is_target_name(target):
        raise SettingError(
            f"target name {target[:80]!r}: use letters, digits, '.', '_' and '-' (at most 64)",
            "PILOTARCHIVE_TARGET",
        )
    progress = str(settings.get("PILOTARCHIVE_PROGRESS") or "auto").lower()
    if progress not in ("auto", "on", "off"):
        raise SettingError(
            f"PILOTARCHIVE_PROGRESS must be auto, on or off, not {progress!r}",
            "PILOTARCHIVE_PROGRESS",
        )
    return Config(
        start_urls=list(urls),
        output_dir=output,
        scope=scope,
        max_pages=max_pages,
        fast_loopback=settings.getbool("PILOTARCHIVE_FAST_LOOPBACK"),
        dedup=settings.getbool("PILOTARCHIVE_DEDUP"),
        conditional=settings.getbool("PILOTARCHIVE_CONDITIONAL"),
        operator=operator,
        target=target,
        allowed=Scope(frozenset(origins)),
        progress=progress,
        progress_interval=settings.getfloat("PILOTARCHIVE_PROGRESS_INTERVAL"),
        requisite_hosts=requisite_scope(settings),
        max_requisites=_max_requisites(settings, max_pages),
    )


def _max_requisites(settings: Any, max_pages: int) -> int:
    try:
        given = int(settings.get("PILOTARCHIVE_MAX_REQUISITES") or 0)
    except (TypeError, ValueError):
        given = -1
    if given < 0:
        raise SettingError(
            "PILOTARCHIVE_MAX_REQUISITES must be a whole number, 0 for 20 a page (at least "
            f"1,000), not {settings.get('PILOTARCHIVE_MAX_REQUISITES')!r}",
            "PILOTARCHIVE_MAX_REQUISITES",
        )
    return given or max(1000, 20 * max_pages)


def requisite_scope(settings: Any) -> Scope:
    """Where requisites may come from besides the crawl's scope: PILOTARCHIVE_REQUISITE_HOSTS
    (a target's CDN). A host alone allows it on http and https, default ports."""
    origins = set()
    for raw in settings.getlist("PILOTARCHIVE_REQUISITE_HOSTS"):
        entry = no_control_characters("PILOTARCHIVE_REQUISITE_HOSTS", str(raw).strip())
        if not entry:
            continue
        urls = [entry] if "://" in entry else [f"http://{entry}/", f"https://{entry}/"]
        found = {origin(u) for u in urls}
        if None in found:
            raise SettingError(
                f"PILOTARCHIVE_REQUISITE_HOSTS {entry!r}: give a host, host:port or https://host",
                "PILOTARCHIVE_REQUISITE_HOSTS",
            )
        origins |= {o for o in found if o is not None}
    return Scope(frozenset(origins))


# scrapy-redis's settings (the distributed extra), with their defaults.
REDIS_SETTINGS: dict[str, Any] = {
    "REDIS_URL": None, "REDIS_HOST": "localhost", "REDIS_PORT": 6379, "REDIS_PARAMS": {},
    "SCHEDULER_PERSIST": False, "SCHEDULER_FLUSH_ON_START": False,
    "SCHEDULER_IDLE_BEFORE_CLOSE": 0, "SCHEDULER_QUEUE_KEY": "", "SCHEDULER_QUEUE_CLASS": "",
    "SCHEDULER_DUPEFILTER_KEY": "", "SCHEDULER_DUPEFILTER_CLASS": "", "SCHEDULER_SERIALIZER": "",
}  # fmt: skip


def known_settings() -> dict[str, Any]:
    """Every setting name Scrapy, scrapy-redis or pilotarchive knows, with its default."""
    from scrapy.settings import default_settings

    names = {k: getattr(default_settings, k) for k in dir(default_settings) if k.isupper()}
    names.update(REDIS_SETTINGS)
    here = globals()
    names.update({k: v for k, v in here.items() if k.isupper() and not k.startswith("_")})
    for internal in ("SCOPES", "FLAGS", "REDIS_SETTINGS", "FLOAT_SETTINGS"):
        names.pop(internal, None)
    return names


# Settings Scrapy reads as numbers with a fraction though their defaults are whole.
FLOAT_SETTINGS = frozenset(
    {
        "DOWNLOAD_TIMEOUT", "DOWNLOAD_DELAY", "AUTOTHROTTLE_START_DELAY",
        "AUTOTHROTTLE_MAX_DELAY", "AUTOTHROTTLE_TARGET_CONCURRENCY", "CLOSESPIDER_TIMEOUT",
        "CLOSESPIDER_TIMEOUT_NO_ITEM", "LOGSTATS_INTERVAL", "MEMUSAGE_CHECK_INTERVAL_SECONDS",
        "METAREFRESH_MAXDELAY", "DNS_TIMEOUT",
    }
)  # fmt: skip


def check_overrides(overrides: dict[str, Any]) -> None:
    """Refuse a setting no one knows (a typo), with the closest name, and a value of the
    wrong type for its default (``DOWNLOAD_TIMEOUT=abc``), before the crawl starts.

    A number must be finite: ``nan``, ``inf`` and ``1e999`` (infinity once parsed) pass
    Python's ``float()``, and Scrapy then failed every page (a NaN timeout) instead of
    refusing the setting.
    """
    known = known_settings()
    for key, value in overrides.items():
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise SettingError(f"unknown setting {key!r}{hint}", key)
        default = known[key]
        if isinstance(value, float) and not math.isfinite(value):  # from TOML or Redis
            raise SettingError(
                f"setting {key}={value!r}: expected a finite number (default {default!r})", key
            )
        if key == "LOG_LEVEL" and value not in LOG_LEVELS:  # Python's logging takes no other
            raise SettingError(
                f"setting LOG_LEVEL={str(value)[:20]!r}: expected one of {', '.join(LOG_LEVELS)}",
                key,
            )
        if not isinstance(value, str):
            continue
        if isinstance(default, bool):
            kind, ok = "true or false", value.strip().lower() in _BOOLEANS
        elif isinstance(default, float) or key in FLOAT_SETTINGS:
            kind, ok = "a finite number", _parses(_finite, value)
        elif isinstance(default, int):
            kind, ok = "a whole number", _parses(int, value)
        elif isinstance(default, dict):
            kind, ok = "a JSON object", not value.strip() or _parses(_json_object, value)
        elif isinstance(default, list) and default and all(isinstance(v, int) for v in default):
            kind, ok = "whole numbers separated by commas", _parses(_int_list, value)
        else:
            continue
        if not ok:
            raise SettingError(
                f"setting {key}={value[:60]!r}: expected {kind} (default {default!r})", key
            )
    for key, value in overrides.items():
        _check_sign(key, value, known[key])


# Numbers that mean nothing at zero: every page would fail, or nothing would be fetched.
POSITIVE_SETTINGS = frozenset(
    {"DOWNLOAD_TIMEOUT", "DNS_TIMEOUT", "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN",
     "AUTOTHROTTLE_TARGET_CONCURRENCY", "PILOTARCHIVE_PROGRESS_INTERVAL",
     "PILOTARCHIVE_BACKFILL_TIMEOUT"}
)  # fmt: skip


def _check_sign(key: str, value: Any, default: Any) -> None:
    """A negative timeout, delay, size or count (``DOWNLOAD_TIMEOUT=-1``) was accepted and
    then failed every page. Priorities are the one kind of number that may be negative."""
    if isinstance(default, bool) or not isinstance(default, int | float) or "PRIORITY" in key:
        return
    if key == "PILOTARCHIVE_MAX_PAGES":
        return  # load_config says what it must be, in its own words
    try:
        number = float(value)
    except (TypeError, ValueError):
        return  # not a number: said above, or a type Scrapy itself will judge
    except OverflowError:  # a whole number of hundreds of digits (TOML, a job in Redis)
        raise SettingError(f"setting {key}: a number far too large", key) from None
    if key in POSITIVE_SETTINGS and number <= 0:
        raise SettingError(f"setting {key}={value!r}: expected a number above 0", key)
    if number < 0:
        raise SettingError(f"setting {key}={value!r}: expected 0 or more", key)


_BOOLEANS = frozenset({"1", "0", "true", "false", "yes", "no", "on", "off"})


def _parses(parse: Any, value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


def _int_list(value: str) -> list[int]:
    """As Scrapy's ``getlist`` and ``int()`` read ``RETRY_HTTP_CODES=500,502``."""
    return [int(part) for part in value.split(",")]


def _finite(value: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _json_object(value: str) -> dict:
    found = json.loads(value)
    if not isinstance(found, dict):
        raise ValueError("not a JSON object")
    return found
