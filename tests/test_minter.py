"""New entity ids: a record's content gives the base, a suffix makes it unique. One person
named in the boxes of thousands of pages gets thousands of suffixes of one base; finding
each must not count from 2 again (that was quadratic: 80 million tries at 100,000 pages)."""

import random
import time

from pilotarchive.identity.register import _Minter
from pilotarchive.records.entities import compute_entity


def _reference(taken: set[str], base: str) -> str:
    """The smallest free suffix, counted from the start, as the ids were always given."""
    ident, n = base, 1
    while ident in taken:
        n += 1
        ident = f"{base}-{n}"
    taken.add(ident)
    return ident


def _person(n: int) -> dict[str, str]:
    return {"given_name": f"Etunimi{n}", "family_name": "Sukunimi"}


def test_ids_are_the_smallest_free_suffix_whatever_was_taken_before() -> None:
    rng = random.Random(18)
    people = [_person(n) for n in range(5)]
    bases = [compute_entity("contact", p) for p in people]
    for _ in range(200):
        # The register's entities: some bases with gaps in their suffixes, as a rebuilt or
        # merged register may hold.
        taken = {f"{b}-{n}" if n > 1 else b for b in bases for n in range(1, 12)
                 if rng.random() < 0.4}  # fmt: skip
        minter, expected = _Minter(taken), set(taken)
        for _ in range(60):
            k = rng.randrange(len(people))
            assert minter.final("contact", people[k]) == _reference(expected, bases[k])


def test_minting_one_base_many_times_is_linear() -> None:
    """20,000 ids of one base: well under a second when each continues where the last one
    ended; counting from 2 each time needs 200 million tries. Fails with the old loop:
    checked."""
    minter = _Minter([])
    person = _person(0)
    started = time.process_time()
    ids = [minter.final("contact", person) for _ in range(20_000)]
    assert time.process_time() - started < 3.0
    base = compute_entity("contact", person)
    assert ids[0] == base and ids[1] == f"{base}-2" and ids[-1] == f"{base}-20000"
