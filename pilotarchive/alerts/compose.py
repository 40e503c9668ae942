"""The messages pilotarchive sends: change alerts, digests and "the crawler needs attention".

Built with the standard library's ``email`` package (``EmailMessage``, SMTP policy: CRLF
lines, RFC 2047 encoded words for non-ASCII headers, lines folded as the RFC says), one
recipient per message. A change alert is ``multipart/alternative``: a plain-text part and an
HTML part that say the same thing. The HTML has no style sheet, no image and no script: it
is headings, lists and links, so a mail client without CSS (or one that blocks remote
content) shows all of it.

Every field-level change is listed as "old → new", grouped by pilot, contact and page,
the subscriber's language first and the other languages after it; a change the text
version repeats is listed once with both pages. Each page has a link to the live page, to
its archived copy and to the previous one.

Everything taken from pages is escaped in the HTML part, and the page title in the Subject
is cleaned to one line (see :mod:`pilotarchive.alerts.clean`).
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pilotarchive.alerts.clean import one_line
from pilotarchive.alerts.words import LANGUAGE_NAMES, count_words, field_name, local_count, words
from pilotarchive.archive.snapshot import snapshot_time
from pilotarchive.controls import printable
from pilotarchive.diff.render import show
from pilotarchive.schedule.config import LANGUAGES, Config, Subscriber, Target

RECORD_ORDER = ("pilot", "contact", "page")
ARROW = "→"


@dataclass(frozen=True)
class ChangeSet:
    """One diff of a target, as the alerts need it: the diff and the page titles."""

    target: str
    old: str
    new: str
    diff: dict[str, Any]
    titles: dict[str, str]  # language -> title of the target's main page in that language

    @property
    def count(self) -> int:
        return len(self.diff["changes"])

    def to_json(self) -> bytes:
        data = {
            "target": self.target,
            "old": self.old,
            "new": self.new,
            "titles": self.titles,
            "diff": self.diff,
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> "ChangeSet":
        raw = json.loads(data.decode("utf-8"))
        return cls(raw["target"], raw["old"], raw["new"], raw["diff"], raw["titles"])

    def title(self, language: str) -> str:
        for lang in (language, *LANGUAGES):
            if self.titles.get(lang):
                return one_line(self.titles[lang])
        return self.target


def main_titles(pages: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Per language, the title of the page with the most pilots (the pilots page), not its
    text version; the page title the Subject names."""
    best: dict[str, tuple[int, str, str]] = {}
    for page in pages:
        lang, title = page.get("language"), page.get("title")
        if not lang or not title or page.get("status") != 200 or page.get("is_text_version"):
            continue
        rank = (page.get("pilot_count") or 0, page.get("final_url") or "", title)
        if lang not in best or rank[0] > best[lang][0]:
            best[lang] = rank
    return {lang: rank[2] for lang, rank in best.items()}


# -- headers -------------------------------------------------------------------------------


def message_id(key: str, config: Config) -> str:
    """Derived from the message's key: a message written again after a crash has the same
    Message-ID, so a duplicate (if the crash fell after the server's "250 OK") is known."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{config.mail.domain}>"


def list_id(config: Config, target: str) -> str:
    domain = config.mail.list_id or f"{target}.pilotarchive.{config.mail.domain}"
    return f"pilotarchive {target} <{domain}>"


def unsubscribe_url(config: Config, target: str, email: str) -> str:
    base = config.mail.unsubscribe or f"mailto:{config.mail.sender_address}"
    if base.startswith("https://"):
        return base.replace("{email}", quote(email, safe="")).replace(
            "{target}", quote(target, safe="")
        )
    base = base.replace("{email}", email).replace("{target}", target)
    if "?" not in base:
        base += "?subject=" + quote(f"unsubscribe {target} {email}")
    return base


def _headers(
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
        url = unsubscribe_url(config, target, to)
        msg["List-Id"] = list_id(config, target)
        msg["List-Unsubscribe"] = f"<{url}>"
        if url.startswith("https://"):
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg["Precedence"] = "bulk"


def _new_message() -> EmailMessage:
    return EmailMessage(policy=SMTP)


# -- the change list -----------------------------------------------------------------------


def when(snapshot_id: str) -> str:
    """A snapshot's time for people: "2026-11-28 16:17:42 UTC"."""
    ts = snapshot_time(snapshot_id)
    return ts.strftime("%Y-%m-%d %H:%M:%S UTC") if ts else snapshot_id


def archived_link(ref: dict[str, Any] | None, replay: str) -> tuple[str, str] | None:
    """(href, text) of a page's archived copy: the replay URL when a template is configured,
    else the WARC file on this host and the record's offset in it."""
    if not ref or not ref.get("url"):
        return None
    original = ref.get("original") or {}
    if replay and ref.get("date"):
        stamp = "".join(ch for ch in ref["date"] if ch.isdigit())[:14]
        href = replay.replace("{timestamp}", stamp).replace("{url}", ref["url"])
        return href, href
    if original and ref.get("snapshots_dir"):
        warc = Path(ref["snapshots_dir"]) / original["snapshot_id"] / "archive"
        warc = warc / original["filename"]
        text = f"{warc.as_uri()} (record at offset {original['offset']})"
        return warc.as_uri(), text
    return None


@dataclass
class _Entry:
    record_type: str
    kind: str
    label: str
    fields: list[dict[str, Any]]
    extra: list[tuple[str, str]]  # (word key, text): records added/removed with a page
    pages: list[dict[str, Any]]  # the changes this entry stands for (one per page)


def _entries(changes: list[dict[str, Any]]) -> list[_Entry]:
    """Changes of one language and record type, the same change on two pages (a page and its
    text version) merged into one entry with both pages."""
    out: dict[tuple[Any, ...], _Entry] = {}
    for c in changes:
        records = c.get("records") or {}
        extra = [
            (f"with_{how}", "; ".join(records[how]))
            for how in ("added", "removed")
            if records.get(how)
        ]
        fields = [f for f in c["fields"] if f["field"] != "text"]
        key = (
            c["entity_id"] or c["id"],
            c["kind"],
            json.dumps(fields, sort_keys=True, ensure_ascii=False),
            json.dumps(extra, ensure_ascii=False),
        )
        if key in out:
            out[key].pages.append(c)
        else:
            out[key] = _Entry(c["record_type"], c["kind"], c["label"], fields, extra, [c])
    return list(out.values())


def _language_order(subscriber_language: str, present: Iterable[str | None]) -> list[str | None]:
    langs = list(dict.fromkeys(present))
    order = [subscriber_language, *LANGUAGES]
    return sorted(langs, key=lambda lang: order.index(lang) if lang in order else len(order))


def _grouped(
    diff: dict[str, Any], language: str
) -> list[tuple[str | None, list[tuple[str, list[_Entry]]]]]:
    by_lang: dict[str | None, list[dict[str, Any]]] = {}
    for c in diff["changes"]:
        by_lang.setdefault(c["language"], []).append(c)
    out = []
    for lang in _language_order(language, by_lang):
        groups = []
        for kind in RECORD_ORDER:
            changes = [c for c in by_lang[lang] if c["record_type"] == kind]
            if changes:
                groups.append((kind, _entries(changes)))
        out.append((lang, groups))
    return out


def _page_links(c: dict[str, Any], replay: str) -> list[tuple[str, str, str]]:
    """(word key, href, text) for the live page, the archived copy and the previous copy."""
    archive = c.get("archive") or {}
    new, old = archive.get("new"), archive.get("old")
    links = []
    live = (new or old or {}).get("url")
    if live:
        links.append(("live", live, live))
    for word, ref in (("archived", new), ("previous", old)):
        found = archived_link(ref, replay)
        if found:
            links.append((word, *found))
    return links


def _totals(diff: dict[str, Any], w: dict[str, str]) -> str:
    parts = []
    for kind in RECORD_ORDER:
        counts = diff["summary"].get(kind) or {}
        said = [f"{n} {w[k]}" for k, n in counts.items() if n and k != "unchanged"]
        if said:
            parts.append(f"{w[kind]}: {', '.join(said)}")
    return "; ".join(parts)


def _lag_lines(diff: dict[str, Any], w: dict[str, str], language: str) -> list[str]:
    return [
        w["lag_line"].format(
            field=field_name(language, lag["field"]),
            label=lag["label"],
            langs=", ".join(lag["changed_in"]),
            here=show(lag["value_here"]),
            behind=lag["behind"],
            there=show(lag["value_there"]),
        )
        for lag in diff.get("translation_lag") or []
    ]


def _pages_of(groups: list[tuple[str, list[_Entry]]]) -> list[dict[str, Any]]:
    """The changes standing for each page of a language section, one per page, in order:
    where the links to the live page and the archived copies are taken from."""
    seen: dict[str, dict[str, Any]] = {}
    for _kind, entries in groups:
        for e in entries:
            for c in e.pages:
                pid = c.get("page_id") or c["id"]
                page_label = c["label"] if c["record_type"] == "page" else c.get("page_label")
                seen.setdefault(pid, {**c, "link_label": page_label or c["label"]})
    return list(seen.values())


def _on(e: _Entry) -> list[str]:
    return [c["page_label"] for c in e.pages if c["record_type"] != "page" and c.get("page_label")]


def changes_text(diff: dict[str, Any], language: str, replay: str) -> list[str]:
    """The change list as plain text lines."""
    w = words(language)
    names = LANGUAGE_NAMES.get(language, LANGUAGE_NAMES["en"])
    out: list[str] = []
    for lang, groups in _grouped(diff, language):
        out += ["", f"== {names.get(lang or '', lang or '-')} ({lang or '-'}) =="]
        for kind, entries in groups:
            out += ["", f"{w[kind]}:"]
            for e in entries:
                out.append(f"  * {e.label}: {w[e.kind]}")
                for f in e.fields:
                    if e.kind == "appeared" and f["field"] == "status":
                        continue
                    out.append(
                        f"      {field_name(language, f['field'])}: "
                        f"{show(f['old'])} {ARROW} {show(f['new'])}"
                    )
                for word, text in e.extra:
                    out.append(f"      {w[word]}: {text}")
                if on := _on(e):
                    out.append(f"      ({w['on']} {'; '.join(on)})")
        out += ["", f"{w['links']}:"]
        for c in _pages_of(groups):
            out.append(f"  * {c['link_label']}")
            for word, _href, text in _page_links(c, replay):
                out.append(f"      {w[word]}: {text}")
    lag = _lag_lines(diff, w, language)
    if lag:
        out += ["", w["lag"] + ":", *[f"  * {line}" for line in lag]]
    out += ["", f"{w['totals']}: {_totals(diff, w)}"]
    return out


def changes_html(diff: dict[str, Any], language: str, replay: str) -> list[str]:
    """The same list as HTML: headings, lists and links, nothing that needs CSS."""
    h = escape
    w = words(language)
    names = LANGUAGE_NAMES.get(language, LANGUAGE_NAMES["en"])
    out: list[str] = []
    for lang, groups in _grouped(diff, language):
        out.append(f"<h2>{h(names.get(lang or '', lang or '-'))} ({h(lang or '-')})</h2>")
        for kind, entries in groups:
            out.append(f"<h3>{h(w[kind])}</h3>\n<ul>")
            for e in entries:
                out.append(f"<li><b>{h(e.label)}</b>: {h(w[e.kind])}\n<ul>")
                for f in e.fields:
                    if e.kind == "appeared" and f["field"] == "status":
                        continue
                    out.append(
                        f"<li>{h(field_name(language, f['field']))}: "
                        f"<del>{h(show(f['old']))}</del> {ARROW} "
                        f"<ins>{h(show(f['new']))}</ins></li>"
                    )
                for word, text in e.extra:
                    out.append(f"<li>{h(w[word])}: {h(text)}</li>")
                if on := _on(e):
                    out.append(f"<li><i>{h(w['on'])} {h('; '.join(on))}</i></li>")
                out.append("</ul></li>")
            out.append("</ul>")
        out.append(f"<h3>{h(w['links'])}</h3>\n<ul>")
        for c in _pages_of(groups):
            links = " | ".join(
                f'<a href="{h(href)}">{h(w[word])}</a>' for word, href, _ in _page_links(c, replay)
            )
            out.append(f"<li>{h(c['link_label'])}: {links}</li>")
        out.append("</ul>")
    lag = _lag_lines(diff, w, language)
    if lag:
        out.append(f"<h2>{h(w['lag'])}</h2>\n<ul>")
        out += [f"<li>{h(line)}</li>" for line in lag]
        out.append("</ul>")
    out.append(f"<p><b>{h(w['totals'])}</b>: {h(_totals(diff, w))}</p>")
    return out


def _html_document(language: str, title: str, body: list[str]) -> str:
    return (
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


def _footer(config: Config, target: str, subscriber: Subscriber) -> tuple[str, str]:
    w = words(subscriber.language)
    url = unsubscribe_url(config, target, subscriber.email)
    text = w["footer"].format(target=target, unsubscribe=url)
    link = f'<a href="{escape(url)}">{escape(url)}</a>'
    html = escape(w["footer"]).format(target=escape(target), unsubscribe=link)
    return text, f"<hr>\n<p>{html}</p>"


# -- the messages --------------------------------------------------------------------------


def change_key(target: str, old: str, new: str, recipient: str) -> str:
    return f"change/{target}/{old}/{new}/{recipient.lower()}"


def change_alert(
    config: Config,
    target: Target,
    subscriber: Subscriber,
    change_set: ChangeSet,
    now: datetime,
) -> EmailMessage:
    """One subscriber's alert for one change set."""
    lang = subscriber.language
    w = words(lang)
    title = change_set.title(lang)
    subject = f"{count_words(change_set.count)}: {title}"
    intro = w["intro"].format(
        count=local_count(lang, change_set.count),
        title=title,
        new=when(change_set.new),
        old=when(change_set.old),
    )
    replay = config.mail.replay_url
    foot_text, foot_html = _footer(config, target.name, subscriber)
    text = "\n".join([intro, *changes_text(change_set.diff, lang, replay), "", "-- ", foot_text])
    html = _html_document(
        lang,
        subject,
        [
            f"<h1>{escape(subject)}</h1>",
            f"<p>{escape(intro)}</p>",
            *changes_html(change_set.diff, lang, replay),
            foot_html,
        ],
    )
    msg = _new_message()
    key = change_key(target.name, change_set.old, change_set.new, subscriber.email)
    _headers(
        msg,
        config,
        to=subscriber.email,
        subject=subject,
        key=key,
        now=now,
        target=target.name,
        bulk=True,
    )
    msg.set_content(printable(text) + "\n")  # a terminal mail reader obeys ESC
    msg.add_alternative(html, subtype="html")
    msg["Content-Language"] = lang  # after the content: set_content clears Content-* headers
    return msg


def digest_key(target: str, period: str, recipient: str) -> str:
    return f"digest/{target}/{period}/{recipient.lower()}"


def digest_alert(
    config: Config,
    target: Target,
    subscriber: Subscriber,
    period: str,
    change_sets: list[ChangeSet],
    now: datetime,
) -> EmailMessage:
    """One message for every change set of a period (``daily-2026-11-28``,
    ``weekly-2026-W48``), oldest first."""
    lang = subscriber.language
    w = words(lang)
    total = sum(cs.count for cs in change_sets)
    title = change_sets[-1].title(lang)
    kind, _, label = period.partition("-")
    period_words = f"{w['day'] if kind == 'daily' else w['week']} {label}"
    subject = f"{count_words(total)}: {title} ({period_words})"
    intro = w["intro_digest"].format(
        count=local_count(lang, total), title=title, period=period_words, sets=len(change_sets)
    )
    replay = config.mail.replay_url
    text_lines, html_parts = [intro], [f"<h1>{escape(subject)}</h1>", f"<p>{escape(intro)}</p>"]
    for cs in change_sets:
        heading = w["set"].format(new=when(cs.new), old=when(cs.old))
        heading += f": {local_count(lang, cs.count)}"
        text_lines += ["", "", heading, "=" * len(heading), *changes_text(cs.diff, lang, replay)]
        html_parts += [f"<hr>\n<h1>{escape(heading)}</h1>", *changes_html(cs.diff, lang, replay)]
    foot_text, foot_html = _footer(config, target.name, subscriber)
    msg = _new_message()
    key = digest_key(target.name, period, subscriber.email)
    _headers(
        msg,
        config,
        to=subscriber.email,
        subject=subject,
        key=key,
        now=now,
        target=target.name,
        bulk=True,
    )
    msg.set_content(printable("\n".join([*text_lines, "", "-- ", foot_text])) + "\n")
    msg.add_alternative(_html_document(lang, subject, [*html_parts, foot_html]), subtype="html")
    msg["Content-Language"] = lang
    return msg


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


def health_key(target: str, trouble: Trouble, recipient: str) -> str:
    return f"health/{target}/{trouble.kind}/{trouble.run_id}/{recipient.lower()}"


def health_alert(
    config: Config, target: Target, recipient: str, trouble: Trouble, now: datetime
) -> EmailMessage:
    """One maintainer's "the crawler needs attention" message (English: it is for the
    people who run pilotarchive)."""
    subject = f"pilotarchive: the crawler needs attention ({target.name}: {trouble.kind})"
    lines = [
        f"The crawl of target {target.name!r} ({', '.join(target.start_urls)}) "
        + (
            "wrote a snapshot judged DEGRADED."
            if trouble.kind == "degraded"
            else "wrote no snapshot."
        ),
        "",
        f"What went wrong: {trouble.message}",
    ]
    if trouble.snapshot:
        lines.append(f"Snapshot: {trouble.snapshot}")
    if trouble.findings:
        lines += ["", "Findings:"]
        for f in trouble.findings:
            where = f" [{f.get('language') or '-'}] {f.get('url')}" if f.get("url") else ""
            lines.append(f"  {f.get('severity')}: {f.get('kind')}{where}: {f.get('message')}")
    lines.append("")
    if trouble.last_healthy:
        lines.append(
            f"Last healthy snapshot: {trouble.last_healthy} ({when(trouble.last_healthy)})"
            + (f", {trouble.last_healthy_path}" if trouble.last_healthy_path else "")
        )
    else:
        lines.append("Last healthy snapshot: none yet.")
    unread = sorted({str(f["url"]) for f in trouble.findings
                     if f.get("kind") == "extraction_failed" and f.get("url")})  # fmt: skip
    if unread:  # issue 18: a layout the reader cannot read is fixed by rules, then re-read
        lines += [
            "",
            "Pages the reader could not read: " + ", ".join(unread),
            "If their layout is new, describe it with CSS or XPath selectors in "
            f"pilotarchive.toml ([[target.rules.pilot]] and [[target.rules.contact]] under "
            f"the target {target.name!r}; see docs/reextract.md), then run "
            f"`pilotarchive reextract --target {target.name}`: the snapshot is read again "
            "from its WARC and, once healthy, enters the history, the dataset and the site.",
        ]
    lines += [
        "",
        "Subscribers were not told anything. The next healthy run is compared with the last "
        "healthy snapshot, so they will get the real changes once.",
        "",
        "Commands: pilotarchive snapshots; pilotarchive diff; pilotarchive validate"
        + (f" {trouble.snapshot}" if trouble.snapshot else ""),
    ]
    html = _html_document(
        "en",
        subject,
        [
            f"<h1>{escape(subject)}</h1>",
            *(f"<p>{escape(line)}</p>" if line else "" for line in lines),
        ],
    )
    msg = _new_message()
    key = health_key(target.name, trouble, recipient)
    _headers(
        msg, config, to=recipient, subject=subject, key=key, now=now, target=target.name, bulk=False
    )
    msg.set_content(printable("\n".join(lines)) + "\n")
    msg.add_alternative(html, subtype="html")
    return msg


Clock = Callable[[], datetime]
