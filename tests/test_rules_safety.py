"""Rules (extract/rules.py) against hostile pages and selectors that cannot run.

The rules parse the page again with parsel, so they get the same control-character
cleaning as the generic reader; a block selector matching thousands of elements reads no
more blocks than the page's bound keeps; and XPath that calls anything but XPath 1.0's
core functions is refused when the configuration loads, with key and line.
"""

import json
import time
from pathlib import Path

import pytest

from pilotarchive.controls import CONTROL
from pilotarchive.exceptions import ConfigError
from pilotarchive.extract.page import extract_page
from pilotarchive.extract.rules import extract_with_rules
from pilotarchive.replica.content import DEFAULT_VERSION, VERSIONS
from pilotarchive.replica.server import render
from pilotarchive.schedule.config import parse_config

HTML = {"Content-Type": "text/html; charset=utf-8"}
HEAD = '[[target]]\nname = "k"\nstart_urls = ["http://127.0.0.1:9/k"]\n'


def rules_of(rules: str):  # type: ignore[no-untyped-def]
    return parse_config(HEAD + rules, Path("pilotarchive.toml")).target("k").rules


def test_values_read_by_rules_lose_control_characters_and_say_so() -> None:
    page = (
        "<html lang='fi'><body><div class='c'>"
        "<b>Teollisuuden\x07 &#27;[2Krakennemuutos\x01</b>"
        "<i>Raahen\x1b]8;;http://evil.example/\x1b\\ kaupunki</i>"
        "<ul><li>Raahe\x07</li><li>Kala&#x1B;joki</li></ul>"
        "<span>Leena M\u00e4kinen</span><a href='mailto:leena\x07@raahe.fi'>m</a>"
        "</div></body></html>"
    ).encode()
    rules = rules_of(
        '[[target.rules.pilot]]\nblock = "div.c"\ntheme = "b"\ncoordinator = "xpath:.//i"\n'
        'municipalities = "li"\ncontact_name = "span"\ncontact_email = "a::attr(href)"\n'
    )
    got = extract_with_rules(page, "http://127.0.0.1/k", rules=rules, headers=HTML)
    (pilot,) = got.pilots
    assert pilot.theme == "Teollisuuden [2Krakennemuutos"
    assert pilot.coordinator == "Raahen]8;;http://evil.example/\\ kaupunki"
    assert pilot.municipalities == ["Raahe", "Kalajoki"]
    assert pilot.contact is not None and pilot.contact.email == "leena@raahe.fi"
    for value in (pilot.theme, pilot.coordinator, *pilot.municipalities, pilot.contact.email):
        assert not CONTROL.search(value or ""), value
    notes = [n for n in got.notes if n.kind == "control_characters"]
    assert len(notes) == 1 and "control character(s)" in notes[0].message


def test_an_attribute_read_by_a_rule_loses_control_characters() -> None:
    # In an attribute, as a raw character and as references: parsel would give them back.
    page = (
        b"<html lang='fi'><body><div class='c'><b title='Kokeilu&#7;&#27;[31m yksi'>x</b>"
        b"</div></body></html>"
    )
    rules = rules_of('[[target.rules.pilot]]\nblock = "div.c"\ntheme = "b::attr(title)"\n')
    got = extract_with_rules(page, "http://127.0.0.1/k", rules=rules, headers=HTML)
    assert [p.theme for p in got.pilots] == ["Kokeilu[31m yksi"]
    assert "control_characters" in [n.kind for n in got.notes]


def test_blocks_past_the_bound_are_not_read() -> None:
    # An absolute field selector costs the whole page in every block: 5,000 blocks read
    # each would be 25 million results; the bound reads 201 of them.
    cards = b"".join(b"<div><h3>Kokeilu %d</h3></div>" % n for n in range(5000))
    page = b"<html lang='fi'><body>" + cards + b"</body></html>"
    rules = rules_of('[[target.rules.pilot]]\nblock = "div"\ntheme = "xpath://h3"\n')
    started = time.monotonic()
    got = extract_with_rules(page, "http://127.0.0.1/k", rules=rules, headers=HTML)
    took = time.monotonic() - started
    assert len(got.pilots) == 200
    capped = [n.message for n in got.notes if n.kind == "records_capped"]
    assert capped == [
        "5,000 pilot block(s) found by the rules on one page; only the first 201 read "
        "and at most 200 pilots kept"
    ]
    assert took < 15, took


def test_blocks_that_hold_no_record_are_bounded_too() -> None:
    cards = b"".join(b"<div><h3>Kokeilu %d</h3></div>" % n for n in range(5000))
    page = b"<html lang='fi'><body>" + cards + b"</body></html>"
    rules = rules_of(
        '[[target.rules.pilot]]\nblock = "div"\ntheme = "xpath://h3[@class=\'none\']"\n'
    )
    started = time.monotonic()
    got = extract_with_rules(page, "http://127.0.0.1/k", rules=rules, headers=HTML)
    assert got.pilots == [] and time.monotonic() - started < 15
    assert "records_capped" in [n.kind for n in got.notes]  # blocks left unread are said


@pytest.mark.parametrize(
    "query",
    [
        "document('file:///etc/passwd')//a",
        "php:function('system', 'id')",
        "re:test(., 'x')",
        ".//a[ext:evil(.)]",
        ".//a[str:tokenize(., ',')]",
        "unparsed-text('/etc/passwd')",
        "key('k', 'v')",
        ".//td[contains(normalize-space(.), 'a')] | doc('x')",
    ],
    ids=["document", "php", "exslt-re", "prefixed", "exslt-str", "xslt2", "xslt-key", "union"],
)
def test_xpath_calling_outside_the_core_is_refused_with_key_and_line(query: str) -> None:
    text = f'[[target.rules.pilot]]\nblock = "div"\ntheme = "h3"\ncoordinator = "xpath:{query}"\n'
    assert (HEAD + text).splitlines()[6].startswith("coordinator = ")
    with pytest.raises(ConfigError) as exc:
        rules_of(text)
    said = str(exc.value)
    assert "pilotarchive.toml:7: target[0].rules.pilot[0].coordinator: " in said, said
    assert "not an XPath 1.0 core function" in said


@pytest.mark.parametrize(
    "query",
    [
        ".//tr[th='Kunnat']/td",
        ".//td[contains(normalize-space(.), 'a')]/text()",
        "./td[@class='c']/a/@href",
        ".//a[starts-with(@href, 'tel:')] | .//b",
        ".//a[. = 'document(x) and php:f()']",
        "child::node()[not(self::comment())]",
        ".//p[position() = last() and (@x or @y)]",
        ".//p[string-length(translate(., 'a', 'b')) > count(.//b) div 2]",
        ".//li[has-class('x')]",
    ],
)
def test_core_xpath_still_passes(query: str) -> None:
    text = f'[[target.rules.pilot]]\nblock = "div"\ntheme = "h3"\ncoordinator = "xpath:{query}"\n'
    assert rules_of(text)


def test_a_selector_listing_every_element_is_refused_when_the_file_loads() -> None:
    many = ", ".join(f"div.c{n}" for n in range(5000))  # libxml2: "Recursion limit exceeded"
    with pytest.raises(ConfigError) as exc:
        rules_of(f'[[target.rules.pilot]]\nblock = "div"\ntheme = "{many}"\n')
    said = str(exc.value)
    assert len(many) == 53_888  # 5,000 x "div.c" + 18,890 digits + 4,999 x ", "
    assert "target[0].rules.pilot[0].theme: a selector of 53,888 characters (at most 2,000" in (
        said
    )


@pytest.mark.parametrize(
    ("query", "why"),
    [("concat('a')", "Invalid number of arguments"), ("$x", "Undefined variable")],
)
def test_a_selector_that_cannot_be_evaluated_is_refused_when_the_file_loads(
    query: str, why: str
) -> None:
    """It compiles, and only evaluation fails: on every page, so it is tried once, on a
    page of one element, when the file loads."""
    with pytest.raises(ConfigError) as exc:
        rules_of(f'[[target.rules.pilot]]\nblock = "div"\ntheme = "xpath:{query}"\n')
    assert f"cannot be evaluated as a XPath selector ({why})" in str(exc.value)


def test_a_rule_that_fails_on_a_page_keeps_the_generic_reading_and_degrades() -> None:
    """A rule lxml cannot evaluate on one page (given here past the load check, as a rule
    of an older release's manifest could be): the page keeps what the generic reader read,
    the failure is a note, and health judges the page as it judges a capped one."""
    from pilotarchive.extract.notes import RULES_FAILED
    from pilotarchive.extract.rules import Rule, Rules, Selector, apply_rules

    body = render(VERSIONS[DEFAULT_VERSION], "/index.phtml", {"s": "4398"}).body
    generic = extract_page(body, "http://www.tem.fi/index.phtml?s=4398")
    assert len(generic.pilots) == 5
    broken = Rule("pilot", Selector("div"), {"theme": Selector("xpath:concat('a')")})
    page = apply_rules(
        Rules((broken,), "k"), extract_page(body, "http://www.tem.fi/index.phtml?s=4398"),
        body.decode("iso-8859-1"),
    )  # fmt: skip
    assert [p.theme for p in page.pilots] == [p.theme for p in generic.pilots]
    (note,) = [n for n in page.notes if n.kind == RULES_FAILED]
    assert note.message.startswith("pilot rule 1 of target k (block 'div') could not be evaluated")
    assert "the generic reading is kept for it" in note.message


def test_rules_for_pilots_keep_the_generic_readers_separate_project() -> None:
    """The README's redesign: rules that read its four pilot cards leave the project the
    generic reader found in the running text (Salo's), so the page is whole again."""
    body = render(VERSIONS["2014-11-19-redesign"], "/index.phtml", {"s": "4398"}).body
    url = "http://www.tem.fi/index.phtml?s=4398"
    assert [p.kind for p in extract_page(body, url).pilots] == ["project"]
    rules = rules_of(
        '[[target.rules.pilot]]\nblock = "section.pilot-cards div.card"\n'
        'theme = "h3.card-title"\ncoordinator = "span.org"\n'
    )
    page = extract_with_rules(body, url, rules=rules)
    assert [p.kind for p in page.pilots] == ["pilot"] * 4 + ["project"]
    assert page.pilots[-1].coordinator == "Salon kaupunki"
    # A rule of kind "project" takes the project's place instead.
    both = rules_of(
        '[[target.rules.pilot]]\nblock = "section.pilot-cards div.card"\n'
        'theme = "h3.card-title"\ncoordinator = "span.org"\n'
        '[[target.rules.pilot]]\nblock = "section.pilot-cards div.card:first-child"\n'
        'theme = "span.org"\nkind = "project"\n'
    )
    read = extract_with_rules(body, url, rules=both).pilots
    assert [p.kind for p in read] == ["pilot"] * 4 + ["project"]
    assert read[-1].theme == read[0].coordinator  # the rule's project, not Salo's


@pytest.mark.parametrize(
    ("block", "what"),
    [
        ("count(//a)", "a number"),
        ("string(//body)", "text"),
        ("//a = 'x'", "true or false"),
        ("//text()", "text"),
        ("//div/@class", "text"),
        ("sum(//p) > 1", "true or false"),
    ],
)
def test_a_block_selector_that_gives_no_elements_is_refused_when_the_file_loads(
    block: str, what: str
) -> None:
    """Found by an attacker's pass: such a block got through the load check and the first
    page it met ended the crawl or reextract in a traceback (its fields were evaluated on
    a number)."""
    with pytest.raises(ConfigError) as exc:
        rules_of(f'[[target.rules.pilot]]\nblock = "xpath:{block}"\ntheme = "h3"\n')
    said = str(exc.value)
    assert "pilotarchive.toml:5: target[0].rules.pilot[0].block: " in said, said
    assert f"gives {what}, not elements" in said


def test_blocks_that_are_no_elements_on_a_page_are_left_out() -> None:
    """A union may let text or attributes in where the sample page (checked at load) had
    none: those are no blocks, and the page is read, not a traceback."""
    from pilotarchive.extract.rules import Rule, Rules, Selector, apply_rules

    body = render(VERSIONS[DEFAULT_VERSION], "/index.phtml", {"s": "4398"}).body
    url = "http://www.tem.fi/index.phtml?s=4398"
    for block in ("xpath://a/@href", "xpath://h3/text() | //table", "xpath://a/@href | //h3"):
        rule = Rule("pilot", Selector(block), {"theme": Selector("xpath:string(.)")})
        page = apply_rules(Rules((rule,), "k"), extract_page(body, url), body.decode("iso-8859-1"))
        themes = [p.theme for p in page.pilots if p.kind == "pilot"]
        assert all(not t.startswith("http") for t in themes), themes
        if "h3" in block and "text()" not in block:
            assert themes, block  # the elements of the union are read


def _replica_with(rules: dict) -> tuple[list, list[str]]:
    """The replica's pilots page (2014-11-19) read with ``rules``: its pilots and the
    overmatch notes."""
    from pilotarchive.extract.notes import RULES_OVERMATCH
    from pilotarchive.extract.rules import rules_from_json

    body = render(VERSIONS["2014-11-19"], "/index.phtml", {"s": "4398"}).body
    page = extract_with_rules(body, "http://www.tem.fi/index.phtml?s=4398",
                              rules=rules_from_json(json.dumps(rules), "k"))  # fmt: skip
    return page.pilots, [n.message for n in page.notes if n.kind == RULES_OVERMATCH]


def test_a_block_whose_theme_is_a_block_inside_it_is_an_overmatch() -> None:
    """``ul, li`` with the first child for the theme: the list's "theme" is its first item,
    a block of its own: a junk pilot, judged healthy before (the keys differed)."""
    _, (said,) = _replica_with(
        {"pilot": [{"block": "ul.pilotit, ul.pilotit li", "theme": "xpath:./*[1]"}]}
    )
    assert said.startswith(
        "pilot rule 1 of target k (block 'ul.pilotit, ul.pilotit li') read a pilot in a <ul> "
        "that its own block, a <li> inside it, gave too"
    )
    # The same rule for the items alone reads the four pilots and says nothing.
    pilots, said = _replica_with({"pilot": [{"block": "ul.pilotit li", "theme": "strong"}]})
    assert said == [] and len([p for p in pilots if p.kind == "pilot"]) == 4


def test_two_rules_reading_the_same_elements_are_an_overmatch() -> None:
    """A rule copied with another spelling of its selector: each pilot read twice (records
    rejected as duplicates, "pilots 9" where the page says 4), judged healthy before."""
    twice = [{"block": "ul.pilotit li", "theme": "strong"},
             {"block": "ul.pilotit > li", "theme": "strong"}]  # fmt: skip
    _, (said,) = _replica_with({"pilot": twice})
    assert said.startswith("pilot rules 1 and 2 of target k both read a pilot in the same <li>")
