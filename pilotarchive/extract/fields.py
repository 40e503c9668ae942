"""Pilots read by the structure of the page, not by a markup we have seen before.

A pilot is any block that states a coordinator, whatever holds it: a list item, a table
row, a definition list, a card, an accordion panel, ``details``, a tab panel. The statement
is found first: an element whose whole text is a coordinator label ("Koordinaattori",
"Samordnas av", "Lead", with or without a colon), or a sentence with a coordinator phrase
("Pilottia koordinoi Raahen kaupunki."). From there the reader climbs the tree to the
smallest element that has a title of its own and holds no other statement:

- the element named by its ``aria-labelledby`` (a tab panel titled by its tab button);
- the ``summary`` of a ``details``, the ``caption`` of a table;
- the title right before it: a heading, a toggle link or button (an accordion panel after
  its toggle), a ``dt``, a paragraph that is only a bold lead;
- a heading as its own first child (a card).

The block's fields come from its label/value structures: ``th``/``td`` rows, ``dt``/``dd``,
two-column grids (a label element and its value element side by side), "Label: value"
lines, and a coordinator phrase in a sentence. Site chrome is never read.

Entries the older readers (pilots.py) find are found there first; this reader adds the
blocks they cannot see, and costs nothing on a page that states no coordinator at all.
"""

import re
from dataclasses import dataclass
from functools import cache

import lxml.html
from lxml import etree

from pilotarchive.extract.contacts import Contact, parse_contact_text
from pilotarchive.extract.document import (
    ChromeVerdicts,
    Document,
    block_lines,
    element_text,
    leading_text,
    norm,
)
from pilotarchive.extract.notes import Note, capped
from pilotarchive.extract.patterns import Phrases, WordPhrases, trie_pattern
from pilotarchive.extract.phrases import COORDINATOR_PHRASES, LANGUAGES, PILOT_FIELD_LABELS
from pilotarchive.extract.project import PROJECT_RE

_HEADINGS = frozenset(f"h{n}" for n in range(1, 7))
# The page's own title (h1) titles the page, never one of its entries.
_TITLE_TAGS = (_HEADINGS - {"h1"}) | {"summary", "caption", "button", "legend", "dt"}
_BOLD = frozenset({"b", "strong"})
_MAX_TITLE = 250  # characters: a theme is a phrase, not a paragraph
_MAX_LABEL = 60
# Levels between a statement and its block's title: a label in a cell of a row of a table
# in a panel is four. Bounding the climb keeps a page of deeply nested statements linear.
_MAX_CLIMB = 10
_COORDINATOR_LABELS = frozenset(k for k, v in PILOT_FIELD_LABELS.items() if v == "coordinator")
# A first look at the page's source, in C: a coordinator label or phrase may be there.
# A first look at the page's text, in C: a coordinator label or phrase may be there. The
# stems leave out first letters, so that one search serves both cases ("Koordinaattori",
# "koordinoi", "Coordinated by"); each is one pass over the text, so they are few.
_STATEMENT_LINE = 300  # characters: a label, a field, a sentence
_STEMS = ("oordin", "amordn", "astuuta", "uvudman", "Lead", "lead", "ed by", "etäj", "nsvarig")
LABEL_RE = WordPhrases(r"(?P<label>" + trie_pattern(PILOT_FIELD_LABELS) + r")\s{0,3}:\s{0,3}")


@dataclass(slots=True)
class Block:
    """What one titled block says of its pilot, as written (pilots.py cleans it)."""

    theme: str
    coordinator: str
    municipalities: str | None
    contact: Contact | None
    # "labelled" when a label names the coordinator, "headed" when a sentence under the
    # block's title does (the record schema's forms: a new one would need a version bump).
    form: str = "labelled"


@cache
def statement_re(language: str | None) -> Phrases:
    """A coordinator phrase, the page's language first."""
    langs = ([language] if language in LANGUAGES else []) + [
        lang for lang in LANGUAGES if lang != language
    ]
    phrases = [p for lang in langs for p in COORDINATOR_PHRASES[lang]]
    return WordPhrases(rf"(?:{trie_pattern(phrases)})(?!\w)\s{{0,3}}")


@cache
def _containing(stems: tuple[str, ...]) -> etree.XPath:
    tests = " or ".join(f'contains(., "{s}")' for s in stems)
    return etree.XPath(f".//text()[{tests}]")


def _label_key(text: str) -> str | None:
    """The field a label element names ("Koordinaattori:" -> "coordinator"), or None."""
    if not text or len(text) > _MAX_LABEL:
        return None
    return PILOT_FIELD_LABELS.get(norm(text).lower().rstrip(": ").strip())


def _own_text(el: lxml.html.HtmlElement) -> str:
    return element_text(el) if isinstance(el.tag, str) else ""


def _is_toggle(el: lxml.html.HtmlElement) -> bool:
    """A link or button that opens a panel: a fragment or script link, or ARIA's marks."""
    if el.tag == "button":
        return True
    if el.tag != "a":
        return False
    attrib = el.attrib
    href = (attrib.get("href") or "").strip().lower()
    return (
        href.startswith(("#", "javascript:"))
        or "aria-controls" in attrib
        or "aria-expanded" in attrib
        or any(name.startswith("data-") and "toggle" in name for name in attrib)
    )


def _title_text(el: lxml.html.HtmlElement) -> str | None:
    """The text of ``el`` when it can title a block: a heading, summary, caption, toggle,
    ``dt``, or an element that holds only one of these or a bold lead."""
    if not isinstance(el.tag, str):
        return None
    node = el
    while node.tag not in _TITLE_TAGS and not _is_toggle(node) and node.tag not in _BOLD:
        children = [c for c in node if isinstance(c.tag, str)]
        if len(children) != 1 or (node.text or "").strip() or (children[0].tail or "").strip():
            return None
        node = children[0]
    text = leading_text(el, _MAX_TITLE + 1)  # a heading holding the rest of a broken page
    if not text or len(text) > _MAX_TITLE or text.endswith(":") or _label_key(text):
        return None
    if sum(ch.isalpha() for ch in text) < 3:
        return None
    return text


_IDS = etree.XPath("//*[@id]")


def _by_id(
    doc: Document, ident: str, ids: dict[str, lxml.html.HtmlElement]
) -> lxml.html.HtmlElement | None:
    """The element with ``id="ident"``; the page's ids are read once, on the first
    question (a page of a thousand labelled panels asks a thousand times)."""
    if not ids:
        for el in _IDS(doc.root):
            ids.setdefault(el.get("id"), el)
        ids.setdefault("", doc.root)  # read: never again
    return ids.get(ident)


def _own_title(
    doc: Document, el: lxml.html.HtmlElement, ids: dict[str, lxml.html.HtmlElement]
) -> tuple[str, lxml.html.HtmlElement | None] | None:
    """The title ``el`` carries itself: aria-labelledby, summary, caption, a first-child
    heading. Returns the title and the element to leave out of its fields."""
    labelled = el.get("aria-labelledby")
    if labelled:
        names = [_by_id(doc, ident, ids) for ident in labelled.split()[:8]]
        text = norm(" ".join(_own_text(n) for n in names if n is not None))
        if text and not _label_key(text) and len(text) <= _MAX_TITLE:
            inside = next((n for n in names if n is not None and _inside(n, el)), None)
            return text, inside
    if el.tag in ("details", "table", "fieldset", "figure"):
        for child in el:
            if child.tag in ("summary", "caption", "legend", "figcaption"):
                title = _title_text(child) if child.tag != "figcaption" else _own_text(child)
                return (title, child) if title else None
    ident = el.get("id")
    if (
        ident
        and el.get("role") == "tabpanel"
        and (tab := _controlling(doc, ident, ids)) is not None
    ):
        text = norm(_own_text(tab))  # a tab panel titled by the tab that opens it
        if text and not _label_key(text) and len(text) <= _MAX_TITLE:
            return text, None
    first = next((c for c in el if isinstance(c.tag, str)), None)
    if first is not None and first.tag == "figure" and not (el.text or "").strip():
        caption = next(first.iter("figcaption"), None)  # a card opened by a captioned image
        if caption is not None and (title := _own_text(caption)):
            return title, first
    if first is not None and first.tag in _HEADINGS and not (el.text or "").strip():
        heading = _title_text(first)
        if heading:
            return heading, first
    return None


_CONTROLS = etree.XPath("//*[@aria-controls]")
_CONTROLLED = "\x00controls:"  # in the page's id cache: who controls which id


def _controlling(
    doc: Document, ident: str, ids: dict[str, lxml.html.HtmlElement]
) -> lxml.html.HtmlElement | None:
    """The element whose ``aria-controls`` names ``ident`` (a tab and its panel); the page's
    controls are read once, into ``ids`` beside its ids (a page of a thousand panels asks a
    thousand times)."""
    if _CONTROLLED not in ids:
        ids[_CONTROLLED] = doc.root
        for el in _CONTROLS(doc.root):
            for token in (el.get("aria-controls") or "").split():
                ids.setdefault(_CONTROLLED + token, el)
    return ids.get(_CONTROLLED + ident)


def _inside(el: lxml.html.HtmlElement, block: lxml.html.HtmlElement) -> bool:
    return el is block or any(a is block for a in el.iterancestors())


HEADING_RANKS = {f"h{n}": n for n in range(1, 7)}


def _previous_element(el: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The nearest earlier sibling that is an element (not a comment)."""
    previous = el.getprevious()
    while previous is not None and not isinstance(previous.tag, str):
        previous = previous.getprevious()
    return previous


def _rank_of_title(el: lxml.html.HtmlElement) -> int:
    """The heading rank of the title right before ``el`` (a heading, or an element that
    holds one); 7 for a title that is no heading (a toggle, a bold lead): then any heading
    after it starts something else."""
    previous = _previous_element(el)
    if previous is None:
        return 7
    if previous.tag in HEADING_RANKS:
        return HEADING_RANKS[previous.tag]
    inner = next(previous.iter(*_HEADINGS), None)
    return HEADING_RANKS[inner.tag] if inner is not None else 7


def _title_before(el: lxml.html.HtmlElement) -> str | None:
    """The title right before ``el``: its nearest earlier sibling element, when that is a
    title and no text stands between them."""
    previous = _previous_element(el)
    if previous is None or (previous.tail or "").strip():
        return None
    return _title_text(previous)


def _anchors(
    doc: Document, language: str | None, in_chrome: ChromeVerdicts, stems: tuple[str, ...]
) -> list[lxml.html.HtmlElement]:
    """Elements that state a coordinator, in document order, none in the site's chrome."""
    found: list[lxml.html.HtmlElement] = []
    seen: set[lxml.html.HtmlElement] = set()
    statement = statement_re(language)
    for text in _containing(stems)(doc.content):
        owner = text.getparent() if text.is_text else text.getparent().getparent()
        if owner is None or owner in seen:
            continue
        words = str(text)
        if _label_key(words) == "coordinator" and text.is_text:
            anchor = owner
            if len(owner) and not _label_key(leading_text(owner, _MAX_LABEL + 1)):
                continue  # the label is part of a longer text: read as a line below
            row = owner.getparent() if owner.tag in ("th", "td") else None
            if row is not None and sum(isinstance(c.tag, str) for c in row) > 2:
                continue  # a label with a value per column: a pilot per column (pilots.py)
        elif statement.search(words) or "coordinator" in labelled(words):
            anchor = owner
            while anchor.tag in _BOLD or anchor.tag in ("a", "span", "em", "i", "time"):
                parent = anchor.getparent()
                if parent is None:
                    break
                anchor = parent
        else:
            continue
        if anchor in seen or in_chrome(anchor) or PROJECT_RE.search(words):
            continue
        seen.add(owner)
        seen.add(anchor)
        found.append(anchor)
    return found


def _block(
    doc: Document,
    anchor: lxml.html.HtmlElement,
    holders: dict[lxml.html.HtmlElement, int],
    ids: dict[str, lxml.html.HtmlElement],
) -> tuple[list[lxml.html.HtmlElement], str, lxml.html.HtmlElement | None] | None:
    """The smallest titled element around ``anchor`` that holds no other statement: its
    parts (one element, or a title's following siblings up to the next title), its title,
    and the title's element when it stands inside."""
    node = anchor
    content = doc.content
    for _ in range(_MAX_CLIMB):
        if node is None or holders.get(node, 0) > 1:
            return None
        own = _own_title(doc, node, ids)
        if own:
            return [node], own[0], own[1]
        if node is content:
            return None
        before = _title_before(node)
        if before:
            parts = [node]
            rank = _rank_of_title(node)
            for sibling in node.itersiblings():
                if not isinstance(sibling.tag, str):
                    continue
                if holders.get(sibling, 0):
                    return None  # two statements under one title: a list, not a pilot
                if _title_text(sibling) or sibling.tag in _HEADINGS:
                    break
                # A heading of the block's rank or above starts the next block; one below
                # it is the block's own (a contact person's teaser titled by the name).
                if any(HEADING_RANKS[h.tag] <= rank for h in sibling.iter(*_HEADINGS)):
                    break
                parts.append(sibling)
            return parts, before, None
        node = node.getparent()
    return None


_INLINE_LABELS = frozenset({"b", "strong", "span", "label", "em"})


_LINE_ENDS = frozenset({"br", "p", "div", "li", "ul", "ol", "table", "dl", "section"})


def _rest_of_line(el: lxml.html.HtmlElement) -> str:
    """The text after an inline label up to the end of its line (a ``br`` or a block)."""
    pieces = [el.tail or ""]
    for sibling in el.itersiblings():
        if sibling.tag in _LINE_ENDS:
            break
        if isinstance(sibling.tag, str):
            pieces.append(element_text(sibling))
        pieces.append(sibling.tail or "")
    return norm(" ".join(pieces)).lstrip(": ")


def _pairs(
    block: lxml.html.HtmlElement, skip: lxml.html.HtmlElement | None
) -> tuple[dict[str, str], set[lxml.html.HtmlElement]]:
    """Label/value pairs of a block: a label element and the element beside it (``th`` and
    ``td``, ``dt`` and ``dd``, the two cells of a grid row), or a bold label and the text
    after it ("<strong>Lead</strong> City of Raahe"). Returns the values by field and the
    elements already read (left out of the block's lines)."""
    values: dict[str, str] = {}
    read: set[lxml.html.HtmlElement] = set()
    for el in block.iter():
        if not isinstance(el.tag, str) or el is skip or len(el) > 1:
            continue
        text = el.text if not len(el) else _own_text(el)
        key = _label_key(text or "")
        if key is None:
            continue
        if (el.tail or "").strip():
            if el.tag in _INLINE_LABELS and key not in values:
                values[key] = _rest_of_line(el)
            continue
        value = el.getnext()
        if value is None or not isinstance(value.tag, str) or _label_key(_own_text(value)):
            continue  # a row of column headings: labels beside labels
        if el.tag in _INLINE_LABELS and (chips := _chips(value)):
            read.update((el, *chips))  # "Kunnat" and a badge per town, no commas between
            values.setdefault(key, ", ".join(element_text(chip) for chip in chips))
            continue
        read.update((el, value))
        values.setdefault(key, ", ".join(_lines(value)))
    return values, read


def _chips(first: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """``first`` and its following siblings when they are inline elements of their own
    (badges, tags: "<span>Raahe</span> <span>Kalajoki</span>"), each a value; [] else."""
    chips = [first]
    for sibling in first.itersiblings():
        if not isinstance(sibling.tag, str) or (sibling.tail or "").strip(" ,"):
            return []
        chips.append(sibling)
    if len(chips) < 2 or any(c.tag not in _INLINE_LABELS or len(c) for c in chips):
        return []
    return chips if not (first.tail or "").strip(" ,") else []


def _lines(el: lxml.html.HtmlElement) -> list[str]:
    return block_lines(el, False)


def read_blocks(
    doc: Document, language: str | None, notes: list[Note] | None = None
) -> list["Block"]:
    """Every titled block that states a coordinator, in document order."""
    # A statement stands on a line of its own or in a short sentence: the page's long
    # paragraphs of running text are left out of the first look (on the synthetic site's
    # pages, 99 % of their text).
    text = "\n".join([line for line in doc.lines if len(line) <= _STATEMENT_LINE])
    present = tuple(stem for stem in _STEMS if stem in text)
    if not present:
        return []
    in_chrome = ChromeVerdicts()
    anchors = _anchors(doc, language, in_chrome, present)
    if not anchors:
        return []
    holders: dict[lxml.html.HtmlElement, int] = {}
    for anchor in anchors:
        node = anchor
        for _ in range(_MAX_CLIMB + 1):  # a block's title is near its statement
            holders[node] = holders.get(node, 0) + 1
            node = node.getparent()
            if node is None:
                break
    out: list[Block] = []
    ids: dict[str, lxml.html.HtmlElement] = {}
    done: set[lxml.html.HtmlElement] = set()
    statement = statement_re(language)
    for anchor in anchors:
        found = _block(doc, anchor, holders, ids)
        if found is None or found[0][0] in done:
            continue
        parts, theme, title_el = found
        done.update(parts)
        fields: dict[str, str] = {}
        lines: list[str] = []
        form = "labelled"
        for part in parts:
            values, skip = _pairs(part, title_el)
            for key, value in values.items():
                fields.setdefault(key, value)
            if title_el is not None:
                skip.add(title_el)
            lines += block_lines(part, False, prune=skip.__contains__)
        for line in lines:
            line = capped(line, "a line of a pilot's block", notes)
            for key, value in labelled(line).items():
                fields.setdefault(key, value)
            if "coordinator" not in fields and (m := statement.search(line)):
                fields["coordinator"] = _after(line, m.end())
                form = "headed"
        coordinator = fields.get("coordinator", "").strip(" :")
        if not coordinator or not (coordinator[0].isupper() or coordinator[0].isdigit()):
            continue  # "koordinoivat tahot ovat seuraavat:" introduces a list, names nobody
        contact = None
        if not fields.get("contact") and (person := person_card(parts)) is not None:
            fields["contact"] = ", ".join(block_lines(person, False))
        if fields.get("contact"):
            contact = parse_contact_text(fields["contact"], language, "pilot_contact")
        out.append(Block(theme, coordinator, fields.get("municipalities"), contact, form))
    return out


_CARD_CLASSES = frozenset({"h-card", "vcard"})


def person_card(parts: list[lxml.html.HtmlElement]) -> lxml.html.HtmlElement | None:
    """A person marked up as one in a block with no contact label: a microformats h-card
    or vCard, schema.org ``Person`` microdata, an ``<address>`` (a card's footer naming
    whom to ask)."""
    for part in parts:
        for el in part.iter():
            if is_person_card(el):
                return el
    return None


def is_person_card(el: lxml.html.HtmlElement) -> bool:
    if not isinstance(el.tag, str):
        return False
    if el.tag == "address" or "schema.org/Person" in (el.get("itemtype") or ""):
        return True
    return bool(_CARD_CLASSES & set((el.get("class") or "").split()))


def labelled(text: str) -> dict[str, str]:
    """``Teema: X. Koordinaattori: Y`` -> {"theme": "X", "coordinator": "Y"}."""
    if ":" not in text:
        return {}
    matches = list(LABEL_RE.finditer(text))
    fields: dict[str, str] = {}
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        key = PILOT_FIELD_LABELS[m.group("label").lower()]
        fields.setdefault(key, text[m.end() : end])
    return fields


_COORDINATOR_END = re.compile(r"(?<!\s)\s*+(?:[.;()]|,(?=\s)|(?<=\s)[–—-](?=\s)|$)")


def _after(text: str, start: int) -> str:
    rest = text[start:]
    end = _COORDINATOR_END.search(rest)
    value = (rest[: end.start()] if end else rest).strip()
    return re.sub(r"^the\s+", "", value, flags=re.IGNORECASE)
