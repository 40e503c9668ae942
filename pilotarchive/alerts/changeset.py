"""A change set: one diff of a target, with what the alerts need to name its entities.

The diff says what changed record by record; a subscriber reads entities (a pilot, a
person, a page) named in their own language. So a change set keeps, beside the diff, the
page titles per language, each entity's kind and label in every language the snapshots
name it (from the entity register's assignment of the records), and each page's language
and rendering. It is saved as JSON for the digests and the feed, and read back the same.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pilotarchive.alerts.clean import one_line
from pilotarchive.schedule.config import LANGUAGES

RECORD_FILES = {"page": "pages.jsonl", "pilot": "pilots.jsonl", "contact": "contacts.jsonl"}


@dataclass(frozen=True)
class ChangeSet:
    """One diff of a target and the names of what it changed."""

    target: str
    old: str
    new: str
    diff: dict[str, Any]
    titles: dict[str, str]  # language -> title of the target's main page in that language
    # entity id -> {"kind": "pilot"|"project"|"person"|"page", "labels": {language: label}}
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    # page id -> {"language", "rendering" ("page"|"text"), "url"}
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> bytes:
        data = {
            "target": self.target,
            "old": self.old,
            "new": self.new,
            "titles": self.titles,
            "entities": self.entities,
            "pages": self.pages,
            "diff": self.diff,
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> "ChangeSet":
        raw = json.loads(data.decode("utf-8"))
        return cls(
            raw["target"],
            raw["old"],
            raw["new"],
            raw["diff"],
            raw["titles"],
            raw.get("entities") or {},  # change sets kept before entities were named
            raw.get("pages") or {},
        )

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


def _rows(snapshot: Path, kind: str) -> Iterator[dict[str, Any]]:
    path = Path(snapshot) / "records" / RECORD_FILES[kind]
    try:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)
    except FileNotFoundError:
        return


def rendering(page: dict[str, Any]) -> str:
    return str(page.get("rendering") or ("text" if page.get("is_text_version") else "page"))


def _label(kind: str, record: dict[str, Any]) -> str:
    if kind == "contact":
        return str(record.get("name") or "")
    if kind == "page":
        return str(record.get("title") or "")
    return str(record.get("theme") or record.get("coordinator") or "")


def _entity_kind(kind: str, record: dict[str, Any]) -> str:
    if kind == "contact":
        return "person"
    if kind == "pilot":
        return "project" if record.get("kind") == "project" else "pilot"
    return "page"


def name_entities(
    snapshots: Iterable[tuple[Path, dict[str, str]]], wanted: set[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The kind and the label per language of each ``wanted`` entity, and every page's
    language and rendering, read from ``snapshots`` (newest first: a later name wins),
    each with its record id -> entity id map (empty: the records' own ``entity_id``)."""
    entities: dict[str, dict[str, Any]] = {}
    pages: dict[str, dict[str, Any]] = {}
    rank: dict[tuple[str, str], tuple[int, bool]] = {}  # (entity, language) -> its label's
    for n, (path, entity_of) in enumerate(snapshots):
        for kind in RECORD_FILES:
            for record in _rows(path, kind):
                if kind == "page":
                    ok = (record.get("status") or 0) < 400
                    known = pages.get(str(record.get("id")))
                    if known is None or (ok and not known["ok"]):  # an error page says less
                        pages[str(record.get("id"))] = {
                            "language": record.get("language"),
                            "rendering": rendering(record),
                            "url": record.get("final_url") or record.get("url"),
                            "ok": ok,
                        }
                    if not ok:
                        continue  # an error page's title names nothing
                entity = entity_of.get(str(record.get("id"))) or record.get("entity_id")
                if entity not in wanted:
                    continue
                item = entities.setdefault(
                    entity, {"kind": _entity_kind(kind, record), "labels": {}}
                )
                lang, label = record.get("language") or "", _label(kind, record)
                # The newest snapshot's graphic page names it best; its text version next.
                this = (n, kind == "page" and rendering(record) == "text")
                if label and lang and this < rank.get((entity, lang), (1 << 30, True)):
                    item["labels"][lang] = label
                    rank[(entity, lang)] = this
    return entities, pages


def wanted_entities(diff: dict[str, Any]) -> set[str]:
    found = {str(c["entity_id"]) for c in diff["changes"] if c.get("entity_id")}
    found |= {str(lag["entity_id"]) for lag in diff.get("translation_lag") or []}
    return found


def make_change_set(
    target: str,
    old: Path,
    new: Path,
    diff: dict[str, Any],
    output: Path | None = None,
    identity: Any = None,
) -> ChangeSet:
    """The change set of ``diff`` from snapshot ``old`` to ``new``, its entities named
    through the target's entity register when it holds them (``identity``, from
    :func:`pilotarchive.diff.compare.identity_for`, or found under ``output``)."""
    maps: dict[str, dict[str, str]] = {old.name: {}, new.name: {}}
    if identity is None and output is not None:
        from pilotarchive.diff.compare import identity_for

        identity = identity_for(Path(output), target)
    if identity is not None:
        held = set(identity.register.snapshots)
        for snapshot in maps:
            if snapshot in held:
                maps[snapshot] = identity.register.entity_of(snapshot)
    entities, pages = name_entities(
        [(new, maps[new.name]), (old, maps[old.name])], wanted_entities(diff)
    )
    titles = main_titles(_rows(new, "page"))
    return ChangeSet(target, old.name, new.name, diff, titles, entities, pages)
