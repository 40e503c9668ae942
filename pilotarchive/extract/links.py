"""Links as a page writes them, and what reading them needs: cleaning an href as a browser
does, its scheme, its absolute URL, and the text of a ``tel:`` or ``mailto:`` link.

Kept apart from document.py (the parse and the text) because the crawl's link discovery
and the page extraction both use it, and it knows nothing of the page's text.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urljoin

import lxml.html


@dataclass(slots=True)
class Link:
    """A link as written; ``href`` is resolved against the page only when someone needs it."""

    href: str
    text: str
    hreflang: str | None
    lang: str | None
    rel: str | None


# What a browser removes from an href before reading it (WHATWG URL parsing): leading and
# trailing C0 controls and spaces, and tabs and newlines anywhere ("java\tscript:" is
# javascript:).
_HREF_EDGES = "".join(map(chr, range(0x21)))
_HREF_NOISE = str.maketrans("", "", "\t\n\r")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,31}):")
WEB_SCHEMES = frozenset({"http", "https"})


def clean_href(href: str) -> str:
    """An href as a browser reads it: edges stripped, tabs and newlines removed."""
    href = href.strip(_HREF_EDGES)
    if "\t" in href or "\n" in href or "\r" in href:
        href = href.translate(_HREF_NOISE)
    return href


def href_scheme(href: str) -> str | None:
    """The scheme of a cleaned href, lower-cased (``JaVaScRiPt:`` is ``javascript``), or
    None for a relative reference."""
    m = _SCHEME.match(href)
    return m.group(1).lower() if m else None


_PHONE_LABEL_BEFORE = re.compile(
    r"\b(?:puhelin|puh|p|tfn|tel|telefon|phone|gsm|mob)\.?\s{0,3}:?\s{0,3}$", re.IGNORECASE
)
_OBFUSCATION = re.compile(r"@|\(at\)|\[at\]|\sat\s|\(ät\)|\[ät\]|\sät\s", re.IGNORECASE)


def speak_target(el: lxml.html.HtmlElement, href: str) -> None:
    """Make a ``tel:`` or ``mailto:`` link's text say what it links to, so that every
    reader of the page's text finds the number or the address where the link stands.

    A number written without a label ("<a href="tel:...">029 506 3591</a>") gets one, as
    a reader sees the link for a phone; a ``mailto:`` link worded "sähköposti" or "Send
    e-mail" gets the address. The archived bytes keep what the page wrote.
    """
    if len(el):  # markup inside the link: left as written
        return
    text = el.text or ""
    scheme, _, target = href.partition(":")
    if scheme.lower() == "tel":
        if not any(ch.isdigit() for ch in text):
            return
        previous = el.getprevious()
        parent = el.getparent()
        before = (
            previous.tail if previous is not None else parent.text if parent is not None else ""
        ) or ""
        if not _PHONE_LABEL_BEFORE.search(before[-16:]):
            el.text = "tel. " + text
    elif scheme.lower() == "mailto":
        address = unquote(target.partition("?")[0]).strip()
        if "@" in address and " " not in address and not _OBFUSCATION.search(text):
            el.text = address


def absolute(base_url: str, href: str) -> str | None:
    """``href`` resolved against the page, without its fragment; None when malformed or
    when it is not an http(s) URL (``javascript:``, ``mailto:``, ``data:``, ...).

    The two common cases a site's own links take, a full http(s) URL and a path from the
    root, are resolved without urljoin (the costliest step of reading a page's links: a
    page may have a million); dot segments and an empty query, where urljoin's rules change
    the URL, go through it (a property test holds the two to the same answers).
    """
    path, question, query = href.partition("?")
    if "/." in path.split("#", 1)[0] or (question and query.split("#", 1)[0] == ""):
        pass
    elif href.startswith(("http://", "https://")):
        return href.partition("#")[0]
    elif href.startswith("/") and not href.startswith("//"):
        scheme_end = base_url.find("://")
        if scheme_end > 0 and base_url[:scheme_end].lower() in WEB_SCHEMES:
            path_start = base_url.find("/", scheme_end + 3)
            origin = base_url if path_start < 0 else base_url[:path_start]
            if "?" not in origin and "#" not in origin:
                return (origin + href).partition("#")[0]
    try:
        url = urljoin(base_url, href).partition("#")[0]
    except ValueError:
        return None
    return url if href_scheme(url) in WEB_SCHEMES else None


class Links:
    """Every link of a page, resolved only when read: a spider that stops at its page
    budget never pays for the rest (a page may hold a million links)."""

    __slots__ = ("_base", "_hrefs")

    def __init__(self, base_url: str, hrefs: list[str]) -> None:
        self._base = base_url
        self._hrefs = hrefs

    def __len__(self) -> int:
        return len(self._hrefs)

    def __iter__(self) -> Iterator[str]:
        base = self._base
        for href in self._hrefs:
            if url := absolute(base, href):
                yield url
