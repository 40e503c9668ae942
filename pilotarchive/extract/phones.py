"""Phone numbers after "puh.", "p.", "tfn", "tel." in any spacing, as E.164.

phonenumbers knows the Finnish numbering plan (029 government numbers, mobile prefixes),
which hand-written rules would get wrong. The pattern starts only at a label word and every
repetition in it is bounded, so its cost is linear in the text however the text is built.
"""

from functools import lru_cache

import phonenumbers

from pilotarchive.extract.patterns import WordPhrases, trie_pattern
from pilotarchive.extract.phrases import PHONE_LABELS

_PHONE = WordPhrases(
    rf"(?:{trie_pattern(PHONE_LABELS)})\.?\s{{0,3}}:?\s{{0,3}}"
    r"(?P<number>\+?\(?\d[\d\s()/-]{4,18}\d)"
)


@lru_cache(maxsize=4096)
def to_e164(raw: str) -> str | None:
    """A number as written -> E.164, or None. Cached: a site repeats its numbers on every
    language version of every page, and parsing is the costly part."""
    try:
        number = phonenumbers.parse(raw, "FI")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_phones(text: str) -> list[tuple[str, tuple[int, int]]]:
    """``[(e164, span)]`` for every labelled number that is a possible Finnish number."""
    out = []
    for m in _PHONE.finditer(text):
        if e164 := to_e164(m.group("number")):
            out.append((e164, m.span()))
    return out
