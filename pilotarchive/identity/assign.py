"""Assigning a new snapshot's records to the archive's entities: who is the same as before.

Identity is state, not a hash of today's text: the register (not this module) keeps each
entity's id and, per snapshot, the records that were it. Given the previous entities'
records (those of the last healthy snapshot) and the new snapshot's records of one kind,
:func:`assign` says which entity each new record is, which entities ended and which are new.
It is plain Python over plain record dicts: no Scrapy, no files, no clock.

How, in order:

1. **Blocks.** Over time, a record is compared only with records of its own kind, language
   and rendering ("fi"/"page"): the Finnish theme with the Finnish theme.
2. **Units.** A pilot or page record is one unit; a person's records in one block (the same
   person as pilot contact and for further information) are one unit: the same name, and no
   e-mail and no phone that disagree. Two persons of one name with different e-mails or
   phones on one page stay two units, and so two entities.
3. **Unchanged first.** A unit whose identity fields (raw, position left out) equal those of
   exactly one old unit in its block is that unit's entity, with score 1.0. This is exact,
   cheap (a dict), and leaves only the changed records for step 4.
4. **Optimal assignment of the rest.** Each remaining old-new pair is scored (below) and
   ``scipy.optimize.linear_sum_assignment`` chooses the pairing of highest total score, so
   two pilots that both change in one step are not swapped as a greedy best-first pairing
   can (when every row's best is strict and in a column of its own, that pairing is the
   optimum, found without the solver: :func:`_dominant`). A pair is matched only at or
   above :data:`THRESHOLD`; below it the old entity ends
   and the record starts a new one, said in a :class:`Note` with the score and the fields
   that agreed, rather than guessed.
5. **Twins at one time.** A record left unmatched joins an entity already present in this
   snapshot through its twin in another language or rendering (coordinator and partner
   towns as places, position on the same page entity, contact e-mail and phone), by the same
   optimal assignment per block at :data:`TWIN_THRESHOLD`; blocks go in sorted order and
   what is still unmatched starts a new entity, which later blocks' twins can join. So a new
   pilot seen in fi, sv and en, page and text, is one new entity, not six.
6. **New and ended.** New entities get ids from the injected ``new_id`` in a stable order
   (never from content); an old entity that no record matched has ended.

Scores are weighted means over the fields both sides have (a field one side lacks does not
count; a field only one side has counts as a disagreement for pilots), in [0, 1]:

* pilots over time: theme 3 (word-set Dice, inflections matched), coordinator 2 and partner list 2
  (Jaccard) as places, contact 2 (same name words or e-mail), position 1 (on the same page
  entity), order 1 (the neighbours before and after it are the same entities);
* persons over time: name 2 (word order ignored), e-mail 2 (0.5 for the same local part),
  phone 2, title 1, pilot 2 (the pilot entity they are contact of), role 1, page 1;
* pages over time: URL 3 (host ignored), title 1, page family 1.

:data:`THRESHOLD` is 0.5: a match needs half of the weighted evidence. Every single change
the issue names (coordinator, partner joining, theme reworded, renumbering, contact, title,
e-mail, name order) scores 0.6 or more; two unrelated pilots at the same place on the page
share only position and order and score about 0.2; two namesakes on one page with other
e-mails, phones and titles score 0.4. Near misses from 0.15 up are kept as notes.

Places go through ``place_key`` (the gazetteer's resolver when it lands); a place it does
not resolve, or every place without one, compares by stem: "Kemijärven kaupunki" and
"Kemijärvi stad" are the same, "Kemin" and "Kemijärven" are not (:func:`same_stem`).

Memory and time: a full n x n float64 cost matrix for 10,000 entities is 800 MB and
O(n^3) to solve. Blocking by kind, language and rendering divides n by the number of
blocks; step 3 leaves only changed records; and the rest is not one matrix: candidate pairs
come from shared keys (theme word stems, places, e-mails, names, position on a page; a key
shared by more than :data:`MAX_KEY_SHARE` units is skipped like a stop word; a weak key
such as one partner town needs a second shared key), and each
connected component of candidates gets its own dense matrix. Small blocks (at most
:data:`EXHAUSTIVE` pairs) compare every pair. Cost per snapshot depends on that snapshot and
the previous one only: ``bench/assign.py`` measures it over 100 snapshots.

Determinism: blocks, units and entities are sorted by stable keys (page, position, record
id, entity id) before anything is compared, so the same input in any order gives the same
output; the solver is deterministic, so equal scores resolve the same way every time.
"""

import difflib
import importlib.machinery
import importlib.util
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from pilotarchive.extract.conventions import graphic_version_url
from pilotarchive.records.entities import page_family
from pilotarchive.records.ids import normalise_text, page_key


def _load_lsap() -> Callable[..., Any]:
    """scipy's ``linear_sum_assignment``, without importing all of ``scipy.optimize``.

    The function is scipy's C solver in an extension module of its own
    (``scipy.optimize._lsap``), which ``scipy.optimize`` re-exports as it is. Importing it
    the public way runs ``scipy.optimize/__init__`` (linalg, sparse, special, fft: 0.2 s),
    which every crawl paid at its commit for this one function. The module is loaded by
    itself when it is where scipy keeps it, and registered under its own name, so that a
    later ``import scipy.optimize`` takes it as it is; otherwise (another scipy layout, or
    ``scipy.optimize`` imported already) the public import is used, the same function.
    """
    if "scipy.optimize" not in sys.modules and "scipy.optimize._lsap" not in sys.modules:
        try:
            import scipy

            folder = Path(scipy.__file__).parent / "optimize"
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                path = folder / f"_lsap{suffix}"
                if path.is_file():
                    loader = importlib.machinery.ExtensionFileLoader(
                        "scipy.optimize._lsap", str(path)
                    )
                    spec = importlib.machinery.ModuleSpec(
                        "scipy.optimize._lsap", loader, origin=str(path)
                    )
                    module = importlib.util.module_from_spec(spec)  # __spec__ etc. set
                    loader.exec_module(module)
                    sys.modules["scipy.optimize._lsap"] = module
                    solve: Callable[..., Any] = module.linear_sum_assignment
                    return solve
        except (ImportError, OSError, AttributeError):
            pass  # the public import below
    from scipy.optimize import linear_sum_assignment

    return linear_sum_assignment


@cache
def _solver() -> Callable[..., Any]:
    """The solver, loaded the first time scores compete (see :func:`_dominant`): numpy and
    the solver cost 0.1 s of imports, which the daily run of the page family, whose
    twins and changes pair off beyond doubt, no longer pays."""
    return _load_lsap()


def linear_sum_assignment(matrix: Any, maximize: bool = False) -> Any:
    """scipy's ``linear_sum_assignment`` (:func:`_load_lsap`), loaded on first use."""
    return _solver()(matrix, maximize=maximize)


def _dominant(matrix: list[list[float]]) -> list[tuple[int, int]] | None:
    """The pairing of highest total score when it is beyond doubt, or None: the solver's.

    With no more rows than columns every row is paired, so no pairing scores more than the
    sum of the rows' best scores. When each row's best is strictly above the rest of its
    row and no two rows have it in one column, pairing every row with its best reaches that
    sum, and any other pairing moves some row off its best and scores strictly less: it
    is the one optimum, the one scipy returns. With more rows than columns the same holds
    for columns. Pairs are sorted by row, as scipy gives them.
    """
    rows, cols = len(matrix), len(matrix[0])
    lines = matrix if rows <= cols else [list(col) for col in zip(*matrix, strict=True)]
    best: list[int] = []
    for line in lines:
        top = max(line)
        at = line.index(top)
        if top in line[at + 1 :]:
            return None  # a tie: the solver decides, as it always did
        best.append(at)
    if len(set(best)) != len(best):
        return None
    if rows <= cols:
        return list(enumerate(best))
    return sorted((r, c) for c, r in enumerate(best))


Record = Mapping[str, Any]
PlaceKey = Callable[[str], str | None]
NewId = Callable[[str], str]

THRESHOLD = 0.5  # over time, within a block: see the module docstring
TWIN_THRESHOLD = 0.5  # at one time, across languages and renderings
NOTE_FLOOR = 0.15  # a pair scoring below THRESHOLD but at least this is reported as a note
AGREE = 0.8  # a field whose agreement is at least this is listed among the agreed fields
MAX_KEY_SHARE = 50  # a candidate key shared by more units than this is skipped
EXHAUSTIVE = 400  # up to this many pairs (20 x 20), every pair is a candidate
KINDS = ("page", "pilot", "contact")  # record types, in the order assign_snapshot runs them

_EDGE = "\x00edge"  # the first or last record on its page: no neighbour on that side
_STOP_WORDS = frozenset("ja sekä och and of the for av i in on to till med".split())
_TOWN_WORDS = re.compile(
    r"\b(kaupunki|kaupungin|kunta|kunnan|stad|kommun|city of|town of|municipality of|the)\b",
    re.IGNORECASE,
)


# -- public results ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    """Which entity one new record is, and why.

    ``how``: "unchanged" (its identity fields equal an old record's), "changed" (scored
    against an old record over time), "twin" (joined through a record of the same snapshot
    in another language or rendering) or "new" (the first record of a new entity).
    ``matched_record_id`` is the old record (unchanged, changed) or the twin (twin).
    ``margin`` is the score less the best competing score in its row or column.
    """

    record_id: str
    entity_id: str
    how: str
    score: float | None
    agreed: tuple[str, ...] = ()
    margin: float | None = None
    matched_record_id: str | None = None


@dataclass(frozen=True, slots=True)
class Note:
    """An old entity and a new record that came closest but below the threshold."""

    entity_id: str
    record_id: str
    score: float
    agreed: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class Assignment:
    """The outcome for one kind: ``matches[i]`` is about the i-th input record."""

    kind: str
    matches: tuple[Match, ...]
    ended: tuple[str, ...]
    new: tuple[str, ...]
    notes: tuple[Note, ...]

    @property
    def entity_ids(self) -> tuple[str, ...]:
        return tuple(m.entity_id for m in self.matches)


def sequential_ids(start: int = 1) -> NewId:
    """An id generator for tests and benchmarks: "pilot-000001", "person-000002", ..."""
    counter = iter(range(start, 1 << 62))
    return lambda label: f"{label}-{next(counter):06d}"


# -- places and text ------------------------------------------------------------------------


def simple_place(text: str) -> str | None:
    """A place without town words, folded: "Kemijärven kaupunki" -> "kemijarven"."""
    return normalise_text(_TOWN_WORDS.sub(" ", text)) or None


@lru_cache(maxsize=65_536)
def same_stem(a: str, b: str) -> bool:
    """Two folded place names that differ only in an ending: a case form or the Swedish
    genitive ("kemijarven"/"kemijarvi", "oulaisten"/"oulainen", "brahestads"/"brahestad"),
    not a longer name on a short one ("kemin"/"kemijarven")."""
    if a == b:
        return True
    prefix = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        prefix += 1
    rest = max(len(a), len(b)) - prefix
    return (prefix >= 5 and rest <= 4) or (prefix >= 4 and rest <= 2)


@dataclass(frozen=True, slots=True)
class _Place:
    key: str | None  # from place_key; None when unresolved or without a gazetteer
    stem: str


def _place(text: str | None, place_key: PlaceKey | None) -> _Place | None:
    if not text or not (stem := simple_place(text)):
        return None
    return _Place(place_key(text) if place_key is not None else None, stem)


def _same_place(a: _Place, b: _Place) -> bool:
    if a.key is not None and b.key is not None:
        return a.key == b.key
    return same_stem(a.stem, b.stem)


def _place_keys(p: _Place) -> list[tuple[str, str]]:
    keys = [("stem", p.stem[:4])]
    if p.key is not None:
        keys.append(("place", p.key))
    return keys


def _jaccard(a: Sequence[_Place], b: Sequence[_Place]) -> float:
    """Places in common over places in either; each place pairs with at most one."""
    if not a and not b:
        return 1.0
    if {p.key or p.stem for p in a} == {q.key or q.stem for q in b}:
        return 1.0 if len(a) == len(b) else min(len(a), len(b)) / max(len(a), len(b))
    used: set[int] = set()
    common = 0
    for p in a:
        for j, q in enumerate(b):
            if j not in used and _same_place(p, q):
                used.add(j)
                common += 1
                break
    return common / (len(a) + len(b) - common)


def _words(text: str | None) -> frozenset[str]:
    return frozenset(w for w in normalise_text(text).split() if w not in _STOP_WORDS)


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _same_word(a: str, b: str) -> bool:
    """One word in two inflections: equal, or sharing the first five letters, or a short
    word that begins the other ("palvelut"/"palvelujen", "kehitys"/"kehittäminen")."""
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return (len(short) >= 5 and short[:5] == long_[:5]) or (
        len(short) >= 4 and long_.startswith(short)
    )


def theme_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Word-set similarity in [0, 1]: the Dice coefficient of the two word sets, a word
    matching one of the other set in another inflection (:func:`_same_word`). Word order
    costs nothing. (difflib's token-set ratio measured 150 us a pair, 20 times this, which
    made a snapshot of 10,000 pilots take 25 s; see bench/assign.py.)"""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    common = a & b
    rest_b = sorted(b - common)
    matched = len(common)
    for word in sorted(a - common):
        for k, other in enumerate(rest_b):
            if _same_word(word, other):
                matched += 1
                del rest_b[k]
                break
    return 2 * matched / (len(a) + len(b))


def _rendering(record: Record) -> str:
    return record.get("rendering") or ("text" if record.get("is_text_version") else "page")


def _block(record: Record) -> tuple[str, str]:
    return record.get("language") or "", _rendering(record)


Part = tuple[str, float, float | None]  # field, weight, agreement in [0, 1] (None: n/a)


def _combine(parts: Iterable[Part]) -> tuple[float, tuple[str, ...]]:
    total = score = 0.0
    agreed = []
    for name, weight, value in parts:
        if value is None:
            continue
        total += weight
        score += weight * value
        if value >= AGREE:
            agreed.append(name)
    return (score / total if total else 0.0), tuple(agreed)


def _eq(a: Any, b: Any) -> float | None:
    """1 or 0 when both have a value, None when either lacks one."""
    if a is None or b is None or a == "" or b == "":
        return None
    return 1.0 if a == b else 0.0


def _overlap(a: frozenset, b: frozenset, *, missing: float | None = None) -> float | None:
    """1 if the sets share a member, 0 if not; ``missing`` when only one side has any."""
    if not a and not b:
        return None
    if not a or not b:
        return missing
    return 1.0 if a & b else 0.0


# -- context and units ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    place_key: PlaceKey | None
    previous: Mapping[str, str]  # record id in the previous snapshot -> entity id
    current: Mapping[str, str]  # record id in the new snapshot -> entity id
    # One object for each distinct set of features: a person's name, roles and e-mails are
    # the same sets on every page that names them, and each frozenset is 216 bytes even
    # with one member (a 100,000-page crawl holds 190,000 persons' features at its commit).
    shared: dict[frozenset[str], frozenset[str]] = field(default_factory=dict)

    def share(self, values: frozenset[str]) -> frozenset[str]:
        return self.shared.setdefault(values, values)

    def entity(self, record_id: str | None, old: bool) -> str | None:
        if not record_id:
            return None
        return (self.previous if old else self.current).get(record_id, record_id)


@dataclass(eq=False, slots=True)
class _Unit:
    block: tuple[str, str]
    records: list[Record]
    indices: list[int]  # positions in the input (new side only)
    old: bool
    entity: str | None = None
    exact: Hashable = None
    sort_key: tuple = ()
    features: Any = None
    time_keys: list[Hashable] | None = None
    twin_keys: list[Hashable] | None = None
    prev: str | None = None  # neighbours' entities (pilots): _EDGE, an entity, or unknown
    next: str | None = None
    how: str = ""
    score: float | None = None
    agreed: tuple[str, ...] = ()
    margin: float | None = None
    matched: str | None = None
    group: "_Group | None" = None

    @property
    def record_id(self) -> str:
        return str(self.records[0].get("id") or "")


@dataclass(eq=False, slots=True)
class _Group:
    """The units of one entity in this snapshot; ``entity`` None until minted."""

    entity: str | None
    units: list[_Unit] = field(default_factory=list)
    blocks: set[tuple[str, str]] = field(default_factory=set)
    keys: list[Hashable] | None = None
    evidence: list[_Unit] = field(default_factory=list)  # the entity's previous records

    def add(self, unit: _Unit) -> None:
        self.units.append(unit)
        self.blocks.add(unit.block)
        unit.group = self
        self.keys = None


# -- the three kinds -----------------------------------------------------------------------


class _Spec:
    """What is compared for one kind of record; subclasses fill it in."""

    kind = ""
    group_records = False  # several records of one block can be one unit (persons)
    has_order = False  # records have positions on a page (pilots)

    def sort_key(self, record: Record, ctx: _Context, old: bool) -> tuple:
        return (str(record.get("page_id") or ""), str(record.get("id") or ""))

    def exact(self, record: Record, ctx: _Context, old: bool) -> Hashable:
        raise NotImplementedError

    def group_new(self, records: list[Record], ctx: _Context) -> list[list[int]]:
        return [[i] for i in range(len(records))]

    def features(self, records: list[Record], ctx: _Context, old: bool) -> Any:
        raise NotImplementedError

    def time_keys(self, f: Any) -> list[Hashable]:
        raise NotImplementedError

    def twin_keys(self, f: Any) -> list[Hashable]:
        raise NotImplementedError

    def time_parts(self, a: Any, b: Any) -> list[Part] | None:
        raise NotImplementedError

    def twin_parts(self, a: Any, b: Any) -> list[Part] | None:
        raise NotImplementedError

    def label(self, unit: _Unit) -> str:
        return self.kind


@dataclass(frozen=True, slots=True)
class _PilotF:
    kind: str
    language: str
    page: str | None
    position: int | None
    theme: frozenset[str]
    coordinator: _Place | None
    towns: tuple[_Place, ...]
    contact_name: frozenset[str]
    contact_email: str | None
    contact_phone: str | None


class _PilotSpec(_Spec):
    kind = "pilot"
    has_order = True

    def sort_key(self, record: Record, ctx: _Context, old: bool) -> tuple:
        page = ctx.entity(record.get("page_id"), old) or ""
        position = record.get("position")
        return (page, position if isinstance(position, int) else 1 << 30, str(record.get("id")))

    def exact(self, record: Record, ctx: _Context, old: bool) -> Hashable:
        contact = record.get("contact") or {}
        return (
            ctx.entity(record.get("page_id"), old),
            record.get("kind"),
            record.get("theme"),
            record.get("coordinator"),
            tuple(record.get("municipalities") or ()),
            contact.get("name"),
            contact.get("email"),
            contact.get("phone"),
        )

    def features(self, records: list[Record], ctx: _Context, old: bool) -> _PilotF:
        r = records[0]
        contact = r.get("contact") or {}
        position = r.get("position")
        towns = (_place(m, ctx.place_key) for m in r.get("municipalities") or ())
        return _PilotF(
            kind=r.get("kind") or "pilot",
            language=r.get("language") or "",
            page=ctx.entity(r.get("page_id"), old),
            position=position if isinstance(position, int) else None,
            theme=_words(r.get("theme")),
            coordinator=_place(r.get("coordinator"), ctx.place_key),
            towns=tuple(t for t in towns if t is not None),
            contact_name=_words(contact.get("name")),
            contact_email=(contact.get("email") or "").casefold() or None,
            contact_phone=contact.get("phone") or None,
        )

    def _common_keys(self, f: _PilotF) -> list[tuple[Any, ...]]:
        keys: list[tuple[Any, ...]] = []
        if f.coordinator is not None:
            keys.extend(("coordinator", *k[1:]) for k in _place_keys(f.coordinator))
        for p in f.towns:
            keys.extend(_place_keys(p))
        if f.contact_email:
            keys.append(("email", f.contact_email))
        if f.contact_name:
            keys.append(("person", f.contact_name))
        if f.position is not None:
            keys.append(("position", f.page, f.position))
        return keys

    def time_keys(self, f: _PilotF) -> list[Hashable]:
        return [*self._common_keys(f), *(("theme", w[:5]) for w in f.theme if len(w) >= 4)]

    def twin_keys(self, f: _PilotF) -> list[Hashable]:
        """Keys on the page entity: a pilot's twins are on the other language and rendering
        versions of its page, which are one page entity."""
        themes = (("theme", f.language, w[:5]) for w in f.theme if len(w) >= 4)
        return [(key[0], f.page, *key[1:]) for key in (*self._common_keys(f), *themes)]

    @staticmethod
    def _coordinator(a: _PilotF, b: _PilotF) -> float | None:
        if a.coordinator is None and b.coordinator is None:
            return None
        if a.coordinator is None or b.coordinator is None:
            return 0.0
        return 1.0 if _same_place(a.coordinator, b.coordinator) else 0.0

    @staticmethod
    def _position(a: _PilotF, b: _PilotF) -> float | None:
        if a.position is None or b.position is None:
            return None
        if a.page != b.page:
            return 0.0
        return {0: 1.0, 1: 0.5}.get(abs(a.position - b.position), 0.0)

    @staticmethod
    def _contact(a: _PilotF, b: _PilotF) -> float | None:
        if not (a.contact_name or a.contact_email) and not (b.contact_name or b.contact_email):
            return None
        same_name = bool(a.contact_name) and a.contact_name == b.contact_name
        same_email = a.contact_email is not None and a.contact_email == b.contact_email
        return 1.0 if same_name or same_email else 0.0

    def time_parts(self, a: _PilotF, b: _PilotF) -> list[Part] | None:
        if a.kind != b.kind:
            return None
        theme = theme_similarity(a.theme, b.theme) if a.theme or b.theme else None
        towns = _jaccard(a.towns, b.towns) if a.towns or b.towns else None
        return [
            ("theme", 3, theme),
            ("coordinator", 2, self._coordinator(a, b)),
            ("contact", 2, self._contact(a, b)),
            ("municipalities", 2, towns),
            ("position", 1, self._position(a, b)),
        ]

    def twin_parts(self, a: _PilotF, b: _PilotF) -> list[Part] | None:
        if a.kind != b.kind:
            return None
        towns = _jaccard(a.towns, b.towns) if a.towns or b.towns else None
        names = _eq(a.contact_name or None, b.contact_name or None)
        parts: list[Part] = [
            ("coordinator", 2, self._coordinator(a, b)),
            ("municipalities", 2, towns),
            ("position", 1, self._position(a, b)),
            ("contact_email", 1, _eq(a.contact_email, b.contact_email)),
            ("contact_phone", 1, _eq(a.contact_phone, b.contact_phone)),
            ("contact_name", 1, names),
        ]
        if a.language == b.language and (a.theme or b.theme):
            parts.append(("theme", 2, theme_similarity(a.theme, b.theme)))
        return parts

    def label(self, unit: _Unit) -> str:
        return str(unit.records[0].get("kind") or "pilot")


@dataclass(frozen=True, slots=True)
class _PersonF:
    name: frozenset[str]
    emails: frozenset[str]
    locals: frozenset[str]
    phones: frozenset[str]
    titles: frozenset[str]
    pilots: frozenset[str]
    roles: frozenset[str]
    pages: frozenset[str]


def _name_words(record: Record) -> frozenset[str]:
    name = record.get("name") or f"{record.get('given_name', '')} {record.get('family_name', '')}"
    return frozenset(normalise_text(name).split())


class _PersonSpec(_Spec):
    kind = "contact"
    group_records = True

    def exact(self, record: Record, ctx: _Context, old: bool) -> Hashable:
        return (
            ctx.entity(record.get("page_id"), old),
            record.get("role"),
            ctx.entity(record.get("pilot_id"), old),
            record.get("name"),
            record.get("email"),
            record.get("phone"),
            record.get("title"),
        )

    def group_new(self, records: list[Record], ctx: _Context) -> list[list[int]]:
        """One person per name and page block, unless their e-mails or phones disagree."""
        groups: list[tuple[frozenset[str], set[str], set[str], list[int]]] = []
        by_name: dict[frozenset[str], list[int]] = defaultdict(list)
        for i, r in enumerate(records):
            name = _name_words(r)
            email = (r.get("email") or "").casefold()
            phone = r.get("phone") or ""
            for g in by_name[name]:
                _, emails, phones, members = groups[g]
                if (email and emails and email not in emails) or (
                    phone and phones and phone not in phones
                ):
                    continue
                members.append(i)
                emails.update([email] if email else [])
                phones.update([phone] if phone else [])
                break
            else:
                by_name[name].append(len(groups))
                groups.append((name, {email} - {""}, {phone} - {""}, [i]))
        return [members for *_, members in groups]

    def features(self, records: list[Record], ctx: _Context, old: bool) -> _PersonF:
        share = ctx.share

        def values(key: str, fold: Callable[[str], str] = str.casefold) -> frozenset[str]:
            return share(frozenset(fold(str(r[key])) for r in records if r.get(key)))

        emails = values("email")
        return _PersonF(
            name=share(frozenset().union(*(_name_words(r) for r in records))),
            emails=emails,
            locals=share(frozenset(e.partition("@")[0] for e in emails)),
            phones=values("phone", str),
            titles=values("title", normalise_text),
            pilots=share(frozenset(
                e for r in records if (e := ctx.entity(r.get("pilot_id"), old)) is not None
            )),
            roles=values("role", str),
            pages=share(frozenset(
                e for r in records if (e := ctx.entity(r.get("page_id"), old)) is not None
            )),
        )  # fmt: skip

    def time_keys(self, f: _PersonF) -> list[Hashable]:
        return [
            *(("name", w) for w in f.name),
            *(("email", e) for e in f.emails),
            *(("local", e) for e in f.locals),
            *(("phone", p) for p in f.phones),
        ]

    twin_keys = time_keys

    @staticmethod
    def _name(a: _PersonF, b: _PersonF) -> float:
        if a.name == b.name:
            return 1.0
        return _ratio(" ".join(sorted(a.name)), " ".join(sorted(b.name)))

    @staticmethod
    def _email(a: _PersonF, b: _PersonF) -> float | None:
        if not a.emails or not b.emails:
            return None
        return 1.0 if a.emails & b.emails else 0.5 if a.locals & b.locals else 0.0

    def time_parts(self, a: _PersonF, b: _PersonF) -> list[Part] | None:
        return [
            ("name", 4, self._name(a, b)),
            ("email", 2, self._email(a, b)),
            ("phone", 2, _overlap(a.phones, b.phones)),
            ("title", 1, _overlap(a.titles, b.titles)),
            ("pilot", 1, _overlap(a.pilots, b.pilots, missing=0.0)),
            ("role", 1, _overlap(a.roles, b.roles)),
            ("page", 1, _overlap(a.pages, b.pages)),
        ]

    def twin_parts(self, a: _PersonF, b: _PersonF) -> list[Part] | None:
        return [
            ("name", 4, self._name(a, b)),
            ("email", 2, self._email(a, b)),
            ("phone", 2, _overlap(a.phones, b.phones)),
            ("pilot", 1, _overlap(a.pilots, b.pilots, missing=0.0)),
            ("role", 1, _overlap(a.roles, b.roles)),
            ("page", 1, _overlap(a.pages, b.pages)),
        ]

    def label(self, unit: _Unit) -> str:
        return "person"


@dataclass(frozen=True, slots=True)
class _PageF:
    language: str
    url: str
    family: str
    links: frozenset[str]
    title: str


def page_family_key(record: Record) -> str:
    """A page's URL without host, language marker or text-version marker: the fi, sv and en
    pages and their text versions share it."""
    url = record.get("final_url") or record.get("url") or ""
    if _rendering(record) == "text":
        url = record.get("graphic_version_url") or graphic_version_url(url)
    return page_family(url)


class _PageSpec(_Spec):
    kind = "page"

    def sort_key(self, record: Record, ctx: _Context, old: bool) -> tuple:
        return (str(record.get("final_url") or record.get("url") or ""), str(record.get("id")))

    def exact(self, record: Record, ctx: _Context, old: bool) -> Hashable:
        return (record.get("final_url") or record.get("url"), record.get("title"))

    def features(self, records: list[Record], ctx: _Context, old: bool) -> _PageF:
        r = records[0]
        url = page_key(r.get("final_url") or r.get("url") or "")
        linked = [*(r.get("alternates") or {}).values()]
        linked += [r.get("text_version_url"), r.get("graphic_version_url")]
        return _PageF(
            language=r.get("language") or "",
            url=url,
            family=page_family_key(r),
            links=frozenset(page_key(u) for u in linked if isinstance(u, str) and u) - {url},
            title=normalise_text(r.get("title")),
        )

    def time_keys(self, f: _PageF) -> list[Hashable]:
        return [("url", f.url), ("family", f.family)]

    def twin_keys(self, f: _PageF) -> list[Hashable]:
        return [("family", f.family), ("url", f.url), *(("url", u) for u in f.links)]

    def time_parts(self, a: _PageF, b: _PageF) -> list[Part] | None:
        title = _ratio(a.title, b.title) if a.title and b.title else None
        return [
            ("url", 3, 1.0 if a.url == b.url else 0.0),
            ("title", 1, title),
            ("family", 1, 1.0 if a.family == b.family else 0.0),
        ]

    def twin_parts(self, a: _PageF, b: _PageF) -> list[Part] | None:
        linked = a.url in b.links or b.url in a.links
        parts: list[Part] = [
            ("family", 3, 1.0 if a.family == b.family else 0.0),
            ("link", 2, 1.0 if linked else 0.0),
        ]
        if a.language == b.language and a.title and b.title:
            parts.append(("title", 1, _ratio(a.title, b.title)))
        return parts


_SPECS: dict[str, _Spec] = {"pilot": _PilotSpec(), "contact": _PersonSpec(), "page": _PageSpec()}


# -- the optimal assignment ----------------------------------------------------------------


Scored = tuple[int, int, float, tuple[str, ...], float]  # left, right, score, agreed, margin


# Keys that alone make two units candidates; other keys (a partner town, a theme word, a
# word of a name) need a second one, so that sharing one town is not enough.
_STRONG_KEYS = frozenset({"position", "email", "person", "coordinator", "url", "family", "phone",
                          "local", "place"})  # fmt: skip


def _candidates(
    left: Sequence[Iterable[Hashable]], right: Sequence[Iterable[Hashable]]
) -> list[tuple[int, int]]:
    """Pairs that share a strong key or two others, each held by no more than
    MAX_KEY_SHARE units on either side."""
    index: dict[Hashable, list[int]] = defaultdict(list)
    for j, keys in enumerate(right):
        for key in set(keys):
            index[key].append(j)
    left_sets = [set(keys) for keys in left]
    left_count = Counter(key for keys in left_sets for key in keys)
    weight: Counter[tuple[int, int]] = Counter()
    for i, keys in enumerate(left_sets):
        for key in keys:
            js = index.get(key)
            if js and len(js) <= MAX_KEY_SHARE and left_count[key] <= MAX_KEY_SHARE:
                w = 2 if isinstance(key, tuple) and key and key[0] in _STRONG_KEYS else 1
                for j in js:
                    weight[(i, j)] += w
    return sorted(pair for pair, w in weight.items() if w >= 2)


def _optimal(
    n_left: int,
    n_right: int,
    keys: Callable[[], tuple[Sequence[Iterable[Hashable]], Sequence[Iterable[Hashable]]]],
    score: Callable[[int, int], tuple[float, tuple[str, ...]] | None],
) -> list[Scored]:
    """The pairing of highest total score, per connected component of candidate pairs;
    pairs that score 0 are never returned."""
    if not n_left or not n_right:
        return []
    if n_left * n_right <= EXHAUSTIVE:
        pairs = [(i, j) for i in range(n_left) for j in range(n_right)]
    else:
        pairs = _candidates(*keys())
    edges: dict[tuple[int, int], tuple[float, tuple[str, ...]]] = {}
    for i, j in pairs:
        result = score(i, j)
        if result is not None and result[0] > 0:
            edges[(i, j)] = result
    parent = list(range(n_left + n_right))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in edges:
        a, b = root(i), root(n_left + j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    components: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for i, j in edges:
        components[root(i)].append((i, j))
    out: list[Scored] = []
    for key in sorted(components):
        pairs = components[key]
        rows, cols = sorted({i for i, _ in pairs}), sorted({j for _, j in pairs})
        row_at = {i: r for r, i in enumerate(rows)}
        col_at = {j: c for c, j in enumerate(cols)}
        matrix = [[0.0] * len(cols) for _ in rows]
        for i, j in pairs:
            matrix[row_at[i]][col_at[j]] = edges[(i, j)][0]
        chosen = _dominant(matrix)
        if chosen is None:
            import numpy as np  # only when scores compete: see _solver

            found = linear_sum_assignment(np.array(matrix), maximize=True)
            chosen = [(int(r), int(c)) for r, c in zip(*found, strict=True)]
        for r, c in chosen:
            value = matrix[r][c]
            if value <= 0:
                continue
            rivals = [v for k, v in enumerate(matrix[r]) if k != c]
            rivals += [line[c] for k, line in enumerate(matrix) if k != r]
            margin = value - max(rivals, default=0.0)
            i, j = rows[r], cols[c]
            out.append((i, j, round(value, 4), edges[(i, j)][1], round(margin, 4)))
    return out


# -- assignment ----------------------------------------------------------------------------


def _make_units(
    spec: _Spec, ctx: _Context, records: Sequence[Record], entities: Sequence[str | None]
) -> dict[tuple[str, str], list[_Unit]]:
    """Units per block, each block's units sorted by their first record's stable key.

    Old records (``entities`` given) group by entity; new ones by the kind's own rule."""
    old = any(e is not None for e in entities)
    by_block: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        by_block[_block(r)].append(i)
    out: dict[tuple[str, str], list[_Unit]] = {}
    for block, members in by_block.items():
        keyed = {i: spec.sort_key(records[i], ctx, old) for i in members}
        members.sort(key=lambda i: keyed[i])
        if not spec.group_records:
            groups = [[i] for i in members]
        elif old:
            by_entity: dict[str | None, list[int]] = defaultdict(list)
            for i in members:
                by_entity[entities[i]].append(i)
            groups = list(by_entity.values())
        else:
            local = spec.group_new([records[i] for i in members], ctx)
            groups = [[members[k] for k in g] for g in local]
        units = []
        for g in groups:
            if len(g) == 1:
                key = spec.exact(records[g[0]], ctx, old)
            else:
                key = tuple(sorted((spec.exact(records[i], ctx, old) for i in g), key=repr))
            units.append(
                _Unit(
                    block=block,
                    records=[records[i] for i in g],
                    indices=[] if old else g,
                    old=old,
                    entity=entities[g[0]],
                    exact=key,
                    sort_key=keyed[g[0]],
                )
            )
        out[block] = units
    return out


def _features(spec: _Spec, ctx: _Context, unit: _Unit) -> Any:
    if unit.features is None:
        unit.features = spec.features(unit.records, ctx, unit.old)
    return unit.features


def _neighbours(units: list[_Unit], known: Callable[[_Unit], str | None]) -> None:
    """Each unit's neighbours on its page (units are sorted by page and position)."""
    for k, unit in enumerate(units):
        page = unit.sort_key[0]
        before = units[k - 1] if k > 0 and units[k - 1].sort_key[0] == page else None
        after = units[k + 1] if k + 1 < len(units) and units[k + 1].sort_key[0] == page else None
        unit.prev = _EDGE if before is None else known(before)
        unit.next = _EDGE if after is None else known(after)


def _order(old: _Unit, new: _Unit) -> float | None:
    known = [(o, n) for o, n in ((old.prev, new.prev), (old.next, new.next)) if n is not None]
    if not known:
        return None
    return sum(o == n for o, n in known) / len(known)


def _over_time(
    spec: _Spec,
    ctx: _Context,
    olds: list[_Unit],
    news: list[_Unit],
    threshold: float,
    near: list[tuple[_Unit, _Unit, float, tuple[str, ...]]],
) -> None:
    """Match one block's new units to its old units: exact keys, then optimally."""
    old_by_key: dict[Hashable, list[_Unit]] = defaultdict(list)
    for u in olds:
        old_by_key[u.exact].append(u)
    new_by_key: dict[Hashable, list[_Unit]] = defaultdict(list)
    for u in news:
        new_by_key[u.exact].append(u)
    taken: set[int] = set()
    for key, ns in new_by_key.items():
        os_ = old_by_key.get(key)
        if os_ is not None and len(os_) == 1 and len(ns) == 1:
            new, old = ns[0], os_[0]
            new.entity, new.how, new.score = old.entity, "unchanged", 1.0
            new.matched = old.record_id
            taken.add(id(old))
    if spec.has_order:
        _neighbours(olds, lambda u: u.entity)
        _neighbours(news, lambda u: u.entity)
    rest_old = [u for u in olds if id(u) not in taken]
    rest_new = [u for u in news if u.entity is None]

    def keys() -> tuple[list[list[Hashable]], list[list[Hashable]]]:
        for u in (*rest_old, *rest_new):
            if u.time_keys is None:
                u.time_keys = spec.time_keys(_features(spec, ctx, u))
        return [u.time_keys or [] for u in rest_old], [u.time_keys or [] for u in rest_new]

    def score(i: int, j: int) -> tuple[float, tuple[str, ...]] | None:
        old, new = rest_old[i], rest_new[j]
        parts = spec.time_parts(_features(spec, ctx, old), _features(spec, ctx, new))
        if parts is None:
            return None
        if spec.has_order:
            parts.append(("order", 1, _order(old, new)))
        return _combine(parts)

    for i, j, value, agreed, margin in _optimal(len(rest_old), len(rest_new), keys, score):
        old, new = rest_old[i], rest_new[j]
        if value >= threshold:
            new.entity, new.how, new.score = old.entity, "changed", value
            new.agreed, new.margin, new.matched = agreed, margin, old.record_id
        elif value >= NOTE_FLOOR:
            near.append((old, new, value, agreed))


def _twins(
    spec: _Spec,
    ctx: _Context,
    blocks: dict[tuple[str, str], list[_Unit]],
    old_blocks: dict[tuple[str, str], list[_Unit]],
    threshold: float,
) -> list[_Group]:
    """Group this snapshot's units into entities across languages and renderings.

    A loose unit is compared with each entity's units of this snapshot and with its
    previous records in other blocks (the same block was compared over time already): a
    record of a language new to the page still finds the entity its twins had before."""
    groups: dict[str, _Group] = {}
    for block in sorted(old_blocks):
        for u in old_blocks[block]:
            if u.entity is not None:
                groups.setdefault(u.entity, _Group(u.entity)).evidence.append(u)
    for block in sorted(blocks):
        for u in blocks[block]:
            if u.entity is not None:
                groups.setdefault(u.entity, _Group(u.entity)).add(u)
    ordered = [groups[e] for e in sorted(groups)]
    for block in sorted(blocks):
        loose = [u for u in blocks[block] if u.group is None]
        if loose:
            open_groups = [g for g in ordered if block not in g.blocks]
            _twin_block(spec, ctx, block, loose, open_groups, threshold)
            for unit in loose:
                if unit.group is None:
                    unit.how = "new"
                    group = _Group(None)
                    group.add(unit)
                    ordered.append(group)
    return ordered


def _twin_block(
    spec: _Spec,
    ctx: _Context,
    block: tuple[str, str],
    loose: list[_Unit],
    open_groups: list[_Group],
    threshold: float,
) -> None:
    """Join one block's loose units to entities without a unit in the block: first those
    whose identity fields equal one entity's record in another rendering (the page and the
    text version of one language), then the rest optimally."""
    owners: dict[Hashable, list[_Group]] = defaultdict(list)
    for g in open_groups:
        for key in {m.exact for m in g.units}:
            owners[key].append(g)
    counts = Counter(u.exact for u in loose)
    for unit in loose:
        found = owners.get(unit.exact, [])
        if counts[unit.exact] == 1 and len(found) == 1 and block not in found[0].blocks:
            twin = next(m for m in found[0].units if m.exact == unit.exact)
            unit.how, unit.score, unit.matched = "twin", 1.0, twin.record_id
            found[0].add(unit)
    loose = [u for u in loose if u.group is None]
    joined = {id(g) for g in open_groups if block in g.blocks}
    open_groups = [g for g in open_groups if id(g) not in joined]

    def keys() -> tuple[list[list[Hashable]], list[list[Hashable]]]:
        for g in open_groups:
            if g.keys is None:
                members = (*g.units, *g.evidence)
                g.keys = [k for m in members for k in _twin_keys(spec, ctx, m)]
        return [_twin_keys(spec, ctx, u) for u in loose], [g.keys or [] for g in open_groups]

    def best(i: int, j: int) -> tuple[float, tuple[str, ...], _Unit] | None:
        top: tuple[float, tuple[str, ...], _Unit] | None = None
        a, group = _features(spec, ctx, loose[i]), open_groups[j]
        seen: set[Hashable] = set()
        for member in (*group.units, *(m for m in group.evidence if m.block != block)):
            if member.exact in seen:
                continue  # the same record in another rendering scores the same
            seen.add(member.exact)
            parts = spec.twin_parts(a, _features(spec, ctx, member))
            if parts is not None:
                value, agreed = _combine(parts)
                if top is None or value > top[0]:
                    top = (value, agreed, member)
        return top

    def score(i: int, j: int) -> tuple[float, tuple[str, ...]] | None:
        found = best(i, j)
        return None if found is None else found[:2]

    for i, j, value, agreed, margin in _optimal(len(loose), len(open_groups), keys, score):
        if value >= threshold:
            unit, top = loose[i], best(i, j)
            unit.how, unit.score, unit.agreed, unit.margin = "twin", value, agreed, margin
            unit.matched = top[2].record_id if top else None
            open_groups[j].add(unit)


def _twin_keys(spec: _Spec, ctx: _Context, unit: _Unit) -> list[Hashable]:
    if unit.twin_keys is None:
        unit.twin_keys = spec.twin_keys(_features(spec, ctx, unit))
    return unit.twin_keys


def assign(
    kind: str,
    previous: Mapping[str, Sequence[Record]],
    records: Sequence[Record],
    *,
    new_id: NewId,
    place_key: PlaceKey | None = None,
    previous_entities: Mapping[str, str] | None = None,
    current_entities: Mapping[str, str] | None = None,
    threshold: float = THRESHOLD,
    twin_threshold: float = TWIN_THRESHOLD,
) -> Assignment:
    """Assign the new snapshot's ``records`` of one ``kind`` ("pilot", "contact", "page").

    ``previous`` maps each entity id to its records in the last healthy snapshot (each with
    its language and rendering). ``new_id(label)`` mints an id for a new entity; the label
    is "pilot", "project", "person" or "page". ``place_key`` resolves a town's name to a
    canonical key (the gazetteer), None when it does not know it. ``previous_entities`` and
    ``current_entities`` map record ids of the previous and the new snapshot to entity ids
    for the records these refer to (a record's ``page_id``, a contact's ``pilot_id``);
    without them the record ids themselves are compared.
    """
    if kind not in _SPECS:
        raise ValueError(f"kind must be one of {', '.join(sorted(_SPECS))}, not {kind!r}")
    spec = _SPECS[kind]
    ctx = _Context(place_key, previous_entities or {}, current_entities or {})
    old_records: list[Record] = []
    old_entities: list[str | None] = []
    for entity in sorted(previous):
        for r in previous[entity]:
            old_records.append(r)
            old_entities.append(entity)
    old_blocks = _make_units(spec, ctx, old_records, old_entities)
    new_blocks = _make_units(spec, ctx, records, [None] * len(records))
    near: list[tuple[_Unit, _Unit, float, tuple[str, ...]]] = []
    for block in sorted(new_blocks):
        _over_time(spec, ctx, old_blocks.get(block, []), new_blocks[block], threshold, near)
    groups = _twins(spec, ctx, new_blocks, old_blocks, twin_threshold)
    minted = []
    groups = [g for g in groups if g.units]
    for group in groups:
        if group.entity is None:
            group.entity = new_id(spec.label(group.units[0]))
            minted.append(group.entity)
    matches: list[Match | None] = [None] * len(records)
    for group in groups:
        for unit in group.units:
            entity = group.entity or ""
            for i in unit.indices:
                matches[i] = Match(
                    record_id=str(records[i].get("id") or f"#{i}"),
                    entity_id=entity,
                    how=unit.how,
                    score=unit.score,
                    agreed=unit.agreed,
                    margin=unit.margin,
                    matched_record_id=unit.matched,
                )
    seen = {g.entity for g in groups if g.units}
    ended = tuple(sorted(e for e in previous if e not in seen))
    new_entities = set(minted)
    notes: dict[tuple[str, str], Note] = {}
    for old, new, value, agreed in sorted(near, key=lambda n: (-n[2], n[1].sort_key)):
        entity = old.entity or ""
        new_entity = new.group.entity if new.group else None
        if entity in ended and new_entity in new_entities and (entity, new_entity) not in notes:
            why = ", ".join(agreed) or "nothing"
            text = (
                f"ended + new: {entity} ended and {new_entity} began; the closest pair "
                f"({old.record_id} -> {new.record_id}) scored {value:.2f}, below the "
                f"threshold {threshold:.2f} (agreed: {why}), so it was not guessed"
            )
            notes[(entity, new_entity)] = Note(entity, new.record_id, value, agreed, text)
    return Assignment(
        kind=kind,
        matches=tuple(m for m in matches if m is not None),
        ended=ended,
        new=tuple(minted),
        notes=tuple(notes[k] for k in sorted(notes)),
    )


def assign_snapshot(
    previous: Mapping[str, Mapping[str, Sequence[Record]]],
    current: Mapping[str, Sequence[Record]],
    *,
    new_id: NewId,
    place_key: PlaceKey | None = None,
    threshold: float = THRESHOLD,
) -> dict[str, Assignment]:
    """All three kinds of one snapshot, pages first, then pilots (on their page entities),
    then persons (on their page and pilot entities). Both arguments are keyed by record
    type ("page", "pilot", "contact"); ``previous[kind]`` maps entity ids to records."""
    previous_entities = {
        str(r["id"]): entity
        for by_entity in previous.values()
        for entity, rs in by_entity.items()
        for r in rs
        if r.get("id")
    }
    current_entities: dict[str, str] = {}
    out = {}
    for kind in KINDS:
        records = current.get(kind, ())
        result = assign(
            kind,
            previous.get(kind, {}),
            records,
            new_id=new_id,
            place_key=place_key,
            previous_entities=previous_entities,
            current_entities=current_entities,
            threshold=threshold,
        )
        for r, entity in zip(records, result.entity_ids, strict=True):
            if r.get("id"):
                current_entities[str(r["id"])] = entity
        out[kind] = result
    return out
