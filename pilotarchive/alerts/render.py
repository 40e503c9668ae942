"""The news of a change set as one reader's lines, in the reader's language, then as plain
text and as HTML that say the same thing.

A line is a list of segments (plain text, an old value, a new value, a link), so the two
renderings cannot drift apart: the text part writes a link as "text <URL>", the HTML part
as an anchor, an old value struck out and a new one marked as inserted. The HTML has no
style sheet, no image and no script: headings, lists and links, which every mail client
shows (and one that blocks remote content shows whole).

Values are said as the reader's language writes them: dates (15.6.2015, 15 June 2015),
counts ("5 pilottia"), towns through the gazetteer ("Borgå stad" is "Porvoo" to a Finnish
reader). What only another language says is quoted, with the language named.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from html import escape
from typing import Any

from pilotarchive.alerts.labels import (
    LANGUAGE_PAGE,
    count,
    day,
    field_name,
    in_languages,
    labels,
)
from pilotarchive.alerts.news import WORDED, EntityNews, Event, FieldNews, Lag, PageRef, Variant

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
Segment = tuple[str, str, str]  # (kind: "t" | "old" | "new" | "link", text, href)


@dataclass
class Block:
    """A heading and its lines (a changed entity, the lag, the pages)."""

    heading: list[Segment]
    lines: list[list[Segment]] = field(default_factory=list)
    sub: dict[int, list[list[Segment]]] = field(default_factory=dict)  # line -> its details


@dataclass(frozen=True)
class Links:
    """Where a reader can open things: the published site (``[mail] site_url``) and a
    replay template (``[mail] replay_url``); both empty: no archive links at all."""

    site_url: str = ""
    replay_url: str = ""

    def change(self, old: str, new: str) -> str | None:
        return f"{self.site_url}diffs/{old}_{new}.html" if self.site_url else None

    def entity(self, entity_id: str) -> str | None:
        return f"{self.site_url}entities/{entity_id}.html" if self.site_url else None

    def archived(self, snapshot: str | None, page: PageRef) -> str | None:
        if snapshot is None:
            return None
        if self.replay_url and page.url:
            stamp = "".join(ch for ch in snapshot if ch.isdigit())[:14]
            return self.replay_url.replace("{timestamp}", stamp).replace("{url}", page.url)
        if self.site_url:
            return f"{self.site_url}snapshots/{snapshot}/archive/{page.page_id}.html"
        return None


def _t(text: str) -> Segment:
    return ("t", text, "")


# -- values ----------------------------------------------------------------------------------


def place_name(language: str, text: str) -> str | None:
    """A town as the reader's language names it, through the gazetteer (English writes the
    Finnish name); None when the gazetteer does not know it."""
    from pilotarchive.identity.gazetteer import match

    found = match(text)
    if found is None:
        return None
    return found.named.name_sv if language == "sv" else found.named.name_fi


def quoted(language: str, value: str, source: str, named: bool = True) -> str:
    """Another language's words, in quotes and with that language named (``named``; off
    where the line names it already)."""
    if not named:
        return labels(language)["quote_marks"].format(value=value)
    return labels(language)["quoted"].format(value=value, lang=in_languages(language, [source]))


def value_text(language: str, name: str, value: Any, source: str, named: bool = True) -> str:
    """One value of field ``name`` as ``language`` says it; ``source`` is the language of
    the page that said it (named after a quote unless ``named`` is off)."""
    w = labels(language)
    if value is None or value == [] or value == {} or value == "":
        return w["none"]
    own = source in (language, "")
    if isinstance(value, str) and _ISO_DAY.match(value):
        return day(language, date.fromisoformat(value))
    if name == "programme" and isinstance(value, dict):
        return w["programme_value"].format(
            pilots=count(language, int(value.get("pilot_count") or 0), "pilots"),
            municipalities=count(
                language, int(value.get("municipality_count") or 0), "municipalities"
            ),
        )
    if isinstance(value, dict) and "name" in value:  # a person; a title is worded per language
        keys = ("title", "email", "phone") if own else ("email", "phone")
        extra = ", ".join(str(value[k]) for k in keys if value.get(k))
        return f"{value['name']}" + (f" ({extra})" if extra else "")
    if name in ("coordinator", "municipalities"):
        items = value if isinstance(value, list) else [value]
        said = []
        for item in map(str, items):
            local = item if own else place_name(language, item)
            said.append(local if local is not None else quoted(language, item, source, named))
        return ", ".join(said)
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return ", ".join(str(v) for _, v in sorted(value.items()))
    if name in WORDED and not own:
        return quoted(language, str(value), source, named)
    return str(value)


def _shown(language: str, variant: Variant) -> tuple[str, tuple[Any, Any]]:
    source = language if language in variant.values else variant.languages[0]
    return source, variant.values[source]


def field_line(language: str, news: FieldNews) -> list[Segment]:
    """ "Koordinaattori: Loviisan kaupunki → Porvoon kaupunki (suomeksi ja ruotsiksi)":
    the field once, each way it changed with the languages that show it."""
    out: list[Segment] = [_t(f"{field_name(language, news.field)}: ")]
    for n, variant in enumerate(news.variants):
        source, (old, new) = _shown(language, variant)
        named = variant.languages != [source]  # else the line's "(ruotsiksi)" names it
        if n:
            out.append(_t("; "))
        out += [
            ("old", value_text(language, news.field, old, source, named), ""),
            _t(" → "),
            ("new", value_text(language, news.field, new, source, named), ""),
            _t(
                " "
                + labels(language)["in_langs"].format(
                    langs=in_languages(language, variant.languages)
                )
            ),
        ]
    return out


def detail_line(language: str, news: FieldNews) -> list[Segment]:
    """What an added (or removed) entity says: "Koordinaattori: Savonlinnan kaupunki"."""
    variant = news.variants[0]
    source, (value, _) = _shown(language, variant)
    return [
        _t(f"{field_name(language, news.field)}: "),
        _t(value_text(language, news.field, value, source)),
    ]


def event_line(language: str, event: Event) -> list[Segment]:
    w = labels(language)
    text = w[event.what].format(langs=in_languages(language, event.languages), status=event.status)
    if event.pilots or event.persons:
        text += ", " + w["with_records"].format(
            pilots=count(language, event.pilots, "pilots"),
            persons=count(language, event.persons, "persons"),
        )
    return [_t(text)]


def entity_name(language: str, item: EntityNews | Lag) -> str:
    if isinstance(item, EntityNews):
        label, source = item.label(language)
    else:
        source = next((lang for lang in (language, "fi", "sv", "en") if item.labels.get(lang)), "")
        label = item.labels.get(source, item.entity_id)
    return label if source in (language, "") else quoted(language, label, source)


def entity_block(language: str, item: EntityNews, links: Links) -> Block:
    w = labels(language)
    block = Block([_t(f"{w['kind_' + item.kind] if 'kind_' + item.kind in w else w['kind_page']}: "
                      f"{entity_name(language, item)}")])  # fmt: skip
    for event in item.events:
        block.lines.append(event_line(language, event))
        if event.details:
            block.sub[len(block.lines) - 1] = [detail_line(language, f) for f in event.details]
    for news in item.fields:
        block.lines.append(field_line(language, news))
    href = links.entity(item.entity_id)
    if href:
        block.lines.append([_t(f"{w['on_site']}: "), ("link", href, href)])
    return block


def lag_line(language: str, lag: Lag) -> list[Segment]:
    w = labels(language)
    name = entity_name(language, lag)
    if lag.field == "pilot":
        text = w["lag_missing"].format(
            label=name,
            changed=in_languages(language, lag.changed_in),
            behind=in_languages(language, [lag.behind]),
        )
        return [_t(text)]
    there = value_text(language, lag.field, lag.there, lag.behind)
    if isinstance(lag.there, dict) and lag.there.get("name"):
        there = str(lag.there["name"])
    text = w["lag_line"].format(
        label=name,
        field=field_name(language, lag.field).lower(),
        changed=in_languages(language, lag.changed_in),
        behind=LANGUAGE_PAGE.get(language, LANGUAGE_PAGE["en"]).get(lag.behind, lag.behind),
        there=quoted(language, there, lag.behind),
    )
    return [_t(text[0].upper() + text[1:])]


def pages_block(language: str, news: list[EntityNews], links: Links) -> Block | None:
    """The pages the changes were seen on: the live page, the archived copy now and the
    one before, as links the reader can open."""
    w = labels(language)
    seen: dict[str, PageRef] = {}
    for item in news:
        for ref in item.pages:
            seen.setdefault(ref.page_id, ref)
    order = {"fi": 0, "sv": 1, "en": 2}
    block = Block([_t(w["pages"])])
    for ref in sorted(seen.values(), key=lambda r: (order.get(r.language, 3), r.rendering)):
        where = in_languages(language, [ref.language]) if ref.language else ""
        if ref.rendering == "text":
            where = f"{where}, {w['text_version']}" if where else w["text_version"]
        line: list[Segment] = [_t(f"{where}: " if where else "")]
        parts = []
        if ref.url and ref.url.startswith(("http://", "https://")):
            parts.append((w["live"], ref.url))
        for word, snap in (("archived", ref.new_snapshot), ("previous", ref.old_snapshot)):
            href = links.archived(snap, ref)
            if href:
                parts.append((w[word], href))
        for n, (word, href) in enumerate(parts):
            line += [_t(", " if n else ""), ("link", word, href)]
        if parts:
            block.lines.append(line)
    return block if block.lines else None


# -- the two renderings ---------------------------------------------------------------------


def seg_text(segments: list[Segment]) -> str:
    """A link is written "word <URL>" (or "<URL>" when the URL is its own text)."""
    out = []
    for kind, text, href in segments:
        if kind == "link":
            out.append(f"<{href}>" if text == href else f"{text} <{href}>")
        else:
            out.append(text)
    return "".join(out)


def seg_html(segments: list[Segment]) -> str:
    out = []
    for kind, text, href in segments:
        if kind == "link":
            out.append(f'<a href="{escape(href)}">{escape(text)}</a>')
        elif kind == "old":
            out.append(f"<del>{escape(text)}</del>")
        elif kind == "new":
            out.append(f"<ins>{escape(text)}</ins>")
        else:
            out.append(escape(text))
    return "".join(out)


def blocks_text(blocks: list[Block]) -> list[str]:
    out: list[str] = []
    for block in blocks:
        out += ["", seg_text(block.heading)]
        for n, line in enumerate(block.lines):
            out.append(f"  - {seg_text(line)}")
            out += [f"      {seg_text(sub)}" for sub in block.sub.get(n, [])]
    return out


def blocks_html(blocks: list[Block], level: int = 2) -> list[str]:
    out: list[str] = []
    for block in blocks:
        out.append(f"<h{level}>{seg_html(block.heading)}</h{level}>\n<ul>")
        for n, line in enumerate(block.lines):
            subs = block.sub.get(n, [])
            inner = "".join(f"<li>{seg_html(s)}</li>" for s in subs)
            out.append(f"<li>{seg_html(line)}" + (f"<ul>{inner}</ul>" if inner else "") + "</li>")
        out.append("</ul>")
    return out


def news_blocks(
    language: str, news: list[EntityNews], lags: list[Lag], links: Links
) -> list[Block]:
    """Every block of one change set: the entities, the lag, the pages."""
    blocks = [entity_block(language, item, links) for item in news]
    if lags:
        blocks.append(
            Block([_t(labels(language)["lag"])], [lag_line(language, lag) for lag in lags])
        )
    pages = pages_block(language, news, links)
    if pages is not None:
        blocks.append(pages)
    return blocks
