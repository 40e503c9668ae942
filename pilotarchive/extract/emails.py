"""E-mail addresses: explicit, obfuscated, or given as a pattern for a named person.

The source is kept (``explicit``, ``deobfuscated``, ``pattern``) because a pattern-derived
address is a guess the page invites, not an address the page prints.

The patterns run over text of any length a page may hold, so they are linear: a match may
only start where an address can start (not inside a run of address characters), parts are
bounded by the limits RFC 5321 sets (64 characters before the ``@``, 63 per domain label)
and taken possessively, and the top-level domain is checked afterwards in Python instead of
by backtracking. ``"a-" * 60000`` once cost minutes here; see tests/test_linear.py.
"""

import re
from dataclasses import dataclass

from pilotarchive.extract.phrases import (
    EMAIL_FAMILY_PLACEHOLDERS,
    EMAIL_GIVEN_PLACEHOLDERS,
    EMAIL_TRANSLITERATION,
)

_LOCAL_CHARS = "A-Za-z0-9._%+-"
# Not after a character that could belong to the same address: one start per run. The
# check follows the first character, so that the engine can scan for that character in C
# instead of trying the look-behind at every position.
_LOCAL = rf"[A-Za-z0-9](?<![\w.@%+-].)[{_LOCAL_CHARS}]{{0,63}}+"
_LABEL = r"[A-Za-z0-9-]{1,63}+"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL}){{1,9}}+"
_EXPLICIT = re.compile(rf"({_LOCAL})@({_DOMAIN})")
_DOT_WORD = r"\s?\(dot\)\s?|\s?\[dot\]\s?|\s(?:dot|piste|punkt)\s"
_OBFUSCATED_DOMAIN = rf"{_LABEL}(?:(?:\.|{_DOT_WORD}){_LABEL}){{1,9}}+"
# The local part may hide its dots as the domain does: "leena(dot)makinen(at)raahe(dot)fi".
_OBFUSCATED_LOCAL = rf"{_LOCAL}(?:(?:{_DOT_WORD})[A-Za-z0-9][{_LOCAL_CHARS}]{{0,63}}+){{0,5}}+"
_OBFUSCATED = re.compile(
    rf"({_OBFUSCATED_LOCAL})"
    rf"(?:\s{{0,3}}(?:\(at\)|\[at\]|\{{at\}}|\(ät\)|\[ät\]|\(a\))\s{{0,3}}|\s(?:at|ät)\s)"
    rf"({_OBFUSCATED_DOMAIN})",
    re.IGNORECASE,
)
# What every obfuscated address holds: a bracket of "(at)", "[at]", "{at}", or " at " between
# spaces. A line without one (most lines) is not scanned at each of its letters.
_OBFUSCATION_HINT = re.compile(r"[(\[{]|\s[aä]t\s", re.IGNORECASE)
_DOT = re.compile(_DOT_WORD, re.IGNORECASE)
_TLD = re.compile(r"[A-Za-z]{2,63}")
_PLACEHOLDER_WORDS = EMAIL_GIVEN_PLACEHOLDERS | EMAIL_FAMILY_PLACEHOLDERS


@dataclass(frozen=True, slots=True)
class EmailFound:
    address: str | None  # None for a pattern not yet resolved for a person
    source: str  # "explicit", "deobfuscated", "pattern"
    pattern: str | None  # "etunimi.sukunimi@tem.fi" when source is "pattern"
    span: tuple[int, int]


def _is_placeholder(local: str) -> bool:
    words = re.split(r"[._-]", local.lower())
    return len(words) >= 2 and all(w in _PLACEHOLDER_WORDS for w in words)


def _domain(raw: str) -> tuple[str, int] | None:
    """The domain up to its last alphabetic label, and how many characters that drops.

    ``tem.fi`` stays; ``tem.fi.2014`` becomes ``tem.fi`` (the year is not part of it);
    a domain without an alphabetic top-level label is no domain.
    """
    labels = raw.split(".")
    while len(labels) >= 2 and not _TLD.fullmatch(labels[-1]):
        labels.pop()
    if len(labels) < 2:
        return None
    kept = ".".join(labels)
    return kept, len(raw) - len(kept)


def _found(local: str, domain: str, source: str, span: tuple[int, int]) -> EmailFound:
    if _is_placeholder(local):
        return EmailFound(None, "pattern", f"{local}@{domain}".lower(), span)
    return EmailFound(f"{local}@{domain}".lower(), source, None, span)


def find_emails(text: str) -> list[EmailFound]:
    """Every address or address pattern in ``text``, in order of appearance."""
    found: list[EmailFound] = []
    if "@" in text:
        for m in _EXPLICIT.finditer(text):
            checked = _domain(m.group(2))
            if not checked:
                continue
            domain, dropped = checked
            end = m.end() - dropped
            if not dropped and end < len(text) and (text[end].isalnum() or text[end] == "_"):
                continue  # "tem.fiä": the word goes on, so this is no address
            found.append(_found(m.group(1), domain, "explicit", (m.start(), end)))
    if _OBFUSCATION_HINT.search(text) is None:
        return found
    for m in _OBFUSCATED.finditer(text):
        if any(s <= m.start() < e for s, e in (f.span for f in found)):
            continue
        raw = m.group(2)
        checked = _domain(_DOT.sub(".", raw))
        if not checked:
            continue
        # The span covers what was written, a dropped tail ("(dot)2014") included.
        local = _DOT.sub(".", m.group(1))
        found.append(_found(local, checked[0], "deobfuscated", m.span()))
    found.sort(key=lambda f: f.span)
    return found


def _email_part(name: str) -> str:
    return "-".join(name.lower().translate(EMAIL_TRANSLITERATION).replace("’", "").split())


def resolve_pattern(pattern: str, given_name: str, family_name: str) -> str:
    """``etunimi.sukunimi@raahe.fi`` for Leena Mäkinen -> ``leena.makinen@raahe.fi``."""
    local, _, domain = pattern.partition("@")
    parts = re.split(r"([._-])", local.lower())
    out = []
    for part in parts:
        if part in EMAIL_GIVEN_PLACEHOLDERS:
            out.append(_email_part(given_name.split()[0]))
        elif part in EMAIL_FAMILY_PLACEHOLDERS:
            out.append(_email_part(family_name))
        else:
            out.append(part)
    return f"{''.join(out)}@{domain.lower()}"
