"""Phone numbers after "puh.", "p.", "tfn", "tel." in any spacing, as E.164.

phonenumbers knows the Finnish numbering plan (029 government numbers, mobile prefixes),
which hand-written rules would get wrong.
"""

import re

import phonenumbers

from pilotarchive.extract.phrases import PHONE_LABELS

_LABELS = "|".join(sorted(map(re.escape, PHONE_LABELS), key=len, reverse=True))
_PHONE = re.compile(
    rf"(?<![\w])(?:{_LABELS})\.?\s*:?\s*(?P<number>\+?\(?\d[\d\s()/-]{{4,18}}\d)", re.IGNORECASE
)


def find_phones(text: str) -> list[tuple[str, tuple[int, int]]]:
    """``[(e164, span)]`` for every labelled number that is a possible Finnish number."""
    out = []
    for m in _PHONE.finditer(text):
        raw = m.group("number")
        try:
            number = phonenumbers.parse(raw, "FI")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            out.append(
                (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), m.span())
            )
    return out
