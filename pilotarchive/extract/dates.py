"""Update dates: the phrase a page prints, then its metadata, then the HTTP header.

Every result keeps the text as written and where it came from, so a researcher can tell a
date the editors typed from one a server made up.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime

from pilotarchive.extract.patterns import Phrases, trie_pattern
from pilotarchive.extract.phrases import MONTHS, UPDATE_LABELS

_MONTH_NAMES = "|".join(sorted(map(re.escape, MONTHS), key=len, reverse=True))
# Every repetition is bounded (a few spaces, not any number): linear on any text.
_TIME = r"(?:\s{0,3}(?:klo|kl\.?|at|,)?\s{0,3}(?P<hh>\d{1,2})[.:](?P<mi>\d{2}))?"
_DATE_PATTERNS = (
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[T ](?P<hh>\d{2}):(?P<mi>\d{2}))?"),
    re.compile(r"(?P<d>\d{1,2})\.\s?(?P<m>\d{1,2})\.\s?(?P<y>\d{4})" + _TIME),
    re.compile(
        rf"(?P<d>\d{{1,2}})\.?\s{{1,3}}(?P<mon>{_MONTH_NAMES})\.?\s{{1,3}}(?P<y>\d{{4}})" + _TIME,
        re.IGNORECASE,
    ),
    re.compile(
        rf"(?P<mon>{_MONTH_NAMES})\.?\s{{1,3}}(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s{{1,3}}(?P<y>\d{{4}})"
        + _TIME,
        re.IGNORECASE,
    ),
    re.compile(r"(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})"),
)
_LABEL = Phrases(
    r"(?P<label>"
    + trie_pattern({x for v in UPDATE_LABELS.values() for x in v})
    + r")\s{0,3}:?\s{0,3}"
)


MAX_LINE = 200  # an update note is a short line of its own
_WEEKDAY = re.compile(
    r"^\s*\(?\s*(?:maanantai|tiistai|keskiviikko|torstai|perjantai|lauantai|sunnuntai|ma|ti|ke|to|"
    r"pe|la|su|måndag|tisdag|onsdag|torsdag|fredag|lördag|söndag|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)\b\.?,?\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class UpdateDate:
    date: str  # ISO 8601 date
    time: str | None  # HH:MM when the page gives one
    text: str  # the phrase as written
    source: str  # "text", "meta:<name>", "http-last-modified"


def parse_date(text: str) -> tuple[date, str | None, re.Match[str]] | None:
    """Find the first date in ``text``; return it, an optional HH:MM and the match."""
    best: tuple[date, str | None, re.Match[str]] | None = None
    for pattern in _DATE_PATTERNS:
        m = pattern.search(text)
        if not m or (best and best[2].start() <= m.start()):
            continue
        groups = m.groupdict()
        month = MONTHS[groups["mon"].lower()] if groups.get("mon") else int(groups["m"])
        try:
            value = date(int(groups["y"]), month, int(groups["d"]))
        except ValueError:
            continue
        hh, mi = groups.get("hh"), groups.get("mi")
        clock = f"{int(hh):02d}:{mi}" if hh and mi and int(hh) < 24 and int(mi) < 60 else None
        best = (value, clock, m)
    return best


def find_update_date(lines: list[str]) -> UpdateDate | None:
    """The first line with an update label followed by a date.

    One regex pass over the joined lines finds the candidates; a pass per line costs more
    in call overhead than in matching. Only lines of up to ``MAX_LINE`` characters can hold
    an update note, so only those are joined: finding a label's line then costs a bounded
    search, however long the page's other lines are.
    """
    text = "\n".join([line for line in lines if len(line) <= MAX_LINE])
    for label in _LABEL.finditer(text):
        start = text.rfind("\n", 0, label.start()) + 1
        end = text.find("\n", label.end())
        line = text[start : end if end >= 0 else len(text)]
        rest = text[label.end() : start + len(line)]
        weekday = _WEEKDAY.match(rest)  # "keskiviikko, 19. marraskuuta 2014"
        skipped = weekday.end() if weekday else 0
        found = parse_date(rest[skipped:])
        if found and found[2].start() <= 3:
            value, clock, m = found
            phrase = text[label.start() : label.end() + skipped + m.end()].strip()
            return UpdateDate(value.isoformat(), clock, phrase, "text")
    return None


def date_from_meta(name: str, content: str) -> UpdateDate | None:
    content = content.strip()
    try:
        value = datetime.fromisoformat(content.replace("Z", "+00:00"))
        clock = value.strftime("%H:%M") if "T" in content or " " in content else None
        return UpdateDate(value.date().isoformat(), clock, content, f"meta:{name}")
    except ValueError:
        found = parse_date(content)
        if found:
            return UpdateDate(found[0].isoformat(), found[1], content, f"meta:{name}")
    return None


def date_from_http(last_modified: str) -> UpdateDate | None:
    try:
        value = parsedate_to_datetime(last_modified)
    except (TypeError, ValueError, IndexError):
        return None
    if value is None:
        return None
    return UpdateDate(
        value.date().isoformat(), value.strftime("%H:%M"), last_modified, "http-last-modified"
    )
