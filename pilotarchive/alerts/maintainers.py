"""The maintainers' message: "the crawler needs attention", in the maintainers' language.

It says what failed on which pages (grouped by page, in the maintainer's words), since
when (the first failing run after the last healthy snapshot, and how many runs), and
what to do: reading rules in the target's configuration and ``pilotarchive reextract``
for a layout the reader no longer understands, ``validate`` for the snapshot, the start
URLs for a site that did not answer. Subscribers are told nothing of it; the next healthy
run is compared with the last healthy snapshot, so they get the real changes once.
"""

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from html import escape
from typing import Any

from pilotarchive.alerts.headers import html_document, new_message, set_headers, when
from pilotarchive.alerts.labels import count, labels
from pilotarchive.alerts.render import quoted
from pilotarchive.controls import printable
from pilotarchive.schedule.config import Config, Target


@dataclass(frozen=True)
class Trouble:
    """What went wrong with a run, for the maintainers."""

    kind: str  # "degraded" (a snapshot judged degraded) or "failed" (no snapshot)
    run_id: str  # the snapshot's id, or the run's start time when there is none
    message: str
    findings: tuple[dict[str, Any], ...] = ()
    snapshot: str | None = None
    last_healthy: str | None = None
    last_healthy_path: str | None = None
    since: str | None = None  # the first failing run after the last healthy snapshot
    failing_runs: int = 1  # failing runs since then, this one included


def health_key(target: str, trouble: Trouble, recipient: str) -> str:
    return f"health/{target}/{trouble.kind}/{trouble.run_id}/{recipient.lower()}"


def _what(language: str, finding: dict[str, Any]) -> str:
    w = labels(language)
    kind = str(finding.get("kind") or "")
    for key in (f"m_kind_{kind}_{finding.get('record_type')}", f"m_kind_{kind}"):
        if key in w:
            return w[key]
    message = str(finding.get("message") or kind)  # the health check's own words
    return (
        f"{w['m_kind_other']}: {quoted(language, message, 'en') if language != 'en' else message}"
    )


def _findings(language: str, findings: tuple[dict[str, Any], ...]) -> list[str]:
    """One line per page: its URL and what failed there, each thing once."""
    w = labels(language)
    by_page: dict[str, list[str]] = {}
    for f in findings:
        if f.get("severity") not in ("error", "warning"):
            continue
        where = str(f.get("url") or w["m_no_url"])
        said = by_page.setdefault(where, [])
        what = _what(language, f)
        if what not in said:
            said.append(what)
    return [w["m_finding"].format(url=url, what="; ".join(said)) for url, said in by_page.items()]


def health_alert(
    config: Config, target: Target, recipient: str, trouble: Trouble, now: datetime
) -> EmailMessage:
    """One maintainer's "the crawler needs attention" message."""
    lang = config.mail.maintainer_language
    w = labels(lang)
    name = target.name
    run = when(trouble.run_id, lang)
    if trouble.kind == "degraded":
        subject = w["m_subject_degraded"].format(target=name)
        opening = w["m_degraded"].format(target=name, run=run)
    else:
        subject = w["m_subject_failed"].format(target=name)
        reason = trouble.message if lang == "en" else quoted(lang, trouble.message, "en")
        opening = w["m_failed"].format(target=name, run=run, reason=reason)
    sections: list[tuple[str, list[str]]] = []
    pages = _findings(lang, trouble.findings)
    if pages:
        sections.append((w["m_pages"], pages))
    history = []
    if trouble.since:
        history.append(w["m_since"].format(
            since=when(trouble.since, lang), runs=count(lang, trouble.failing_runs, "m_runs")
        ))  # fmt: skip
    if trouble.last_healthy:
        where = f"{trouble.last_healthy}" + (
            f", {trouble.last_healthy_path}" if trouble.last_healthy_path else ""
        )
        history.append(
            w["m_last_healthy"].format(snapshot=where, when=when(trouble.last_healthy, lang))
        )
    else:
        history.append(w["m_no_healthy"])
    todo = []
    if trouble.kind == "degraded":
        todo.append(w["m_todo_rules"].format(target=name))
        if trouble.snapshot:
            todo.append(w["m_todo_check"].format(snapshot=trouble.snapshot))
    else:
        todo.append(w["m_todo_crawl"].format(urls=", ".join(target.start_urls)))
    todo.append(w["m_todo_after"])
    sections.append((w["m_todo"], todo))
    text = [opening, "", *history]
    html = [f"<h1>{escape(subject)}</h1>", f"<p>{escape(opening)}</p>",
            *(f"<p>{escape(line)}</p>" for line in history)]  # fmt: skip
    for heading, lines in sections:
        text += ["", f"{heading}:", *(f"  - {line}" for line in lines)]
        html += [f"<h2>{escape(heading)}</h2>", "<ul>",
                 *(f"<li>{escape(line)}</li>" for line in lines), "</ul>"]  # fmt: skip
    msg = new_message()
    key = health_key(name, trouble, recipient)
    set_headers(msg, config, to=recipient, subject=subject, key=key, now=now, target=name,
                bulk=False)  # fmt: skip
    msg.set_content(printable("\n".join(text)) + "\n")
    msg.add_alternative(html_document(lang, subject, html), subtype="html")
    msg["Content-Language"] = lang
    return msg
