"""The extractors on generated HTML: nested, broken, huge, in mixed encodings.

Whatever the page, ``extract_page`` returns (never raises), in time linear in the page's
size, and every record built from what it returns is valid against the schemas, so a
strange page can never cost the crawl its records.
"""

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pilotarchive.extract.page import extract_page
from pilotarchive.records.build import FetchFacts, build_records
from pilotarchive.records.validate import record_errors

FACTS = FetchFacts(snapshot_id="20141119T000000.000000Z", retrieved_at="2014-11-19T00:00:00Z")
URL = "http://www.tem.fi/index.phtml?s=4398"
# Words the extractors react to, beside plain ones: labels, titles, coordinator phrases,
# e-mail and phone shapes, dates, numbers, names.
WORDS = st.sampled_from(
    [
        "Lisätietoja:", "Further information", "Mer information:", "Yhteyshenkilö:",
        "puh.", "tfn", "tel.", "029 506 3591", "+358 40 123 4567", "(at)", "[dot]", "@",
        "etunimi.sukunimi@tem.fi", "olli.alho@tem.fi", "koordinaattorina", "jota koordinoi",
        "samordnas av", "coordinated by", "Salon kaupunki", "City of Raahe", "Teema:",
        "Koordinaattori:", "erillinen hanke", "separate project", "käynnistänyt neljä pilottia",
        "38 kuntaa", "vuosina 2014 ja 2015", "Sivua viimeksi päivitetty:", "19.11.2014",
        "3 October 2014", "Neuvotteleva virkamies", "Alho Olli", "Anttonen, Lari", "Å", "ä",
        "ö", "—", "–", "(", ")", ",", ";", ":", ".", "-", "a", "1", " ", "\t", "\u00a0",
        "javascript:alert(1)", "På svenska", "In English", "Tekstiversio", "&amp;", "&#13;",
    ]
)  # fmt: skip
TAGS = st.sampled_from(
    ["div", "p", "ul", "li", "ol", "table", "tr", "td", "th", "h1", "h2", "h3", "aside",
     "main", "article", "section", "span", "strong", "b", "dl", "dt", "dd", "header",
     "footer", "nav", "address", "blockquote", "pre", "font"]
)  # fmt: skip


@st.composite
def fragments(draw, depth: int = 0) -> str:
    """A piece of HTML: text, a link, or an element around more pieces (maybe unclosed)."""
    kind = draw(st.integers(0, 9 if depth < 5 else 3))
    if kind <= 3:
        return " ".join(draw(st.lists(WORDS, min_size=1, max_size=8)))
    if kind == 4:
        href = draw(st.sampled_from(
            ["/index.phtml?l=sv&s=4398", " JaVaScRiPt:alert(2)", "mailto:a@b.fi", "#top",
             "text.phtml?s=4398", "http://other.example/x", "//cdn/x", "", "?l=en", "data:,x"]
        ))  # fmt: skip
        attrs = draw(st.sampled_from(["", ' hreflang="sv"', ' lang="en"', ' rel="alternate"']))
        text = draw(WORDS)
        return f'<a href="{href}"{attrs}>{text}</a>'
    tag = draw(TAGS)
    inner = "".join(draw(st.lists(fragments(depth + 1), max_size=4)))
    closed = draw(st.booleans()) or depth == 0
    attrs = draw(st.sampled_from(["", ' id="content"', ' class="lisatietoja"', ' role="main"',
                                  ' itemscope itemtype="https://schema.org/Person"']))  # fmt: skip
    return f"<{tag}{attrs}>{inner}" + (f"</{tag}>" if closed else "")


ENCODINGS = st.sampled_from(["utf-8", "iso-8859-1", "cp1252", "utf-16"])


@st.composite
def pages(draw) -> tuple[bytes, dict[str, str]]:
    body = "".join(draw(st.lists(fragments(), min_size=1, max_size=6)))
    lang = draw(st.sampled_from(["fi", "sv", "en", "", "xx"]))
    html = f'<html lang="{lang}"><head><title>{draw(WORDS)}</title></head><body>{body}'
    html += draw(st.sampled_from(["</body></html>", "", "</div></td>"]))
    encoding = draw(ENCODINGS)
    data = html.encode(encoding, "replace")
    if draw(st.booleans()):  # a stray byte or two, as a damaged page has
        at = draw(st.integers(0, len(data)))
        data = (
            data[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\xe4\xe4"])) + data[at:]
        )
    declared = draw(st.sampled_from(["", f"; charset={encoding}", "; charset=utf-8",
                                     "; charset=bogus"]))  # fmt: skip
    return data, {"Content-Type": "text/html" + declared}


def check(body: bytes, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    extraction = extract_page(body, URL, headers=headers, with_links=True)
    list(extraction.links)
    elapsed = time.perf_counter() - started
    for record in build_records(extraction, FACTS):
        assert record_errors(record) == [], (record["record_type"], record_errors(record))
    return elapsed


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pages())
def test_any_page_gives_valid_records(page: tuple[bytes, dict[str, str]]) -> None:
    check(*page)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fragments(), st.sampled_from(["utf-8", "cp1252"]))
def test_a_huge_page_costs_time_linear_in_its_size(fragment: str, encoding: str) -> None:
    """The same fragment repeated to 40 KiB and to 640 KiB: sixteen times the text may take
    about sixteen times as long, not 256 times (with a floor for tiny times and noise)."""
    small = fragment * max(1, 40_000 // max(len(fragment), 1))
    large = small * 16
    headers = {"Content-Type": f"text/html; charset={encoding}"}
    wrap = "<html><body>{}</body></html>"
    t_small = check(wrap.format(small).encode(encoding, "replace"), headers)
    t_large = check(wrap.format(large).encode(encoding, "replace"), headers)
    assert t_large < 16 * 4 * max(t_small, 0.005) + 1.0, (len(small), t_small, t_large)
