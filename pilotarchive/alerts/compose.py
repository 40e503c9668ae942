"""The messages to subscribers: one change alert per change set, or one digest per period.

Built with the standard library's ``email`` package (``EmailMessage``, SMTP policy: CRLF
lines, RFC 2047 encoded words for non-ASCII headers, lines folded as the RFC says), one
recipient per message. A message is ``multipart/alternative``: a plain-text part and an
HTML part that say the same thing (:mod:`pilotarchive.alerts.render`), wholly in the
subscriber's language (:mod:`pilotarchive.alerts.labels`).

The subject counts changed things (pilots, persons, pages), never records: "2 muutosta:
Pilotit seutukaupunkien kehittämiseen". What is counted is what is listed
(:mod:`pilotarchive.alerts.news`), after noise, the target's ignored fields and the
subscriber's own choices; a subscriber for whom nothing is left gets no message.

Everything taken from pages is escaped in the HTML part, and the page title in the Subject
is cleaned to one line (see :mod:`pilotarchive.alerts.clean`).
"""

from datetime import datetime
from email.message import EmailMessage
from html import escape
from pathlib import Path

from pilotarchive.alerts.changeset import ChangeSet, main_titles, make_change_set
from pilotarchive.alerts.headers import (
    html_document,
    new_message,
    set_headers,
    unsubscribe_urls,
    when,
)
from pilotarchive.alerts.labels import count, labels
from pilotarchive.alerts.maintainers import Trouble, health_alert, health_key
from pilotarchive.alerts.news import Choices, EntityNews, lags_of, news_of
from pilotarchive.alerts.noise import parse_ignored
from pilotarchive.alerts.render import Links, blocks_html, blocks_text, news_blocks
from pilotarchive.controls import printable
from pilotarchive.schedule.config import Config, Subscriber, Target

__all__ = [
    "ChangeSet",
    "Trouble",
    "change_alert",
    "change_key",
    "digest_alert",
    "digest_key",
    "health_alert",
    "health_key",
    "main_titles",
    "make_change_set",
    "when",
]


# -- what a subscriber hears of ------------------------------------------------------------


def choices(target: Target, subscriber: Subscriber | None = None) -> Choices:
    return Choices(
        ignored=parse_ignored(target.ignore_fields),
        entities=frozenset(subscriber.entities) if subscriber else frozenset(),
        fields=frozenset(subscriber.fields) if subscriber else frozenset(),
    )


def links(config: Config) -> Links:
    return Links(config.mail.site_url, config.mail.replay_url)


def news_for(
    cs: ChangeSet, target: Target, subscriber: Subscriber | None = None
) -> list[EntityNews]:
    return news_of(cs, choices(target, subscriber))


def _footer(config: Config, target: str, subscriber: Subscriber) -> tuple[list[str], str]:
    w = labels(subscriber.language)
    url = unsubscribe_urls(config, target, subscriber.email)[0]
    text = [w["footer"].format(target=target), f"{w['unsubscribe']}: <{url}>"]
    html = (
        f"<hr>\n<p>{escape(text[0])}<br>\n"
        f'{escape(w["unsubscribe"])}: <a href="{escape(url)}">{escape(url)}</a></p>'
    )
    return text, html


def _set_body(
    cs: ChangeSet, target: Target, subscriber: Subscriber, config: Config
) -> tuple[int, list[str], list[str]]:
    """One change set's news for ``subscriber``: how many entities, the text lines, the
    HTML."""
    lang = subscriber.language
    wanted = choices(target, subscriber)
    news = news_of(cs, wanted)
    blocks = news_blocks(lang, news, lags_of(cs, wanted) if news else [], links(config))
    return len(news), blocks_text(blocks), blocks_html(blocks)


def change_key(target: str, old: str, new: str, recipient: str) -> str:
    return f"change/{target}/{old}/{new}/{recipient.lower()}"


def change_alert(
    config: Config,
    target: Target,
    subscriber: Subscriber,
    change_set: ChangeSet,
    now: datetime,
) -> EmailMessage | None:
    """One subscriber's alert for one change set; None when nothing in it is news to them."""
    lang = subscriber.language
    w = labels(lang)
    n, text_lines, html_lines = _set_body(change_set, target, subscriber, config)
    if not n:
        return None
    title = change_set.title(lang)
    subject = w["subject"].format(count=count(lang, n), title=title)
    intro = w["intro"].format(
        title=title, new=when(change_set.new, lang), old=when(change_set.old, lang)
    )
    head_text, head_html = [intro], [f"<h1>{escape(subject)}</h1>", f"<p>{escape(intro)}</p>"]
    href = links(config).change(change_set.old, change_set.new)
    if href:
        head_text.append(f"{w['see_all']}: <{href}>")
        head_html.append(
            f'<p>{escape(w["see_all"])}: <a href="{escape(href)}">{escape(href)}</a></p>'
        )
    foot_text, foot_html = _footer(config, target.name, subscriber)
    msg = new_message()
    key = change_key(target.name, change_set.old, change_set.new, subscriber.email)
    set_headers(msg, config, to=subscriber.email, subject=subject, key=key, now=now,
                target=target.name, bulk=True)  # fmt: skip
    body = "\n".join([*head_text, *text_lines, "", "-- ", *foot_text])
    msg.set_content(printable(body) + "\n")  # a terminal mail reader obeys ESC
    msg.add_alternative(html_document(lang, subject, [*head_html, *html_lines, foot_html]),
                        subtype="html")  # fmt: skip
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
) -> EmailMessage | None:
    """One message for every change set of a period (``daily-2026-11-28``,
    ``weekly-2026-W48``), oldest first; the subject counts the entities that changed in
    the period (one that changed twice is one). None when nothing is news."""
    lang = subscriber.language
    w = labels(lang)
    kind, _, label = period.partition("-")
    period_words = w["period_daily" if kind == "daily" else "period_weekly"].format(label=label)
    entities: set[str] = set()
    text_lines: list[str] = []
    html_parts: list[str] = []
    sets = 0
    for cs in change_sets:
        news = news_for(cs, target, subscriber)
        if not news:
            continue
        sets += 1
        entities |= {item.entity_id for item in news}
        _, lines, html = _set_body(cs, target, subscriber, config)
        heading = w["set_heading"].format(new=when(cs.new, lang), old=when(cs.old, lang))
        heading += f": {count(lang, len(news))}"
        text_lines += ["", "", heading, "=" * len(heading), *lines]
        html_parts += [
            f"<hr>\n<h2>{escape(heading)}</h2>",
            *(x.replace("<h2>", "<h3>").replace("</h2>", "</h3>") for x in html),
        ]
    if not entities:
        return None
    title = change_sets[-1].title(lang)
    subject = w["subject_digest"].format(
        count=count(lang, len(entities)), title=title, period=period_words
    )
    intro = w["intro_digest"].format(
        title=title, period=period_words, sets=count(lang, sets, "sets")
    )
    foot_text, foot_html = _footer(config, target.name, subscriber)
    msg = new_message()
    key = digest_key(target.name, period, subscriber.email)
    set_headers(msg, config, to=subscriber.email, subject=subject, key=key, now=now,
                target=target.name, bulk=True)  # fmt: skip
    msg.set_content(printable("\n".join([intro, *text_lines, "", "-- ", *foot_text])) + "\n")
    body = [f"<h1>{escape(subject)}</h1>", f"<p>{escape(intro)}</p>", *html_parts, foot_html]
    msg.add_alternative(html_document(lang, subject, body), subtype="html")
    msg["Content-Language"] = lang
    return msg


def change_set_of(config: Config, target: Target, old: Path, new: Path, diff: dict) -> ChangeSet:
    """The change set of a run's diff, its entities named through the register."""
    return make_change_set(target.name, old, new, diff, config.output)
