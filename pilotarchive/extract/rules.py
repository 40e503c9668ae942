"""Rules a maintainer writes for a layout the generic reader cannot read.

A target's configuration may describe, per record type, the blocks that hold records and
the fields inside each block with CSS or XPath selectors (parsel, Scrapy's own selector
library). They are checked when the configuration loads, so a selector that does not
compile is a usage error naming its key and line, never a crawl that silently reads
nothing::

    [[target.rules.pilot]]
    pages = "hankkeet"                       # optional: a regular expression on the URL
    block = "div.panel"                      # CSS, or "xpath:..." for XPath
    theme = "a.toggle::text"
    coordinator = "xpath:.//tr[th='Koordinaattori']/td"
    municipalities = "xpath:.//tr[th='Kunnat']/td"

    [[target.rules.contact]]
    block = "table.staff tbody tr"
    name = "td.n"
    phone = "a[href^='tel:']::attr(href)"
    email = "a[href^='mailto:']::attr(href)"

The hook into extraction is :func:`extract_with_rules`: the generic reader reads the page
first (:func:`pilotarchive.extract.page.extract_page`, untouched), then, on a page a rule
applies to, the records the rule finds replace the generic reader's records of that type.
A rule that finds no block leaves the generic reading as it was. Pages read with rules
say so in a ``read_with_rules`` note; the snapshot's manifest names the rules.
"""

import difflib
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote

from pilotarchive.extract.contacts import Contact
from pilotarchive.extract.emails import find_emails
from pilotarchive.extract.names import parse_person
from pilotarchive.extract.notes import (
    MAX_CONTACTS_PER_PAGE,
    MAX_PILOTS_PER_PAGE,
    RECORDS_CAPPED,
    RULES_FAILED,
    RULES_OVERMATCH,
    Note,
)
from pilotarchive.extract.page import (
    CONTROLS_NOTE,
    PageExtraction,
    controls_message,
    extract_page,
)
from pilotarchive.extract.phones import to_e164
from pilotarchive.extract.pilots import Pilot, _theme_key

RECORD_TYPES = ("pilot", "contact")
SELECTOR_KEYS: dict[str, tuple[str, ...]] = {
    "pilot": ("theme", "coordinator", "municipalities", "contact_name", "contact_title",
              "contact_email", "contact_phone", "contact_organization"),
    "contact": ("name", "title", "email", "phone", "organization"),
}  # fmt: skip
OTHER_KEYS: dict[str, tuple[str, ...]] = {
    "pilot": ("block", "pages", "kind", "form"),
    "contact": ("block", "pages"),
}
PILOT_KINDS = ("pilot", "project")
PILOT_FORMS = ("table", "list", "labelled", "headed", "sentence")
NOTE_KIND = "read_with_rules"
# "Raahe, Kalajoki ja Ylivieska": a list of towns in one field, in any of the languages.
_LIST_SPLIT = re.compile(r"\s*(?:[,;/]|\s(?:ja|och|and|sekä|samt)\s|&)\s*", re.IGNORECASE)
# XPath 1.0's core functions, the node tests that look like calls, the operators that may
# stand before a parenthesis, and parsel's has-class: what a page can always evaluate.
# Anything else (XSLT's document(), EXSLT or php: extensions, any prefix:name()) compiles
# but fails or reaches outside the page when evaluated, on every page of the crawl.
XPATH_FUNCTIONS = frozenset(
    "last position count id local-name namespace-uri name string concat starts-with "
    "contains substring-before substring-after substring string-length normalize-space "
    "translate boolean not true false lang number sum floor ceiling round "
    "node text comment processing-instruction and or div mod has-class".split()
)
_XPATH_LITERAL = re.compile(r"\"[^\"]*\"|'[^']*'")
_XPATH_CALL = re.compile(r"(?<![\w.:$@-])([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)\s*\(")


class RuleError(ValueError):
    """One wrong entry of a rule; ``path`` is its key under ``rules`` (for the line)."""

    def __init__(self, path: list[Any], message: str) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class Selector:
    """A selector as written: CSS, or XPath after ``xpath:``."""

    text: str

    @property
    def is_xpath(self) -> bool:
        return self.text.startswith("xpath:")

    @property
    def query(self) -> str:
        return self.text[len("xpath:") :].strip() if self.is_xpath else self.text.strip()

    def check(self) -> str | None:
        """Why the selector cannot be used, or None."""
        from lxml import etree
        from parsel.csstranslator import HTMLTranslator

        if not self.query:
            return "an empty selector"
        if len(self.query) > MAX_SELECTOR_CHARS:
            return (
                f"a selector of {len(self.query):,} characters (at most "
                f"{MAX_SELECTOR_CHARS:,}: a rule names a block and its fields, it does not "
                "list every element)"
            )
        kind = "XPath" if self.is_xpath else "CSS"
        try:
            if self.is_xpath:
                etree.XPath(self.query)
            else:
                HTMLTranslator().css_to_xpath(self.query)
        except Exception as exc:  # cssselect's SelectorError, lxml's XPathSyntaxError
            return f"{self.text!r} is not a {kind} selector ({exc})"
        if self.is_xpath:
            for call in _XPATH_CALL.findall(_XPATH_LITERAL.sub("''", self.query)):
                if call not in XPATH_FUNCTIONS:
                    return (
                        f"{self.text!r} calls {call}(), which is not an XPath 1.0 core "
                        "function; a rule may use only those (contains(), normalize-space(), ...)"
                    )
        try:  # what only evaluation finds (libxml2's depth limits): on a page of one element
            _compiled(self.text)(_sample())
        except Exception as exc:  # lxml's XPathEvalError, and what else evaluation raises
            shown = self.text if len(self.text) <= 80 else self.text[:77] + "..."
            return f"{shown!r} cannot be evaluated as a {kind} selector ({exc})"
        return None

    def check_block(self) -> str | None:
        """Why the selector cannot name blocks, or None: a block is an element whose
        fields are read, and an XPath's type does not depend on the page, so one run on
        the sample page tells (count(), string() and comparisons give no elements)."""
        from lxml import etree

        result = _compiled(self.text)(_sample())
        if isinstance(result, list) and all(isinstance(r, etree._Element) for r in result):
            return None
        what = {bool: "true or false", float: "a number"}.get(type(result), "text")
        return (
            f"{self.text!r} gives {what}, not elements: a block selector names the elements "
            "that hold records (xpath://table//tr, div.card), and its fields are read in them"
        )

    def select(self, node: Any) -> Any:
        return node.xpath(self.query) if self.is_xpath else node.css(self.query)

    def found(self, node: Any) -> list[Any]:
        """What the selector finds in a parsel node, as lxml gives it (elements, strings or
        a number): no parsel object per result, which costs more than the evaluation when
        a selector finds thousands (xpath://h3 from any block finds every h3 of the page)."""
        result = _compiled(self.text)(node.root)
        return result if isinstance(result, list) else [result]


# A rule's selector as a person writes it is tens of characters; thousands are a list of
# every element, which libxml2 fails to evaluate (5,000 alternatives: "Recursion limit
# exceeded") or to compile at all.
MAX_SELECTOR_CHARS = 2000


@functools.cache
def _sample() -> Any:
    """A page of one element, on which a selector is evaluated once when rules load."""
    from lxml import etree

    return etree.fromstring("<html><body><div class='x'>x</div></body></html>")


@functools.lru_cache(maxsize=512)
def _compiled(text: str) -> Any:
    """The compiled XPath of a selector (CSS translated as parsel translates it)."""
    from lxml import etree
    from parsel.csstranslator import HTMLTranslator

    selector = Selector(text)
    query = selector.query if selector.is_xpath else HTMLTranslator().css_to_xpath(selector.query)
    return etree.XPath(query, smart_strings=False)


@dataclass(frozen=True)
class Rule:
    record_type: str  # "pilot" or "contact"
    block: Selector
    fields: Mapping[str, Selector]
    pages: str | None = None  # a regular expression searched in the page's URL
    kind: str = "pilot"
    form: str = "labelled"

    def applies_to(self, url: str) -> bool:
        return self.pages is None or re.search(self.pages, url) is not None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"block": self.block.text}
        out.update({k: s.text for k, s in sorted(self.fields.items())})
        if self.pages is not None:
            out["pages"] = self.pages
        if self.record_type == "pilot":
            out.update(kind=self.kind, form=self.form)
        return out


@dataclass(frozen=True)
class Rules:
    """A target's rules; empty when it has none."""

    rules: tuple[Rule, ...] = ()
    target: str | None = None

    def __bool__(self) -> bool:
        return bool(self.rules)

    def cover(self, url: str) -> bool:
        """Whether any rule applies to the page at ``url``."""
        return any(rule.applies_to(url) for rule in self.rules)

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for rule in self.rules:
            out.setdefault(rule.record_type, []).append(rule.as_dict())
        return out

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"))  # fmt: skip

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    def describe(self) -> dict[str, Any]:
        """What a manifest says of the rules that derived its records."""
        return {"target": self.target, "sha256": self.sha256, "rules": self.as_dict()}


def _selector(value: Any, path: list[Any]) -> Selector:
    if not isinstance(value, str):
        raise RuleError(path, f"expected a selector in quotes, got {value!r}")
    selector = Selector(value)
    if problem := selector.check():
        raise RuleError(path, problem)
    return selector


def _rule(record_type: str, item: Any, path: list[Any]) -> Rule:
    if not isinstance(item, Mapping):
        raise RuleError(path, f"expected a table of selectors ([[...rules.{record_type}]])")
    known = (*OTHER_KEYS[record_type], *SELECTOR_KEYS[record_type])
    for key in item:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})"
            raise RuleError([*path, key], f"unknown key {key!r}{hint}")
    if "block" not in item:
        raise RuleError(path, "missing key 'block' (the selector of the blocks holding records)")
    block = _selector(item["block"], [*path, "block"])
    if problem := block.check_block():
        raise RuleError([*path, "block"], problem)
    fields = {
        key: _selector(item[key], [*path, key]) for key in SELECTOR_KEYS[record_type] if key in item
    }
    needed = "theme" if record_type == "pilot" else "name"
    if needed not in fields:
        raise RuleError(path, f"missing key {needed!r}: a {record_type} is known by its {needed}")
    pages = item.get("pages")
    if pages is not None:
        if not isinstance(pages, str):
            raise RuleError([*path, "pages"], f"expected a regular expression, got {pages!r}")
        try:
            re.compile(pages)
        except re.error as exc:
            message = f"{pages!r} is no regular expression ({exc})"
            raise RuleError([*path, "pages"], message) from None
    kind = item.get("kind", "pilot")
    if record_type == "pilot" and kind not in PILOT_KINDS:
        raise RuleError([*path, "kind"], f"must be one of {', '.join(PILOT_KINDS)}, not {kind!r}")
    form = item.get("form", "labelled")
    if record_type == "pilot" and form not in PILOT_FORMS:
        raise RuleError([*path, "form"], f"must be one of {', '.join(PILOT_FORMS)}, not {form!r}")
    return Rule(record_type, block, fields, pages, kind, form)


def parse_rules(data: Any, target: str | None = None) -> Rules:
    """The rules of a target's ``rules`` table (as TOML or JSON gives it), checked; the
    first problem raises :class:`RuleError` with its path under ``rules``."""
    if data is None:
        return Rules((), target)
    if not isinstance(data, Mapping):
        raise RuleError([], "expected a table with pilot and contact rules")
    rules: list[Rule] = []
    for record_type, items in data.items():
        if record_type not in RECORD_TYPES:
            raise RuleError(
                [record_type],
                f"unknown record type {record_type!r} (rules are for {', '.join(RECORD_TYPES)})",
            )
        if isinstance(items, Mapping):
            items = [items]
        if not isinstance(items, list):
            raise RuleError([record_type], f"expected a list of rules ([[...rules.{record_type}]])")
        for n, item in enumerate(items):
            rules.append(_rule(record_type, item, [record_type, n]))
    return Rules(tuple(rules), target)


def rules_from_json(text: str, target: str | None = None) -> Rules:
    """Rules passed to a crawl as ``PILOTARCHIVE_RULES`` (JSON, as :meth:`Rules.to_json`)."""
    if not text.strip():
        return Rules((), target)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RuleError([], f"not JSON ({exc})") from None
    return parse_rules(data, target)


# -- applying ------------------------------------------------------------------------------


def _texts(selector: Selector, node: Any, limit: int | None = None) -> list[str]:
    """What the selector finds in ``node``: an element's whole text, a text node or an
    attribute as it is; whitespace collapsed, empty ones dropped; the first ``limit``."""
    out: list[str] = []
    for found in selector.found(node):
        raw = found if isinstance(found, str) else _string(found)
        text = " ".join(str(raw or "").split())
        if text:
            out.append(text)
            if limit is not None and len(out) >= limit:
                break
    return out


def _string(found: Any) -> str:
    """XPath's string() of a result: an element's whole text, a number as XPath writes it."""
    if isinstance(found, bool):
        return "true" if found else "false"
    if isinstance(found, float):
        return str(int(found)) if found.is_integer() else str(found)
    return str(found.xpath("string(.)"))


def _first(rule: Rule, key: str, node: Any) -> str | None:
    selector = rule.fields.get(key)
    if selector is None:
        return None
    found = _texts(selector, node, 1)
    return found[0] if found else None


def _email(text: str | None) -> tuple[str | None, str | None]:
    """An address from a ``mailto:`` link or text, obfuscated or not, and how it was read."""
    if not text:
        return None, None
    if text.lower().startswith("mailto:"):
        address = unquote(text[7:].split("?", 1)[0]).strip()
        if "@" in address:
            return address, "explicit"
        text = address
    for found in find_emails(text):
        if found.address:
            return found.address, found.source
    return None, None


def _phone(text: str | None) -> str | None:
    if not text:
        return None
    if text.lower().startswith("tel:"):
        text = unquote(text[4:])
    return to_e164(text.strip())


def _contact(rule: Rule, node: Any, prefix: str, language: str | None, role: str) -> Contact | None:
    name = _first(rule, f"{prefix}name", node)
    person = parse_person(name, language) if name else None
    if person is None:
        return None
    title = _first(rule, f"{prefix}title", node)
    if title:
        person = replace(person, title=title)
    email, source = _email(_first(rule, f"{prefix}email", node))
    return Contact(person, email, source, _phone(_first(rule, f"{prefix}phone", node)),
                   _first(rule, f"{prefix}organization", node), role)  # fmt: skip


def _towns(rule: Rule, node: Any) -> list[str]:
    selector = rule.fields.get("municipalities")
    if selector is None:
        return []
    towns: list[str] = []
    for text in _texts(selector, node):
        towns += [t for t in _LIST_SPLIT.split(text) if t and t not in towns]
    return towns


def _text_key(element: Any) -> str:
    return " ".join(" ".join(element.itertext()).casefold().split())


def _read_again(gave: dict[Any, tuple[Any, int, str]]) -> tuple[tuple, tuple] | None:
    """A record read again: a block that gave a record inside another block whose record
    is the same one (the same theme, the same person) or is that block's whole text (the
    outer block's theme selector found the inner block itself), or None. ``gave`` maps each
    block's element to (record key, rule number, block selector), over every rule of one
    record type.

    ``block = "*"`` reads a page's first pilot again in the page, its body and every wrapper
    around it; so does a rule for the themes' own elements beside a rule for the cards, or
    ``ul, li`` with ``./*[1]`` for the theme (the list's first item is its "theme"). A card
    nested in another card is no such case: each gives its own pilot. lxml keeps one proxy
    per element while it is referenced (the selectors hold them), so ancestors are looked
    up by identity."""
    if len(gave) < 2:
        return None
    texts: dict[Any, str] = {}
    for element, (key, number, text) in gave.items():
        for above in element.iterancestors():
            outer = gave.get(above)
            if outer is None:
                continue
            if outer[0] == key or (
                isinstance(outer[0], str)
                and outer[0] == texts.setdefault(element, _text_key(element))
            ):
                return (above, *outer[1:]), (element, number, text)
    return None


def _numbers(rules: Rules) -> dict[int, int]:
    """Each rule's number among the rules of its record type, as the file lists them (the
    first ``[[target.rules.pilot]]`` is pilot rule 1, whatever pages it applies to)."""
    seen: dict[str, int] = {}
    out = {}
    for rule in rules.rules:
        seen[rule.record_type] = seen.get(rule.record_type, 0) + 1
        out[id(rule)] = seen[rule.record_type]
    return out


def _pilots(
    rule: Rule, blocks: Iterable[Any], language: str | None, gave: list[Any] | None = None
) -> list[Pilot]:
    """The pilots of ``blocks``; each block that gave one is appended to ``gave``."""
    out = []
    role = "project_contact" if rule.kind == "project" else "pilot_contact"
    for block in blocks:
        theme = _first(rule, "theme", block)
        if not theme:
            continue
        if gave is not None:
            gave.append(block)
        out.append(
            Pilot(
                kind=rule.kind,
                theme=theme,
                coordinator=_first(rule, "coordinator", block),
                contact=_contact(rule, block, "contact_", language, role),
                municipalities=_towns(rule, block),
                form=rule.form,
            )
        )
    return out


LIMITS = {"pilot": MAX_PILOTS_PER_PAGE, "contact": MAX_CONTACTS_PER_PAGE}
_WHAT = {"pilot": "pilots", "contact": "contact persons"}


def apply_rules(rules: Rules, extraction: PageExtraction, html: str) -> PageExtraction:
    """The extraction with the records the rules find on this page put in place of the
    generic reader's (per record type, only where a rule found a block)."""
    from lxml import etree
    from parsel import Selector as Page

    from pilotarchive.controls import may_hold_controls
    from pilotarchive.extract.document import _strip_controls

    applying = [r for r in rules.rules if r.applies_to(extraction.final_url)]
    if not applying or extraction.status >= 400 or extraction.error:
        return extraction
    page = Page(text=html, base_url=extraction.final_url)
    # The same cleaning as the generic reader's tree gets: raw controls and those that
    # "&#27;" became leave every text and attribute before a selector sees them.
    removed = _strip_controls(page.root) if may_hold_controls(html) else 0
    pilots: list[Pilot] = []
    contacts: list[Contact] = []
    used: dict[str, int] = {}
    read: dict[str, int] = {}
    kinds: set[str] = set()  # the kinds of pilot records ("pilot", "project") rules found
    numbers = _numbers(rules)
    gave: dict[str, dict[Any, tuple[Any, int, str]]] = {"pilot": {}, "contact": {}}
    twice: dict[str, tuple[Any, int, int]] = {}  # an element two rules each read a record in
    for rule in applying:
        number = numbers[id(rule)]
        try:
            # Elements only: rules that loaded were checked for that, and a text node or
            # an attribute a union lets in holds no fields.
            blocks = [b for b in rule.block.select(page) if isinstance(b.root, etree._Element)]
            if not blocks:
                continue
            kind = rule.record_type
            # Past the page's bound nothing is kept, so its blocks are not read: a field
            # selector costs up to the whole page per block (xpath://h3 on 20,000 blocks).
            # One block beyond the bound is read, which proves the bound was hit.
            room = max(LIMITS[kind] + 1 - read.get(kind, 0), 0)
            found = blocks[:room]
            blocks_gave: list[Any] = []  # the blocks that gave a record, in order
            if kind == "pilot":
                new_pilots = _pilots(rule, found, extraction.language, blocks_gave)
                keys: list[Any] = [_theme_key(p) for p in new_pilots]
            else:
                new_contacts = []
                for block in found:
                    c = _contact(rule, block, "", extraction.language, "further_information")
                    if c:
                        new_contacts.append(c)
                        blocks_gave.append(block)
                keys = [(c.person.given_name.casefold(), c.person.family_name.casefold())
                        for c in new_contacts]  # fmt: skip
            for block, key in zip(blocks_gave, keys, strict=True):
                earlier = gave[kind].setdefault(block.root, (key, number, rule.block.text))
                if earlier[1] != number and kind not in twice:
                    twice[kind] = (block.root, earlier[1], number)
        except (etree.XPathError, ValueError) as exc:  # parsel wraps lxml's in ValueError
            said = f"{rule.record_type} rule {number} of target {rules.target or '(none)'} " + (
                f"(block {rule.block.text[:60]!r}) could not be evaluated on this page ({exc}); "
                "the generic reading is kept for it"
            )
            extraction.notes.append(Note(RULES_FAILED, said))
            continue
        used[kind] = used.get(kind, 0) + len(blocks)
        read[kind] = read.get(kind, 0) + len(found)
        if kind == "pilot":
            pilots += new_pilots
            kinds.add(rule.kind)
        else:
            contacts += new_contacts
    for kind, (element, first, second) in twice.items():
        extraction.notes.append(Note(RULES_OVERMATCH, (
            f"{kind} rules {first} and {second} of target {rules.target or '(none)'} both read "
            f"a {kind} in the same <{element.tag}>: each {kind} is read twice; keep one of "
            "them, or make each name only its own elements"
        )))  # fmt: skip
    for kind, blocks_of in gave.items():
        if kind in twice:
            continue  # said once per record type
        if pair := _read_again(blocks_of):
            (outer, o_number, o_text), (inner, i_number, _) = pair
            inner_rule = "its own" if i_number == o_number else f"{kind} rule {i_number}'s"
            extraction.notes.append(Note(RULES_OVERMATCH, (
                f"{kind} rule {o_number} of target {rules.target or '(none)'} (block "
                f"{o_text[:60]!r}) read a {kind} in a <{outer.tag}> that {inner_rule} block, "
                f"a <{inner.tag}> inside it, gave too: its block selector matches the "
                f"elements around the {_WHAT[kind]}, so one is read again in every block "
                f"around it; make it name only each {kind}'s own element"
            )))  # fmt: skip
    if "pilot" in used:  # a selector matching every element is bounded as a page is
        # Rules for pilots take the place of the generic reader's pilots; its separate
        # project stays unless a rule of kind "project" reads one (and the other way round).
        kept = [p for p in extraction.pilots if p.kind not in kinds]
        extraction.pilots = _bounded("pilot", pilots + kept, used, read, extraction.notes)
    if "contact" in used:
        extraction.contacts = _bounded("contact", contacts, used, read, extraction.notes)
    if removed and not any(n.kind == CONTROLS_NOTE for n in extraction.notes):
        extraction.notes.append(Note(CONTROLS_NOTE, controls_message(removed)))
    if used:
        said = ", ".join(f"{n} {kind} block(s)" for kind, n in sorted(used.items()))
        message = (
            f"read with the rules of target {rules.target or '(none)'}: {said} "
            f"(rules sha256 {rules.sha256[:12]})"
        )
        extraction.notes.append(Note(NOTE_KIND, message))
    return extraction


def _bounded(
    kind: str, items: list[Any], used: dict[str, int], read: dict[str, int], notes: list[Note]
) -> list[Any]:
    """``items`` cut to the page's bound; a cut, or blocks left unread, is noted (and so
    judged: the snapshot is degraded, see diff/health.py)."""
    limit = LIMITS[kind]
    if len(items) <= limit and used[kind] <= read[kind]:
        return items
    said = (
        f"{used[kind]:,} {kind} block(s) found by the rules on one page; only the first "
        f"{read[kind]:,} read and at most {limit:,} {_WHAT[kind]} kept"
    )
    notes.append(Note(RECORDS_CAPPED, said))
    return items[:limit]


def extract_with_rules(
    body: bytes, url: str, *, rules: Rules | None = None, **kwargs: Any
) -> PageExtraction:
    """The extraction entry point with the target's rules: the generic reading, then the
    rules on the pages they apply to."""
    extraction = extract_page(body, url, **kwargs)
    if not rules:
        return extraction
    return with_rules(rules, extraction, body)


def with_rules(rules: Rules, extraction: PageExtraction, body: bytes) -> PageExtraction:
    """Rules applied to a page the generic reader has read already (the crawl's spider
    reads every page for its links; the rules need not read it again for that)."""
    if not rules or extraction.error or extraction.encoding is None:
        return extraction
    if not rules.cover(extraction.final_url):
        return extraction
    from pilotarchive.extract.encoding import decode_html

    html = decode_html(body, extraction.content_type).text
    return apply_rules(rules, extraction, html)


__all__ = [
    "Rule",
    "RuleError",
    "Rules",
    "Selector",
    "apply_rules",
    "extract_with_rules",
    "parse_rules",
    "rules_from_json",
    "with_rules",
]
