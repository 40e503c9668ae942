"""Every pattern that reads page text is linear: the worst inputs we can build finish fast.

A catastrophic pattern blocks the crawler's reactor (no timeout fires, SIGTERM waits), so
each family of patterns gets the inputs that hurt it most: long runs of the characters it
repeats, many starting points that each scan far, unclosed brackets, labels without values.
Each case runs in a forked child with a deadline, because a regex in C cannot be
interrupted: before the fix the e-mail case alone took minutes and the child was killed.
The size is chosen so that a quadratic pattern needs far longer than the deadline while a
linear one needs a small part of it.
"""

import multiprocessing
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pilotarchive.extract.contacts import parse_contact_block, parse_contact_text, split_line
from pilotarchive.extract.dates import find_update_date, parse_date
from pilotarchive.extract.document import parse_document
from pilotarchive.extract.emails import find_emails
from pilotarchive.extract.language import language_from_text
from pilotarchive.extract.names import parse_person
from pilotarchive.extract.page import _programme, extract_page
from pilotarchive.extract.phones import find_phones
from pilotarchive.extract.pilots import parse_pilot_text, parse_project, split_municipalities

N = 200_000  # characters of hostile text per case
DEADLINE = 5.0  # seconds; a quadratic pattern on N characters needs minutes


def _lines(fn: Callable[..., object], *args: object) -> Callable[[str], object]:
    """``fn`` called with the text split into lines at "|", then ``args``."""
    return lambda text: fn(text.split("|"), *args)


def _with(fn: Callable[..., object], *args: object) -> Callable[[str], object]:
    """``fn`` called with the text, then ``args``."""
    return lambda text: fn(text, *args)


def _page(text: str) -> object:
    # Declared HTML: a fragment without <html> would otherwise be "not HTML" and unread.
    page = extract_page(text.encode(), "http://x/", headers={"Content-Type": "text/html"})
    assert page.error is None, page.error
    return page


def _doc(text: str) -> object:
    return parse_document(text, "http://x/")


person = _with(parse_person, "fi")
contact = _with(parse_contact_text, "fi", "pilot_contact")
line = _with(split_line, "fi")
pilot = _with(parse_pilot_text, "fi")
programme = _lines(_programme, "fi")
H = N // 2

# (family, case id, function, input). Families follow the extraction modules.
CASES: list[tuple[str, str, Callable[[str], object], str]] = [
    ("emails", "a-dash-run", find_emails, "a-" * H),
    ("emails", "dot-run", find_emails, "a." * H),
    ("emails", "at-run", find_emails, "a@" * H),
    ("emails", "long-domain", find_emails, "x@" + "a." * H),
    ("emails", "long-local", find_emails, "a" * N + "@"),
    ("emails", "obfuscated-dots", find_emails, "a (at) " + "a (dot) " * (N // 8)),
    ("emails", "at-words", find_emails, "a at " * (N // 5)),
    ("emails", "local-dot-words", find_emails, "a(dot)" * (N // 6) + "(at)x.fi"),
    ("emails", "bare-dot-words", find_emails, "a dot " * (N // 6) + "at x dot fi"),
    ("dates", "weekdays", _lines(find_update_date), "päivitetty " + "( maanantai, " * (N // 13)),
    ("emails", "obfuscated-spaces", find_emails, "a" + " " * N + "(at)"),
    ("phones", "label-spaces", find_phones, "puh." + " " * N + "x"),
    ("phones", "bare-numbers-between-commas", line, ",0 1" * (N // 4)),
    ("phones", "label-runs", find_phones, "p 1" * (N // 3)),
    ("phones", "digit-pairs", find_phones, "puh. " + "1 " * H),
    ("dates", "digits", parse_date, "1" * N),
    ("dates", "dotted", parse_date, "1.1." * (N // 4)),
    ("dates", "month-names", parse_date, "19 marraskuuta " * (N // 15)),
    ("dates", "us-order", parse_date, "November 19, " * (N // 13)),
    ("dates", "spaces", parse_date, "19." + " " * N + "x"),
    ("dates", "spaces-after-a-date", parse_date, "19.11.2014" + " " * N + "x"),
    ("update-labels", "label-then-spaces", _lines(find_update_date), "päivitetty" + " " * N + "x"),
    ("update-labels", "one-line", _lines(find_update_date), "päivitetty: " * (N // 12)),
    ("update-labels", "many-lines", _lines(find_update_date), "Updated |" * (N // 9)),
    ("names", "tokens", person, "A " * H),
    ("names", "titles", person, "Ylitarkastaja " * (N // 14)),
    ("names", "one-token", person, "Aa" * H),
    ("contacts", "a-dash-run", contact, "a-" * H),
    ("contacts", "commas", line, ", " * H),
    ("contacts", "open-parens", line, "( , " * (N // 4)),
    ("contacts", "spaced-dashes", line, " - " * (N // 3)),
    ("contacts", "space-run", line, "a" + " " * N + "b"),
    ("contacts", "labels", contact, "Yhteyshenkilö: " * (N // 15)),
    ("contacts", "label-then-spaces", contact, "Yhteyshenkilö" + " " * N + "x"),
    ("contacts", "block", _lines(parse_contact_block, "fi", "further_information"),
     "Alho Olli, puh. 029 506 3591|" * (N // 29)),
    ("pilots", "coordinator-then-dashes", pilot, "x koordinoi " + "a-" * H),
    ("pilots", "labels", pilot, "Teema: " * (N // 7)),
    ("pilots", "label-then-spaces", pilot, "Teema" + " " * N + ": x"),
    ("pilots", "open-parens", pilot, "x koordinoi " + "(" * N),
    ("pilots", "phrases", pilot, "koordinoi " * (N // 10)),
    ("pilots", "sentence-theme-run", pilot, "X koordinoi pilottia, jonka teemana on " + "a " * H),
    ("pilots", "sentence-towns-run", pilot,
     "The pilot on x is led by y. " + "The participating municipalities are " * (N // 38)),
    ("pilots", "sentence-quotes", pilot, "Pilotprojektet ”" + "a” " * (N // 3)),
    ("pilots", "space-run", pilot, "x koordinoi y" + " " * N + "z"),
    ("pilots", "municipalities", split_municipalities, "a ja " * (N // 5)),
    ("pilots", "municipality-spaces", split_municipalities, "a" + " " * N + "b"),
    ("project", "theme-starts", _lines(parse_project, "fi"),
     "erillinen hanke koordinoi " + "käynnistetty " * (N // 13)),
    ("project", "open-parens", _lines(parse_project, "fi"),
     "erillinen hanke, jota koordinoi Salo " + "(" * N),
    ("project", "next-sentences", _lines(parse_project, "fi"),
     "on käynnistetty erillinen hanke. |" * (N // 34)),
    ("project", "sv-starts", _lines(parse_project, "sv"),
     "separat projekt som fokuserar på " * (N // 33)),
    ("project", "en-starts", _lines(parse_project, "en"),
     "separate project focusing on " * (N // 29)),
    # "pilotti" first: a page that never names pilots is not searched for their counts.
    ("programme", "digits", programme, "pilotti " + "1" * N),
    ("programme", "count-starts", programme, "pilotti " + "käynnistänyt " * (N // 13)),
    ("programme", "years", programme, "pilotti " + "vuosina 2014 " * (N // 13)),
    ("programme", "municipality-digits", programme, "pilotti " + "1 " * (N // 2)),
    ("language", "words", language_from_text, "och " * (N // 4)),
    ("document", "nested-lists", _doc, "<ul><li>x" * (N // 9)),
    ("document", "nested-list-items", _page, "<ul><li>x" * (N // 9)),
    ("document", "deep-and-wide", _page, "<ul><li>" * 1000 + "<li>x koordinoi y</li>" * (N // 22)),
    ("document", "many-paragraphs", _doc, "<p>Lisätietoja:</p>" * (N // 19)),
    # Found by the fuzz test: a dl's terms read through every dl nested below it.
    ("document", "nested-definition-lists", _page,
     "<dl><dt>Koordinaattori</dt><dd>x" * (N // 40)),
    ("document", "lines-only", _page, "<b>Teema</b><br>Koordinaattori: X<br>" * (N // 38)),
    # Each box was read from the top of its column: quadratic (found by tests/test_fuzz.py).
    ("boxes", "many-headings-one-column", _page,
     "<main>" + "<p>Mer information: (</p><p>Salon kaupunki</p>" * (N // 44) + "</main>"),
    ("boxes", "many-headings-one-div", _page,
     "<div>" + "<h3>Lisätietoja</h3><p>Alho Olli</p>" * (N // 35) + "</div>"),
]  # fmt: skip


def _run(fn: Callable[[str], object], text: str) -> None:
    fn(text)


def finishes_within(fn: Callable[[str], object], text: str, seconds: float) -> float | None:
    """Seconds taken in a forked child, or None when it was still running at the deadline."""
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=_run, args=(fn, text))
    start = time.perf_counter()
    child.start()
    child.join(seconds)
    if child.is_alive():
        child.kill()
        child.join()
        return None
    assert child.exitcode == 0, f"the case raised (exit code {child.exitcode})"
    return time.perf_counter() - start


@pytest.mark.parametrize(
    ("fn", "text"), [c[2:] for c in CASES], ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_worst_input_is_linear(fn: Callable[[str], object], text: str) -> None:
    took = finishes_within(fn, text, DEADLINE)
    assert took is not None, f"still running after {DEADLINE} s on {len(text):,} characters"


PAGE = Path(__file__).parent / "golden" / "pages" / "replica-2014-11-19-fi.html"
SIZE = 10_000_000


def _big_page(place: str) -> bytes:
    """The Finnish pilots page with ~10 MB of ``a-`` where ``place`` says."""
    html = PAGE.read_bytes()
    junk = b"a-" * (SIZE // 2)
    if place == "pilot-contact":  # the case: one pilot contact, one paragraph
        return html.replace(b"etunimi.sukunimi@raahe.fi", junk, 1)
    if place == "contact-box":
        return html.replace(b"Ylitarkastaja Anttonen, Lari", junk, 1)
    if place == "project":
        return html.replace(b"erillinen hanke, jota koordinoi", b"erillinen hanke, " + junk, 1)
    raise ValueError(place)


@pytest.mark.parametrize("place", ["pilot-contact", "contact-box", "project"])
def test_ten_megabyte_page_extracts_in_seconds(place: str) -> None:
    body = _big_page(place)
    assert len(body) > SIZE
    start = time.perf_counter()
    page = extract_page(body, "http://www.tem.fi/index.phtml?s=4398", headers={})
    took = time.perf_counter() - start
    assert took < 10, f"{took:.1f} s for a {len(body):,}-byte page"
    assert page.error is None and len(page.pilots) >= 4


# Found by tests/test_fuzz.py: unclosed tags nest, and each heading held the rest of the
# page, read whole to tell its label, its ancestors walked to tell the site's chrome.
FUZZED = (
    "<b>Lisätietoja:&amp; coordinated by 38 kuntaa käynnistänyt neljä pilottia Lisätietoja: "
    'Å koordinaattorina<h3 role="main">Yhteyshenkilö: (at)a samordnas av ö<b id="content">'
    '<a href="mailto:a@b.fi" hreflang="sv">&#13;</a>Neuvotteleva virkamies Tekstiversio'
    '<dl role="main">etunimi.sukunimi@tem.fi Anttonen, Lari ä separate project '
    "koordinaattorina . ö javascript:alert(1)tel. ; etunimi.sukunimi@tem.fi coordinated by "
    "På svenska Salon kaupunki Further information Yhteyshenkilö:[dot] På svenska "
    'Koordinaattori:\xa0<pre>Mer information: Mer information: [dot] (<h1 role="main">'
    "jota koordinoi Mer information: koordinaattorina a : erillinen hanke"
    '<a href="data:,x" hreflang="sv">javascript:alert(1)</a><a href="?l=en" lang="en">(at)'
    "</a></h1></b>"
)


def test_nested_unclosed_headings_cost_time_linear_in_the_page() -> None:
    small = FUZZED * (40_000 // len(FUZZED))
    times = []
    for text in (small, small * 16):
        body = f"<html><body>{text}</body></html>".encode()
        start = time.perf_counter()
        extract_page(body, "http://www.tem.fi/x", headers={"Content-Type": "text/html"})
        times.append(time.perf_counter() - start)
    # Sixteen times the page: about sixteen times the time (7.7 s against 0.06 s before).
    assert times[1] < 16 * 4 * max(times[0], 0.005) + 1.0, times
