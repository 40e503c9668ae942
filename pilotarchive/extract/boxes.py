"""Boxes that belong to the page: "Lisätietoja", "Mer information", "Contact", wherever they stand.

The 2014 page put its "Lisätietoja:" box after "Tulosta sivu", outside the article, in a
side column; other layouts put it in a table cell, an ``aside``, or after the print link
with no container at all. So a box is found by what it says, not by where it is or what id
it has: an element whose whole text is one of the headings in ``phrases.BOX_LABELS``, alone
on its line, not a link, and not in the site's own chrome (navigation, the site header and
footer, which repeat on every page and belong to the site, not to the page).

The box then runs from its heading to the next heading of the same or a higher rank (or
the end of the smallest element that holds more than the heading), leaving out the main
content area when the box stands beside it in one container.
"""

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import lxml.html
from lxml import etree

from pilotarchive.extract.document import (
    ChromeVerdicts,
    Document,
    block_lines,
    is_site_chrome,
    leading_text,
    norm,
    text_content,
    walk_from,
)
from pilotarchive.extract.fields import labelled, statement_re
from pilotarchive.extract.patterns import trie_pattern
from pilotarchive.extract.phrases import BOX_LABELS, PILOT_FIELD_LABELS

_LABELS = {label for labels in BOX_LABELS.values() for label in labels}
_LONGEST = max(map(len, _LABELS)) + 2  # a heading's text is never much longer than a label
_FIRST_WORDS = {label.split()[0] for label in _LABELS}
# Headings that begin a sentence naming the persons, longest first.
_SENTENCE_LABELS = sorted(
    (label for label in _LABELS if label.split()[-1] in ("antavat", "antaa", "av", "contact",
                                                          "from", "saa")),
    key=len, reverse=True,
)  # fmt: skip
_INLINE = frozenset("a abbr b big cite em font i label small span strong u".split())
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_PERSON_TYPES = ("schema.org/Person",)
_ITEMTYPE = etree.XPath("boolean(//*[@itemtype])")
# "Contact" or "Yhteyshenkilö" as a term in a list of a pilot's fields (a <dt>, a table
# header) names the pilot's contact, not a box of the page's persons.
_FIELD_TAGS = frozenset({"dt", "th", "td", "li", "label"})


@dataclass(slots=True)
class Box:
    """One box: its heading as written, its lines after the heading, its microdata people."""

    label: str
    lines: list[str]
    inside_content: bool
    people: list[dict[str, str]] = field(default_factory=list)  # schema.org Person properties


def label_of(text: str) -> tuple[str, str] | None:
    """``("Lisätietoja", rest)`` when ``text`` is a box heading, alone or followed by a
    colon and what the heading introduces ("Lisätietoja: Olli Alho, puh. ...")."""
    text = norm(text)
    if not text:
        return None
    key = text.lower().rstrip(": ").strip()
    if key in _LABELS:
        return text.rstrip(": "), ""
    head, colon, rest = text.partition(":")
    key = head.strip().lower()
    if colon and key in _LABELS and key not in PILOT_FIELD_LABELS and rest.strip():
        return head.strip(), rest.strip()  # "Yhteyshenkilö: ..." is a pilot's field instead
    # A heading that is the start of a sentence ("Lisätietoja antavat neuvotteleva virkamies
    # Olli Alho, puh. ...", "For further information, please contact ..."): the persons
    # follow without a colon, each with a number or an address.
    low = text.lower()
    for label in _SENTENCE_LABELS:
        if low.startswith(label + " ") and any(ch.isdigit() or ch == "@" for ch in text):
            return text[: len(label)], text[len(label) :].strip()
    return None


def _alone_on_its_line(el: lxml.html.HtmlElement) -> bool:
    """An inline element (``<strong>Lisätietoja:</strong>``) heads a box only when nothing
    else stands on its line; "Contact: Leena Mäkinen" inside a pilot entry does not."""
    if el.tag not in _INLINE:
        return True
    if (el.tail or "").strip(" \t\r\n\xa0:"):
        return False
    nxt = el.getnext()
    if nxt is not None and nxt.tag != "br" and nxt.tag in _INLINE:
        return False
    prev = el.getprevious()
    if prev is None:
        parent = el.getparent()
        return parent is None or not (parent.text or "").strip() or parent.tag in _INLINE
    return prev.tag == "br" and not (prev.tail or "").strip()


def _pair_label(el: lxml.html.HtmlElement) -> bool:
    """The label of a label/value pair (a two-column grid row: "Kontaktperson" and the
    person beside it), not the heading of a box."""
    parent = el.getparent()
    if parent is None or el.getnext() is None or el.tag in _HEADINGS:
        return False
    return sum(1 for child in parent if isinstance(child.tag, str)) == 2 and parent[0] is el


def _may_head(text: str) -> bool:
    """A cheap first look: does ``text`` start with a word a box heading starts with?"""
    words = text.split(None, 1)
    return bool(words) and words[0].lower().rstrip(":") in _FIRST_WORDS


def _heading(el: lxml.html.HtmlElement) -> tuple[lxml.html.HtmlElement, str, str] | None:
    """``(el, label, rest of its line)`` when ``el`` heads a box."""
    text = el.text
    if not text or el.tag in ("a", "h1", "title") or not _may_head(text[: _LONGEST + 1]):
        return None  # a link, or the page's own title: no box
    heading = label_of(leading_text(el, 400))
    if heading is None:
        return None
    if not _alone_on_its_line(el):
        # "<b>Lisätietoja:</b> neuvotteleva virkamies Olli Alho, puh. ...": a label of the
        # page's persons (never a pilot's field, as "Yhteyshenkilö:" is) with a colon heads
        # a box from the start of its line, the persons after it.
        if not (
            el.tag in _INLINE
            and heading[0].lower() not in PILOT_FIELD_LABELS
            and text.rstrip().endswith(":")
            and any(ch.isdigit() or ch == "@" for ch in (el.tail or "")[:400])
        ):
            return None
        return el, heading[0], norm(el.tail or "")
    if heading[0].lower() in PILOT_FIELD_LABELS and (
        el.tag in _FIELD_TAGS or _pair_label(el) or _after_a_coordinator(el)
    ):
        return None
    return el, *heading


def _after_a_coordinator(el: lxml.html.HtmlElement) -> bool:
    """A pilot's field: "Yhteyshenkilö" on a line of its own a little after the pilot's
    "Koordinaattori:" line in the same block, the contact on the next line (an unseen
    layout's accordion panel), not a box of the page's persons."""
    node = el
    for _ in range(3):  # the label's line, and the block around it
        before = 0
        for sibling in node.itersiblings(preceding=True):
            if not isinstance(sibling.tag, str):
                continue
            if sibling.tag in _HEADINGS or before == 4:
                break
            before += 1
            text = text_content(sibling)[:300]
            if "coordinator" in labelled(text) or statement_re(None).search(text):
                return True
        node = node.getparent()
        if node is None or node.tag in _HEADINGS:
            return False
    return False


@cache
def _containing(words: tuple[str, ...]) -> etree.XPath:
    """Text nodes holding one of ``words``, in document order: how a heading seen in the
    page's source is found in the tree, in C, instead of a Python walk over the whole page
    (each is then checked exactly). The words come from the phrase tables (letters only)."""
    tests = " or ".join(f'contains(., "{w}")' for w in words)
    return etree.XPath(f".//text()[{tests}]")


def _candidates(doc: Document) -> list[tuple[lxml.html.HtmlElement, str, str]]:
    """Elements whose own text is a box heading: ``(element, label, rest of its line)``,
    in document order, none in the site's chrome.

    The headings the source shows (as found by the first look) give their first words; the
    elements whose text starts with one of them are checked one by one.
    """
    source = doc.source or etree.tostring(doc.root, encoding="unicode")
    words = set()
    tags: set[str] | None = set()
    for m in _IN_SOURCE.finditer(source):
        written = html.unescape(source[m.start("label") : m.end("label")])
        words.add(written.split(None, 1)[0].rstrip(":"))
        if tags is not None:
            tags = _tag_before(source, m.start(), tags)
    words = {w for w in words if w and '"' not in w}
    if not words:
        return []
    starts = tuple(words)
    body = doc.root.find("body")
    top = body if body is not None else doc.root
    found = []
    in_chrome = ChromeVerdicts()
    if tags is not None:
        # The tags of the elements the headings open: only those elements are looked at
        # (in C, by tag), not every text node of the page.
        for element in top.iter(*tags):
            # The source showed the heading's word right after its tag, so its text starts
            # with it: a prefix test, not a search through every paragraph of those tags.
            text = element.text
            if not text or not text.lstrip().startswith(starts):
                continue
            if (heading := _heading(element)) and not in_chrome(element):
                found.append(heading)
        return found
    for node in _containing(tuple(sorted(words)))(top):
        if not node.is_text:  # a tail: the text after an element, no element's own text
            continue
        element = node.getparent()
        if (heading := _heading(element)) and not in_chrome(element):
            found.append(heading)
    return found


# An opening tag written in full, its attributes quoted or not: what stands right before a
# heading seen in the source.
_OPENING_TAG = re.compile(
    r"""<([A-Za-z][\w:-]{0,40})(?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*\s*/?>"""
)


def _tag_before(source: str, end: int, tags: set[str]) -> set[str] | None:
    """``tags`` with the tag whose opening ends at ``source[end]`` (the ">" before a
    heading); None when that is no opening tag (a comment, a closing tag, a "<" inside
    an attribute): the caller then looks at every text node instead."""
    start = source.rfind("<", max(0, end - 2000), end)
    m = _OPENING_TAG.match(source, start) if start >= 0 else None
    if m is None or m.end() != end + 1:
        return None
    tags.add(m.group(1).lower())
    return tags


def _contains(ancestor: lxml.html.HtmlElement, el: lxml.html.HtmlElement) -> bool:
    return ancestor is el or any(a is ancestor for a in el.iterancestors())


def _container(
    heading: lxml.html.HtmlElement,
    label: str,
    content: lxml.html.HtmlElement,
    lengths: dict[lxml.html.HtmlElement, int],
) -> lxml.html.HtmlElement:
    """The smallest element around the heading that holds more than the heading itself.
    ``lengths`` remembers each element's text length for the page: many headings in one
    large column must not each measure the column again."""
    el = heading
    while True:
        parent = el.getparent()
        if parent is None or parent.tag in ("body", "html") or _contains(parent, content):
            return parent if parent is not None else el
        if parent not in lengths:
            lengths[parent] = len(norm(text_content(parent)))
        if lengths[parent] > len(label) + 2:
            return parent
        el = parent


def _rank(el: lxml.html.HtmlElement) -> int:
    return _HEADINGS.get(el.tag, 7)


def _letter(ch: str) -> str:
    """A character of a label as a pattern over HTML source, either case (a class, which
    is cheaper than lower-casing the page or IGNORECASE): a non-ASCII letter may be an
    entity ("Lis&auml;tietoja"), a space any run of whitespace."""
    if ch == " ":
        return r"\s+"
    letter = f"[{ch}{ch.upper()}]" if ch.upper() != ch else re.escape(ch)
    if ord(ch) > 127:
        return f"(?:{letter}|&[#\\w]{{1,8}};)"
    return letter


# A first look at the page's source: some element's text is a heading, alone or followed by
# a colon, and not a link's ("Yhteystiedot</a>" in every page's top bar is not a box). A
# trie of the labels: one pass over the source, not one per label.
_SPACE = r"(?:\s|&nbsp;|&#160;|&#xa0;)*"
# After a ">", the characters a heading may start with (a space, an entity, a label's first
# letter in either case): most ">" of a page open the next tag at once, and this class
# fails them before the engine enters the repeat and the trie (half the cost of the look).
_STARTS = "".join(sorted({re.escape(c) for label in _LABELS for c in (label[0], label[0].upper())}))
_IN_SOURCE = re.compile(
    rf">(?=[\s&{_STARTS}])"
    + _SPACE
    + f"(?P<label>{trie_pattern(_LABELS, _letter)})"
    + _SPACE
    # a colon, a tag, or a word: a heading that begins a sentence ("Lisätietoja antavat
    # neuvotteleva virkamies ..."), which _heading then checks
    + r"(?::|<(?!/a>)|(?<=\s)[^\s<])"
)


def find_boxes(doc: Document, skip: frozenset = frozenset()) -> list[Box]:
    """Every box on the page, in document order; site chrome is left out, and so are the
    elements in ``skip`` (tables of persons, read by their columns instead)."""
    boxes: list[Box] = []
    content = doc.content
    claimed: set[lxml.html.HtmlElement] = set()
    candidates = _candidates(doc)
    # Microdata on the page at all: asked of the tree (in C) once, and only when the page
    # has a box, instead of searching the whole source; never per box (a thousand boxes in
    # one column would each ask it of the column again).
    microdata_here = bool(candidates) and bool(_ITEMTYPE(doc.root))
    heads = {el for el, _, _ in candidates}
    lengths: dict[lxml.html.HtmlElement, int] = {}
    for el, label, rest in candidates:
        if el in claimed or any(a in claimed for a in el.iterancestors()):
            continue  # the heading of a box already read (an <h3> in a <div> that matched)
        container = _container(el, label, content, lengths)
        rank = _rank(el)

        def stop(
            node: lxml.html.HtmlElement, heading: lxml.html.HtmlElement = el, rank: int = rank
        ) -> bool:
            if node in heads and node is not heading and not _contains(heading, node):
                return True  # the next box
            return _HEADINGS.get(node.tag, 8) <= rank

        def prune(node: lxml.html.HtmlElement, heading: lxml.html.HtmlElement = el) -> bool:
            return (
                (node is content and not _contains(node, heading))
                or node in skip
                or is_site_chrome(node, up=False)
            )

        lines = block_lines(container, False, prune=prune, start=el, stop=stop)
        if lines:
            lines = lines[1:]  # the heading's own line
        if rest:
            lines.insert(0, rest)
        inside = _contains(content, el)
        people = _people(container, el, stop, prune) if microdata_here else []
        claimed.add(el)
        if lines or people:
            boxes.append(Box(label, lines, inside, people))
    return boxes


def _people(
    container: lxml.html.HtmlElement,
    heading: lxml.html.HtmlElement,
    stop: Callable[[lxml.html.HtmlElement], bool],
    prune: Callable[[lxml.html.HtmlElement], bool],
) -> list[dict[str, str]]:
    """schema.org ``Person`` items after the heading and before the box ends."""
    people = []
    for event, node, _ in walk_from(container, heading):
        if event != "start" or node is heading:
            continue
        if stop(node):
            break
        if any(t in (node.get("itemtype") or "") for t in _PERSON_TYPES) and not prune(node):
            people.append(microdata(node))
    return people


def microdata(item: lxml.html.HtmlElement) -> dict[str, str]:
    """The ``itemprop`` values of one item, nested items left out (their properties are
    theirs): ``mailto:`` and ``tel:`` links give their address, ``meta`` its content."""
    props: dict[str, str] = {}
    for node in item.iterdescendants():
        if not isinstance(node.tag, str) or not node.get("itemprop"):
            continue
        owner = next((a for a in node.iterancestors() if a.get("itemscope") is not None), None)
        if owner is not item:
            continue
        href = node.get("href") or ""
        if node.tag == "meta":
            value = node.get("content") or ""
        elif href.lower().startswith(("mailto:", "tel:")):
            value = href.partition(":")[2]
        elif node.tag == "time" and node.get("datetime"):
            value = node.get("datetime") or ""
        else:
            value = norm(text_content(node))
        for name in (node.get("itemprop") or "").split():
            props.setdefault(name, value)
    return props
