"""Page requisites: what a browser loads to show a page as it looked (styles, images,
scripts, fonts), found in its HTML and in its stylesheets.

Plain Python on lxml, nothing of Scrapy: the spider asks, for each page and stylesheet it
archives, which URLs to fetch with it. Links to other pages (``<a href>``) are no
requisites: a page's requisites are fetched, never crawled further.
"""

import contextlib
import re
from urllib.parse import urljoin

import lxml.html
from lxml import etree

# <link rel=...> values a browser loads for the page itself.
_LINK_RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "preload", "modulepreload"}
# CSS: url(...) in any property or @font-face, and @import "..." without url().
_CSS_URL = re.compile(rb"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.I)
_CSS_IMPORT = re.compile(rb"""@import\s+(?:"([^"]*)"|'([^']*)')""", re.I)
MAX_PER_DOCUMENT = 200  # a page with more is hostile or generated: the rest are left out


def _absolute(base: str, ref: str) -> str | None:
    ref = ref.strip()
    if not ref or ref.startswith(("data:", "javascript:", "about:", "#", "blob:")):
        return None
    try:
        url = urljoin(base, ref).split("#", 1)[0]
    except ValueError:  # "http://[::1/x.png": one broken reference, not the page's links
        return None
    return url if url.lower().startswith(("http://", "https://")) else None


def _srcset(value: str) -> list[str]:
    return [part.strip().split()[0] for part in value.split(",") if part.strip()]


def _css_refs(css: bytes) -> list[str]:
    refs = []
    for pattern in (_CSS_URL, _CSS_IMPORT):
        for match in pattern.finditer(css):
            raw = next((g for g in match.groups() if g), b"")
            refs.append(raw.decode("utf-8", "replace"))
    return refs


def html_requisites(body: bytes, url: str) -> list[str]:
    """Absolute URLs of the stylesheets, scripts, images, icons and fonts a page loads,
    in document order, each once; inline ``<style>`` and ``style=`` url()s included.

    For a page not parsed already; a crawl takes them from the extraction's own parse
    (``extract_page(..., with_requisites=True)``), which reads them with
    :func:`tree_requisites` before anything of the tree is dropped."""
    try:
        doc = lxml.html.document_fromstring(body)
    except (etree.ParserError, ValueError):
        return []
    return tree_requisites(doc, url)


def tree_requisites(doc: etree._Element, url: str) -> list[str]:
    """:func:`html_requisites` of a page parsed already (its root element)."""
    base = url
    for href in doc.xpath("//base/@href")[:1]:
        with contextlib.suppress(ValueError):  # a broken <base>: the page's own URL
            base = urljoin(url, str(href))
    refs: list[str] = []
    for link in doc.xpath("//link[@href]"):
        rels = set(str(link.get("rel") or "").lower().split())
        if rels & _LINK_RELS:
            refs.append(str(link.get("href")))
    for element in doc.xpath("//script[@src] | //img | //source | //input[@type='image']"):
        for name in ("src", "data-src"):
            if element.get(name):
                refs.append(str(element.get(name)))
        if element.get("srcset"):
            refs += _srcset(str(element.get("srcset")))
    for element in doc.xpath("//video[@poster] | //body[@background] | //table[@background]"):
        refs.append(str(element.get("poster") or element.get("background")))
    for style in doc.xpath("//style/text() | //@style"):
        refs += _css_refs(str(style).encode("utf-8"))
    return _unique(base, refs)


def css_requisites(body: bytes, url: str) -> list[str]:
    """Absolute URLs a stylesheet loads: url() (images, fonts) and @import."""
    return _unique(url, _css_refs(body))


def _unique(base: str, refs: list[str]) -> list[str]:
    out: dict[str, None] = {}
    for ref in refs:
        if (found := _absolute(base, ref)) is not None:
            out.setdefault(found)
        if len(out) >= MAX_PER_DOCUMENT:
            break
    return list(out)
