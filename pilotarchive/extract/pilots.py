"""The list of pilots and the separate project, in the three forms ministry pages use.

A pilot list is a table whose header cells name the columns, list items with a coordinator
phrase ("koordinaattorina Raahen kaupunki"), or paragraphs of labelled fields ("Teema: ...
Koordinaattori: ..."). Each entry becomes a :class:`Pilot` with its contact parsed.
"""

import re
from dataclasses import dataclass, field
from functools import cache

import lxml.html

from pilotarchive.extract.contacts import CONTACT_LABEL_RE, Contact, parse_contact_text
from pilotarchive.extract.document import Document, block_lines
from pilotarchive.extract.notes import Note, capped
from pilotarchive.extract.patterns import Phrases, alternation
from pilotarchive.extract.phrases import (
    COORDINATOR_PHRASES,
    LANGUAGES,
    LIST_CONJUNCTIONS,
    PILOT_COLUMNS,
    PILOT_FIELD_LABELS,
    PROJECT_THEME_PATTERNS,
    PROJECT_WORDS,
)


@dataclass(slots=True)
class Pilot:
    kind: str  # "pilot" or "project"
    theme: str | None
    coordinator: str | None
    contact: Contact | None
    municipalities: list[str] = field(default_factory=list)
    form: str = ""  # "table", "list", "labelled", "sentence": how the page wrote it


def _languages_first(language: str | None) -> list[str]:
    return ([language] if language in LANGUAGES else []) + [
        lang for lang in LANGUAGES if lang != language
    ]


@cache
def _coordinator_re(language: str | None) -> Phrases:
    phrases = [p for lang in _languages_first(language) for p in COORDINATOR_PHRASES[lang]]
    return Phrases(rf"(?<!\w)(?:{alternation(phrases)})(?!\w)\s{{0,3}}")


# Every pattern here is linear on any text: bounded or possessive repetition, and a match
# that begins with spaces begins only where the run of spaces begins (tests/test_linear.py).
_LABEL_RE = Phrases(r"(?<![\w])(?P<label>" + alternation(PILOT_FIELD_LABELS) + r")\s{0,3}:\s{0,3}")
_LIST_SPLIT = re.compile(
    r"(?<!\s)\s*+[,;]\s*+|(?<!\s)\s++(?:" + "|".join(LIST_CONJUNCTIONS) + r")\s++",
    re.IGNORECASE,
)
_COORDINATOR_END = re.compile(r"(?<!\s)\s*+(?:[.;()]|,(?=\s)|(?<=\s)[–—-](?=\s)|$)")
_THEME_TAIL = re.compile(r"[,(]?\s?(?:jota|som|which is|joka)\s?$", re.IGNORECASE)
_PARENS = re.compile(r"\(([^()]*+)\)")
_PROJECT_RE = Phrases(alternation(w for words in PROJECT_WORDS.values() for w in words))
_THEME_PATTERNS = {lang: Phrases(p) for lang, p in PROJECT_THEME_PATTERNS.items()}


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split()).strip(" ,.;:–—-")
    return text or None


def split_municipalities(text: str | None) -> list[str]:
    if not text:
        return []
    return [m for m in (_clean(part) for part in _LIST_SPLIT.split(text)) if m]


def _coordinator_after(text: str, start: int) -> str | None:
    rest = text[start:]
    end = _COORDINATOR_END.search(rest)
    value = rest[: end.start()] if end else rest
    value = re.sub(r"^(?:the)\s+", "", value.strip(), flags=re.IGNORECASE)
    return _clean(value)


def _contact(text: str | None, language: str | None, role: str) -> Contact | None:
    if not text:
        return None
    return parse_contact_text(text, language, role)


def _labelled(text: str) -> dict[str, str]:
    """``Teema: X. Koordinaattori: Y`` -> {"theme": "X", "coordinator": "Y"}."""
    matches = list(_LABEL_RE.finditer(text))
    fields: dict[str, str] = {}
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        key = PILOT_FIELD_LABELS[m.group("label").lower()]
        fields.setdefault(key, text[m.end() : end])
    return fields


def _from_fields(fields: dict[str, str], language: str | None, form: str) -> Pilot | None:
    theme = _clean(fields.get("theme"))
    if not theme:
        return None
    return Pilot(
        kind="pilot",
        theme=theme,
        coordinator=_clean(fields.get("coordinator")),
        contact=_contact(fields.get("contact"), language, "pilot_contact"),
        municipalities=split_municipalities(fields.get("municipalities")),
        form=form,
    )


def parse_pilot_text(text: str, language: str | None, bold: str | None = None) -> Pilot | None:
    """One entry in running text: labelled fields, or a theme and a coordinator phrase."""
    fields = _labelled(text) if ":" in text else {}
    if "theme" in fields and ("coordinator" in fields or "contact" in fields):
        return _from_fields(fields, language, "labelled")
    m = _coordinator_re(language).search(text)
    if not m:
        return None
    theme = bold or text[: m.start()]
    theme = theme.strip()
    if tail := _THEME_TAIL.search(theme, max(0, len(theme) - 16)):
        theme = theme[: tail.start()]
    contact_text = fields.get("contact")
    if contact_text is None:
        cm = CONTACT_LABEL_RE.search(text, m.end())
        contact_text = text[cm.start() :] if cm else None
    return Pilot(
        kind="pilot",
        theme=_clean(theme),
        coordinator=_coordinator_after(text, m.end()),
        contact=_contact(contact_text, language, "pilot_contact"),
        municipalities=split_municipalities(fields.get("municipalities")),
        form="list",
    )


def _from_tables(
    content: lxml.html.HtmlElement, language: str | None, notes: list[Note] | None = None
) -> list[Pilot]:
    pilots: list[Pilot] = []
    for table in content.iter("table"):
        rows = list(table.iter("tr"))
        if not rows:
            continue
        header = [" ".join(c.text_content().split()).lower().rstrip(":") for c in rows[0]]
        columns = [PILOT_COLUMNS.get(h) for h in header]
        if "theme" not in columns:
            continue
        for row in rows[1:]:
            cells = [capped(" ".join(c.text_content().split()), "a table cell", notes) for c in row]
            fields = {col: cell for col, cell in zip(columns, cells, strict=False) if col}
            if pilot := _from_fields(fields, language, "table"):
                pilots.append(pilot)
    return pilots


def _deep_list(el: lxml.html.HtmlElement) -> bool:
    """A nested list that holds lists itself: its items are read on their own, not again as
    part of every item above them (which made nested lists cost the square of their depth).
    """
    return el.tag in ("ul", "ol") and any(
        child.tag in ("ul", "ol") for item in el for child in item
    )


def _from_list_items(
    content: lxml.html.HtmlElement, language: str | None, notes: list[Note] | None = None
) -> list[Pilot]:
    pilots = []
    for li in content.iter("li"):
        text = capped(" ".join(block_lines(li, prune=_deep_list)), "a list item", notes)
        if _PROJECT_RE.search(text):
            continue
        bold = li.find(".//strong")
        if bold is None:
            bold = li.find(".//b")
        bold_text = " ".join(bold.text_content().split()) if bold is not None else None
        if pilot := parse_pilot_text(text, language, bold_text):
            pilots.append(pilot)
    return pilots


def _from_paragraphs(
    lines: list[str], language: str | None, notes: list[Note] | None = None
) -> list[Pilot]:
    """Labelled fields spread over lines: a theme label starts a pilot, other labels add."""
    pilots: list[Pilot] = []
    current: dict[str, str] | None = None
    for line in lines:
        line = capped(line, "a paragraph", notes)
        fields = _labelled(line) if ":" in line else {}
        if "theme" in fields:
            if current is not None and (p := _from_fields(current, language, "labelled")):
                pilots.append(p)
            current = fields
        elif fields and current is not None:
            for key, value in fields.items():
                current.setdefault(key, value)
        elif current is not None:
            if p := _from_fields(current, language, "labelled"):
                pilots.append(p)
            current = None
    if current is not None and (p := _from_fields(current, language, "labelled")):
        pilots.append(p)
    return pilots


def parse_project(
    lines: list[str], language: str | None, notes: list[Note] | None = None
) -> Pilot | None:
    """The separate project ("erillinen hanke, jota koordinoi Salon kaupunki (...)")."""
    if not _PROJECT_RE.search("\n".join(lines)):
        return None
    for line in lines:
        if not _PROJECT_RE.search(line):
            continue
        line = capped(line, "the project's paragraph", notes)
        m = _coordinator_re(language).search(line)
        if not m:
            continue
        theme = None
        for lang in _languages_first(language):
            tm = _THEME_PATTERNS[lang].search(line)
            if tm:
                theme = tm.group("theme")
                break
        paren = _PARENS.search(line, m.end())
        contact = _contact(paren.group(1), language, "project_contact") if paren else None
        return Pilot(
            kind="project",
            theme=_clean(theme),
            coordinator=_coordinator_after(line, m.end()),
            contact=contact,
            municipalities=[],
            form="sentence",
        )
    return None


def extract_pilots(
    doc: Document, language: str | None, notes: list[Note] | None = None
) -> list[Pilot]:
    """Pilots in every form the page uses (a page may mix them), then the separate project.

    The same pilot met twice (a list item that is also a labelled paragraph) is kept once.
    """
    pilots: list[Pilot] = []
    seen: set[str] = set()
    for found in (
        _from_tables(doc.content, language, notes),
        _from_list_items(doc.content, language, notes),
        _from_paragraphs(doc.lines, language, notes),
    ):
        for pilot in found:
            key = " ".join((pilot.theme or "").casefold().split())
            if key not in seen:
                seen.add(key)
                pilots.append(pilot)
    project = parse_project(doc.lines, language, notes)
    if project:
        pilots.append(project)
    return pilots
