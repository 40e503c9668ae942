"""Link resolution: the fast paths give what urljoin gives, on any input."""

from urllib.parse import urljoin

from hypothesis import given, settings
from hypothesis import strategies as st

from pilotarchive.extract.document import Links, absolute

PARTS = st.sampled_from(["/", "a", "b.html", ".", "..", "?", "#", "=", "&", "x y", "ä", "//", ":"])
HREFS = st.lists(PARTS, max_size=8).map("".join) | st.sampled_from(
    ["http://c.d/e#f", "https://c.d/./e", "HTTP://X/", "/a/../b", "/p?q#r", "//other/x"]
)
BASES = st.sampled_from(
    ["http://a.b:8/x/y?z#f", "http://a.b/x/y", "http://a.b", "http://u@a.b:80/x", "https://a.b/"]
)


@settings(max_examples=2000, deadline=None)
@given(BASES, HREFS)
def test_absolute_is_urljoin(base: str, href: str) -> None:
    try:
        expected: str | None = urljoin(base, href).partition("#")[0]
    except ValueError:
        expected = None
    if expected is not None and not expected.lower().startswith(("http://", "https://")):
        expected = None  # javascript:, mailto:, data: ... are no pages
    assert absolute(base, href) == expected


def test_links_resolve_lazily() -> None:
    links = Links("http://a.b/x", ["/1", "2", "#f"])
    assert len(links) == 3
    assert list(links) == ["http://a.b/1", "http://a.b/2", "http://a.b/x"]
