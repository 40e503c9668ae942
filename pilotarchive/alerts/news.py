"""What a change set tells a reader: one item per changed entity, each field once.

The diff lists changes record by record: a coordinator that changed on the Finnish,
Swedish and English pages and their text versions is six changes. A reader sees one: the
pilot's coordinator changed, in those languages. So the changes are grouped by the entity
the register says they are (pilot, project, person, page), then by field; values that say
the same in every language (a date, a town through the gazetteer, a person's name and
address) are one variant with the languages that show it, and a field worded in each
language's own words (a theme, a title) is one variant too, shown in the reader's
language when that language has it.

What is not news (:mod:`pilotarchive.alerts.noise`) and what the target or the subscriber
leaves out is dropped here, so the subject's count, the mail, the digest and the feed all
count and say the same things.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from pilotarchive.alerts.changeset import ChangeSet
from pilotarchive.alerts.noise import KIND_OF_RECORD, ignored, same, text_is_noise
from pilotarchive.schedule.config import LANGUAGES

KIND_ORDER = ("pilot", "project", "person", "page")
# Fields worded in each language's own words: one variant, whatever the words.
WORDED = frozenset({"title", "theme", "kind", "role", "organization"})
EVENTS = ("appeared", "appeared_text", "added", "disappeared", "disappeared_text", "removed")


@dataclass
class Variant:
    """One way a field changed, and the languages (in order fi, sv, en) that show it;
    ``values`` holds each language's own (old, new)."""

    languages: list[str]
    values: dict[str, tuple[Any, Any]]


@dataclass
class FieldNews:
    field: str
    variants: list[Variant] = dc_field(default_factory=list)


@dataclass
class Event:
    """An entity (or a page of it) that came or went, in some languages."""

    what: str  # one of EVENTS, or "text_changed"
    languages: list[str]
    status: int | None = None
    pilots: int = 0
    persons: int = 0
    details: list[FieldNews] = dc_field(default_factory=list)  # what an added one says


@dataclass
class PageRef:
    page_id: str
    language: str
    rendering: str
    url: str | None
    new_snapshot: str | None  # the snapshot holding its archived copy now (None: gone)
    old_snapshot: str | None


@dataclass
class EntityNews:
    entity_id: str
    kind: str
    labels: dict[str, str]
    events: list[Event] = dc_field(default_factory=list)
    fields: list[FieldNews] = dc_field(default_factory=list)
    pages: list[PageRef] = dc_field(default_factory=list)

    def label(self, language: str) -> tuple[str, str]:
        """The entity's name and the language it is in: the reader's when there is one."""
        for lang in (language, *LANGUAGES):
            if self.labels.get(lang):
                return self.labels[lang], lang
        return self.entity_id, ""


@dataclass
class Lag:
    """A change made in some languages and not yet in another."""

    entity_id: str
    kind: str
    labels: dict[str, str]
    field: str  # a field, or "pilot": the entity is missing in ``behind``
    changed_in: list[str]
    behind: str
    there: Any
    here: Any


@dataclass(frozen=True)
class Choices:
    """What a subscriber (and the target) want to hear of."""

    ignored: frozenset[tuple[str, str]] = frozenset()  # the target's ignore_fields
    entities: frozenset[str] = frozenset()  # entity ids or kinds; empty: all
    fields: frozenset[str] = frozenset()  # field names; empty: all

    def wants_entity(self, entity: str, kind: str) -> bool:
        if not self.entities:
            return True
        return entity in self.entities or kind in self.entities or f"{kind}s" in self.entities

    def wants_field(self, kind: str, name: str) -> bool:
        if ignored(kind, name, self.ignored):
            return False
        return not self.fields or name in self.fields


def _ordered(languages: Iterable[str]) -> list[str]:
    found = set(languages)
    return [lang for lang in (*LANGUAGES, "") if lang in found]


def _place_key(text: Any) -> Any:
    from pilotarchive.identity.gazetteer import match

    if not isinstance(text, str):
        return text
    found = match(text)
    return ("place", found.current.code) if found is not None else ("text", text.casefold())


def variant_key(name: str, value: Any) -> Any:
    """What a value says whatever the language: towns through the gazetteer, a person by
    name, address and phone (a title is worded per language), worded fields as one."""
    if name in WORDED:
        return "worded"
    if name == "coordinator":
        return _place_key(value)
    if name == "municipalities" and isinstance(value, list):
        return tuple(sorted(map(repr, (_place_key(v) for v in value))))
    if name == "contact" and isinstance(value, dict):
        return tuple(str(value.get(k) or "").casefold() for k in ("name", "email", "phone"))
    return repr(value)


def _add_variant(news: FieldNews, lang: str, old: Any, new: Any) -> None:
    key = (variant_key(news.field, old), variant_key(news.field, new))
    for v in news.variants:
        first = v.values[v.languages[0]]
        if (variant_key(news.field, first[0]), variant_key(news.field, first[1])) == key:
            if lang not in v.values:
                v.languages = _ordered([*v.languages, lang])
                v.values[lang] = (old, new)
            return
    news.variants.append(Variant([lang], {lang: (old, new)}))


def _field_news(fields: list[FieldNews], name: str) -> FieldNews:
    for f in fields:
        if f.field == name:
            return f
    made = FieldNews(name)
    fields.append(made)
    return made


def _event(item: EntityNews, what: str, lang: str, **extra: Any) -> Event:
    for e in item.events:
        if e.what == what and all(getattr(e, k) == v for k, v in extra.items()):
            e.languages = _ordered([*e.languages, lang])
            return e
    made = Event(what, [lang], **extra)
    item.events.append(made)
    return made


def _kind_of(cs: ChangeSet, change: dict[str, Any]) -> str:
    known = cs.entities.get(str(change.get("entity_id"))) or {}
    return str(known.get("kind") or KIND_OF_RECORD.get(change["record_type"], "page"))


def _page_ref(cs: ChangeSet, change: dict[str, Any]) -> PageRef | None:
    pid = change.get("page_id")
    if not pid:
        return None
    info = cs.pages.get(pid) or {}
    archive = change.get("archive") or {}
    new, old = archive.get("new") or {}, archive.get("old") or {}
    gone = change["kind"] == "disappeared"
    return PageRef(
        pid,
        str(change.get("language") or info.get("language") or ""),
        str(info.get("rendering") or "page"),
        new.get("url") or old.get("url") or info.get("url"),
        None if gone else new.get("snapshot_id"),
        old.get("snapshot_id"),
    )


def _folded(change: dict[str, Any], how: str) -> tuple[int, int]:
    items = (change.get("records") or {}).get(how) or []
    return (
        sum(1 for i in items if i.startswith("pilot:")),
        sum(1 for i in items if i.startswith("contact:")),
    )


def news_of(cs: ChangeSet, choices: Choices = Choices()) -> list[EntityNews]:
    """The changed entities of ``cs`` that are news for ``choices``, in a stable order."""
    items: dict[str, EntityNews] = {}
    for c in cs.diff["changes"]:
        entity = str(c.get("entity_id") or c["id"])
        kind = _kind_of(cs, c)
        if not choices.wants_entity(entity, kind):
            continue
        labels = dict((cs.entities.get(entity) or {}).get("labels") or {})
        if not labels and c.get("language"):
            labels[c["language"]] = str(c.get("label") or "").removesuffix(" (text version)")
        item = items.setdefault(entity, EntityNews(entity, kind, labels))
        lang = str(c.get("language") or "")
        ref = _page_ref(cs, c)
        touched = False  # something of this change is news (perhaps said already)
        text = ref is not None and ref.rendering == "text"
        if c["kind"] in ("appeared", "disappeared") and c["record_type"] == "page":
            pilots, persons = _folded(c, "added" if c["kind"] == "appeared" else "removed")
            status = None
            if c["kind"] == "disappeared":
                status = next((f["new"] for f in c["fields"] if f["field"] == "status"), None)
            what = c["kind"] + ("_text" if text else "")
            _event(item, what, lang, status=status, pilots=pilots, persons=persons)
            touched = True
            fields = [f for f in c["fields"] if f["field"] != "status"]
        elif c["kind"] in ("added", "removed"):
            event = _event(item, c["kind"], lang)
            touched = True
            for f in c["fields"]:
                if choices.wants_field(kind, f["field"]):
                    value = f["new"] if c["kind"] == "added" else f["old"]
                    _add_variant(_field_news(event.details, f["field"]), lang, value, value)
            fields = []
        else:
            fields = c["fields"]
        for f in fields:
            name = f["field"]
            if name == "text":
                if choices.wants_field(kind, "text") and not text_is_noise(
                    c.get("text_diff") or []
                ):
                    _event(item, "text_changed", lang)
                    touched = True
                continue
            if not choices.wants_field(kind, name) or same(f["old"], f["new"], name):
                continue
            _add_variant(_field_news(item.fields, name), lang, f["old"], f["new"])
            touched = True
        if ref is not None and touched and all(p.page_id != ref.page_id for p in item.pages):
            item.pages.append(ref)
    kept = [i for i in items.values() if i.events or i.fields]
    for i in kept:
        i.fields = [f for f in i.fields if f.variants]
        i.events.sort(key=lambda e: (*EVENTS, "text_changed").index(e.what))
    return sorted(
        kept,
        key=lambda i: (
            KIND_ORDER.index(i.kind) if i.kind in KIND_ORDER else len(KIND_ORDER),
            i.label("fi")[0].casefold(),
            i.entity_id,
        ),
    )


def lags_of(cs: ChangeSet, choices: Choices = Choices()) -> list[Lag]:
    """The translation lag of ``cs``, for the entities and fields ``choices`` want."""
    out = []
    for lag in cs.diff.get("translation_lag") or []:
        entity = str(lag["entity_id"])
        known = cs.entities.get(entity) or {}
        kind = str(known.get("kind") or ("page" if entity.startswith("page") else "pilot"))
        if not choices.wants_entity(entity, kind):
            continue
        if lag["field"] != "pilot" and not choices.wants_field(kind, lag["field"]):
            continue
        labels = dict(known.get("labels") or {})
        if not labels:
            labels = {lag["changed_in"][0] if lag["changed_in"] else "": lag["label"]}
        out.append(
            Lag(
                entity,
                kind,
                labels,
                lag["field"],
                _ordered(lag["changed_in"]),
                lag["behind"],
                lag["value_there"],
                lag["value_here"],
            )
        )
    return out
