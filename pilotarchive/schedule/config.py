"""``pilotarchive.toml``: the targets, their schedules and subscribers, and how mail is sent.

Read in one place and checked at start-up, before anything is crawled or sent: the TOML
syntax, then the JSON Schema ``schemas/config.schema.json`` (unknown keys, types, values),
then what a schema cannot say (a cron expression croniter understands, a crawl setting
Scrapy or pilotarchive knows, target names used once, the SMTP password's variable set).
Every error names the file, the line and the key. Every key has a default, so
``pilotarchive run`` works with no file at all (one target, the ministry's page, nobody to
mail).

The SMTP password is never read from the file: ``password_env`` names the environment
variable that holds it, so the file can be shared and committed.
"""

import difflib
import json
import os
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.errors import HeaderParseError, NonASCIILocalPartDefect
from email.headerregistry import Address, AddressHeader, HeaderRegistry
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from pilotarchive.exceptions import ConfigError, SettingError
from pilotarchive.extract.rules import RuleError, Rules, parse_rules
from pilotarchive.schedule.locate import dotted, key_lines, line_of

DEFAULT_FILE = Path("pilotarchive.toml")
DEFAULT_START = "http://www.tem.fi/seutukaupunkipilotit"
DEFAULT_SCHEDULE = "0 6 * * 1-5"
DEFAULT_PASSWORD_ENV = "PILOTARCHIVE_SMTP_PASSWORD"
LANGUAGES = ("fi", "sv", "en")


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 25
    security: str = "none"  # none | starttls | tls
    username: str = ""
    password_env: str = DEFAULT_PASSWORD_ENV
    password: str = field(default="", repr=False)  # from the environment, never the file
    ca_file: Path | None = None
    timeout: float = 30.0
    smtputf8: bool = False  # the server offers SMTPUTF8: internationalised addresses allowed

    def describe(self) -> str:
        login = f", login {self.username}" if self.username else ""
        return f"{self.host}:{self.port} ({self.security}{login})"


@dataclass(frozen=True)
class MailConfig:
    sender: str = "pilotarchive <pilotarchive@localhost>"
    unsubscribe: str = ""  # mailto: or https://; empty: a mailto: to the sender
    maintainers: tuple[str, ...] = ()
    list_id: str = ""
    replay_url: str = ""
    site_url: str = ""  # where `pilotarchive site` is published; ends with "/"; empty: no links
    one_click: bool = False  # RFC 8058 unsubscribe through `pilotarchive serve` at site_url
    maintainer_language: str = "en"

    @property
    def sender_address(self) -> str:
        return parseaddr(self.sender)[1]

    @property
    def domain(self) -> str:
        return self.sender_address.rpartition("@")[2] or "localhost"


@dataclass(frozen=True)
class Subscriber:
    email: str
    language: str = "fi"
    digest: str = "none"  # none | daily | weekly
    entities: tuple[str, ...] = ()  # entity ids or kinds to hear of; empty: all
    fields: tuple[str, ...] = ()  # fields to hear of; empty: all


FOREVER = "forever"


@dataclass(frozen=True)
class Retention:
    """What ``pilotarchive prune`` keeps of a target (``[target.retention]``): the newest
    ``keep_last``; the newest of each day younger than ``daily_days`` days, of each week
    younger than ``weekly_weeks`` weeks, of each month younger than ``monthly_months``
    months. Counted from the time of the prune. None (written ``"forever"``): every day,
    week or month for ever; 0: none.

    ``monthly_months = 0`` once meant "for ever" while ``daily_days = 0`` meant none; a file
    that still says it is refused by ``prune`` (:func:`ambiguous_months`) rather than read
    either way: read as none it would delete what its writer meant to keep."""

    keep_last: int = 7
    daily_days: int | None = 31
    weekly_weeks: int | None = 52
    monthly_months: int | None = None


def ambiguous_months(policy: Retention) -> str | None:
    """Why ``policy`` cannot be pruned by, or None."""
    if policy.monthly_months == 0:
        return (
            'monthly_months = 0 meant "one a month for ever" in earlier releases (unlike '
            'daily_days = 0, which keeps none); write monthly_months = "forever" to keep one '
            "a month for ever, or a number of months"
        )
    return None


_WINDOWS = ("daily_days", "weekly_weeks", "monthly_months")


def _retention(table: dict[str, Any]) -> Retention:
    """``"forever"`` read as None (the schema allows it for the three windows only); a
    whole number written as a float (TOML ``10.0``, which JSON Schema takes for an
    integer) as that number: it printed "for 10.0 days", and ``keep_last = 2.0`` failed."""

    def value(v: Any) -> Any:
        if v == FOREVER:
            return None
        return int(v) if isinstance(v, float) and v.is_integer() else v

    values: dict[str, Any] = {k: value(v) for k, v in table.items()}
    return Retention(**values)


@dataclass(frozen=True)
class Target:
    name: str
    start_urls: tuple[str, ...] = (DEFAULT_START,)
    scope: str = "page"
    max_pages: int | None = None
    schedule: str = DEFAULT_SCHEDULE
    settings: Mapping[str, str] = field(default_factory=dict)  # as -s KEY=VALUE
    maintainers: tuple[str, ...] = ()  # besides [mail] maintainers
    subscribers: tuple[Subscriber, ...] = ()
    retention: Retention = Retention()
    retention_written: bool = False  # a [target.retention] table, not the defaults
    ignore_fields: tuple[str, ...] = ()  # never alerted: "updated", "person.phone"
    rules: Rules = field(default_factory=Rules)  # [[target.rules.pilot]] (extract/rules.py)


@dataclass(frozen=True)
class Config:
    output: Path = Path("output")
    smtp: SmtpConfig = SmtpConfig()
    mail: MailConfig = MailConfig()
    targets: tuple[Target, ...] = (Target("pilots"),)
    file: Path | None = None  # None: the defaults, no file was read

    def target(self, name: str) -> Target:
        for target in self.targets:
            if target.name == name:
                return target
        known = ", ".join(t.name for t in self.targets)
        raise ConfigError(f"no target {name!r} in {self.file or 'the defaults'} (known: {known})")

    def maintainers(self, target: Target) -> list[str]:
        return list(dict.fromkeys([*self.mail.maintainers, *target.maintainers]))


# -- mail addresses ------------------------------------------------------------------------
# The stdlib's parsers are lenient by design (``parseaddr("a@b:c")`` is ``a@b``; comments and
# route syntax are skipped) and ``headerregistry.Address`` refuses every non-ASCII local part,
# so the grammar is checked here and the stdlib only confirms it reads ASCII ones alike. No
# dependency (email-validator) is needed for a grammar this small.

_ATEXT = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-"
)
_LDH = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
PLAIN = "one plain address (name@example.org: no name, comment, quotes or list)"
SMTPUTF8_HINT = (
    "an internationalised address is sent only with SMTPUTF8: set [smtp] smtputf8 = true "
    "when your SMTP server offers it"
)


def _local_char(ch: str) -> bool:
    """RFC 5322 atext, and (RFC 6532) non-ASCII letters, marks and digits."""
    return ch in _ATEXT or (not ch.isascii() and unicodedata.category(ch)[0] in "LMN")


def ascii_domain(domain: str) -> str | None:
    """The domain in ASCII (IDNA A-labels), or None when it is no host name."""
    labels = domain.split(".")
    out = []
    for label in labels:
        if not label.isascii():
            if (
                label[:1] == "-"
                or label[-1:] == "-"
                or not all(ch == "-" or unicodedata.category(ch)[0] in "LMN" for ch in label)
            ):
                return None
            try:
                label = label.encode("idna").decode("ascii")
            except UnicodeError:
                return None
        if not _LDH.fullmatch(label):
            return None
        out.append(label)
    text = ".".join(out)
    return text if len(text) <= 253 else None


def address_problem(text: str, *, smtputf8: bool = True) -> str | None:
    """Why ``text`` is not exactly one plain addr-spec ``local@domain``, or None.

    Plain: a dot-atom local part and a host name, nothing else. Refused: display names,
    comments, quoted local parts, groups, lists, route syntax, domain literals, trailing
    text; they are legal in headers but each was seen to reach a different mailbox than the
    one written. A non-ASCII address needs ``smtputf8`` (the server must offer SMTPUTF8).
    """
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return f"{text!r} is not {PLAIN}"
    if (
        not all(ch == "." or _local_char(ch) for ch in local)
        or local[0] == "."
        or local[-1] == "."
        or ".." in local
        or len(local.encode("utf-8")) > 64
    ):
        return f"{text!r} is not {PLAIN}"
    wire_domain = ascii_domain(domain)
    if wire_domain is None:
        return f"{text!r} is not {PLAIN}: {domain!r} is not a host name"
    if text.isascii():
        try:  # the stdlib reads it as the same address (as a header, as the envelope)
            same = Address(addr_spec=text).addr_spec == text
        except (ValueError, IndexError, HeaderParseError):
            same = False
        if not same:
            return f"{text!r} is not {PLAIN}"
    elif not smtputf8:
        if local.isascii():
            return f"{text!r}: write the domain as {wire_domain!r}, or {SMTPUTF8_HINT}"
        return f"{text!r}: {SMTPUTF8_HINT}"
    return None


def sender_problem(text: str, *, smtputf8: bool = True) -> str | None:
    """Why ``text`` is not one ``Name <address>`` (or a bare address), or None."""
    match = re.fullmatch(
        r"\s*(?:(?P<name>[^<>]*?)\s*<(?P<addr>[^<>]*)>|(?P<bare>[^<>]*?))\s*", text
    )
    if match is None:
        return f"{text!r} is not a name and one address"
    addr = match["addr"] if match["addr"] is not None else match["bare"]
    if problem := address_problem(addr, smtputf8=smtputf8):
        return problem
    try:
        header = HeaderRegistry()("From", text)
    except ValueError:  # an encoded word that decodes to CR or LF (a header injection)
        return f"{text[:80]!r}: the name holds a line break once decoded"
    if not isinstance(header, AddressHeader):  # always one; for the type checker
        return f"{text!r} is not a name and one address"
    defects = [d for d in header.defects if not isinstance(d, NonASCIILocalPartDefect)]
    groups = header.groups
    if (
        defects
        or len(header.addresses) != 1
        or len(groups) != 1
        or groups[0].display_name is not None
        or header.addresses[0].addr_spec != addr
    ):
        return f"{text!r} is not a name and one address (quote a name with , ; : or @ in it)"
    return None


def setting_text(value: Any) -> str:
    """A TOML value as ``-s KEY=VALUE`` text: booleans and numbers as Scrapy reads them,
    lists and tables as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


class _Errors:
    """Collects the problems with their lines; all are reported at once, in file order."""

    def __init__(self, file: Path, text: str) -> None:
        self.file = file
        self.lines = key_lines(text)
        self.found: list[tuple[int, str]] = []

    def add(self, path: Any, message: str) -> None:
        line = line_of(self.lines, path)
        where = f"{self.file}:{line}" if line else str(self.file)
        key = dotted(path)
        self.found.append((line or 0, f"{where}: {key + ': ' if key else ''}{message}"))

    def raise_any(self) -> None:
        if self.found:
            ordered = [m for _, m in sorted(self.found, key=lambda f: f[0])]
            more = (
                f" (and {len(ordered) - 1} more: {'; '.join(ordered[1:])})" if ordered[1:] else ""
            )
            raise ConfigError(ordered[0] + more)


_TYPE_WORDS = {
    "string": "text in quotes",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list [...]",
    "object": "a table",
}


def _schema_message(error: Any, schema: dict[str, Any]) -> tuple[list[Any], str]:
    """The path and a one-line message for a JSON Schema error, in the file's words."""
    path = list(error.absolute_path)
    value = error.instance
    kind = error.validator
    if kind == "additionalProperties":
        allowed = sorted((error.schema.get("properties") or {}).keys())
        extra = sorted(set(value) - set(allowed))
        key = extra[0] if extra else "?"
        if key == "password" and path == ["smtp"]:
            return [*path, key], (
                "the password is never read from the file: remove it and export it in the "
                "variable named by password_env (default PILOTARCHIVE_SMTP_PASSWORD)"
            )
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(allowed)})"
        return [*path, key], f"unknown key {key!r}{hint}"
    if kind == "type":
        want = error.validator_value
        words = " or ".join(
            _TYPE_WORDS.get(w, w) for w in ([want] if isinstance(want, str) else want)
        )
        return path, f"expected {words}, got {value!r}"
    if kind == "enum":
        options = ", ".join(repr(v) for v in error.validator_value)
        return path, f"must be one of {options}, not {value!r}"
    if kind in ("minimum", "maximum"):
        bound = error.validator_value
        side = "at least" if kind == "minimum" else "at most"
        more = ' (or "forever")' if path and path[-1] in _WINDOWS else ""
        return path, f"{value!r} is out of range: {side} {bound}{more}"
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return path, f"missing key {missing!r}"
    if kind == "pattern":
        leaf = path[-1] if path else ""
        what = {
            "email": "an e-mail address (name@example.org)",
            "name": "a name of letters, digits, '.', '_' and '-' (at most 64)",
            "sender": "a name and an address, e.g. pilotarchive <pilotarchive@example.org>",
            "unsubscribe": "a mailto: address or an https:// URL",
            "password_env": "the name of an environment variable",
            "replay_url": "a URL template with {url} (and {timestamp})",
            "site_url": "an http(s) URL of the published site (never file://)",
            "list_id": "a domain-like name",
            "daily_days": 'a number of days or "forever"',
            "weekly_weeks": 'a number of weeks or "forever"',
            "monthly_months": 'a number of months or "forever"',
        }.get(str(leaf), "")
        if isinstance(leaf, int) and len(path) > 1:  # an item of maintainers or start_urls
            what = {
                "maintainers": "an e-mail address",
                "start_urls": "an http(s) URL",
                "fields": "a field name (coordinator, contact, updated, ...)",
                "ignore_fields": "a field or kind.field (updated, person.phone)",
            }.get(str(path[-2]), "")
        return path, f"{value!r} is not {what}" if what else error.message
    return path, error.message


def _check_schema(data: dict[str, Any], errors: _Errors) -> None:
    from pilotarchive.records.validate import validator

    check = validator("config")
    for error in sorted(check.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path, message = _schema_message(error, check.schema)
        errors.add(path, message)


def _check_schedule(expr: str) -> str | None:
    from croniter import croniter

    if not croniter.is_valid(expr):
        return f"{expr!r} is not a cron expression (five fields: minute hour day month weekday)"
    if len(expr.split()) not in (5,):
        return f"{expr!r}: give five fields (minute hour day month weekday)"
    try:  # valid and never due ("0 0 30 2 *": 30 February) would stop `schedule` later
        croniter(expr, datetime(2000, 1, 1)).get_next(datetime)
    except Exception:  # croniter's CroniterBadDateError, or its own limits
        return f"{expr!r} never runs (no such date)"
    return None


def _check_text(value: Any, path: list[Any], errors: _Errors) -> None:
    """No control character in any key or text of the file: they end up in mail headers,
    lock file names and log lines (the schema's ``$`` lets a final newline through)."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, path, errors)
            _check_text(item, [*path, key], errors)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _check_text(item, [*path, n], errors)
    elif isinstance(value, str) and (bad := _CONTROL.search(value)):
        errors.add(path, f"{value[:60]!r}: a control character ({bad.group()!r}) is not allowed")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _check_settings(settings: dict[str, str]) -> tuple[str, str] | None:
    """The first wrong crawl setting as (key, message), or None."""
    from pilotarchive.settings import check_overrides

    try:
        check_overrides(settings)
    except SettingError as exc:
        return exc.setting or "", str(exc)
    return None


ALERT_KINDS = ("pilot", "project", "person", "page", "contact")


def _field_problem(field: str, kind: str = "") -> str | None:
    """Why a field named in ``fields`` or ``ignore_fields`` is none the alerts know."""
    from pilotarchive.diff.compare import COMPARED

    known = sorted({f for fields in COMPARED.values() for f in fields} | {"text"})
    if kind and kind not in ALERT_KINDS:
        return f"{kind!r} is no kind of entity (one of {', '.join(ALERT_KINDS[:4])})"
    if field in known:
        return None
    close = difflib.get_close_matches(field, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})"
    return f"no field {field!r}{hint}"


def _check_requisite_hosts(value: str) -> str | None:
    """What is wrong with a target's requisite hosts, or None."""
    from scrapy.settings import Settings

    from pilotarchive.settings import requisite_scope

    try:
        requisite_scope(Settings({"PILOTARCHIVE_REQUISITE_HOSTS": value}))
    except SettingError as exc:
        return str(exc)
    return None


def parse_config(
    text: str,
    file: Path,
    *,
    environ: Mapping[str, str] | None = None,
    need_password: bool = True,
) -> Config:
    """The checked configuration of ``text`` (read from ``file``, named in errors)."""
    environ = os.environ if environ is None else environ
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    errors = _Errors(file, text)
    _check_schema(data, errors)
    _check_text(data, [], errors)
    errors.raise_any()  # the checks below trust the types

    smtp_data = data.get("smtp", {})
    security = smtp_data.get("security", "none")
    password_env = smtp_data.get("password_env", DEFAULT_PASSWORD_ENV)
    username = smtp_data.get("username", "")
    password = environ.get(password_env, "")
    if username and not password and need_password:
        errors.add(
            ["smtp", "password_env"] if "password_env" in smtp_data else ["smtp", "username"],
            f"the SMTP login {username!r} needs a password, and the variable {password_env} is "
            f"not set: export {password_env}=... before running",
        )
    ca_file = smtp_data.get("ca_file")
    if ca_file and not (file.parent / ca_file).is_file():
        errors.add(["smtp", "ca_file"], f"no file {file.parent / ca_file}")
    smtp = SmtpConfig(
        host=smtp_data.get("host", "127.0.0.1"),
        port=smtp_data.get("port", 465 if security == "tls" else 25),
        security=security,
        username=username,
        password_env=password_env,
        password=password,
        ca_file=(file.parent / ca_file) if ca_file else None,
        timeout=float(smtp_data.get("timeout", 30.0)),
        smtputf8=bool(smtp_data.get("smtputf8", False)),
    )
    utf8 = smtp.smtputf8
    mail_data = data.get("mail", {})
    defaults = MailConfig()
    sender = mail_data.get("sender", defaults.sender)
    if problem := sender_problem(sender, smtputf8=utf8):
        errors.add(["mail", "sender"], problem)
    for m, person in enumerate(mail_data.get("maintainers", ())):
        if problem := address_problem(person, smtputf8=utf8):
            errors.add(["mail", "maintainers", m], problem)
    site_url = mail_data.get("site_url", "")
    if site_url and not site_url.endswith("/"):
        site_url += "/"  # the site's folder: pages are joined to it
    if mail_data.get("one_click") and not site_url:
        errors.add(["mail", "one_click"], "one-click unsubscribe needs [mail] site_url, "
                   "the address where `pilotarchive serve` publishes the site")  # fmt: skip
    mail = MailConfig(
        sender=sender,
        unsubscribe=mail_data.get("unsubscribe", ""),
        maintainers=tuple(mail_data.get("maintainers", ())),
        list_id=mail_data.get("list_id", ""),
        replay_url=mail_data.get("replay_url", ""),
        site_url=site_url,
        one_click=bool(mail_data.get("one_click", False)),
        maintainer_language=mail_data.get("maintainer_language", "en"),
    )

    targets = []
    seen: set[str] = set()
    for n, item in enumerate(data.get("target", [])):
        where: list[Any] = ["target", n]
        if item["name"] in seen:
            errors.add([*where, "name"], f"target {item['name']!r} is defined twice")
        seen.add(item["name"])
        schedule = item.get("schedule", DEFAULT_SCHEDULE)
        if problem := _check_schedule(schedule):
            errors.add([*where, "schedule"], problem)
        settings = {str(k): setting_text(v) for k, v in (item.get("settings") or {}).items()}
        if hosts := item.get("requisite_hosts"):
            # A CDN's styles and images archived with the pages (docs/replay.md): the same
            # as settings = {PILOTARCHIVE_REQUISITE_HOSTS = "..."}, which it joins.
            given = settings.get("PILOTARCHIVE_REQUISITE_HOSTS", "")
            settings["PILOTARCHIVE_REQUISITE_HOSTS"] = ",".join(filter(None, [given, *hosts]))
            if problem := _check_requisite_hosts(settings["PILOTARCHIVE_REQUISITE_HOSTS"]):
                errors.add([*where, "requisite_hosts"], problem)
        if wrong := _check_settings(settings):
            key, message = wrong
            errors.add(
                [*where, "settings", key] if key in settings else [*where, "settings"], message
            )
        for m, person in enumerate(item.get("maintainers", ())):
            if problem := address_problem(person, smtputf8=utf8):
                errors.add([*where, "maintainers", m], problem)
        for m, name in enumerate(item.get("ignore_fields", ())):
            if problem := _field_problem(name.rpartition(".")[2], name.rpartition(".")[0]):
                errors.add([*where, "ignore_fields", m], problem)
        emails: set[str] = set()
        for m, sub in enumerate(item.get("subscribers", [])):
            for k, name in enumerate(sub.get("fields", ())):
                if problem := _field_problem(name):
                    errors.add([*where, "subscribers", m, "fields", k], problem)
            if problem := address_problem(sub["email"], smtputf8=utf8):
                errors.add([*where, "subscribers", m, "email"], problem)
            if sub["email"].lower() in emails:
                errors.add([*where, "subscribers", m, "email"], f"{sub['email']} is listed twice")
            emails.add(sub["email"].lower())
        rules = Rules((), item["name"])
        try:  # rules: every selector compiled now, so a crawl never reads with a broken one
            rules = parse_rules(item.get("rules"), item["name"])
        except RuleError as exc:
            errors.add([*where, "rules", *exc.path], str(exc))
        targets.append(
            Target(
                name=item["name"],
                start_urls=tuple(item.get("start_urls", (DEFAULT_START,))),
                scope=item.get("scope", "page"),
                max_pages=item.get("max_pages"),
                schedule=schedule,
                settings=settings,
                maintainers=tuple(item.get("maintainers", ())),
                subscribers=tuple(
                    Subscriber(
                        s["email"],
                        s.get("language", "fi"),
                        s.get("digest", "none"),
                        tuple(s.get("entities", ())),
                        tuple(s.get("fields", ())),
                    )
                    for s in item.get("subscribers", [])
                ),
                retention=_retention(item.get("retention", {})),
                retention_written="retention" in item,
                ignore_fields=tuple(item.get("ignore_fields", ())),
                rules=rules,
            )
        )
    errors.raise_any()
    return Config(
        output=Path(data.get("output", "output")),
        smtp=smtp,
        mail=mail,
        targets=tuple(targets) if targets else Config.targets,
        file=file,
    )


def load_config(
    file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    need_password: bool = True,
) -> Config:
    """The configuration from ``file``; without one, ``pilotarchive.toml`` when it exists,
    else the defaults. A file given and missing is an error."""
    if file is None:
        if not DEFAULT_FILE.is_file():
            return Config()
        file = DEFAULT_FILE
    try:
        raw = Path(file).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such configuration file") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not UTF-8 at byte {exc.start}") from None
    return parse_config(text, Path(file), environ=environ, need_password=need_password)
