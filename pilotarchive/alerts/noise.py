"""What is not news: differences a subscriber would unsubscribe over.

The archive's diff keeps every difference (it is the record of what the pages said); an
alert says only what a reader would call a change. Not news:

* whitespace and letter case ("Teollisuuden  rakennemuutos" / "teollisuuden rakennemuutos",
  a capital letter after a markup-only redesign);
* a link whose URL only reorders its query, re-encodes its characters (``%C3%A4`` / ``ä``),
  changes the case of its host, or gains or loses tracking parameters (``utm_*``,
  ``fbclid``...);
* the language links of a page (``alternates``): they move with the CMS, not with the
  content, and a page that appears or disappears in a language is said as such;
* a partner list in another order;
* a text change of a page whose lines differ only in the ways above;
* the fields a target ignores in its configuration (``ignore_fields``).
"""

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Fields never alerted, per record type.
NOT_NEWS = {"page": frozenset({"alternates"})}
UNORDERED = frozenset({"municipalities"})  # lists whose order carries no meaning
TRACKING = re.compile(
    r"^(utm_[a-z_]*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|igshid|mc_cid|mc_eid|"
    r"_ga|_gl|_hsenc|_hsmi|mkt_tok|ref_src|oly_[a-z_]+|vero_[a-z_]+)$",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")
_DEFAULT_PORT = {"http": 80, "https": 443}
KIND_OF_RECORD = {"pilot": "pilot", "contact": "person", "page": "page"}


def looks_like_url(text: str) -> bool:
    return text.startswith(("http://", "https://", "/")) and " " not in text.strip()


def canonical_url(url: str) -> str:
    """A link as the same link, however written: scheme and host in lower case, default
    port dropped, characters decoded and encoded once, query sorted, tracking parameters
    and the fragment dropped."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if port is not None and port != _DEFAULT_PORT.get(scheme):
        host = f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~") or ("/" if host else "")
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING.match(k)
    )
    return urlunsplit((scheme, host, path, urlencode(query), ""))


def canonical(value: Any, field: str = "") -> Any:
    """``value`` with what is not news taken out, for comparison only."""
    if isinstance(value, str):
        if looks_like_url(value):
            return canonical_url(value)
        text = unicodedata.normalize("NFC", value)
        return _SPACE.sub(" ", text).strip().casefold()
    if isinstance(value, dict):
        return {k: canonical(v, k) for k, v in value.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        items = [canonical(v, field) for v in value]
        if field in UNORDERED:
            return sorted(items, key=repr)
        return items
    return value


def _empty(value: Any) -> bool:
    return value in (None, "", [], {})


def same(old: Any, new: Any, field: str = "") -> bool:
    """Whether two values differ only in what is not news."""
    if _empty(old) and _empty(new):
        return True
    return bool(canonical(old, field) == canonical(new, field))


def text_is_noise(lines: Iterable[str]) -> bool:
    """A unified diff of a page's text whose removed and added lines are the same lines
    once whitespace and case are set aside (a reflow, a capital letter)."""
    removed: Counter[str] = Counter()
    added: Counter[str] = Counter()
    for line in lines:
        if line.startswith(("---", "+++", "@@", "...")):
            continue
        if line.startswith("-"):
            removed[canonical(line[1:])] += 1
        elif line.startswith("+"):
            added[canonical(line[1:])] += 1
    removed.pop("", None)
    added.pop("", None)
    return removed == added


def parse_ignored(entries: Iterable[str]) -> frozenset[tuple[str, str]]:
    """``ignore_fields`` entries ("updated", "person.phone", "pilot.theme") as (kind,
    field) pairs; "*" stands for every kind."""
    out = set()
    for entry in entries:
        kind, _, field = entry.rpartition(".")
        out.add((kind or "*", field))
    return frozenset(out)


def ignored(kind: str, field: str, rules: frozenset[tuple[str, str]]) -> bool:
    """Whether a field of an entity kind ("pilot", "project", "person", "page") is not
    alerted: by the archive's own rule or by the target's configuration. A project is a
    kind of pilot record, so "pilot.x" covers it too."""
    record_type = "pilot" if kind == "project" else ("contact" if kind == "person" else kind)
    if field in NOT_NEWS.get(record_type, ()):
        return True
    kinds = {kind, "*", "pilot" if kind == "project" else kind}
    if kind == "person":
        kinds.add("contact")
    return any((k, field) in rules for k in kinds)
