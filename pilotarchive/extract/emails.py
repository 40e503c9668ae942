"""E-mail addresses: explicit, obfuscated, or given as a pattern for a named person.

The source is kept (``explicit``, ``deobfuscated``, ``pattern``) because a pattern-derived
address is a guess the page invites, not an address the page prints.
"""

import re
from dataclasses import dataclass

from pilotarchive.extract.phrases import (
    EMAIL_FAMILY_PLACEHOLDERS,
    EMAIL_GIVEN_PLACEHOLDERS,
    EMAIL_TRANSLITERATION,
)

_LOCAL = r"[A-Za-z0-9][A-Za-z0-9._%+-]*"
_DOMAIN = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_EXPLICIT = re.compile(rf"(?<![\w.@])({_LOCAL})@({_DOMAIN})\b")
_OBFUSCATED_DOMAIN = _DOMAIN.replace(r"\.", r"(?:\.|\s?\(dot\)\s?|\s?\[dot\]\s?)")
_OBFUSCATED = re.compile(
    rf"(?<![\w.@])({_LOCAL})\s*(?:\(at\)|\[at\]|\{{at\}}|\(ät\)|\[ät\]|\(a\)|\s(?:at|ät)\s)\s*"
    rf"({_OBFUSCATED_DOMAIN})\b",
    re.IGNORECASE,
)
_DOT = re.compile(r"\s?(?:\(dot\)|\[dot\])\s?", re.IGNORECASE)
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


def find_emails(text: str) -> list[EmailFound]:
    """Every address or address pattern in ``text``, in order of appearance."""
    found: list[EmailFound] = []
    for m in _EXPLICIT.finditer(text):
        local, domain = m.group(1), m.group(2)
        if _is_placeholder(local):
            found.append(EmailFound(None, "pattern", f"{local}@{domain}".lower(), m.span()))
        else:
            found.append(EmailFound(f"{local}@{domain}".lower(), "explicit", None, m.span()))
    for m in _OBFUSCATED.finditer(text):
        if any(s <= m.start() < e for s, e in (f.span for f in found)):
            continue
        local, domain = m.group(1), _DOT.sub(".", m.group(2))
        if _is_placeholder(local):
            found.append(EmailFound(None, "pattern", f"{local}@{domain}".lower(), m.span()))
        else:
            found.append(EmailFound(f"{local}@{domain}".lower(), "deobfuscated", None, m.span()))
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
