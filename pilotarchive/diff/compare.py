"""What changed between two snapshots, field by field, without false alarms.

Records pair by stable id; those left over pair by similarity (a renamed theme, a person
whose name was read in another order) before anything is called added or removed. Before
records are compared, the new snapshot's health is judged page by page: a page that gave
pilots before and gives none now while answering 200 is an extraction failure, and its
records are not reported as removed. Changes of a pilot's contact are reported on the
pilot ("contact: A -> B"), not also as a removed and an added person; the records of a page
that appeared or disappeared are reported with that page.
"""

import difflib
from collections import defaultdict
from pathlib import Path
from typing import Any

from pilotarchive import __version__
from pilotarchive.archive.read import original_of
from pilotarchive.diff.entities import entity_of, person_key, place
from pilotarchive.diff.health import judge, pilots_lost
from pilotarchive.diff.load import SnapshotView
from pilotarchive.exceptions import PilotarchiveError
from pilotarchive.records.ids import comparable, normalise_text, page_id

DIFF_VERSION = "1.2.0"
COMPARED = {
    "page": ("title", "status", "updated", "alternates", "text_version_url", "programme"),
    "pilot": ("kind", "theme", "coordinator", "contact", "municipalities"),
    "contact": ("name", "title", "email", "phone", "organization", "role"),
}
PERSON_FIELDS = ("name", "title", "email", "phone")
ORDER = {"page": 0, "pilot": 1, "contact": 2}
TEXT_DIFF_LINES = 24


def _value(kind: str, field: str, record: dict[str, Any], view: dict | None = None) -> Any:
    value = (view if view is not None else comparable(record)).get(field)
    if kind == "pilot" and field == "contact" and value:
        return {k: value.get(k) for k in PERSON_FIELDS}
    return value


def field_changes(kind: str, old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    if old.get("fingerprint") and old.get("fingerprint") == new.get("fingerprint"):
        return []
    a_view, b_view = comparable(old), comparable(new)
    changes = []
    for field in COMPARED[kind]:
        a, b = _value(kind, field, old, a_view), _value(kind, field, new, b_view)
        if a != b:
            changes.append({"field": field, "old": a, "new": b})
    return changes


def label(kind: str, record: dict[str, Any]) -> str:
    if kind == "pilot":
        return record.get("theme") or record.get("coordinator") or record["id"]
    if kind == "contact":
        return record.get("name") or record["id"]
    text = " (text version)" if record.get("is_text_version") else ""
    return f"{record.get('title') or record.get('final_url')}{text}"


def _archive_ref(view: SnapshotView, page: dict[str, Any] | None) -> dict[str, Any] | None:
    if not page:
        return None
    return {
        "snapshot_id": view.id,
        "snapshots_dir": str(view.path.parent.resolve()),
        "url": page.get("final_url"),
        "date": page.get("warc_date"),
        "warc_filename": page.get("warc_filename"),
        "warc_record_id": page.get("warc_record_id"),
        "warc_offset": page.get("warc_offset"),
        "original": original_of(page, view.id),
    }


def _similarity(kind: str, old: dict[str, Any], new: dict[str, Any]) -> float:
    if kind == "pilot":
        if old.get("kind") != new.get("kind"):
            return 0.0
        theme = difflib.SequenceMatcher(
            None, normalise_text(old.get("theme")), normalise_text(new.get("theme"))
        ).ratio()
        same_entity = entity_of("pilot", old) == entity_of("pilot", new)
        return max(theme, 0.9 if same_entity else 0.0)
    if kind == "contact":
        if old.get("role") != new.get("role") or old.get("pilot_id") != new.get("pilot_id"):
            return 0.0
        a, b = person_key(old) or "", person_key(new) or ""
        if sorted(a.split()) == sorted(b.split()):
            return 1.0  # the same words: the name was read in another order
        return difflib.SequenceMatcher(None, a, b).ratio()
    return 0.0


THRESHOLD = {"pilot": 0.6, "contact": 0.85}


def pair_leftovers(
    kind: str, olds: list[dict[str, Any]], news: list[dict[str, Any]]
) -> tuple[list[tuple[dict, dict, float]], list[dict], list[dict]]:
    """Greedy best-first pairing of records left without an id match, page by page."""
    scored = []
    for i, old in enumerate(olds):
        for j, new in enumerate(news):
            if old.get("page_id") == new.get("page_id"):
                score = _similarity(kind, old, new)
                if score >= THRESHOLD[kind]:
                    scored.append((score, i, j))
    pairs, used_old, used_new = [], set(), set()
    for score, i, j in sorted(scored, key=lambda t: (-t[0], t[1], t[2])):
        if i not in used_old and j not in used_new:
            used_old.add(i)
            used_new.add(j)
            pairs.append((olds[i], news[j], score))
    removed = [o for i, o in enumerate(olds) if i not in used_old]
    added = [n for j, n in enumerate(news) if j not in used_new]
    return pairs, removed, added


def text_lines(body: bytes, page: dict[str, Any]) -> list[str]:
    from pilotarchive.extract.document import parse_document
    from pilotarchive.extract.encoding import decode_html

    decoded = decode_html(body, page.get("content_type"))
    return parse_document(decoded.text, page.get("final_url") or "http://x/").lines


def text_diff(
    old_view: SnapshotView, new_view: SnapshotView, old: dict, new: dict
) -> tuple[list[str], str | None]:
    """A short unified diff of the page's main text (navigation and boilerplate left out),
    and why there is none when an archived body cannot be read (a damaged WARC)."""
    if not original_of(old, old_view.id) or not original_of(new, new_view.id):
        return [], None
    try:
        old_lines = text_lines(old_view.payload(old), old)
        new_lines = text_lines(new_view.payload(new), new)
    except PilotarchiveError as exc:
        return [], f"the page's bytes changed but its text cannot be compared: {exc}"
    lines = list(difflib.unified_diff(old_lines, new_lines, "old", "new", n=1, lineterm=""))
    if len(lines) > TEXT_DIFF_LINES:
        lines = [*lines[:TEXT_DIFF_LINES], f"... ({len(lines) - TEXT_DIFF_LINES} more lines)"]
    return lines, None


def _presence(kind: str, record: dict[str, Any], how: str) -> list[dict[str, Any]]:
    """What an added or removed record said, as changes from or to nothing."""
    out, view = [], comparable(record)
    for field in COMPARED[kind]:
        value = _value(kind, field, record, view)
        if value not in (None, [], {}) and field not in ("kind", "theme", "name", "role"):
            out.append(
                {
                    "field": field,
                    "old": value if how == "removed" else None,
                    "new": value if how == "added" else None,
                }
            )
    return out


class Identity:
    """Which entity a record of a snapshot was, as the entity register keeps it
    (``pilotarchive.identity.register``); None for a snapshot the register does not hold."""

    def __init__(self, register: Any) -> None:
        self.register = register
        self._cache: dict[str, dict[str, str]] = {}

    def of(self, snapshot_id: str, record_id: str) -> str | None:
        if snapshot_id not in self._cache:
            held = snapshot_id in set(self.register.snapshots)
            self._cache[snapshot_id] = self.register.entity_of(snapshot_id) if held else {}
        return self._cache[snapshot_id].get(record_id)

    def holds(self, *snapshot_ids: str) -> bool:
        """Whether the register has assigned all these snapshots: then it alone says what
        is the same, and the diff pairs nothing by similarity of its own."""
        held = set(self.register.snapshots)
        return all(s in held for s in snapshot_ids)


def identity_for(output: Path, target: Any) -> Identity | None:
    """The register of ``target`` brought up to date, or None when it cannot be had (the
    diff then pairs records by their ids and by similarity, as before the register)."""
    from pilotarchive.exceptions import PilotarchiveError
    from pilotarchive.identity.register import ensure_register

    try:
        return Identity(ensure_register(output, target))
    except (PilotarchiveError, OSError):
        return None


class _Differ:
    def __init__(
        self, old: SnapshotView, new: SnapshotView, identity: Identity | None = None
    ) -> None:
        self.old, self.new = old, new
        self.identity = identity
        self.changes: list[dict[str, Any]] = []
        self.unchanged: dict[str, int] = defaultdict(int)
        self.folded: dict[str, dict[str, list[str]]] = {}
        self.problems: list[dict[str, Any]] = []  # what could not be compared, and why

    def change(
        self, kind: str, change: str, record: dict, *, old: dict | None = None, **extra: Any
    ) -> dict[str, Any]:
        page_id = record["id"] if kind == "page" else record.get("page_id")
        view_page = None
        if page_id:  # the page as it read: an error page's title ("404") names nothing
            candidates = (self.new.pages.get(page_id), self.old.pages.get(page_id))
            pages = [p for p in candidates if p is not None]
            view_page = next((p for p in pages if (p.get("status") or 0) < 400), None) or (
                pages[0] if pages else None
            )
        # A page that now answers 404 says nothing of what it was (no title, no links):
        # its entity is the one the old page had.
        known = old if old is not None and (record.get("status") or 0) >= 400 else record
        entity = None
        if self.identity is not None:  # the register's, for the side the record is from
            side = self.old if change in ("removed", "disappeared") else self.new
            entity = self.identity.of(side.id, record["id"])
        item = {
            "record_type": kind,
            "kind": change,
            "id": record["id"],
            "old_id": old["id"] if old and old["id"] != record["id"] else None,
            "entity_id": entity or entity_of(kind, known),
            "language": record.get("language"),
            "label": label(kind, record),
            "page_id": page_id,
            "page_label": label("page", view_page) if view_page else None,
            "matched_by": extra.pop("matched_by", None),
            "fields": extra.pop("fields", []),
            "archive": {
                "old": _archive_ref(self.old, self.old.pages.get(page_id)) if page_id else None,
                "new": _archive_ref(self.new, self.new.pages.get(page_id)) if page_id else None,
            },
            **extra,
        }
        self.changes.append(item)
        return item

    # -- pages ---------------------------------------------------------------------------

    def pages(self, broken: dict[str, dict]) -> tuple[set[str], set[str], list[dict]]:
        """Page changes; on a page whose extraction failed, what was lost is not a change."""
        appeared, disappeared, not_fetched = set(), set(), []
        old_pages, new_pages = self.old.pages, self.new.pages
        for pid, new in new_pages.items():
            old = old_pages.get(pid)
            if old is None:
                appeared.add(pid)
                self.change(
                    "page",
                    "appeared",
                    new,
                    fields=[{"field": "status", "old": None, "new": new.get("status")}],
                )
                continue
            fields = field_changes("page", old, new)
            if pid in broken:
                lost = [f["field"] for f in fields if f["new"] in (None, [], {})]
                if lost:
                    broken[pid]["fields_lost"] = lost
                fields = [f for f in fields if f["field"] not in lost]
            if old.get("status") == 200 and (new.get("status") or 0) >= 400:
                disappeared.add(pid)
                status = [{"field": "status", "old": old.get("status"), "new": new.get("status")}]
                item = self.change(
                    "page", "disappeared", new, old=old, fields=status, matched_by="id"
                )
                item["label"] = label("page", old)
            elif (old.get("status") or 0) >= 400 and new.get("status") == 200:
                appeared.add(pid)
                self.change("page", "appeared", new, old=old, fields=fields, matched_by="id")
            elif fields:
                self.change("page", "modified", new, old=old, fields=fields, matched_by="id")
            elif (
                old.get("content_sha256") != new.get("content_sha256")
                and new.get("status") == 200
                and not pilots_lost(old, new)  # a broken page's text is reported by health
            ):
                lines, problem = text_diff(self.old, self.new, old, new)
                if problem:
                    self.problems.append({"page_id": pid, "url": new.get("final_url"),
                                          "message": problem})  # fmt: skip
                if lines or problem:
                    self.change(
                        "page",
                        "modified",
                        new,
                        old=old,
                        matched_by="id",
                        fields=[{"field": "text", "old": None, "new": None}],
                        text_diff=lines or [f"({problem})"],
                    )
                else:
                    self.unchanged["page"] += 1
            else:
                self.unchanged["page"] += 1
        failures = {page_id(f["url"]): f["reason"] for f in self.new.manifest.get("failures", [])
                    if f.get("url")}  # fmt: skip
        # Left out on purpose, with the reason: a backfill's "not captured ...", a page budget.
        skipped = {page_id(s["url"]): s["reason"] for s in self.new.manifest.get("skipped") or []
                   if s.get("url")}  # fmt: skip
        for pid, old in old_pages.items():
            if pid not in new_pages:
                not_fetched.append(
                    {
                        "id": pid,
                        "url": old.get("final_url"),
                        "language": old.get("language"),
                        "label": label("page", old),
                        # tried and failed (health counts it), or outside this crawl
                        "reason": failures.get(pid) or skipped.get(pid, "not in this crawl"),
                    }
                )
        return appeared, disappeared, not_fetched

    # -- records -------------------------------------------------------------------------

    def records(
        self, kind: str, appeared: set[str], disappeared: set[str], suppressed: set[str]
    ) -> dict[str, int]:
        old_entries, new_entries = self.old.entries[kind], self.new.entries[kind]
        hidden: dict[str, int] = defaultdict(int)
        left_old, left_new = [], []
        # With the register holding both snapshots, one truth says what is the same: a
        # record id that it gives to two different entities (two pilots that exchanged
        # what the id was made from) pairs nothing, and nothing is paired by similarity.
        by_register = self.identity is not None and self.identity.holds(self.old.id, self.new.id)
        split = {
            ident
            for ident in new_entries
            if by_register and ident in old_entries and not self._one_entity(ident)
        }
        for ident, entry in new_entries.items():
            prev = old_entries.get(ident)
            if prev is None or ident in split:
                left_new.append(ident)
            elif prev.fingerprint == entry.fingerprint:
                self.unchanged[kind] += 1
            else:
                old, new = self.old.record(kind, ident), self.new.record(kind, ident)
                fields = field_changes(kind, old, new)
                if fields:
                    self.change(kind, "modified", new, old=old, fields=fields, matched_by="id")
                else:
                    self.unchanged[kind] += 1
        left_old = [i for i in old_entries if i not in new_entries or i in split]
        olds, news = [], []
        for ident in left_old:
            record = self.old.record(kind, ident)
            page = record.get("page_id")
            if page in disappeared:
                self._fold(page, "removed", kind, record)
            elif page in suppressed:
                hidden[page] += 1
            elif page not in self.new.pages:
                continue  # its page was not fetched this time: nothing is known
            else:
                olds.append(record)
        for ident in left_new:
            record = self.new.record(kind, ident)
            if record.get("page_id") in appeared:
                self._fold(record["page_id"], "added", kind, record)
            else:
                news.append(record)
        for old, new in self._same_entity(olds, news):
            if fields := field_changes(kind, old, new):
                self.change(kind, "modified", new, old=old, fields=fields, matched_by="entity")
            else:  # only its record id moved (its pilot's theme was reworded): no change
                self.unchanged[kind] += 1
        pairs: list[tuple[dict, dict, float]]
        if by_register:
            pairs, removed, added = [], olds, news
        else:
            pairs, removed, added = pair_leftovers(kind, olds, news)
        for old, new, score in pairs:
            self.change(
                kind,
                "modified",
                new,
                old=old,
                fields=field_changes(kind, old, new),
                matched_by="similarity",
                similarity=round(score, 3),
            )
        for record in removed:
            self.change(kind, "removed", record, fields=_presence(kind, record, "removed"))
        for record in added:
            self.change(kind, "added", record, fields=_presence(kind, record, "added"))
        return dict(hidden)

    def _same_entity(self, olds: list[dict], news: list[dict]) -> list[tuple[dict, dict]]:
        """Records the register says are one entity, in one language and rendering: a
        pilot whose coordinator changed is modified, not removed and added. Taken out of
        ``olds`` and ``news``; what is left is paired by similarity only when the register
        does not hold both snapshots (a snapshot given by path from elsewhere)."""

        if self.identity is None:
            return []

        def key(view: SnapshotView, r: dict) -> tuple | None:
            entity = self.identity.of(view.id, r["id"]) if self.identity else None
            return (entity, r.get("language"), r.get("rendering")) if entity else None

        waiting: dict[tuple, list[dict]] = {}
        for r in olds:
            if (k := key(self.old, r)) is not None:
                waiting.setdefault(k, []).append(r)
        pairs, used_old, used_new = [], set(), set()
        for r in news:
            k = key(self.new, r)
            if k is not None and waiting.get(k):
                old = waiting[k].pop(0)
                pairs.append((old, r))
                used_old.add(id(old))
                used_new.add(id(r))
        olds[:] = [r for r in olds if id(r) not in used_old]
        news[:] = [r for r in news if id(r) not in used_new]
        return pairs

    def _one_entity(self, ident: str) -> bool:
        """Whether the register gives record ``ident`` one entity in both snapshots (or
        knows it on one side only, which is no evidence against)."""
        assert self.identity is not None
        old = self.identity.of(self.old.id, ident)
        new = self.identity.of(self.new.id, ident)
        return old is None or new is None or old == new

    def _fold(self, page: str, how: str, kind: str, record: dict) -> None:
        entry = self.folded.setdefault(page, {"added": [], "removed": []})
        entry[how].append(f"{kind}: {label(kind, record)}")

    def fold_contacts(self) -> None:
        """A pilot's contact change is one change: the pilot's, not also two persons'."""
        pilot_changes = {
            c["id"]: c
            for c in self.changes
            if c["record_type"] == "pilot"
            and (
                c["kind"] in ("added", "removed")
                or any(f["field"] == "contact" for f in c["fields"])
            )
        }
        kept = []
        for c in self.changes:
            if c["record_type"] == "contact" and c["kind"] in ("added", "removed"):
                record = (self.new if c["kind"] == "added" else self.old).record("contact", c["id"])
                if record.get("pilot_id") in pilot_changes:
                    pilot_changes[record["pilot_id"]].setdefault("contact_records", []).append(
                        {"kind": c["kind"], "id": c["id"], "name": c["label"]}
                    )
                    continue
            kept.append(c)
        self.changes = kept
        for c in self.changes:
            if c["record_type"] == "page" and c["id"] in self.folded:
                c["records"] = self.folded[c["id"]]


def _family(page: dict[str, Any]) -> tuple[str, str]:
    rendering = page.get("rendering") or ("text" if page.get("is_text_version") else "page")
    return entity_of("page", page), rendering


def translation_lag(new: SnapshotView, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Changes made in one language and not (yet) in the others of the same page family."""
    # One family per page entity and rendering: a page's text version is compared with the
    # other languages' text versions, not with their graphic pages.
    families: dict[tuple[str, str], dict[str, dict]] = defaultdict(dict)
    for page in new.pages.values():
        if page.get("status") == 200 and page.get("language"):
            families[_family(page)].setdefault(page["language"], page)
    lag: dict[tuple, dict[str, Any]] = {}

    def note(c: dict, field: str, behind: str, there: Any, here: Any) -> None:
        entry = lag.setdefault(
            (c["entity_id"], field, behind),
            {
                "entity_id": c["entity_id"],
                "label": c["label"],
                "field": field,
                "changed_in": [],
                "behind": behind,
                "value_there": there,
                "value_here": here,
            },
        )
        if c["language"] not in entry["changed_in"]:
            entry["changed_in"] = sorted([*entry["changed_in"], c["language"]])

    def canon(field: str, value: Any) -> Any:
        if field == "coordinator":
            return place(value)
        if field == "contact":
            return normalise_text((value or {}).get("name"))
        if field == "municipalities":
            return sorted({place(m) for m in value or []})
        return value

    for c in changes:
        found = new.pages.get(c["page_id"] or "")
        if not found or c["kind"] not in ("modified", "added") or not c["language"]:
            continue
        page = found
        siblings = families.get(_family(page), {})
        others = {lang: sib for lang, sib in siblings.items() if lang != c["language"]}
        if c["record_type"] == "page":
            for f in c["fields"]:
                if f["field"] == "updated" and f["new"]:
                    for lang, sib in others.items():
                        if (sib.get("updated") or "") < f["new"]:
                            note(c, "updated", lang, sib.get("updated"), f["new"])
            continue
        if c["record_type"] != "pilot":
            continue
        for lang, sib in others.items():
            twins = [
                r
                for r in new.records_of_page("pilot", sib["id"])
                if entity_of("pilot", r) == c["entity_id"]
            ]
            if not twins:
                note(c, "pilot", lang, None, c["label"])
                continue
            for f in c["fields"]:
                field = f["field"]
                if field in ("theme", "kind"):
                    continue  # written in each language's own words
                there = _value("pilot", field, twins[0])
                if canon(field, there) != canon(field, f["new"]) and canon(field, there) == canon(
                    field, f["old"]
                ):
                    note(c, field, lang, there, f["new"])
    return sorted(lag.values(), key=lambda x: (x["behind"], x["field"], x["label"]))


def diff_snapshots(
    old: SnapshotView, new: SnapshotView, identity: Identity | None = None
) -> dict[str, Any]:
    """The changes from ``old`` to ``new``; with ``identity`` (the entity register), records
    of one entity are paired as the register says, and changes carry its entity ids."""
    differ = _Differ(old, new, identity)
    health = judge(old, new)
    broken: dict[str, dict] = {}  # page -> its first extraction finding (pilots before contacts)
    for finding in health["findings"]:
        if finding["kind"] == "extraction_failed":
            broken.setdefault(finding["page_id"], finding)
    appeared, disappeared, not_fetched = differ.pages(broken)
    failed = {
        kind: {
            f["page_id"]
            for f in health["findings"]
            if f["kind"] == "extraction_failed" and f["record_type"] == kind
        }
        for kind in ("pilot", "contact")
    }
    # A failed pilot extraction also hides the pilot contacts that came with the pilots.
    hidden_pilots = differ.records("pilot", appeared, disappeared, failed["pilot"])
    hidden_contacts = differ.records(
        "contact", appeared, disappeared, failed["contact"] | failed["pilot"]
    )
    for finding in health["findings"]:
        if finding["kind"] == "extraction_failed":
            hidden = hidden_pilots if finding["record_type"] == "pilot" else hidden_contacts
            page = finding["page_id"]
            # The contacts hidden with the pilots count here unless the page has its own
            # contact finding, which counts them.
            with_contacts = finding["record_type"] == "pilot" and page not in failed["contact"]
            finding["suppressed_removals"] = hidden.get(page, 0) + (
                hidden_contacts.get(page, 0) if with_contacts else 0
            )
    differ.fold_contacts()
    changes = sorted(
        differ.changes,
        key=lambda c: (
            c["language"] or "",
            ORDER[c["record_type"]],
            c["page_label"] or "",
            c["label"],
        ),
    )
    summary: dict[str, dict[str, int]] = {}
    for kind in ORDER:
        counts = {k: 0 for k in ("added", "removed", "modified", "appeared", "disappeared")}
        for c in changes:
            if c["record_type"] == kind:
                counts[c["kind"]] += 1
        counts["unchanged"] = differ.unchanged[kind]
        summary[kind] = counts
    return {
        "diff_version": DIFF_VERSION,
        "software": {"name": "pilotarchive", "version": __version__},
        "old": {"snapshot_id": old.id, "path": str(old.path)},
        "new": {"snapshot_id": new.id, "path": str(new.path)},
        "health": health,
        "summary": summary,
        "changes": changes,
        "not_fetched": not_fetched,
        "translation_lag": translation_lag(new, changes),
        "problems": differ.problems,
    }


def diff_paths(old: Path, new: Path) -> dict[str, Any]:
    """Two snapshots of an output folder, compared through its entity register (the
    target's, brought up to date first)."""
    from pilotarchive.diff.load import load_snapshot

    older, newer = load_snapshot(old), load_snapshot(new)
    identity = identity_for(Path(new).parent.parent, newer.manifest.get("target"))
    return diff_snapshots(older, newer, identity)
