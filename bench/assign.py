"""Assignment of records to entities over a long archive: 10,000 pilots over 100 snapshots.

Run: ``python bench/assign.py [--entities 10000] [--snapshots 100] [--seed 17]``.

A synthetic target (pilots as the replica writes them) is made in memory: pages of 20
pilots, each page in fi, sv and en and as page and text (six records per pilot per
snapshot, 60,000 pilot records and 3,000 page records at 10,000 pilots). Each snapshot is
the previous one with realistic small changes: about 1 % of the pilots change one thing (a
coordinator, a partner town joining or leaving, a theme reworded, a new contact, a contact's
e-mail), a fifth of them in Finnish only (translation lag); 0.2 % end and as many begin
(the list renumbers behind them); every tenth snapshot one page lists its pilots in a new
order. Snapshot 0 is assigned from nothing (every entity new) and reported apart.

Each later snapshot is assigned with ``assign_snapshot`` against the previous one only, as
the register will: its wall time (tracemalloc running) and its peak traced memory are
printed (the peak includes the two snapshots' records the caller holds), each as a ratio
against the mean of snapshots 1-10 of the same run. Per-snapshot
time and memory that stay flat mean the whole archive grows linearly in snapshots; the
script exits 1 when the mean ratio of the last ten snapshots exceeds 1.5. ``wrong`` counts
records whose entity is not the one their pilot had (the generator knows the truth).
"""

import argparse
import gc
import random
import statistics
import sys
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pilotarchive.identity.assign import assign_snapshot, sequential_ids

PER_PAGE = 20
LANGUAGES = ("fi", "sv", "en")
RENDERINGS = ("page", "text")
LIMIT = 1.5
SYLLABLES = "ka la jo ki sa vo nii me ri lah ti ran ta kos ki vaa ra suo mi pel to har ju".split()
GIVEN = "Anna Maria Leena Sanna Kaisa Olli Juha Mikael Pekka Ville Tommi Lari Aino Eero".split()
FAMILY = "Virtanen Korhonen Mäkinen Nieminen Heikkinen Laine Alho Niemi Ojala Eriksson".split()


class Target:
    """The truth of a synthetic target: pilots with their fields, pages of 20 in order."""

    def __init__(self, rng: random.Random, entities: int) -> None:
        self.rng = rng
        self.towns = sorted(
            {
                (a + b + c).capitalize()
                for a in SYLLABLES
                for b in SYLLABLES
                for c in ("la", "vi", "nen", "joki", "salmi", "järvi", "ranta")
            }
        )[:400]
        self.words = [f"{a}{b}{c}" for a in SYLLABLES[:8] for b in SYLLABLES for c in "aeiu"]
        self.next_id = 0
        self.pages: list[list[dict]] = [[] for _ in range((entities + PER_PAGE - 1) // PER_PAGE)]
        for n in range(entities):
            self.pages[n // PER_PAGE].append(self.new_pilot())

    def new_pilot(self) -> dict:
        rng = self.rng
        self.next_id += 1
        towns = rng.sample(self.towns, rng.randint(3, 6))
        return {
            "truth": self.next_id,
            "theme": rng.sample(range(len(self.words)), rng.randint(3, 6)),
            "coordinator": towns[0],
            "towns": towns,
            "contact": self.new_contact(towns[0]),
            "lag": None,  # a Finnish-only change: the other languages still say this
        }

    def new_contact(self, town: str) -> dict:
        given, family = self.rng.choice(GIVEN), self.rng.choice(FAMILY)
        return {
            "name": f"{given} {family}",
            "email": f"{given}.{family}@{town}.fi".lower(),
            "phone": f"+35840{self.rng.randrange(10**7):07d}",
        }

    def step(self, k: int) -> None:
        rng = self.rng
        pilots = [p for page in self.pages for p in page]
        for p in pilots:
            p["lag"] = None
        for p in rng.sample(pilots, max(1, len(pilots) // 100)):
            before = {key: (list(v) if isinstance(v, list) else v) for key, v in p.items()}
            change = rng.randrange(5)
            if change == 0:
                p["coordinator"] = rng.choice([t for t in p["towns"] if t != p["coordinator"]])
            elif change == 1:
                p["towns"] = [*p["towns"], rng.choice(self.towns)]
            elif change == 2:
                p["theme"] = [*p["theme"][:-1], rng.randrange(len(self.words))]
            elif change == 3:
                p["contact"] = self.new_contact(p["coordinator"])
            else:
                p["contact"] = {**p["contact"], "email": p["contact"]["email"] + ".invalid"}
            if rng.random() < 0.2:
                p["lag"] = before
        for _ in range(max(1, len(pilots) // 500)):
            page = rng.choice(self.pages)
            if page:
                page.pop(rng.randrange(len(page)))
            page = rng.choice(self.pages)
            page.insert(rng.randrange(len(page) + 1), self.new_pilot())
        if k % 10 == 0:
            rng.shuffle(rng.choice(self.pages))

    def records(self, k: int) -> dict[str, list[dict]]:
        pages, pilots = [], []
        for number, page in enumerate(self.pages):
            for language in LANGUAGES:
                for rendering in RENDERINGS:
                    page_id = f"page-{number}-{language}-{rendering}"
                    script = "text" if rendering == "text" else "index"
                    url = f"https://tem.fi/{script}.phtml?s={number}&l={language}"
                    pages.append({
                        "id": page_id, "record_type": "page", "language": language,
                        "rendering": rendering, "final_url": url,
                        "title": f"Pilotit {number} {language}", "snapshot_id": k,
                    })  # fmt: skip
                    for position, p in enumerate(page):
                        seen = p["lag"] if p["lag"] and language != "fi" else p
                        pilots.append(self.record(seen, p, page_id, position, language, rendering))
        return {"page": pages, "pilot": pilots}

    def record(self, p: dict, truth: dict, page_id: str, position: int, lang: str, rend: str):
        words = [self.words[w] + ("" if lang == "fi" else f"-{lang}") for w in p["theme"]]
        town_words = {"fi": "{}n kaupunki", "sv": "{} stad", "en": "City of {}"}[lang]
        return {
            "id": f"pilot-{truth['truth']}-{lang}-{rend}", "record_type": "pilot",
            "kind": "pilot", "language": lang, "rendering": rend, "page_id": page_id,
            "position": position, "theme": " ".join(words).capitalize(),
            "coordinator": town_words.format(p["coordinator"]),
            "municipalities": list(p["towns"]), "contact": dict(p["contact"]),
            "truth": truth["truth"],
        }  # fmt: skip


def by_entity(records: list[dict], entity_ids: tuple[str, ...]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r, e in zip(records, entity_ids, strict=True):
        out[e].append(r)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--snapshots", type=int, default=100)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    target = Target(random.Random(args.seed), args.entities)
    new_id = sequential_ids()
    truth_entity: dict[int, str] = {}
    previous: dict[str, dict[str, list[dict]]] = {}
    rows = []
    tracemalloc.start()
    for k in range(args.snapshots + 1):
        if k:
            target.step(k)
        current = target.records(k)
        gc.collect()
        tracemalloc.reset_peak()
        start = time.perf_counter()
        result = assign_snapshot(previous, current, new_id=new_id)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 2**20  # inputs held included
        wrong = 0
        for r, entity in zip(current["pilot"], result["pilot"].entity_ids, strict=True):
            if truth_entity.setdefault(r["truth"], entity) != entity:
                wrong += 1
        pilots = result["pilot"]
        row = (k, len(current["pilot"]), seconds, peak, len(pilots.new), len(pilots.ended), wrong)
        previous = {kind: by_entity(current[kind], result[kind].entity_ids) for kind in current}
        del current, result
        if k == 0:
            print(f"snapshot 0 (every entity new): {row[1]} pilot records, {seconds:.2f} s, "
                  f"peak {peak:.1f} MB, {row[4]} entities, wrong {wrong}")  # fmt: skip
            print(f"{'snap':>5} {'records':>8} {'time s':>7} {'x first10':>9} {'peak MB':>8} "
                  f"{'x first10':>9} {'new':>4} {'ended':>5} {'wrong':>5}")  # fmt: skip
            continue
        rows.append(row)
        first = rows[:10]
        t0 = statistics.mean(r[2] for r in first)
        m0 = statistics.mean(r[3] for r in first)
        print(f"{k:>5} {row[1]:>8} {seconds:>7.3f} {seconds / t0:>9.2f} {peak:>8.1f} "
              f"{peak / m0:>9.2f} {row[4]:>4} {row[5]:>5} {wrong:>5}", flush=True)  # fmt: skip
    tracemalloc.stop()
    first, last = rows[:10], rows[-10:]
    t_ratio = statistics.mean(r[2] for r in last) / statistics.mean(r[2] for r in first)
    m_ratio = statistics.mean(r[3] for r in last) / statistics.mean(r[3] for r in first)
    total = sum(r[2] for r in rows)
    print(f"last 10 against first 10: time x{t_ratio:.2f}, peak memory x{m_ratio:.2f}; "
          f"{len(rows)} snapshots in {total:.1f} s ({total / len(rows):.3f} s each); "
          f"wrong assignments: {sum(r[6] for r in rows)}")  # fmt: skip
    ok = t_ratio <= LIMIT and m_ratio <= LIMIT
    print("ok: flat per snapshot, linear over the archive" if ok else f"FAIL: ratio > {LIMIT}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
