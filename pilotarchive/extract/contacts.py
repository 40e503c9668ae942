"""Contact persons: a name with its title, e-mail and phone, from one line or a few.

A contact box writes each person either on one line ("Konsultativ tjänsteman Olli Alho,
tfn 029 506 3591, olli.alho(at)tem.fi") or over several (name, then "puh.", then e-mail).
Lines are grouped: a line with a name starts a person, phone and e-mail lines join it.
"""

import re
from dataclasses import dataclass, replace

from pilotarchive.extract.emails import find_emails, resolve_pattern
from pilotarchive.extract.names import PersonName, parse_person, split_title
from pilotarchive.extract.patterns import WordPhrases, trie_pattern
from pilotarchive.extract.phones import find_phones, to_e164
from pilotarchive.extract.phrases import (
    CONTACT_LABELS,
    HOST_ORGANIZATION_WORDS,
    ORGANIZATION_PREFIXES,
    ORGANIZATION_WORD_ENDINGS,
)

# "Yhteyshenkilö:", "Kontaktperson", "Contact:" before a person.
CONTACT_LABEL_RE = WordPhrases(
    r"(?:" + trie_pattern({x for v in CONTACT_LABELS.values() for x in v}) + r")\s{0,3}:?\s{0,3}"
)


@dataclass(frozen=True, slots=True)
class Contact:
    person: PersonName
    email: str | None
    email_source: str | None
    phone: str | None
    organization: str | None
    role: str

    def with_pattern(self, pattern: str) -> "Contact":
        """Apply a page-level "etunimi.sukunimi@domain" note to a contact without e-mail.

        Such a note on a ministry page speaks of the ministry's staff: a person stated to
        work elsewhere ("Lovisa stad") is not covered by it.
        """
        if self.email or (
            self.organization
            and not any(w in self.organization.lower() for w in HOST_ORGANIZATION_WORDS)
        ):
            return self
        address = resolve_pattern(pattern, self.person.given_name, self.person.family_name)
        return replace(self, email=address, email_source="pattern")


@dataclass(frozen=True, slots=True)
class LineParts:
    person: PersonName | None
    emails: list[tuple[str | None, str, str | None]]  # (address, source, pattern)
    phones: list[str]
    rest: str
    organization: str | None = None


def _organization(chunk: str) -> str | None:
    words = chunk.split()
    if not words or _DIGIT.search(chunk):
        return None
    low = chunk.lower()
    if low.startswith(ORGANIZATION_PREFIXES) or words[-1].lower().endswith(
        ORGANIZATION_WORD_ENDINGS
    ):
        return chunk.strip(" .")
    return None


# Linear on any text: possessive runs, and a separator starts only where a space run starts.
_DIGIT = re.compile(r"\d")
_EMPTY_PARENS = re.compile(r"\(\s*+(?:,\s*+)*+\)")  # what "(olli.alho@tem.fi)" leaves
_SEPARATORS = re.compile(r"(?<!\s)\s*+[,;|–]\s*+|(?<!\s)\s++-\s++")


# A number alone between a person line's separators, without a label: "029 506 3591",
# "+358 29 506 3591", "(09) 1606 3591": a national 0 or an international + first.
_BARE_PHONE = re.compile(r"(?:^|(?<=[,;|]))\s*((?:\+|\(?0)[\d ()-]{4,18}\d)\s*(?=[,;|]|$)")


_TITLE_IN_PARENS = re.compile(r"^([^(),]{3,60}?)\s*\(([^()\d@]{3,60})\)\s*,?")


def _bare_phone(line: str) -> tuple[str, tuple[int, int]] | None:
    """The first unlabelled number standing alone between a line's separators, when it is a
    possible Finnish number of 7 to 13 digits (a year or a postcode is neither)."""
    for m in _BARE_PHONE.finditer(line):
        number = m.group(1)
        if 7 <= sum(ch.isdigit() for ch in number) <= 13 and (e164 := to_e164(number)):
            return e164, m.span(1)
    return None


def split_line(line: str, language: str | None, default_order: str | None = None) -> LineParts:
    """Take e-mails and phones out of a line; what is left may be a person."""
    cuts: list[tuple[int, int]] = []
    emails = []
    for found in find_emails(line):
        emails.append((found.address, found.source, found.pattern))
        cuts.append(found.span)
    phones = []
    for e164, span in find_phones(line):
        phones.append(e164)
        cuts.append(span)
    if not phones and (bare := _bare_phone(line)):
        phones.append(bare[0])  # "Olli Alho, Neuvotteleva virkamies, 029 506 3591, ..."
        cuts.append(bare[1])
    rest = line
    for start, end in sorted(cuts, reverse=True):
        rest = rest[:start] + " , " + rest[end:]
    rest = _EMPTY_PARENS.sub(" , ", " ".join(rest.split()))
    # "Leena Mäkinen (elinkeinojohtaja)": a title in brackets after the name
    rest = _TITLE_IN_PARENS.sub(r"\1, \2,", rest, count=1)
    # "Anttonen, Lari" keeps its comma; anything after a second separator is not the name.
    chunks = [c for c in _SEPARATORS.split(rest) if c]
    # The name is in the first chunk, or the first two when a comma splits it.
    for used in (2, 1) if len(chunks) >= 2 else (1,) if chunks else ():
        candidate = ", ".join(chunks[:used])
        if _organization(candidate):
            continue  # "Yrityssalo Oy" has the shape of a name but is a company
        if person := parse_person(candidate, language, default_order):
            organization = next(
                (org for chunk in chunks[used:] if (org := _organization(chunk))), None
            )
            if person.title is None and used < len(chunks):
                # "Leena Mäkinen, elinkeinojohtaja": the title after the name
                title, after = split_title(chunks[used].strip(), language)
                if title and not after.strip(" .,"):
                    person = replace(person, title=title)
            return LineParts(person, emails, phones, rest, organization)
    return LineParts(None, emails, phones, rest)


def _make(
    person: PersonName,
    emails: list[tuple[str | None, str, str | None]],
    phones: list[str],
    role: str,
    organization: str | None,
) -> Contact:
    """One contact from a person and what was found with them."""
    email = source = None
    for address, how, pattern in emails:
        if address:
            email, source = address, how
            break
        if pattern:
            email = resolve_pattern(pattern, person.given_name, person.family_name)
            source = "pattern"
            break
    return Contact(person, email, source, phones[0] if phones else None, organization, role)


def parse_contact_text(
    text: str, language: str | None, role: str, organization: str | None = None
) -> Contact | None:
    """One person written on one line, as inside a pilot entry, after an optional label."""
    label = CONTACT_LABEL_RE.match(text.strip())
    parts = split_line(text.strip()[label.end() :] if label else text, language)
    if not parts.person:
        return None
    return _make(parts.person, parts.emails, parts.phones, role, organization or parts.organization)


@dataclass(slots=True)
class _Group:
    """One person of a contact block and what the following lines add to them."""

    person: PersonName
    emails: list[tuple[str | None, str, str | None]]
    phones: list[str]
    organization: str | None


# "Lisätietoja antavat neuvotteleva virkamies Olli Alho, puh. 029 506 3591, ja
# ylitarkastaja Lari Anttonen, puh. 029 504 7032": two persons joined in one sentence.
_AND = re.compile(r",?\s+(?:ja|och|and|sekä)\s+", re.IGNORECASE)
_NEXT_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ])")


def _persons_in_a_sentence(line: str) -> list[str]:
    """A line naming several persons, each with a number or an address, joined by "ja",
    "och" or "and", as one line per person; any other line as it is ("Raahe ja Kalajoki",
    a title with "ja" in it, stay whole)."""
    if len(line) > 600 or len(find_phones(line)) + len(find_emails(line)) < 2:
        return [line]
    # Each sentence on its own ("... olli.alho(at)tem.fi. Ylitarkastaja Lari Anttonen, ...";
    # "Sähköpostiosoitteet ovat muotoa etunimi.sukunimi@tem.fi." speaks of them all), and
    # in a sentence, persons joined by "ja", "och", "and" each with a number or an address.
    out = []
    for sentence in _NEXT_SENTENCE.split(line):
        parts = _AND.split(sentence)
        if len(parts) >= 2 and all(find_phones(p) or find_emails(p) for p in parts):
            out += parts
        else:
            out.append(sentence)
    return out


def parse_contact_block(
    lines: list[str], language: str | None, role: str
) -> tuple[list[Contact], list[str]]:
    """Group lines into persons; return them and any page-level e-mail patterns found."""
    groups: list[_Group] = []
    patterns: list[str] = []
    lines = [part for line in lines for part in _persons_in_a_sentence(line)]
    parsed = [split_line(line, language) for line in lines]
    # A block's convention: the order its unambiguous names use decides the ambiguous ones.
    orders = [
        p.person.order
        for p in parsed
        if p.person and not p.person.ambiguous and p.person.order != "family-comma-given"
    ]
    majority = max(sorted(set(orders)), key=orders.count) if orders else None
    waiting: str | None = None  # a title on the line before a name without one
    for i, parts in enumerate(parsed):
        if parts.person and parts.person.ambiguous and majority:
            parsed[i] = parts = split_line(lines[i], language, majority)
        if parts.person:
            person = parts.person
            if waiting and person.title is None:
                person = replace(person, title=waiting)
            waiting = None
            groups.append(
                _Group(person, list(parts.emails), list(parts.phones), parts.organization)
            )
            continue
        title, rest = (None, "")
        if not parts.emails and not parts.phones:
            title, rest = split_title(lines[i].strip(" ,.:"), language)
        nxt = parsed[i + 1].person if i + 1 < len(parsed) else None
        if title and not rest and nxt is not None and nxt.title is None and (
            not groups or groups[-1].person.title is not None or groups[-1].emails
            or groups[-1].phones
        ):  # fmt: skip
            # "Neuvotteleva virkamies" then "Olli Alho": the title of the name that follows,
            # when the person before is complete (titled, or with a number or an address).
            waiting = title
            continue
        only_patterns = all(a is None for a, _, _ in parts.emails) and not parts.phones
        # A note such as "Sähköpostiosoitteet muotoa etunimi.sukunimi@tem.fi" (words around
        # the pattern), or a pattern before any person: it applies to the whole block.
        if (
            parts.emails
            and only_patterns
            and (not groups or any(ch.isalpha() for ch in parts.rest.replace(",", "")))
        ):
            patterns.extend(p for _, _, p in parts.emails if p)
            continue
        if groups:
            group = groups[-1]
            group.emails.extend(parts.emails)
            group.phones.extend(parts.phones)
            title, rest = (
                split_title(lines[i].strip(" ,.:"), language)
                if group.person.title is None and not parts.emails and not parts.phones
                else (None, "")
            )
            if title and not rest:
                # "Olli Alho" then "Neuvotteleva virkamies": the title on the next line
                group.person = replace(group.person, title=title)
            elif group.organization is None and not parts.emails and not parts.phones:
                group.organization = _organization(parts.rest.strip(" ,"))
    contacts = [_make(g.person, g.emails, g.phones, role, g.organization) for g in groups]
    if patterns:
        contacts = [c.with_pattern(patterns[0]) for c in contacts]
    return contacts, patterns


def contact_from_microdata(
    props: dict[str, str], language: str | None, role: str
) -> Contact | None:
    """A schema.org ``Person`` (name or givenName/familyName, jobTitle, email, telephone,
    worksFor) as a contact; the name is read like a written one when only ``name`` is given.
    """
    title = props.get("jobTitle") or None
    given, family = props.get("givenName"), props.get("familyName")
    person: PersonName | None
    if given and family:
        person = PersonName(given, family, title, "given-family")
    else:
        person = parse_person(props.get("name") or "", language)
        if person is not None and title:
            person = replace(person, title=title)
    if person is None:
        return None
    emails = [(f.address, f.source, f.pattern) for f in find_emails(props.get("email") or "")]
    phone = to_e164(props["telephone"]) if props.get("telephone") else None
    organization = props.get("worksFor") or props.get("affiliation") or None
    return _make(person, emails, [phone] if phone else [], role, organization)
