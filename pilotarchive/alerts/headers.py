"""The headers and the frame every message shares: subscribers' alerts and maintainers'.

The Message-ID is derived from the message's key, so a message written again after a
crash carries the same one. Bulk messages (alerts) carry ``List-Id``, ``List-Unsubscribe``
(an HTTPS link first when there is one, always a ``mailto:``) and, for an HTTPS link,
``List-Unsubscribe-Post`` (RFC 8058 one-click).
"""

import hashlib
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from html import escape
from urllib.parse import quote

from pilotarchive.alerts.clean import one_line
from pilotarchive.alerts.labels import moment
from pilotarchive.alerts.unsubscribe import mailto_url, one_click_url
from pilotarchive.archive.snapshot import snapshot_time
from pilotarchive.controls import xml_safe
from pilotarchive.schedule.config import Config


def message_id(key: str, config: Config) -> str:
    """Derived from the message's key: a message written again after a crash has the same
    Message-ID, so a duplicate (if the crash fell after the server's "250 OK") is known."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{config.mail.domain}>"


def list_id(config: Config, target: str) -> str:
    domain = config.mail.list_id or f"{target}.pilotarchive.{config.mail.domain}"
    return f"pilotarchive {target} <{domain}>"


def unsubscribe_urls(config: Config, target: str, email: str) -> list[str]:
    """The HTTPS link (one-click through `serve`, or ``[mail] unsubscribe`` when it is an
    https:// template) first, then always a ``mailto:``."""
    urls = []
    base = config.mail.unsubscribe
    if config.mail.one_click and config.mail.site_url:
        urls.append(one_click_url(config.mail.site_url, config.output, target, email))
    elif base.startswith("https://"):
        urls.append(
            base.replace("{email}", quote(email, safe="")).replace(
                "{target}", quote(target, safe="")
            )
        )
    urls.append(mailto_url(base, config.mail.sender_address, target, email))
    return urls


def set_headers(
    msg: EmailMessage,
    config: Config,
    *,
    to: str,
    subject: str,
    key: str,
    now: datetime,
    target: str,
    bulk: bool,
) -> None:
    msg["From"] = config.mail.sender
    msg["To"] = to
    msg["Subject"] = one_line(subject, limit=250)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id(key, config)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Pilotarchive-Key"] = key
    if bulk:
        urls = unsubscribe_urls(config, target, to)
        msg["List-Id"] = list_id(config, target)
        msg["List-Unsubscribe"] = ", ".join(f"<{url}>" for url in urls)
        if urls[0].startswith("https://"):  # RFC 8058: one-click needs an HTTPS URI
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg["Precedence"] = "bulk"


def new_message() -> EmailMessage:
    return EmailMessage(policy=SMTP)


def html_document(language: str, title: str, body: list[str]) -> str:
    """The HTML part of a mail; without the control characters an old record may hold (the
    text part shows them escaped, a mail program would render or refuse them)."""
    return xml_safe(
        "\n".join(
            [
                "<!DOCTYPE html>",
                f'<html lang="{escape(language)}"><head><meta charset="utf-8">'
                f"<title>{escape(title)}</title></head><body>",
                *body,
                "</body></html>",
            ]
        )
        + "\n"
    )


def when(snapshot_id: str, language: str = "en") -> str:
    """A snapshot's time for people, in their language: "15.6.2015 klo 6.00 UTC"."""
    ts = snapshot_time(snapshot_id)
    return moment(language, ts) if ts else snapshot_id
