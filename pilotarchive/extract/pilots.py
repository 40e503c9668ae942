"""The list of pilots, in the forms ministry pages use; the separate project is in project.py.

A pilot list is a table whose header cells name the columns, list items with a coordinator
phrase ("koordinaattorina Raahen kaupunki", "jota koordinoi", "led by"), paragraphs of
labelled fields ("Teema: ... Koordinaattori: ..."), definition lists, or a heading per pilot
with its fields or a sentence after it. Each entry becomes a :class:`Pilot` with its contact
parsed.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cache, partial

import lxml.html

from pilotarchive.extract.contacts import CONTACT_LABEL_RE, Contact, parse_contact_text
from pilotarchive.extract.document import (
    ChromeVerdicts,
    Document,
    block_lines,
    is_site_chrome,
    norm,
    text_content,
)
from pilotarchive.extract.fields import (
    HEADING_RANKS,
    LABEL_RE,
    is_person_card,
    labelled,
    read_blocks,
)
from pilotarchive.extract.notes import MAX_ENTRY_CHARS, Note, capped
from pilotarchive.extract.patterns import Phrases, WordPhrases, trie_pattern
from pilotarchive.extract.phrases import (
    COORDINATOR_PHRASES,
    LANGUAGES,
    LIST_CONJUNCTIONS,
    PERSON_COLUMNS,
    PILOT_COLUMNS,
    PILOT_FIELD_LABELS,
)
from pilotarchive.extract.project import PROJECT_RE, parse_project


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
    return WordPhrases(rf"(?:{trie_pattern(phrases)})(?!\w)\s{{0,3}}")


# Every pattern here is linear on any text: bounded or possessive repetition, and a match
# that begins with spaces begins only where the run of spaces begins (tests/test_linear.py).
_LIST_SPLIT = re.compile(
    r"(?<!\s)\s*+[,;·•|/]\s*+|(?<!\s)\s++[–—]\s++|(?<!\s)\s++(?:"
    + "|".join(LIST_CONJUNCTIONS)
    + r")\s++",
    re.IGNORECASE,
)  # commas, semicolons, middle dots, bullets, bars, slashes, dashes between spaces, "ja"
_COORDINATOR_END = re.compile(r"(?<!\s)\s*+(?:[.;()]|,(?=\s)|(?<=\s)[–—-](?=\s)|$)")
_THEME_TAIL = re.compile(
    r"[,(]?\s?(?:jota|joita|jonka|joka|som|which is|which|whose)\s?$", re.IGNORECASE
)
_PROJECT_RE = PROJECT_RE


def _clean(text: str | None) -> str | None:
    """Spaces collapsed, punctuation at the ends and an unmatched bracket dropped: "Raahen
    kaupunki)" of "X (koordinaattori: Raahen kaupunki)" is "Raahen kaupunki"."""
    if text is None:
        return None
    text = " ".join(text.split()).strip(" ,.;:–—-")
    if text.endswith(")") and "(" not in text:
        text = text[:-1].rstrip(" ,.;:–—-")
    if text.endswith("(") or text.endswith("["):
        text = text[:-1].rstrip(" ,.;:–—-")
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


# A pilot told in sentences, subject, verb and object in any order the languages use:
# "Raahen kaupunki koordinoi pilottia, jonka teemana on X", "Pilotin ”X” vastuutahona on
# Kokkolan kaupunki", "Brahestads stad samordnar pilotprojektet ”X”", "The pilot on X is
# coordinated by the City of Iisalmi", "The City of Raahe leads the pilot on X". Each names
# ``c`` (the coordinator) and ``t`` (the theme), up to the end of its sentence.
_Q = '[”“"»«]'
_END = r"(?=\.(?:\s|$)|$)"
_SENTENCES = [
    re.compile(p, re.IGNORECASE)
    for p in (
        rf"^(?P<c>[^.,;]{{2,80}}?) koordinoi(?:vat)? pilottia,? jonka teema(?:na)? on "
        rf"(?P<t>[^.]{{3,250}}?){_END}",
        rf"^pilotin (?:koordinaattorina|vastuutahona) (?:toimii|on) (?P<c>[^.,;]{{2,80}}?),? "
        rf"ja (?:sen )?teema(?:na)? on (?P<t>[^.]{{3,250}}?){_END}",
        rf"^pilotin {_Q}(?P<t>[^”“\"»«]{{3,250}}){_Q} (?:vastuutahona|koordinaattorina|"
        rf"koordinoijana) (?:on|toimii) (?P<c>[^.]{{2,80}}?){_END}",
        rf"^(?P<c>[^.,;]{{2,80}}?) samordnar pilotprojektet (?:om )?{_Q}"
        rf"(?P<t>[^”“\"»«]{{3,250}}){_Q}",
        rf"^pilotprojektet {_Q}(?P<t>[^”“\"»«]{{3,250}}){_Q} samordnas av "
        rf"(?P<c>[^.]{{2,80}}?){_END}",
        rf"^samordnare (?:för|av) pilotprojektet {_Q}(?P<t>[^”“\"»«]{{3,250}}){_Q} är "
        rf"(?P<c>[^.]{{2,80}}?){_END}",
        rf"^(?:the )?(?P<c>[^.,;]{{2,80}}?) (?:leads|coordinates) the pilot (?:on|for) "
        rf"(?P<t>[^.]{{3,250}}?){_END}",
        rf"^the pilot (?:on|for) (?P<t>[^.]{{3,250}}?) is (?:coordinated|led) by (?:the )?"
        rf"(?P<c>[^.]{{2,80}}?){_END}",
    )
]
# The towns and the contact in sentences of their own after it.
_TOWNS_SENTENCE = re.compile(
    r"(?:pilotissa ovat mukana|pilottiin osallistuvat(?: kunnat)?|mukana ovat|"
    r"i (?:pilot)?projektet deltar|deltagande kommuner är|"
    r"the participating municipalities are|participating municipalities are|"
    rf"the pilot involves)\s*:?\s*(?P<m>[^.]{{2,400}}?){_END}",
    re.IGNORECASE,
)
_CONTACT_SENTENCE = re.compile(
    r"(?:yhteyshenkilönä toimii|yhteyshenkilö on|kontaktperson är|the contact person is)\s+",
    re.IGNORECASE,
)


def _from_sentence(text: str, language: str | None) -> Pilot | None:
    """A pilot told in sentences (see ``_SENTENCES``), or None."""
    for pattern in _SENTENCES:
        if m := pattern.search(text):
            break
    else:
        return None
    coordinator = re.sub(r"^the\s+", "", m.group("c").strip(), flags=re.IGNORECASE)
    towns = _TOWNS_SENTENCE.search(text, m.end())
    contact_text = None
    if cm := _CONTACT_SENTENCE.search(text, m.end()):
        contact_text = text[cm.end() :]
    elif cm := CONTACT_LABEL_RE.search(text, m.end()):
        contact_text = text[cm.start() :]
    theme = m.group("t").strip()
    return Pilot(
        kind="pilot",
        theme=_clean(theme[:1].upper() + theme[1:]),
        coordinator=coordinator,
        contact=_contact(contact_text, language, "pilot_contact"),
        municipalities=split_municipalities(towns.group("m") if towns else None),
        form="sentence",
    )


def parse_pilot_text(
    text: str, language: str | None, bold: str | None = None, form: str = "list"
) -> Pilot | None:
    """One entry in running text: labelled fields, or a theme and a coordinator phrase.

    The theme is the bold part when there is one, else what comes before the coordinator
    ("X – koordinaattorina Y", "X, jota koordinoi Y", "X, led by Y", "X (koordinaattori:
    Y)").
    """
    if bold is None and (told := _from_sentence(text, language)) is not None:
        return told
    fields = labelled(text) if ":" in text else {}
    if "theme" in fields and ("coordinator" in fields or "contact" in fields):
        return _from_fields(fields, language, "labelled")
    if "coordinator" in fields:
        first = LABEL_RE.search(text)
        theme = bold or (text[: first.start()] if first else None)
        if _clean(theme):
            return _from_fields({**fields, "theme": theme or ""}, language, form)
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
        form=form,
    )


def _cell_text(cell: lxml.html.HtmlElement) -> str:
    """A cell's text; lines it breaks (a contact's name, title, phone on lines of their own)
    joined as a list, not run together ("Leena Mäkinenelinkeinojohtaja")."""
    if len(cell) and _has_blocks(cell):
        return ", ".join(block_lines(cell))
    return " ".join(text_content(cell).split())


def _from_transposed(
    rows: list[lxml.html.HtmlElement], language: str | None, notes: list[Note] | None
) -> list[Pilot]:
    """A table with a pilot per column: its first column holds the labels (Teema,
    Koordinaattori, Kunnat), each other column one pilot's values."""
    labels: list[str | None] = []
    person: list[str | None] = []
    for row in rows:
        first = next(iter(row), None)
        text = "" if first is None else " ".join(text_content(first).split()).lower().rstrip(":")
        labels.append(PILOT_COLUMNS.get(text))
        # What the row gives the pilot's contact: its name, or a phone, e-mail, title row.
        person.append("name" if labels[-1] == "contact" else PERSON_COLUMNS.get(text))
    if "theme" not in labels or not {"coordinator", "contact"} & set(labels[1:]):
        return []
    grid = [[capped(_cell_text(c), "a table cell", notes) for c in row] for row in rows]
    pilots = []
    for column in range(1, max(len(cells) for cells in grid)):
        column_cells = [cells[column] if column < len(cells) else "" for cells in grid]
        fields = {label: cell for label, cell in zip(labels, column_cells, strict=True)
                  if label and cell}  # fmt: skip
        if "contact" in fields:  # its phone and e-mail rows add to a named contact only
            fields["contact"] = _contact_columns(person, column_cells) or fields["contact"]
        if pilot := _from_fields(fields, language, "table"):
            pilots.append(pilot)
    return pilots


def _from_tables(
    content: lxml.html.HtmlElement, language: str | None, notes: list[Note] | None = None
) -> list[Pilot]:
    pilots: list[Pilot] = []
    for table in content.iter("table"):
        rows = list(table.iter("tr"))
        if not rows:
            continue
        header = [" ".join(text_content(c).split()).lower().rstrip(":") for c in rows[0]]
        columns = [PILOT_COLUMNS.get(h) for h in header]
        if not any(columns[1:]) and (across := _from_transposed(rows, language, notes)):
            pilots += across  # labels down the first column, a pilot per column
            continue
        if "theme" not in columns:
            continue
        # The pilots' contacts in columns of a person's (Nimi, Nimike, Puhelin, ...).
        person = [
            None if col else PERSON_COLUMNS.get(h) for h, col in zip(header, columns, strict=True)
        ]
        for row in rows[1:]:
            cells = [capped(_cell_text(c), "a table cell", notes) for c in row]
            fields = {col: cell for col, cell in zip(columns, cells, strict=False) if col}
            if "contact" not in fields and (contact := _contact_columns(person, cells)):
                fields["contact"] = contact
            if pilot := _from_fields(fields, language, "table"):
                pilots.append(pilot)
    return pilots


def _contact_columns(person: list[str | None], cells: list[str]) -> str | None:
    """A pilot's contact from a person's columns of its row, as one contact line
    ("Leena Mäkinen, elinkeinojohtaja, puh. 044 439 3301, leena.makinen@raahe.fi")."""
    got = {key: cell for key, cell in zip(person, cells, strict=False) if key and cell}
    name = got.get("name") or " ".join(filter(None, (got.get("given"), got.get("family"))))
    if not name:
        return None
    phone = got.get("phone")
    if phone and not any(ch.isalpha() for ch in phone):
        phone = f"puh. {phone}"  # a number in a phone column needs no label there
    return ", ".join(filter(None, (name, got.get("title"), phone, got.get("email"))))


# What breaks or hides a line inside a list item: then the item is walked block by block,
# else its text is read in one piece (text_content, in C).
_LINE_BREAKERS = frozenset(
    "br p div li ul ol table tr td th dl dt dd h1 h2 h3 h4 h5 h6 section article aside "
    "header footer nav blockquote address pre hr caption form main script style noscript "
    "template select option head".split()
)


def _has_blocks(el: lxml.html.HtmlElement) -> bool:
    # A list item holds a link or two: looking at them costs less than setting up lxml's
    # matcher for forty tag names on every item; a large item stops at its first block.
    if not len(el):
        return False
    return any(d.tag in _LINE_BREAKERS for d in el.iterdescendants())


def _deep_list(el: lxml.html.HtmlElement) -> bool:
    """A nested list that holds lists itself: its items are read on their own, not again as
    part of every item above them (which made nested lists cost the square of their depth).
    """
    return el.tag in ("ul", "ol") and any(
        child.tag in ("ul", "ol") for item in el for child in item
    )


def _near(
    item: lxml.html.HtmlElement, depth: int = 4, most: int = 64
) -> list[lxml.html.HtmlElement]:
    """The elements of a list item down to ``depth`` levels, at most ``most`` of them: where
    its caption or its contact's card stands. Bounded, so that the items of lists nested
    thousands deep are not each searched to the bottom (quadratic)."""
    found: list[lxml.html.HtmlElement] = []
    level = [item]
    for _ in range(depth):
        level = [c for el in level for c in el if isinstance(c.tag, str)][:most]
        found += level
        if len(found) >= most or not level:
            break
    return found[:most]


def _card_or_deep_list(card: lxml.html.HtmlElement | None, el: lxml.html.HtmlElement) -> bool:
    return el is card or _deep_list(el)


def _from_list_items(
    content: lxml.html.HtmlElement, language: str | None, notes: list[Note] | None = None
) -> list[Pilot]:
    pilots = []
    in_chrome = ChromeVerdicts()
    for li in content.iter("li"):
        card = caption = None
        if _has_blocks(li):
            # A person card (an <address>, an h-card) is the item's contact, read apart: its
            # lines would run on into the field before it; a figure's caption titles it.
            near = _near(li)
            card = next((el for el in near if is_person_card(el)), None)
            caption = next((el for el in near if el.tag == "figcaption"), None)
            text = " ".join(block_lines(li, prune=partial(_card_or_deep_list, card)))
        else:  # one line of inline text: the same words, read in C
            text = norm(text_content(li))
        text = capped(text, "a list item", notes)
        if _PROJECT_RE.search(text):
            continue
        bold = caption if caption is not None else next(li.iter("strong"), None)
        if bold is None:
            bold = next(li.iter("b"), None)
        bold_text = " ".join(text_content(bold).split()) if bold is not None else None
        if bold_text and (bold_text.endswith(":") or _is_label(bold_text)):
            bold_text = None  # "<strong>Koordinaattori:</strong> X" is a label, not a theme
        if (pilot := parse_pilot_text(text, language, bold_text)) and not in_chrome(li):
            if pilot.contact is None and card is not None:
                pilot.contact = _contact(", ".join(block_lines(card, False)), language,
                                         "pilot_contact")  # fmt: skip
            pilots.append(pilot)  # a menu's or a news list's item is no pilot (asked last)
    return pilots


def _continues(value: str, line: str) -> bool:
    """Whether ``line`` goes on with a field ``value`` a line break cut: the value ends with
    a comma, and the line is short and holds an address or a number."""
    return (
        value.rstrip().endswith(",")
        and len(line) <= 120
        and any(ch == "@" or ch == "(" or ch.isdigit() for ch in line)
    )


def _from_lines(doc: Document, language: str | None, notes: list[Note] | None) -> list[Pilot]:
    """The last resort, for a page whose only structure is its line breaks (exported from a
    PDF, styled spans and <br>): each title line followed by a coordinator's label starts a
    pilot. Asked only when no reader found a pilot, on the lines outside the site's chrome
    (a news list's headline over "Koordinaattori: ..." is none)."""
    if not any("coordinator" in labelled(line) for line in doc.lines if ":" in line):
        return []
    lines = block_lines(doc.content, prune=partial(is_site_chrome, up=False))
    return _from_paragraphs(lines, language, notes, titles=True)


def _title_line(line: str) -> bool:
    """A line that can title the fields after it: short, no label, no sentence."""
    return (
        3 <= len(line) <= 250
        and ":" not in line
        and not line.endswith(".")
        and _ENUMERATION.sub("", line)[:1].isupper()
        and not _is_label(line)
        and not _PROJECT_RE.search(line)
    )


def _from_paragraphs(
    lines: list[str], language: str | None, notes: list[Note] | None = None, titles: bool = False
) -> list[Pilot]:
    """Labelled fields spread over lines: a theme label starts a pilot, other labels add;
    with ``titles``, so does a title line before a coordinator's label (see _from_lines)."""
    pilots: list[Pilot] = []
    current: dict[str, str] | None = None
    previous = ""
    for line in lines:
        if len(line) > MAX_ENTRY_CHARS:
            line = capped(line, "a paragraph", notes)
        fields = labelled(line) if ":" in line else {}
        named = fields.get("coordinator", "").strip(" :")
        if titles and named[:1].isupper() and "theme" not in fields and _title_line(previous):
            # A title on the line before the fields ("<b>Theme</b><br>Koordinaattori: X<br>",
            # a page exported from a PDF, its only structure line breaks): the theme.
            fields = {"theme": previous, **fields}
        previous = line
        if "theme" in fields:
            if current is not None and (p := _from_fields(current, language, "labelled")):
                pilots.append(p)
            current = fields
        elif fields and current is not None:
            if titles and "coordinator" in fields and "coordinator" in current:
                current = None  # two statements under one title line: a list, not a pilot
                continue
            for key, value in fields.items():
                current.setdefault(key, value)
        elif current is not None and "contact" in current and _continues(current["contact"], line):
            # a contact broken over two lines: "..., puh. 044 439 3301," / "leena...(at)..."
            current["contact"] = f"{current['contact']} {line}"
        elif current is not None:
            if p := _from_fields(current, language, "labelled"):
                pilots.append(p)
            current = None
    if current is not None and (p := _from_fields(current, language, "labelled")):
        pilots.append(p)
    return pilots


_ENTRY_HEADINGS = ("h2", "h3", "h4", "h5", "h6")
_RANKS = HEADING_RANKS


def _terms(dl: lxml.html.HtmlElement) -> Iterator[lxml.html.HtmlElement]:
    """A definition list's dt and dd: its children, and those of the <div> groups HTML allows
    in it (one level: a dl nested in a dd is that dd's, not read again for every dl above)."""
    for child in dl:
        if child.tag in ("dt", "dd"):
            yield child
        elif child.tag == "div":
            yield from (item for item in child if item.tag in ("dt", "dd"))


def _entry_text(el: lxml.html.HtmlElement) -> str:
    """An element of an entry as text; a definition list as "term: definition" pairs."""
    if el.tag == "dl":
        parts = []
        for item in _terms(el):
            text = " ".join(block_lines(item))
            if item.tag == "dt":
                parts.append(text.rstrip(": ") + ":")
            elif item.tag == "dd":
                parts.append(text)
        return " ".join(parts)
    return " ".join(map(_as_label, block_lines(el)))


def _is_label(text: str) -> bool:
    """Whether ``text`` is only a pilot's field label ("Yhteyshenkilö", "Kunnat:")."""
    return len(text) <= 40 and text.rstrip(" :").lower() in PILOT_FIELD_LABELS


def _as_label(line: str) -> str:
    """A line that is only a label ("<p><b>Yhteyshenkilö</b></p>", the value on the next
    line) as "Yhteyshenkilö:", so that the fields split there: without the colon the towns
    before it ran on into the contact's name."""
    return line.rstrip(" :") + ":" if _is_label(line) else line


def _from_headed(
    content: lxml.html.HtmlElement, language: str | None, notes: list[Note] | None = None
) -> list[Pilot]:
    """A heading per pilot, its fields after it: "<h3>Theme</h3><p>Koordinaattori: X<br>
    Kunnat: ...</p>", or a definition list (<dt>Koordinaattori</dt><dd>X</dd>), or a
    sentence ("Pilottia koordinoi X"). A section holding a list or a table is a list of
    entries, not one: it is read by the other forms. The entry ends at the next heading, at
    the paragraph about the project, or at the first paragraph without a field or a
    coordinator after one with (the page's running text goes on after the last pilot)."""
    pilots = []
    coordinator_re = _coordinator_re(language)
    in_chrome = ChromeVerdicts()
    for heading in content.iter(*_ENTRY_HEADINGS):
        # A cheap first look (text_content is C): no field and no coordinator phrase up to
        # the next heading, no entry. Most headings are not pilots.
        glance: list[str] = []
        has_dl = False
        for sibling in heading.itersiblings():  # the entry's first two elements, at most
            if len(glance) == 2 or sibling.tag in _RANKS:
                break
            if not isinstance(sibling.tag, str):
                continue
            if next(sibling.iter("dl"), None) is not None:
                has_dl = True  # terms and definitions: read below
                break
            glance.append(text_content(sibling)[:2000])
        text = " ".join(glance)
        if not (has_dl or LABEL_RE.search(text) or coordinator_re.search(text)):
            continue
        if in_chrome(heading):
            continue  # a menu's or a news list's heading: the site's, not the page's
        parts: list[str] = []
        seen_fields = False
        for sibling in heading.itersiblings():
            if not isinstance(sibling.tag, str):
                continue
            if sibling.tag in _RANKS or next(sibling.iter(*_RANKS), None) is not None:
                break  # a heading, or a section with its own: an entry of its own
            if next(sibling.iter("ul", "ol", "table", "li", "details"), None) is not None:
                parts = []
                break
            part = capped(_entry_text(sibling), "an entry under a heading", notes)
            has_fields = bool(LABEL_RE.search(part) or coordinator_re.search(part))
            if _PROJECT_RE.search(part) or (seen_fields and not has_fields):
                break
            seen_fields = seen_fields or has_fields
            parts.append(part)
            if sum(map(len, parts)) > 2000:
                break
        text = capped(" ".join(p for p in parts if p), "an entry under a heading", notes)
        theme = " ".join(text_content(heading).split())
        if not text or not theme or _PROJECT_RE.search(text):
            continue
        pilot = parse_pilot_text(text, language, theme, form="headed")
        if pilot is None or not pilot.coordinator:
            continue
        # A labelled coordinator, or a name after a phrase ("koordinoivat tahot ovat
        # seuraavat:" under a section heading is no pilot).
        if "coordinator" in labelled(text) or pilot.coordinator[0].isupper():
            pilots.append(pilot)
    return pilots


def _from_definition_lists(
    content: lxml.html.HtmlElement, language: str | None, notes: list[Note] | None = None
) -> list[Pilot]:
    """A definition list per pilot whose terms name the fields, the theme among them."""
    pilots = []
    for dl in content.iter("dl"):
        text = capped(_entry_text(dl), "a definition list", notes)
        fields = labelled(text) if ":" in text else {}
        if "theme" in fields and (pilot := _from_fields(fields, language, "labelled")):
            pilots.append(pilot)
    return pilots


def _from_blocks(doc: Document, language: str | None, notes: list[Note] | None) -> list[Pilot]:
    """Titled blocks that state a coordinator, whatever their markup (fields.py)."""
    return [
        Pilot(
            kind="pilot",
            theme=_clean(block.theme),
            coordinator=_clean(block.coordinator),
            contact=block.contact,
            municipalities=split_municipalities(block.municipalities),
            form=block.form,
        )
        for block in read_blocks(doc, language, notes)
    ]


def extract_pilots(
    doc: Document, language: str | None, notes: list[Note] | None = None, stated: int | None = None
) -> list[Pilot]:
    """Pilots in every form the page uses (a page may mix them), then the separate project.

    The same pilot met twice (a list item that is also a labelled paragraph) is kept once.
    ``stated`` is the number of pilots the page says it has: once the list, table and
    paragraph forms have found that many, the costlier heading and definition-list forms
    are not read.
    """
    pilots: list[Pilot] = []
    seen: dict[str, Pilot] = {}
    readers = (
        lambda: _from_tables(doc.content, language, notes),
        lambda: _from_list_items(doc.content, language, notes),
        lambda: _from_paragraphs(doc.lines, language, notes),
        lambda: _from_definition_lists(doc.content, language, notes),
        lambda: _from_headed(doc.content, language, notes),
        lambda: _from_blocks(doc, language, notes),
        lambda: [] if pilots else _from_lines(doc, language, notes),
    )
    for n, read in enumerate(readers):
        # Only pilots that name their coordinator count: a table of the pilots' contacts
        # names them all and states nothing of them (the readers below do).
        if n == 3 and stated is not None and sum(1 for p in pilots if p.coordinator) >= stated:
            break
        for pilot in read():
            key = _theme_key(pilot)
            if key not in seen:
                seen[key] = pilot
                pilots.append(pilot)
            else:  # met again (a table of the pilots' contacts, then the pilots' blocks):
                _complete(seen[key], pilot)  # what the first reading lacked, from this one
    project = parse_project(doc.lines, language, notes) or _project_block(doc.content, language)
    if project:
        # A reader of labelled blocks may have met the project's own block as a pilot
        # (titled by its theme, or "Erillinen hanke: ...").
        key = _theme_key(project)
        pilots = [
            p for p in pilots
            if _theme_key(p) != key and not _PROJECT_RE.search((p.theme or "")[:200])
        ]  # fmt: skip
        pilots.append(project)
    return [p for p in map(_sane, pilots) if p is not None]


def _project_block(content: lxml.html.HtmlElement, language: str | None) -> Pilot | None:
    """The separate project as a block of its own: a heading that names it ("Erillinen
    hanke", "Separate project"), then its fields as labels and values (a definition list,
    a table, "Label: value" lines) up to the next heading."""
    for heading in content.iter(*_ENTRY_HEADINGS):
        if not _PROJECT_RE.search(" ".join(text_content(heading).split())[:200]):
            continue
        parts = []
        for sibling in heading.itersiblings():
            if not isinstance(sibling.tag, str):
                continue
            if sibling.tag in _RANKS and _RANKS[sibling.tag] <= _RANKS[heading.tag]:
                break
            parts.append(_entry_text(sibling) if sibling.tag != "table" else _rows_text(sibling))
            if sum(map(len, parts)) > 2000:
                break
        fields = labelled(" ".join(parts))
        title = " ".join(text_content(heading).split())
        if "theme" not in fields and ":" in title:  # "Erillinen hanke: Seutukaupunkien ..."
            fields["theme"] = title.split(":", 1)[1]
        if "theme" in fields and "coordinator" in fields:
            pilot = _from_fields(fields, language, "labelled")
            if pilot is not None:
                pilot.kind = "project"
                if pilot.contact is not None:
                    pilot.contact = replace(pilot.contact, role="project_contact")
                return pilot
    return None


def _rows_text(table: lxml.html.HtmlElement) -> str:
    """A table of label and value rows as "label: value" text."""
    rows = []
    for row in table.iter("tr"):
        cells = [" ".join(text_content(c).split()) for c in row if isinstance(c.tag, str)]
        if len(cells) == 2:
            rows.append(f"{cells[0].rstrip(': ')}: {cells[1]}")
    return " ".join(rows)


def _theme_key(pilot: Pilot) -> str:
    """Two readings of one pilot name it alike, whatever the case and spaces."""
    return " ".join((pilot.theme or "").casefold().split())


def _complete(pilot: Pilot, again: Pilot) -> None:
    """Fill what ``pilot`` lacks from another reading of the same pilot; nothing it has is
    replaced (the first reading found it in the form that states it)."""
    pilot.coordinator = pilot.coordinator or again.coordinator
    pilot.contact = pilot.contact or again.contact
    pilot.municipalities = pilot.municipalities or again.municipalities


def _named(text: str | None, shortest: int) -> str | None:
    """``text`` when it can name something (a theme, a town): long enough, with letters; a
    digit or a stray letter read where a name was expected names nothing."""
    if text is None or len(text) < shortest or sum(ch.isalpha() for ch in text) < 2:
        return None
    return text


# "1. Teollisuuden rakennemuutos", "2) ...", "IV. ...": the list's numbering, not the theme.
_ENUMERATION = re.compile(r"^\s*+(?:\d{1,2}|[IVX]{1,4})[.)]\s++(?=\w)")


def _sane(pilot: Pilot) -> Pilot | None:
    """What a page cannot mean is not recorded: a coordinator "1" is no coordinator, an entry
    whose theme names nothing is no pilot (fuzzing found both)."""
    if pilot.theme:
        pilot.theme = _ENUMERATION.sub("", pilot.theme)
    if _named(pilot.theme, 3) is None:
        return None
    pilot.coordinator = _named(pilot.coordinator, 2)
    pilot.municipalities = [m for m in pilot.municipalities if _named(m, 2)]
    return pilot
