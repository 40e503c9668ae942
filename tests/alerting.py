"""Helpers for the tests of `pilotarchive run`, `outbox` and `schedule`: a configuration file
for a replica target, running the CLI in a subprocess, and reading what the runs wrote."""

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import run_cli

SUBSCRIBERS = (
    ("researcher@example.org", "fi", "none"),
    ("forskare@example.org", "sv", "none"),
    ("analyst@example.org", "en", "none"),
    ("weekly@example.org", "en", "weekly"),
)
MAINTAINERS = ("ops@example.org", "oncall@example.org")


def write_config(
    folder: Path,
    start_url: str,
    smtp_port: int,
    *,
    security: str = "none",
    username: str = "",
    ca_file: Path | None = None,
    subscribers: tuple[tuple[str, str, str], ...] = SUBSCRIBERS,
    unsubscribe: str = "https://example.org/unsubscribe?email={email}&list={target}",
    name: str = "pilots",
    schedule: str = "0 6 * * 1-5",
    timeout: float = 5,
    mail_extra: str = "",
    target_extra: str = "",
    subscriber_extra: dict[str, str] | None = None,
) -> Path:
    """``mail_extra`` and ``target_extra``: more TOML lines for [mail] and the target;
    ``subscriber_extra``: more keys (TOML inline text) for the subscriber with that address."""
    extra = subscriber_extra or {}
    subs = ",\n".join(
        f'  {{ email = "{email}", language = "{lang}", digest = "{digest}"'
        + (f", {extra[email]}" if email in extra else "")
        + " }"
        for email, lang, digest in subscribers
    )
    maintainers = ", ".join(f'"{m}"' for m in MAINTAINERS)
    text = f"""output = "output"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "{security}"
username = "{username}"
password_env = "PILOTARCHIVE_SMTP_PASSWORD"
timeout = {timeout}
{f'ca_file = "{ca_file}"' if ca_file else ""}

[mail]
sender = "pilotarchive <pilotarchive@example.org>"
unsubscribe = "{unsubscribe}"
maintainers = [{maintainers}]
{mail_extra}

[[target]]
name = "{name}"
start_urls = ["{start_url}"]
scope = "page"
schedule = "{schedule}"
settings = {{ PILOTARCHIVE_FAST_LOOPBACK = true, DOWNLOAD_TIMEOUT = 5, RETRY_TIMES = 0 }}
{target_extra}
subscribers = [
{subs}
]
"""
    file = folder / "pilotarchive.toml"
    file.write_text(text, encoding="utf-8")
    return file


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def pa(*args: str, cwd: Path, password: str | None = None, timeout: float = 180) -> Result:
    """``pilotarchive ARGS`` in a subprocess, in ``cwd`` (where pilotarchive.toml is)."""
    proc = run_cli(
        *args, cwd=cwd, timeout=timeout, env_changes={"PILOTARCHIVE_SMTP_PASSWORD": password}
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return Result(proc.returncode, proc.stdout, proc.stderr)


def runs(folder: Path) -> list[dict]:
    path = folder / "output" / "runs.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def outbox(folder: Path) -> list[Path]:
    box = folder / "output" / "outbox"
    return sorted(box.glob("*.eml")) if box.is_dir() else []


def sent(folder: Path) -> list[Path]:
    box = folder / "output" / "sent"
    return sorted(box.glob("*.eml")) if box.is_dir() else []


def html_text(markup: str) -> str:
    """What a reader sees of an HTML part: the text without tags, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))
