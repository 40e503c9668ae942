"""Person names and titles as ministry pages write them.

Finnish directories write "Title Family Given" ("Neuvotteleva virkamies Alho Olli") or
"Title Family, Given" ("Ylitarkastaja Anttonen, Lari"); English pages and running text write
"Given Family". Position alone cannot tell them apart, so the comma, a list of given names,
Finnish family-name endings and the page's own convention decide, in that order.
"""

import re
from dataclasses import dataclass
from functools import cache

from pilotarchive.extract.phrases import FAMILY_NAME_ENDINGS, GIVEN_NAMES, TITLES

_TITLES_BY_LENGTH: dict[str, tuple[str, ...]] = {
    lang: tuple(sorted(set(titles), key=len, reverse=True)) for lang, titles in TITLES.items()
}
_NAME_TOKEN = re.compile(r"^[A-ZÅÄÖÉÜ][a-zåäöéüæø'’]+(?:-[A-ZÅÄÖÉÜ][a-zåäöéüæø'’]+)?$")


@dataclass(frozen=True, slots=True)
class PersonName:
    given_name: str
    family_name: str
    title: str | None
    order: str  # "given-family", "family-given", "family-comma-given"
    ambiguous: bool = False  # the order came from a convention, not from the name itself

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


@cache
def _title_re(language: str | None) -> re.Pattern[str]:
    """Every title, the page's language first and each language's longest first (as one
    ordered alternation: one match call instead of a loop over some eighty titles), and not
    followed by a letter ("Johtaja" is no title in "Johtajan")."""
    languages = [language] if language in _TITLES_BY_LENGTH else []
    languages += [lang for lang in _TITLES_BY_LENGTH if lang != language]
    titles = [re.escape(t) for lang in languages for t in _TITLES_BY_LENGTH[lang]]
    return re.compile(rf"(?:{'|'.join(titles)})(?![^\W\d_])", re.IGNORECASE)


def split_title(text: str, language: str | None) -> tuple[str | None, str]:
    """Strip a civil-service title from the start; page language first, then the others."""
    m = _title_re(language).match(text)
    if m is None:
        return None, text
    return text[: m.end()], text[m.end() :].lstrip(" ,:")


def _given_score(token: str) -> int:
    """Positive: looks like a given name; negative: looks like a family name."""
    parts = token.lower().split("-")
    score = 2 if all(p in GIVEN_NAMES for p in parts) else 0
    if token.lower().endswith(FAMILY_NAME_ENDINGS):
        score -= 2
    return score


def looks_like_name(text: str) -> bool:
    tokens = text.replace(",", " ").split()
    return 2 <= len(tokens) <= 4 and all(_NAME_TOKEN.match(t) for t in tokens)


def parse_person(
    text: str, language: str | None, default_order: str | None = None
) -> PersonName | None:
    """Read "Title Name" in any of the orders; None when no name is there.

    ``default_order`` is the convention of the block the line came from, used only when
    neither the comma nor the name lists can tell.
    """
    text = " ".join(text.split()).strip(" ,.;:–-")
    title, rest = split_title(text, language)
    if "," in rest:
        family, _, given = rest.partition(",")
        family, given = family.strip(), given.strip()
        if split_title(given, language)[0] and not split_title(given, language)[1].strip(" ."):
            return None  # "Leena Mäkinen, Näringslivsdirektör": a title after the name
        if looks_like_name(f"{given} {family}"):
            return PersonName(given, family, title, "family-comma-given")
        return None
    if not looks_like_name(rest):
        return None
    tokens = rest.split()
    if len(tokens) == 2:
        first, second = tokens
        score = _given_score(first) - _given_score(second)
        ambiguous = score == 0
        if ambiguous:
            order = default_order or (
                "family-given" if title and language in ("fi", "sv") else "given-family"
            )
        else:
            order = "given-family" if score > 0 else "family-given"
        if order == "family-given":
            return PersonName(second, first, title, order, ambiguous)
        return PersonName(first, second, title, order, ambiguous)
    # Three or four tokens: several given names ("Anna Maria Virtanen") or a double family
    # name; the side whose tokens are given names holds them.
    if _given_score(tokens[0]) >= _given_score(tokens[-1]):
        return PersonName(" ".join(tokens[:-1]), tokens[-1], title, "given-family")
    return PersonName(" ".join(tokens[1:]), tokens[0], title, "family-given")
