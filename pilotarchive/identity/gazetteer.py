"""The gazetteer of Finland's municipalities: one place per town, in every way a page names it.

The pilots page names a coordinating town and partner municipalities in Finnish ("Raahen
kaupunki"), Swedish ("Brahestads stad", "staden Lovisa") and English ("City of Raahe"). To
know that these are one pilot across languages and over years, the archive needs to know
that they are one town. A hand-typed table of some 70 places missed towns as soon as a page
named a new one (issue 17), so the table is now every municipality of Finland as of 2014
(320) and of today (308), with the mergers between, read from ``municipalities.csv`` beside
this module (its sources are in ``municipalities.md``).

An old name resolves to the municipality it names *and* to the one that is there today:
``resolve("Nastolan kunta")`` is Nastola, and ``.current`` is Lahti, which Nastola joined in
2016. Two strings are the same place when they resolve to the same municipality today.

A town that is not in the table (a spelling the page invents, or a table that lags behind a
future merger) still aligns across languages by the similarity of its stem, so "Kemijärven
kaupunki" and "Kemijärvi stad" are one place even without a row for Kemijärvi.

Plain Python: no Scrapy, nothing but the standard library, so the extractors, the register
and the tests can all use it.
"""

import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources

from pilotarchive.exceptions import PilotarchiveError

DATA_FILE = "municipalities.csv"

# Two stems this similar (difflib ratio, 0..1) are one place. At 0.8 a genitive and its
# nominative meet ("turu"/"turk" 0.86, "utsj"/"utsjok" 0.8) while neighbours with a shared
# second part stay apart ("kaski"/"kausti" 0.73, "yliviesk"/"alaviesk" 0.75,
# "pyhäjok"/"pyhäjärv" 0.67). The stems must also share their first two letters.
STEM_THRESHOLD = 0.8

# Words around a town's name that say what kind of body it is, not which town. They are
# stripped from the start and the end of a name before it is looked up, in all three
# languages and with their genitive or definite forms.
_LEADING_WORDS = frozenset(
    "the city town municipality region of staden kommunen stad kommun".split()
)
_TRAILING_WORDS = frozenset(
    """kaupunki kaupungin kunta kunnan seutukunta seutukunnan seutu seudun kaupunkiseutu
    kaupunkiseudun stad stads staden kommun kommuns kommunen region regionen regions city
    town municipality council""".split()
)
_VOWELS = "aeiouyäöå"


@dataclass(frozen=True)
class Municipality:
    """One municipality of Finland that existed on 1 January 2014 or exists today."""

    code: str  # Statistics Finland's three-digit municipality code, e.g. "678"
    name_fi: str  # Finnish name, nominative: "Raahe"
    genitive_fi: str  # Finnish genitive, as in "Raahen kaupunki": "Raahen"
    name_sv: str  # Swedish name: "Brahestad"; the Finnish name where Swedish has no other
    in_2014: bool  # existed on 1 January 2014
    in_2026: bool  # exists on 1 January 2026
    merged_into: str | None = None  # the code of the municipality it joined, if it did
    merged_on: date | None = None  # the day the merger took effect
    aliases: tuple[str, ...] = field(default=())  # other forms that name it

    @property
    def sv_same_as_fi(self) -> bool:
        """The Swedish name is the Finnish one ("Kemijärvi" in both languages)."""
        return self.name_sv == self.name_fi

    @property
    def is_current(self) -> bool:
        return self.merged_into is None

    @property
    def current(self) -> "Municipality":
        """The municipality that is there today: itself, or the one it merged into."""
        return gazetteer().current(self)

    def names(self) -> tuple[str, ...]:
        """Every form the gazetteer recognises for this municipality."""
        forms = (self.name_fi, self.genitive_fi, self.name_sv, *self.aliases)
        return tuple(dict.fromkeys(forms))

    def existed_on(self, day: date) -> bool:
        """Whether it was a municipality on ``day`` (for days from 2014 to today)."""
        return self.merged_on is None or day < self.merged_on


@dataclass(frozen=True)
class Match:
    """What ``match`` read: the text as written, the form it matched and the places."""

    text: str  # the text as written on the page
    form: str  # "fi", "fi_genitive", "sv", "alias" or "folded" (matched without accents)
    named: Municipality  # the municipality the text names, perhaps one since merged
    current: Municipality  # the municipality that is there today


def clean(text: str) -> str:
    """A name folded for comparison: case, spacing, punctuation and body words removed.

    "  City of   Raahe " -> "raahe"; "Kemijärven kaupunki" -> "kemijärven";
    "staden Lovisa" -> "lovisa". Letters keep their accents ("ä" is not "a" in Finnish).
    """
    text = unicodedata.normalize("NFC", text).casefold()
    text = text.replace(":", "")  # "S:t Karins" -> "st karins"
    text = re.sub(r"[‐‑‒–—−]", "-", text)
    words = re.sub(r"[^\w\- ]+", " ", text).split()
    words = [w.strip("-") for w in words if w.strip("-")]
    while len(words) > 1 and words[0] in _LEADING_WORDS:
        words.pop(0)
    while len(words) > 1 and words[-1] in _TRAILING_WORDS:
        words.pop()
    return " ".join(words)


def fold(text: str) -> str:
    """``clean`` without accents, for pages that write "Kemijarvi" or "Borga"."""
    decomposed = unicodedata.normalize("NFKD", clean(text))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# --- Finnish genitive ---------------------------------------------------------------------
#
# The genitive is how Finnish pages name a town's organisation ("Raahen kaupunki"), so the
# gazetteer needs it for every municipality. Statistics Finland's files do not carry it; it
# is derived here by rule, and the rule is checked against every row of the data file by the
# tests (and was checked against an independent list when the file was made: see
# municipalities.md). The rule works on the last part of a name; compounds whose first part
# is an adjective in agreement inflect both parts ("Uusikaupunki" -> "Uudenkaupungin").

# Names whose genitive no rule below gives, each checked by hand.
GENITIVE_EXCEPTIONS: dict[str, str] = {
    "Raahe": "Raahen",  # two-syllable -e: no -e- doubling (not *Raaheen)
    "Muurame": "Muuramen",  # "Muuramessa": inflects like Raahe, not like Kempele
    "Kumlinge": "Kumlingen",  # Swedish name
    "Loppi": "Lopen",  # old i-stem: Lopella, Lopen
    "Kaustinen": "Kaustisen",  # the one singular -nen municipality (Kaustisella)
    "Alavus": "Alavuden",  # -us: -uden (Alavudella)
    "Varkaus": "Varkauden",  # -us: -uden (Varkaudessa)
    "Virrat": "Virtain",  # plural name: Virroilla, Virtain kaupunki
    "Punkalaidun": "Punkalaitumen",  # -in/-un stems in -ime-/-ume-
    "Koski Tl": "Kosken Tl",  # Koski (Turun lääni): the first word inflects
    "Pedersören kunta": "Pedersören kunnan",  # the Finnish name includes "kunta"
    "Geta": "Getan",  # Swedish name: no consonant gradation
    "Korsnäs": "Korsnäsin",  # Swedish name: not a -ks- stem
}

# Second parts of compound names, with their genitive (old i-stems, gradation, -lampi).
_GENITIVE_ENDINGS: tuple[tuple[str, str], ...] = (
    ("kaupunki", "kaupungin"),
    ("järvi", "järven"),
    ("joki", "joen"),
    ("koski", "kosken"),
    ("lahti", "lahden"),
    ("niemi", "niemen"),
    ("salmi", "salmen"),
    ("nummi", "nummen"),
    ("vesi", "veden"),
    ("mäki", "mäen"),
    ("saari", "saaren"),
    ("lampi", "lammin"),  # Toholammin, Rautalammin (not *-lammen)
    ("pudas", "putaan"),  # Pihtiputaan
    ("nen", "sten"),  # Kaskisten, Oulaisten, Paraisten: plural-like town names
)

# Adjectives that agree with the second part: "Uusi-" -> "Uuden-", "Iso-" -> "Ison-".
# Isojoki keeps "Iso-" ("Isojoen"): only the compounds listed here inflect both parts.
_AGREEING_COMPOUNDS: dict[str, tuple[str, str]] = {
    "Uusikaupunki": ("Uusi", "Uuden"),
    "Uusikaarlepyy": ("Uusi", "Uuden"),
    "Isokyrö": ("Iso", "Ison"),
}

# Consonant gradation in the last syllable before the genitive -n (strong -> weak).
_GRADATION: tuple[tuple[str, str], ...] = (
    ("nk", "ng"),  # Helsinki -> Helsingin, Liminka -> Limingan, Hanko -> Hangon
    ("nt", "nn"),  # Pyhäntä -> Pyhännän, Vesanto -> Vesannon, -ranta -> -rannan
    ("rt", "rr"),  # Leppävirta -> Leppävirran
    ("lt", "ll"),  # Harjavalta -> Harjavallan
    ("mp", "mm"),  # Outokumpu -> Outokummun
    ("ht", "hd"),  # Vihti -> Vihdin
    ("kk", "k"),  # Kurikka -> Kurikan, Pomarkku -> Pomarkun
    ("pp", "p"),
    ("tt", "t"),  # Iitti -> Iitin
    ("rk", "r"),  # Turku -> Turun
)


def _gradate(word: str) -> str:
    """Weak grade of a word ending in a short vowel, for its genitive stem."""
    body, last = word[:-1], word[-1]
    if len(body) < 2:
        return word
    for strong, weak in _GRADATION:
        if body.endswith(strong):
            return body[: -len(strong)] + weak + last
    if body[-1] == "k" and body[-2] in _VOWELS:  # Juuka -> Juuan
        return body[:-1] + last
    if body[-1] == "t" and body[-2] in _VOWELS:  # Lieto -> Liedon, Hailuoto -> Hailuodon
        return body[:-1] + "d" + last
    return word


def finnish_genitive(name: str) -> str:
    """The Finnish genitive singular of a municipality's name: "Raahe" -> "Raahen".

    Rules, in order: the exception table; compound endings ("-joki" -> "-joen", "-nen" ->
    "-sten"); a long vowel or diphthong takes -n ("Espoo" -> "Espoon"); a final -e takes -en
    after the doubled vowel ("Tampere" -> "Tampereen"); a final -s is a -ks- stem
    ("Kannus" -> "Kannuksen"); another consonant takes -in ("Finström" -> "Finströmin");
    a short final vowel takes -n after consonant gradation ("Turku" -> "Turun").
    """
    if name in GENITIVE_EXCEPTIONS:
        return GENITIVE_EXCEPTIONS[name]
    if name in _AGREEING_COMPOUNDS:
        first, first_genitive = _AGREEING_COMPOUNDS[name]
        return first_genitive + finnish_genitive(name[len(first) :].capitalize()).lower()
    if "-" in name:  # Mänttä-Vilppula: only the last part inflects
        head, _, tail = name.rpartition("-")
        return f"{head}-{finnish_genitive(tail)}"
    lower = name.lower()
    for ending, genitive in _GENITIVE_ENDINGS:
        if lower.endswith(ending) and len(lower) > len(ending):
            return name[: -len(ending)] + genitive
        if lower == ending and ending not in ("nen", "pudas"):
            return name[0] + genitive[1:]  # "Lahti" -> "Lahden"
    last = lower[-1]
    if last in _VOWELS and lower[-2:-1] == last:  # Espoo, Vantaa, Kitee, Joensuu, Ii
        return name + "n"
    if last == "e":  # Tampere, Kempele, Pälkäne, Savitaipale
        return name + "en"
    if last == "s":  # Kannus, Muhos, Nurmes
        return name[:-1] + "ksen"
    if last not in _VOWELS:  # Swedish names of Åland and Ostrobothnia
        return name + "in"
    return _gradate(name) + "n"


# --- stems for towns not in the table -------------------------------------------------------

_WEAK_TO_STRONG = (("ng", "nk"), ("nn", "nt"), ("mm", "mp"), ("rr", "rt"), ("hd", "ht"))


def stem(text: str) -> str:
    """The part of a town's name that its Finnish and Swedish forms share.

    Genitive and Swedish -s endings and the final vowels go; a weak grade at the end becomes
    strong, so "Kemijärven kaupunki" and "Kemijärvi stad" both give "kemijärv", "Lahden"
    and "Lahti" both "laht". Only for comparing names, never for display.
    """
    word = clean(text)
    for suffix in ("isten", "isen", "inen"):  # Kaskisten, Kaustisen, Kaskinen -> kaski
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix) + 1]
    if len(word) > 3 and word[-1] in "ns":  # genitive -n, Swedish genitive -s
        word = word[:-1]
    word = word.rstrip(_VOWELS) or word
    for weak, strong in _WEAK_TO_STRONG:
        if word.endswith(weak):
            return word[: -len(weak)] + strong
    if word.endswith("d") and len(word) > 3:
        return word[:-1] + "t"
    return word


def stem_similarity(a: str, b: str) -> float:
    """How alike two names' stems are, 0..1; 0 when their first two letters differ."""
    sa, sb = stem(a), stem(b)
    if len(sa) < 2 or len(sb) < 2 or sa[:2] != sb[:2]:
        return 0.0
    return difflib.SequenceMatcher(None, sa, sb).ratio()


# --- the table -----------------------------------------------------------------------------


class GazetteerError(PilotarchiveError, ValueError):
    """The data file is inconsistent: a broken row, or one name for two municipalities."""


class Gazetteer:
    """The municipalities and every form that names one, indexed for lookup."""

    def __init__(self, municipalities: Iterable[Municipality]) -> None:
        self.by_code: dict[str, Municipality] = {}
        for m in municipalities:
            if m.code in self.by_code:
                raise GazetteerError(f"municipality code {m.code} appears twice")
            self.by_code[m.code] = m
        self._forms: dict[str, tuple[str, Municipality]] = {}
        self._folded: dict[str, Municipality | None] = {}
        for m in self.by_code.values():
            if m.merged_into is not None and m.merged_into not in self.by_code:
                raise GazetteerError(f"{m.name_fi} merged into unknown code {m.merged_into}")
            for form, text in self._forms_of(m):
                key = clean(text)
                other = self._forms.get(key)
                if other is not None and other[1].code != m.code:
                    raise GazetteerError(f"{text!r} names both {other[1].name_fi} and {m.name_fi}")
                self._forms.setdefault(key, (form, m))
                folded = fold(text)
                seen = self._folded.get(folded, m)
                self._folded[folded] = m if seen is not None and seen.code == m.code else None

    @staticmethod
    def _forms_of(m: Municipality) -> Iterator[tuple[str, str]]:
        yield "fi", m.name_fi
        yield "fi_genitive", m.genitive_fi
        yield "sv", m.name_sv
        if not m.name_sv.endswith(("s", "x", "z")):
            yield "sv", m.name_sv + "s"  # "Brahestads stad"
        for alias in m.aliases:
            yield "alias", alias

    def __iter__(self) -> Iterator[Municipality]:
        return iter(self.by_code.values())

    def __len__(self) -> int:
        return len(self.by_code)

    def current(self, m: Municipality) -> Municipality:
        """Follow mergers to the municipality that exists today."""
        seen = {m.code}
        while m.merged_into is not None:
            m = self.by_code[m.merged_into]
            if m.code in seen:
                raise GazetteerError(f"mergers of {m.name_fi} run in a circle")
            seen.add(m.code)
        return m

    def existing_on(self, day: date) -> list[Municipality]:
        """The municipalities of Finland on ``day`` (a day from 1 January 2014 on)."""
        return [m for m in self if m.in_2014 and m.existed_on(day)]

    def _lookup(self, text: str) -> tuple[str, Municipality] | None:
        key = clean(text)
        if not key:
            return None
        if key in self._forms:
            return self._forms[key]
        folded = self._folded.get(fold(text))
        return ("folded", folded) if folded is not None else None

    def match(self, text: str | None) -> Match | None:
        """The municipality a coordinator or partner string names, and today's one.

        The whole string is tried first; then runs of its words, longest first, so that
        "Raahen kaupungin elinkeinopalvelut" still finds Raahe. None if no run names one.
        """
        if not text or not text.strip():
            return None
        found = self._lookup(text)
        if found is None:
            words = clean(text).split()
            for size in range(len(words) - 1, 0, -1):
                for start in range(len(words) - size + 1):
                    found = self._lookup(" ".join(words[start : start + size]))
                    if found is not None:
                        break
                if found is not None:
                    break
        if found is None:
            return None
        form, named = found
        return Match(text=text, form=form, named=named, current=self.current(named))

    def resolve(self, text: str | None) -> Municipality | None:
        """The municipality ``text`` names (perhaps merged since: see ``.current``)."""
        found = self.match(text)
        return found.named if found else None

    def same_place(self, a: str | None, b: str | None) -> bool:
        """Whether two strings name the same place today.

        Both in the table: the same municipality today (so "Nastola" and "Lahden kaupunki"
        are one place since 2016). Otherwise by stem: a string the table does not know is
        compared with every name of the other's municipality, or with the other string,
        and is the same place at ``STEM_THRESHOLD`` or above.
        """
        if not a or not b or not clean(a) or not clean(b):
            return False
        ma, mb = self.match(a), self.match(b)
        if ma and mb:
            return ma.current.code == mb.current.code
        if ma or mb:
            known, other = (ma, b) if ma else (mb, a)
            assert known is not None
            names = (*known.named.names(), *known.current.names())
            return any(stem_similarity(other, name) >= STEM_THRESHOLD for name in names)
        return stem_similarity(a, b) >= STEM_THRESHOLD


def _flag(value: str, column: str, code: str) -> bool:
    if value not in ("0", "1"):
        raise GazetteerError(f"row {code}: {column} is {value!r}, not 0 or 1")
    return value == "1"


def parse(text: str) -> list[Municipality]:
    """The rows of a gazetteer CSV (lines starting with "#" are its header notes)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    rows = []
    for row in csv.DictReader(io.StringIO("\n".join(lines))):
        code = row["code"]
        if not re.fullmatch(r"\d{3}", code or ""):
            raise GazetteerError(f"municipality code {code!r} is not three digits")
        sv = row["name_sv"] or row["name_fi"]
        if _flag(row["sv_same_as_fi"], "sv_same_as_fi", code) != (sv == row["name_fi"]):
            raise GazetteerError(f"row {code}: sv_same_as_fi disagrees with the names")
        merged_on = date.fromisoformat(row["merged_on"]) if row["merged_on"] else None
        if bool(row["merged_into"]) != bool(merged_on):
            raise GazetteerError(f"row {code}: merged_into and merged_on go together")
        rows.append(
            Municipality(
                code=code,
                name_fi=row["name_fi"],
                genitive_fi=row["genitive_fi"],
                name_sv=sv,
                in_2014=_flag(row["in_2014"], "in_2014", code),
                in_2026=_flag(row["in_2026"], "in_2026", code),
                merged_into=row["merged_into"] or None,
                merged_on=merged_on,
                aliases=tuple(a.strip() for a in row["aliases"].split(";") if a.strip()),
            )
        )
    return rows


@cache
def gazetteer() -> Gazetteer:
    """The package's gazetteer, read once on first use (about 320 rows, a few ms)."""
    text = resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return Gazetteer(parse(text))


def resolve(text: str | None) -> Municipality | None:
    """The municipality a coordinator or partner string names, in any language or form."""
    return gazetteer().resolve(text)


def match(text: str | None) -> Match | None:
    """Like ``resolve``, with the text as written, the form matched and today's municipality."""
    return gazetteer().match(text)


def same_place(a: str | None, b: str | None) -> bool:
    """Whether two coordinator or partner strings name the same place today."""
    return gazetteer().same_place(a, b)
