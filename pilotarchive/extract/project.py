"""The separate project, in every phrasing a ministry writer uses in fi, sv and en.

The seed says it in one sentence ("Lisäksi on käynnistetty seutukaupunkien rakennemuutoksen
hoitoon keskittyvä erillinen hanke, jota koordinoi Salon kaupunki (yhteystiedot ...)"), but
the same facts come as two sentences ("... on käynnistetty erillinen hanke. Sitä koordinoi
Salon kaupunki"), with the coordinator as the subject ("Salo stad samordnar ..."), as "the
coordinator is", "led by", "vastuutahona", "samordnare är". So the project is read from the
sentence that names it and the sentences after it: the coordinator from the first phrase
found (COORDINATOR_* tables), the theme from the first theme pattern that matches
(PROJECT_THEME_PATTERNS), read back to the nominative when the page inflects it
("hoitoon keskittyvä" is "hoito"), and the contact from the parentheses or a contact label.

A project whose theme no pattern finds keeps the clause as written, with a note: a record
without a theme would be rejected, and a lost project is worse than a long theme.
"""

import re
from functools import cache

from pilotarchive.extract.contacts import CONTACT_LABEL_RE, Contact, parse_contact_text
from pilotarchive.extract.notes import Note, capped
from pilotarchive.extract.patterns import Phrases, WordPhrases, joined, trie_pattern
from pilotarchive.extract.phrases import (
    COORDINATOR_ACTIVE_VERBS,
    COORDINATOR_AGENT_PHRASES,
    COORDINATOR_AROUND_PATTERNS,
    COORDINATOR_OBJECT_WORDS,
    COORDINATOR_PHRASES,
    FI_GENITIVES,
    FI_NOMINATIVE_ENDINGS,
    LANGUAGES,
    PROJECT_THEME_PATTERNS,
    PROJECT_WORDS,
    SENTENCE_LEADS,
)

PROJECT_RE = Phrases(trie_pattern({w for words in PROJECT_WORDS.values() for w in words}))
# Every project phrase begins with one of these stems ("erilli", "separa", "särski"): three
# substring searches (in C) tell the usual page without a project in a few microseconds,
# where the phrase pattern, starting at every "e" and "s" of the page, costs 0.2 ms.
# Without their first letter, the stems are the same in either case ("Erillinen hanke" at
# the start of a sentence): the first look needs no lower-cased copy of the page.
_STEMS = frozenset(w[1:6] for words in PROJECT_WORDS.values() for w in words)
# A sentence ends at ". " (or "! ", "? ") before a capital letter or a quote; "puh. 029"
# and "etunimi.sukunimi@" do not end one.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s{1,3}(?=[A-ZÅÄÖ\"'(])")
_COORDINATOR_END = re.compile(r"(?<!\s)\s*+(?:[.;()]|,(?=\s)|(?<=\s)[–—-](?=\s)|$)")
_PARENS = re.compile(r"\(([^()]{1,400}+)\)")
_CLAUSE_START = re.compile(r".*(?:[,;:(]|\s[–—-])\s", re.DOTALL)
_MAX_NAME = 80  # characters: an organisation's name, not a clause
FOLLOWING = 2  # sentences after the one naming the project that may name its coordinator


def languages_first(language: str | None) -> list[str]:
    return ([language] if language in LANGUAGES else []) + [
        lang for lang in LANGUAGES if lang != language
    ]


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split()).strip(" ,.;:–—-")
    return text or None


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


@cache
def _coordinator_re(language: str | None) -> tuple[Phrases, dict[str, str]]:
    """One pattern for every coordinator phrase, and what each phrase says of the order."""
    kinds: dict[str, str] = {}
    for lang in reversed(languages_first(language)):  # the page's language wins a tie
        for p in COORDINATOR_PHRASES[lang]:
            kinds[p] = "after"
        for p in COORDINATOR_ACTIVE_VERBS[lang]:
            kinds.setdefault(p, "active")
            if p in kinds and kinds[p] == "after":
                kinds[p] = "after-or-active"  # Finnish "koordinoi": the object decides
        for p in COORDINATOR_AGENT_PHRASES[lang]:
            kinds[p] = "agent"
    return WordPhrases(rf"(?:{trie_pattern(kinds)})(?!\w)"), kinds


@cache
def _around_res(language: str | None) -> list[Phrases]:
    return [
        Phrases(p) for lang in languages_first(language) for p in COORDINATOR_AROUND_PATTERNS[lang]
    ]


@cache
def _theme_res(language: str | None) -> list[tuple[Phrases, bool, str]]:
    return [
        (Phrases(p), inflected, lang)
        for lang in languages_first(language)
        for p, inflected in PROJECT_THEME_PATTERNS[lang]
    ]


def _strip_leads(text: str, language: str | None) -> str:
    """ "Lisäksi on käynnistetty seutukaupunkien ..." -> "seutukaupunkien ..."."""
    leads = {w for lang in languages_first(language) for w in SENTENCE_LEADS[lang]}
    words = text.split()
    while words and words[0].lower().strip(",") in leads:
        words.pop(0)
    return " ".join(words)


def _plausible(name: str | None) -> str | None:
    """An organisation's name: short, starting with a capital letter or a digit."""
    if not name or len(name) > _MAX_NAME or not (name[0].isupper() or name[0].isdigit()):
        return None
    return name


def _after(text: str, start: int) -> str | None:
    rest = text[start:]
    end = _COORDINATOR_END.search(rest)
    value = _clean(rest[: end.start()] if end else rest)
    if value and value.lower().startswith("the "):
        value = value[4:]
    return _plausible(value)


def _before(text: str, end: int, language: str | None) -> str | None:
    """The subject before a verb: back to the start of its clause, leads left out."""
    head = text[:end]
    if m := _CLAUSE_START.match(head):
        head = head[m.end() :]
    value = _clean(_strip_leads(head, language))
    if value and value.lower().startswith("the "):
        value = value[4:]
    # An adverb between the subject and its verb is no part of the name ("The City of
    # Salo also coordinates", "Salo stad samordnar dessutom" has it after the verb).
    words = (value or "").split()
    while len(words) > 1 and words[-1].lower() in _ADVERBS:
        words.pop()
    return _plausible(" ".join(words) or None)


_ADVERBS = frozenset(
    "also additionally further furthermore moreover myös lisäksi också även".split()
)


def nominative_organisation(name: str) -> str:
    """ "Salon kaupungin" -> "Salon kaupunki": only the word that ends the name changes."""
    words = name.split()
    if words and (base := FI_GENITIVES.get(words[-1].lower())):
        words[-1] = base
    return " ".join(words)


def find_coordinator(text: str, language: str | None) -> str | None:
    """The coordinator named in ``text`` (one sentence), or None."""
    pattern, kinds = _coordinator_re(language)
    for m in pattern.finditer(text):
        kind = kinds.get(m.group(0).lower(), "after")
        if kind == "after-or-active":
            following = text[m.end() :].split(None, 1)
            is_object = bool(following) and following[0].lower() in COORDINATOR_OBJECT_WORDS
            kind = "active" if is_object else "after"
        if kind == "after":
            value = _after(text, m.end())
        elif kind == "agent":
            value = _before(text, m.start(), language)
            value = nominative_organisation(value) if value else None
        else:
            value = _before(text, m.start(), language)
        if value:
            return value
    for around in _around_res(language):
        am = around.search(text)
        if am is None:
            continue
        written = text[am.start("coordinator") : am.end("coordinator")]  # not lower-cased
        if value := _plausible(_clean(_strip_leads(written, language))):
            return value
    return None


def nominative(phrase: str) -> str:
    """A Finnish noun phrase whose head (its last word) is inflected, in the nominative."""
    head, _, last = phrase.rpartition(" ")
    low = last.lower()
    for ending, base in FI_NOMINATIVE_ENDINGS:
        if low.endswith(ending) and len(low) > len(ending) + 1:
            last = last[: len(last) - len(ending)] + base
            break
    return f"{head} {last}" if head else last


def find_theme(text: str, language: str | None) -> str | None:
    """The project's theme in one sentence, as a noun phrase, or None."""
    for pattern, inflected, lang in _theme_res(language):
        m = pattern.search(text)
        if not m:
            continue
        theme = _clean(_strip_leads(text[m.start("theme") : m.end("theme")], lang))
        if not theme or len(theme) < 3:
            continue
        if inflected and lang == "fi":
            theme = nominative(theme)
        return theme
    return None


def _contact(unit: list[str], language: str | None) -> Contact | None:
    for sentence in unit:
        for m in _PARENS.finditer(sentence):
            if contact := parse_contact_text(m.group(1), language, "project_contact"):
                return contact
        if (label := CONTACT_LABEL_RE.search(sentence)) and (
            contact := parse_contact_text(sentence[label.start() :], language, "project_contact")
        ):
            return contact
    return None


def parse_project(lines: list[str], language: str | None, notes: list[Note] | None = None):
    """The separate project: the sentence naming it and up to ``FOLLOWING`` after it (also
    at the start of the next paragraph). Returns a ``pilots.Pilot`` of kind "project"."""
    from pilotarchive.extract.pilots import Pilot  # pilots.py imports this module

    text = joined(lines)
    if not any(stem in text for stem in _STEMS):
        return None
    if not PROJECT_RE.search(text):
        return None
    for i, line in enumerate(lines):
        if not PROJECT_RE.search(line):
            continue
        said = sentences(capped(line, "the project's paragraph", notes))
        k = next((n for n, s in enumerate(said) if PROJECT_RE.search(s)), 0)
        unit = said[k : k + 1 + FOLLOWING]
        if len(unit) <= FOLLOWING and i + 1 < len(lines):
            unit += sentences(capped(lines[i + 1], "a paragraph", notes))[
                : 1 + FOLLOWING - len(unit)
            ]
        coordinator = next((c for s in unit if (c := find_coordinator(s, language))), None)
        if coordinator is None:
            continue
        theme = next((t for s in unit if (t := find_theme(s, language))), None)
        if theme is None:
            theme = _clean(_strip_leads(unit[0].split("(")[0], language))
            if notes is not None:
                message = "the project's theme was not recognised; its sentence is the theme"
                notes.append(Note("theme_as_written", message))
        return Pilot(
            kind="project",
            theme=theme,
            coordinator=coordinator,
            contact=_contact(unit, language),
            municipalities=[],
            form="sentence",
        )
    return None
