"""One parse of a page into what every extractor needs: lines of text, links, metadata.

Parsing is the expensive step, so it happens once per page and the extractors share the
result. Lines follow the page's blocks (paragraphs, list items, cells, ``<br>``), with
navigation and scripts left out of the main text but kept for link discovery.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import lxml.html
from lxml import etree

from pilotarchive.controls import CONTROL, may_hold_controls, strip_controls
from pilotarchive.exceptions import ExtractionError
from pilotarchive.extract.links import WEB_SCHEMES as WEB_SCHEMES  # re-exported
from pilotarchive.extract.links import Link, absolute, clean_href, speak_target
from pilotarchive.extract.links import Links as Links  # re-exported
from pilotarchive.extract.links import href_scheme as href_scheme  # re-exported
from pilotarchive.extract.requisites import tree_requisites

_BLOCK = frozenset(
    "p div li td th tr h1 h2 h3 h4 h5 h6 ul ol dl dt dd table thead tbody tfoot section "
    "article header footer nav aside main blockquote address form pre hr br caption "
    "details summary figure figcaption fieldset legend".split()
)
_SKIP = frozenset({"script", "style", "noscript", "template", "head", "select", "option"})
# Left out of the main text: navigation always, a header or footer when it is the site's
# (not an article's or an aside's own, see _chrome_here).
_CHROME = frozenset({"nav", "header", "footer"})
_BOILERPLATE_HINTS = ("header", "nav", "footer", "menu", "breadcrumb", "skip", "toolbar")
# What marks the main content area; the first such element in document order wins.
_CONTENT_IDS = frozenset({"content", "sisalto", "main", "innehall", "maincontent"})
_CONTENT_CLASSES = frozenset({"content", "main-content"})
_CONTENT_TAGS = ("main", "div", "section", "article", "td")
# huge_tree: libxml2 otherwise stops at a text node of 10 MB and silently drops the rest of
# the page; its depth limit (2,048 with huge_tree) still applies, and nothing here recurses.
# A plain etree parser, not lxml.html's: lxml.html looks up a Python element class for
# every element the extractors touch, a cost paid on every walk of the tree.
_PARSER = etree.HTMLParser(encoding="utf-8", remove_comments=True, huge_tree=True)
_STRING = etree.XPath("string()")


def text_content(el: lxml.html.HtmlElement) -> str:
    """All text below ``el`` (what lxml.html's text_content gives), read in C."""
    return str(_STRING(el))


def drop_tree(el: lxml.html.HtmlElement) -> None:
    """Remove ``el`` and its subtree, keeping its tail text in place."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


@dataclass(slots=True)
class Document:
    root: lxml.html.HtmlElement
    content: lxml.html.HtmlElement
    lines: list[str]
    links: list[Link]
    base_url: str
    html_lang: str | None
    title: str | None
    meta: dict[str, str] = field(default_factory=dict)
    source: str = ""  # the decoded HTML, for cheap first looks before a walk of the tree
    controls_removed: int = 0  # control characters taken out of the page's text
    requisites: list[str] | None = None  # what a browser loads with the page, when asked
    truncated: str | None = None  # why the parser stopped before the end of the page
    # The lines of what was dropped as the site's header, menus and footer (a page with no
    # marked content area): where only the update date is looked for, last.
    dropped: list[str] = field(default_factory=list)


def norm(text: str) -> str:
    """Whitespace (no-break spaces too) collapsed to single spaces, ends stripped.

    Most text needs nothing but its ends stripped: a printable string holds no whitespace
    but the ASCII space (tabs, line breaks, no-break and other Unicode spaces are not
    printable), so without two spaces in a row it is already collapsed. Both checks run
    in C at a fraction of the cost of splitting the text into words and joining them.
    """
    if text.isprintable() and "  " not in text:
        return text.strip(" ")
    return " ".join(text.split())


_norm = norm
# The site's own chrome, repeated on every page: navigation, the site header and footer.
# An <header>/<footer> inside an article, aside or section is that section's, not the site's.
_SECTIONING = frozenset({"article", "aside", "section", "main"})
_CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "menubar"})
_CHROME_TOKENS = frozenset(
    "header site-header page-header masthead footer site-footer page-footer nav navigation "
    "navbar menu mainmenu main-menu leftnav topnav toplinks breadcrumb breadcrumbs toolbar "
    "skip skiplinks skip-links languages language-switcher".split()
)


# A list of the site's news is chrome too: its headlines are sentences ("the network is
# coordinated by the City of Tampere") that read like a pilot. Known by a class or id with
# one of these stems, or by a heading of its own that names it.
_NEWS_STEMS = (
    "news", "uutis", "tiedote", "ajankohtai", "nyhet", "aktuellt", "pressmeddeland",
    "press-release", "pressrelease", "press_release",
)  # fmt: skip
_NEWS_HEADINGS = frozenset(
    {
        "ajankohtaista", "uutiset", "uusimmat uutiset", "tuoreimmat uutiset", "tiedotteet",
        "uusimmat tiedotteet", "ajankohtaista ministeriöstä", "aktuellt", "nyheter",
        "senaste nytt", "senaste nyheterna", "pressmeddelanden", "news", "latest news",
        "latest", "press releases", "news and press releases", "current issues",
    }
)  # fmt: skip
_NEWS_HOLDERS = frozenset({"aside", "section", "div"})
_NEWS_NAMED = re.compile("|".join(_NEWS_STEMS), re.IGNORECASE)


def _news_heading(el: lxml.html.HtmlElement) -> bool:
    """Whether ``el`` opens with a heading that names a news list ("Aktuellt", "News")."""
    first = el[0]
    if first.tag not in ("h2", "h3", "h4", "h5") or len(first) > 2:
        return False
    return element_text(first).lower().rstrip(":") in _NEWS_HEADINGS


def _chrome_here(el: lxml.html.HtmlElement) -> bool:
    tag = el.tag
    if tag == "nav":
        return True
    if tag in ("header", "footer"):
        return not any(a.tag in _SECTIONING for a in el.iterancestors())
    if tag in _NEWS_HOLDERS and len(el) and _news_heading(el):
        return True
    attrib = el.attrib
    if not attrib:  # most elements: no attributes to look at
        return False
    if attrib.get("role") in _CHROME_ROLES:
        return True
    ident = attrib.get("id")
    if ident and ident.lower() in _CHROME_TOKENS:
        return True
    classes = attrib.get("class")
    if classes and any(c in _CHROME_TOKENS for c in classes.lower().split()):
        return True
    return _NEWS_NAMED.search(f"{ident or ''} {classes or ''}") is not None


class ChromeVerdicts:
    """``is_site_chrome(el)`` for many elements of one page, each ancestor judged once.

    Asked element by element, the question walks every ancestor each time: on a page of
    unclosed tags nested thousands deep (fuzzing found one) that is quadratic.
    """

    def __init__(self) -> None:
        self._known: dict[lxml.html.HtmlElement, bool] = {}

    def __call__(self, el: lxml.html.HtmlElement) -> bool:
        known = self._known
        chain = []
        node = el
        while node is not None and node not in known:
            chain.append(node)
            node = node.getparent()
        verdict = known[node] if node is not None else False
        for n in reversed(chain):
            verdict = verdict or (isinstance(n.tag, str) and _chrome_here(n))
            known[n] = verdict
        return known[el]


def is_site_chrome(el: lxml.html.HtmlElement, up: bool = True) -> bool:
    """Whether ``el`` is (``up``: or stands in) the site's navigation, header or footer."""
    if not isinstance(el.tag, str):
        return False
    if _chrome_here(el):
        return True
    return up and any(_chrome_here(a) for a in el.iterancestors())


_EVENTS = ("start", "end", "comment", "pi")


def walk_from(
    node: lxml.html.HtmlElement, start: lxml.html.HtmlElement
) -> Iterator[tuple[str, lxml.html.HtmlElement, Any]]:
    """The events ``iterwalk(node)`` gives from ``start``'s "start" on, with the walker to
    skip a subtree with (None for an ancestor's "end"), without walking what comes before
    ``start``: a page of a thousand box headings in one column read from the top for each
    was quadratic (fuzzing found it: 6 s for 640 KiB).
    """
    if start is not node and not any(a is node for a in start.iterancestors()):
        return
    el = start
    while True:
        if isinstance(el.tag, str):
            walker = etree.iterwalk(el, events=_EVENTS)
            for event, x in walker:
                yield event, x, walker
        else:  # a comment or processing instruction beside the elements
            yield "comment", el, None
        if el is node:
            return
        while el.getnext() is None:
            el = el.getparent()
            if el is None:
                return
            yield "end", el, None
            if el is node:
                return
        el = el.getnext()


def block_lines(
    node: lxml.html.HtmlElement,
    skip_boilerplate: bool = True,
    prune: Callable[[lxml.html.HtmlElement], bool] | None = None,
    start: lxml.html.HtmlElement | None = None,
    stop: Callable[[lxml.html.HtmlElement], bool] | None = None,
) -> list[str]:
    """Text of ``node`` split at block boundaries, whitespace collapsed, empty lines dropped.

    An iterative walk (lxml's ``iterwalk``), not a recursive one: the parser allows documents
    nested 2,000 deep, deeper than Python's recursion limit. ``prune`` leaves out the
    subtrees (below ``node``) it says yes to; with ``start``, text is read from that
    element on, and with ``stop``, up to the first later element it says yes to (a box
    from its heading to the next heading).
    """
    if prune is None and start is None and stop is None:
        return _plain_lines(node, skip_boilerplate)
    out: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            line = _norm("".join(buf))
            if line:
                out.append(line)
            buf.clear()

    skipped = _SKIP | {"nav"} if skip_boilerplate else _SKIP
    pruned: set[lxml.html.HtmlElement] = set()
    reading = start is None
    events = (
        ((event, el, walker) for walker in [etree.iterwalk(node, events=_EVENTS)]
         for event, el in walker)
        if start is None
        else walk_from(node, start)
    )  # fmt: skip
    for event, el, walker in events:
        if event == "comment" or event == "pi":  # not the page's text: only its tail is
            if reading and el is not node and el.tail:
                buf.append(el.tail)
            continue
        tag = el.tag
        if event == "start":
            if not reading:
                if el is not start:
                    continue
                reading = True
            elif stop is not None and stop(el):
                break
            if (
                tag in skipped
                or (prune is not None and el is not node and prune(el))
                or (skip_boilerplate and tag in _CHROME and el is not node and _chrome_here(el))
            ):
                walker.skip_subtree()  # its "end" still comes, and adds its tail
                pruned.add(el)
            else:
                if tag in _BLOCK:
                    flush()
                if el.text:
                    buf.append(el.text)
            continue
        if not reading:
            continue
        if tag in _BLOCK and tag not in skipped and el not in pruned:
            flush()
        if el is not node and el.tail:
            buf.append(el.tail)
    flush()
    return out


_SKIP_NAV = _SKIP | {"nav"}


def _plain_lines(node: lxml.html.HtmlElement, skip_boilerplate: bool) -> list[str]:
    """block_lines without start, stop or prune: the common case (a page's content, a list
    item), with the per-element work kept to the minimum."""
    out: list[str] = []
    buf: list[str] = []
    append = buf.append
    skipped = _SKIP_NAV if skip_boilerplate else _SKIP
    blocks = _BLOCK
    chrome = _CHROME if skip_boilerplate else frozenset()
    pruned: set[lxml.html.HtmlElement] = set()
    walker = etree.iterwalk(node, events=("start", "end", "comment", "pi"))
    for event, el in walker:
        if event == "start":
            tag = el.tag
            if tag in skipped or (tag in chrome and el is not node and _chrome_here(el)):
                walker.skip_subtree()
                pruned.add(el)
                continue
            if tag in blocks and buf:
                line = norm("".join(buf))
                if line:
                    out.append(line)
                buf.clear()
            text = el.text
            if text:
                append(text)
        elif event == "end":
            tag = el.tag
            if tag in blocks and buf and tag not in skipped and el not in pruned:
                line = norm("".join(buf))
                if line:
                    out.append(line)
                buf.clear()
            if el is not node:
                tail = el.tail
                if tail:
                    append(tail)
        elif el is not node:  # a comment or processing instruction: only its tail
            tail = el.tail
            if tail:
                append(tail)
    if buf:
        line = norm("".join(buf))
        if line:
            out.append(line)
    return out


def _content(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    # A plain loop beats one XPath with many "or"s here by a factor of eight.
    for el in root.iter(*_CONTENT_TAGS):
        if (
            el.tag == "main"
            or el.get("role") == "main"
            or el.get("id") in _CONTENT_IDS
            or el.get("class") in _CONTENT_CLASSES
        ):
            return el
    return None


def element_text(el: lxml.html.HtmlElement) -> str:
    """Text of an element; the common childless case without an XPath call."""
    if len(el) == 0:
        return _norm(el.text or "")
    return _norm("".join(el.itertext()))


def leading_text(el: lxml.html.HtmlElement, limit: int) -> str:
    """``element_text(el)[:limit]`` without joining the whole subtree: an element that
    holds the rest of a page of unclosed tags (nested thousands deep) was read whole for
    each heading looked at, which fuzzing found quadratic."""
    if len(el) == 0:
        return _norm(el.text or "")[:limit]
    pieces: list[str] = []
    size, check_at = 0, limit + 1
    for piece in el.itertext():
        pieces.append(piece)
        size += len(piece)
        if size >= check_at:
            text = _norm("".join(pieces))
            if len(text) > limit:  # more than the limit: its first ``limit`` are final
                return text[:limit]
            check_at = size * 2  # much whitespace: look again at twice the size
    return _norm("".join(pieces))[:limit]


# A component's own header or footer ("card-header", "panel-footer", "modal-header") is
# part of the component: a card's header holds its title (a Bootstrap card of a pilot).
_COMPONENT_PREFIXES = (
    "card", "panel", "modal", "accordion", "table", "entry", "post", "article", "teaser",
    "media", "collapse", "tab", "box", "tile", "list-group", "widget-content",
)  # fmt: skip


def _is_boilerplate(el: lxml.html.HtmlElement) -> bool:
    ident = f"{el.get('id', '')} {el.get('class', '')}".lower()
    if not any(hint in ident for hint in _BOILERPLATE_HINTS):
        return False  # most elements: one look at the whole string
    return any(
        hint in token and not token.startswith(_COMPONENT_PREFIXES)
        for token in ident.split()
        for hint in _BOILERPLATE_HINTS
    )


def _links(root: lxml.html.HtmlElement) -> list[Link]:
    """Every link with an href that is more than a fragment, non-web schemes included: the
    page extraction decides what to follow and notes what it drops.

    A page has dozens of links, so the common case is kept short: an href and a text that
    are printable need no cleaning but their ends (as ``clean_href`` and ``norm`` would
    give), and only an href starting with t or m can be ``tel:`` or ``mailto:``."""
    links: list[Link] = []
    append = links.append
    for el in root.iter("a", "link"):
        get = el.get
        href = get("href")
        if not href:
            continue
        href = href.strip(" ") if href.isprintable() else clean_href(href)
        if not href or href[0] == "#":
            continue
        if el.tag == "a":
            text = el.text
            if len(el):
                text = element_text(el)
            elif not text:
                text = ""
            elif text.isprintable() and "  " not in text:
                text = text.strip(" ")
            else:
                text = norm(text)
            if href[0] in "tTmM" and href[:4].lower() in ("tel:", "mail"):
                speak_target(el, href)  # after its text is kept: "In English" stays a link text
        else:
            text = ""
        append(Link(href, text, get("hreflang"), get("lang"), get("rel")))
    return links


def _truncated(log: Any, size: int) -> str | None:
    """Why libxml2 stopped reading the page before its end, or None. It stops without an
    exception at a nesting deeper than 2,048 elements (huge_tree or not) and drops all that
    follows, the rest of the page included: read as it is, such a page lost its pilots and
    said nothing (a hostile server's page of 100,000 nested divs was judged healthy)."""
    for entry in log:
        if "Excessive depth" in entry.message:
            return (
                f"the page nests elements deeper than the HTML parser reads (libxml2: "
                f"{entry.message.strip()}); what follows line {entry.line} of its "
                f"{size:,} bytes was not read"
            )
    return None


def parse_document(
    text: str, base_url: str, utf8: bytes | None = None, requisites: bool = False
) -> Document:
    """Parse decoded HTML; raise :class:`ExtractionError` when there is no document at all.

    ``utf8`` is the same document as UTF-8 bytes when the caller has them (the body was
    UTF-8 already), which spares encoding the text again. ``requisites``: also read what a
    browser loads with the page (a crawl fetches it), from this parse, before the page's
    header is dropped from the tree (its logo is a requisite too).
    """
    if not text.strip():
        raise ExtractionError("empty document")
    try:
        data = utf8 if utf8 is not None else text.encode("utf-8", "surrogatepass")
        root = etree.fromstring(data, _PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise ExtractionError(f"not parseable as HTML: {exc}") from exc
    if root is None:
        raise ExtractionError("not parseable as HTML: the document is empty")
    truncated = _truncated(_PARSER.error_log, len(data))
    removed = _strip_controls(root) if _may_hold_controls(text, utf8) else 0
    loads = tree_requisites(root, base_url) if requisites else None
    base = root.find(".//base[@href]")
    if base is not None and (resolved := absolute(base_url, clean_href(base.get("href")))):
        base_url = resolved  # a <base href="javascript:..."> is ignored
    links = _links(root)  # before any boilerplate is dropped: the header has them
    found = _content(root)
    content = found if found is not None else root.find("body")
    if content is None:
        content = root
    dropped: list[str] = []
    if found is None:
        # No marked content area: drop the page's header, menus and footer from the text
        # (the outermost of each: what is inside goes with it, read once).
        outermost = []
        walker = etree.iterwalk(content, events=("start",), tag=("div", "ul", "table"))
        for _, el in walker:
            if el is not content and _is_boilerplate(el):
                outermost.append(el)
                walker.skip_subtree()
        for el in outermost:
            dropped += [line for line in _plain_lines(el, True) if len(line) <= 200]
            drop_tree(el)
    meta: dict[str, str] = {}
    for el in root.iter("meta"):
        key = (el.get("name") or el.get("property") or el.get("http-equiv") or "").lower()
        if key and el.get("content") is not None:
            meta.setdefault(key, el.get("content"))
    html_lang = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang")
    if not html_lang:
        html_lang = root.get("xml:lang")
    title_el = next(content.iter("h1"), None)
    if title_el is None:
        title_el = next(root.iter("title"), None)
    title = element_text(title_el) if title_el is not None else None
    return Document(
        root=root,
        content=content,
        lines=block_lines(content),
        links=links,
        base_url=base_url,
        html_lang=html_lang,
        title=title or None,
        meta=meta,
        source=text,
        controls_removed=removed,
        requisites=loads,
        truncated=truncated,
        dropped=dropped,
    )


_C0_BYTES = bytes(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)) + b"\x7f"
_C1_UTF8 = re.compile(b"\xc2[\x80-\x9f]")


def _may_hold_controls(text: str, utf8: bytes | None) -> bool:
    """``may_hold_controls(text)``, answered from the UTF-8 bytes when there are some:
    deleting the C0 bytes (in C) and looking for a C1 character's lead byte and range is
    a fifth of the cost of a character-class search over the decoded text."""
    if utf8 is None:
        return may_hold_controls(text)
    return (
        len(utf8.translate(None, _C0_BYTES)) != len(utf8)
        or (b"\xc2" in utf8 and _C1_UTF8.search(utf8) is not None)  # one byte: memchr
        or (b"#" in utf8 and may_hold_controls(text))  # "&#27;" needs a "#"
    )


# What lxml holds when a page says &#xFFFE; but refuses to be given back: a text written
# back without its control characters must also lose these, or the page is lost.
_NOT_XML = re.compile("[\ufffe\uffff\ud800-\udfff]")


def _strip_controls(root: lxml.html.HtmlElement) -> int:
    """Take the control characters out of every text and attribute of the tree (raw ones,
    and those that ``&#27;`` became), so no extractor sees one; how many there were."""
    removed = 0
    for el in root.iter():
        for part in ("text", "tail"):
            value = getattr(el, part)
            if value and CONTROL.search(value):
                value, n = strip_controls(value)
                setattr(el, part, _NOT_XML.sub("\ufffd", value))
                removed += n
        if isinstance(el.tag, str):
            for name, value in el.attrib.items():
                if CONTROL.search(value):
                    value, n = strip_controls(value)
                    el.set(name, _NOT_XML.sub("\ufffd", value))
                    removed += n
    return removed
