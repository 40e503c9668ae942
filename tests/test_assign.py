"""Golden cases for assigning a snapshot's records to entities (pilotarchive.identity.assign).

Each case is a previous snapshot (records per entity), a new snapshot and the expected
entity of every new record, the entities that ended and the ids minted (a counter, so the
expected ids are fixed). The records are shaped like the replica's (four pilots of 2014).
"""

import random
from typing import Any

import pytest

from pilotarchive.identity.assign import (
    THRESHOLD,
    Assignment,
    assign,
    assign_snapshot,
    same_stem,
    sequential_ids,
    theme_similarity,
)

PAGE = "page-family"  # every page record below is one page entity (fi, sv, en; page, text)
TOWNS = {
    "Raahe": ["Raahe", "Kalajoki", "Ylivieska", "Nivala", "Oulainen"],
    "Iisalmi": ["Iisalmi", "Kiuruvesi", "Lapinlahti", "Sonkajärvi", "Vieremä"],
    "Loviisa": ["Loviisa", "Porvoo", "Raasepori", "Kokkola", "Pietarsaari"],
    "Kokkola": ["Kokkola", "Kannus", "Kaustinen", "Veteli", "Toholampi"],
    "Savonlinna": ["Savonlinna", "Enonkoski", "Rantasalmi", "Sulkava"],
}
THEMES = {
    "Raahe": "Teollisuuden rakennemuutos ja uudet kasvualat",
    "Iisalmi": "Hyvinvointipalvelut ja seudun elinvoima",
    "Loviisa": "Kaksikielisten kaupunkien yhteistyö ja kansainvälistyminen",
    "Kokkola": "Kaupunkien ja maaseudun vuorovaikutus",
    "Savonlinna": "Matkailu- ja kulttuuripalvelujen kehittäminen",
}
CONTACTS = {
    "Raahe": ("Leena Mäkinen", "leena.makinen@raahe.fi", "+358444393301"),
    "Iisalmi": ("Juha Heikkinen", "juha.heikkinen@iisalmi.fi", "+358408302711"),
    "Loviisa": ("Mikael Eriksson", "mikael.eriksson@loviisa.fi", "+358440555432"),
    "Kokkola": ("Kaisa Niemi", "kaisa.niemi@kokkola.fi", "+358408065123"),
    "Savonlinna": ("Pekka Laine", "pekka.laine@savonlinna.fi", "+358445551234"),
}
GENITIVE = {"Raahe": "Raahen", "Iisalmi": "Iisalmen", "Loviisa": "Loviisan",
            "Kokkola": "Kokkolan", "Savonlinna": "Savonlinnan"}  # fmt: skip
ORDER = ["Raahe", "Iisalmi", "Loviisa", "Kokkola"]
ENTITY = {town: f"E{n}" for n, town in enumerate(ORDER, 1)}


def pilot(town: str, position: int, language: str = "fi", rendering: str = "page", **over):
    name, email, phone = CONTACTS[town]
    record: dict[str, Any] = {
        "id": f"pilot-{language}-{rendering}-{town}",
        "record_type": "pilot",
        "kind": "pilot",
        "language": language,
        "rendering": rendering,
        "page_id": f"page-{language}-{rendering}",
        "position": position,
        "theme": THEMES[town],
        "coordinator": f"{GENITIVE[town]} kaupunki" if language == "fi" else f"{town} stad",
        "municipalities": list(TOWNS[town]),
        "contact": {"name": name, "email": email, "phone": phone, "title": None},
    }
    record.update(over)
    return record


def four(**changes: dict) -> list[dict]:
    """The four pilots in their order, with ``changes[town]`` applied to one."""
    return [pilot(t, p, **changes.get(t, {})) for p, t in enumerate(ORDER)]


def entities_of(records: list[dict], town_of=lambda r: r["id"].rsplit("-", 1)[1]) -> dict:
    out: dict[str, list[dict]] = {}
    for r in records:
        out.setdefault(ENTITY.get(town_of(r), town_of(r)), []).append(r)
    return out


def pages_of(records: list[dict]) -> dict[str, str]:
    return {r["page_id"]: PAGE for r in records if r.get("page_id")}


def run(kind: str, previous: dict, records: list[dict], **kw) -> Assignment:
    old = [r for rs in previous.values() for r in rs]
    return assign(
        kind,
        previous,
        records,
        new_id=sequential_ids(),
        previous_entities={**pages_of(old), **kw.pop("previous_entities", {})},
        current_entities={**pages_of(records), **kw.pop("current_entities", {})},
        **kw,
    )


def outcome(result: Assignment) -> dict[str, str]:
    return {m.record_id: m.entity_id for m in result.matches}


# -- pilots over time ----------------------------------------------------------------------

KEPT = {f"pilot-fi-page-{t}": ENTITY[t] for t in ORDER}
PILOT_CASES = [
    pytest.param(
        four(Loviisa={"coordinator": "Porvoon kaupunki"}), KEPT, (), "Loviisa",
        id="coordinator-change",
    ),
    pytest.param(
        four(Raahe={"municipalities": [*TOWNS["Raahe"], "Siikajoki"]}), KEPT, (), "Raahe",
        id="partner-town-joins",
    ),
    pytest.param(
        four(Iisalmi={"theme": "Hyvinvointipalvelujen kehittäminen ja seudun elinvoima"}),
        KEPT, (), "Iisalmi",
        id="theme-reworded",
    ),
    pytest.param(
        four(Iisalmi={"contact": {"name": "Sanna Kärkkäinen", "phone": "+358408302799",
                                  "email": "sanna.karkkainen@iisalmi.fi"}}),
        KEPT, (), "Iisalmi",
        id="contact-change",
    ),
    pytest.param(
        [pilot(t, 3 - p) for p, t in enumerate(ORDER)], KEPT, (), None,
        id="all-four-renumbered-unchanged",
    ),
    pytest.param(
        [pilot(t, 3 - p, theme=THEMES[t] + " seudulla") for p, t in enumerate(ORDER)],
        KEPT, (), "all",
        id="all-four-renumbered-and-reworded",
    ),
    pytest.param(
        four(Raahe={"coordinator": "Iisalmen kaupunki"},
             Iisalmi={"coordinator": "Raahen kaupunki"}),
        KEPT, (), "Raahe Iisalmi",
        id="two-pilots-exchange-coordinators",
    ),
    pytest.param(
        [*four()[:3], pilot("Savonlinna", 3)],
        {**{k: v for k, v in KEPT.items() if "Kokkola" not in k},
         "pilot-fi-page-Savonlinna": "pilot-000001"},
        ("E4",), None,
        id="pilot-removed-unrelated-added",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("records", "expected", "ended", "changed"), PILOT_CASES)
def test_pilots_over_time(records, expected, ended, changed):
    result = run("pilot", entities_of(four()), records)
    assert outcome(result) == expected
    assert result.ended == ended
    hows = {m.record_id.rsplit("-", 1)[1]: m.how for m in result.matches}
    for town, how in hows.items():
        if changed == "all" or (changed and town in changed.split()):
            assert how == "changed", town
        elif town in ENTITY:
            assert how == "unchanged", town
    for m in result.matches:
        if m.how == "changed":
            assert m.score is not None and m.score >= THRESHOLD
            assert m.margin is not None and m.margin > 0


def test_coordinator_change_says_what_agreed():
    result = run("pilot", entities_of(four()), four(Loviisa={"coordinator": "Porvoon kaupunki"}))
    match = next(m for m in result.matches if m.record_id.endswith("Loviisa"))
    assert "coordinator" not in match.agreed
    assert {"theme", "contact", "municipalities", "position"} <= set(match.agreed)
    assert match.matched_record_id == "pilot-fi-page-Loviisa"


def test_removed_and_unrelated_added_is_ended_and_new_with_a_note():
    result = run("pilot", entities_of(four()), [*four()[:3], pilot("Savonlinna", 3)])
    assert result.new == ("pilot-000001",)
    (note,) = result.notes
    assert note.entity_id == "E4" and note.record_id == "pilot-fi-page-Savonlinna"
    assert note.score < THRESHOLD
    assert "ended + new" in note.text and "not guessed" in note.text


def test_below_threshold_is_said_honestly():
    """Kokkola's pilot keeps only some partners and its place in the list: theme, coordinator
    and contact all new. Below the threshold, so: ended + new, with the score and the fields
    that agreed, not a guess."""
    rewritten = pilot(
        "Kokkola", 3,
        theme="Digitaaliset palvelut haja-asutusalueilla",
        coordinator="Kannuksen kaupunki",
        municipalities=["Kannus", "Kaustinen", "Veteli", "Halsua"],
        contact={"name": "Ville Ojala", "email": "ville.ojala@kannus.fi", "phone": None},
    )  # fmt: skip
    result = run("pilot", entities_of(four()), [*four()[:3], rewritten])
    assert outcome(result)["pilot-fi-page-Kokkola"] == "pilot-000001"
    assert result.ended == ("E4",)
    (note,) = result.notes
    assert 0.2 <= note.score < THRESHOLD
    assert "position" in note.agreed and "theme" not in note.agreed
    assert f"{note.score:.2f}" in note.text and f"{THRESHOLD:.2f}" in note.text


def test_a_lower_threshold_takes_the_guess():
    rewritten = pilot(
        "Kokkola", 3, theme="Digitaaliset palvelut", coordinator="Kannuksen kaupunki",
        municipalities=["Kannus", "Kaustinen", "Veteli", "Halsua"], contact=None,
    )  # fmt: skip
    result = run("pilot", entities_of(four()), [*four()[:3], rewritten], threshold=0.2)
    assert outcome(result)["pilot-fi-page-Kokkola"] == "E4"
    assert result.ended == () and result.notes == ()


# -- across languages and renderings -------------------------------------------------------

KEMI = {
    "fi": [("Kemin kaupunki", "Kemi"), ("Kemijärven kaupunki", "Kemijärvi")],
    "sv": [("Kemi stad", "Kemi"), ("Kemijärvi stad", "Kemijärvi")],
}


def kemi(language: str, positions: tuple[int, int]) -> list[dict]:
    """Two projects known only by their coordinator (no partners, no contact): Kemi and
    Kemijärvi, neither in any table of places."""
    return [
        {
            "id": f"pilot-{language}-{town}", "record_type": "pilot", "kind": "project",
            "language": language, "rendering": "page", "page_id": f"page-{language}",
            "position": position, "theme": f"{town} {language}", "coordinator": coordinator,
            "municipalities": [], "contact": None,
        }
        for (coordinator, town), position in zip(KEMI[language], positions, strict=True)
    ]  # fmt: skip


@pytest.mark.parametrize(
    "sv_positions", [(0, 1), (1, 0)], ids=["same-order", "sv-lists-them-the-other-way"]
)
def test_coordinator_in_no_table_aligns_fi_and_sv(sv_positions):
    records = kemi("fi", (0, 1)) + kemi("sv", sv_positions)
    result = run("pilot", {}, records)
    got = outcome(result)
    assert got["pilot-fi-Kemijärvi"] == got["pilot-sv-Kemijärvi"]
    assert got["pilot-fi-Kemi"] == got["pilot-sv-Kemi"]
    assert got["pilot-fi-Kemi"] != got["pilot-fi-Kemijärvi"]
    assert result.new == ("project-000001", "project-000002")


def test_kemijarvi_keeps_its_entity_when_sv_appears_later():
    previous = {"E1": kemi("fi", (0, 1))[:1], "E2": kemi("fi", (0, 1))[1:]}
    result = run("pilot", previous, kemi("fi", (0, 1)) + kemi("sv", (1, 0)))
    assert outcome(result) == {
        "pilot-fi-Kemi": "E1", "pilot-fi-Kemijärvi": "E2",
        "pilot-sv-Kemi": "E1", "pilot-sv-Kemijärvi": "E2",
    }  # fmt: skip
    assert {m.how for m in result.matches if "-sv-" in m.record_id} == {"twin"}


SV = {"Raahe": "Brahestad", "Iisalmi": "Idensalmi", "Loviisa": "Lovisa", "Kokkola": "Karleby"}


def all_renderings(towns=ORDER) -> list[dict]:
    out = []
    for language in ("fi", "sv", "en"):
        for rendering in ("page", "text"):
            for p, t in enumerate(towns):
                record = pilot(t, p, language, rendering)
                if language == "sv":
                    record["coordinator"] = f"{SV.get(t, t)} stad"
                    record["municipalities"] = [SV.get(m, m) for m in TOWNS[t]]
                    record["theme"] = f"({t} på svenska)"
                elif language == "en":
                    record["coordinator"], record["theme"] = f"City of {t}", f"({t} in English)"
                out.append(record)
    return out


def test_first_snapshot_one_entity_per_pilot_over_six_renderings():
    result = run("pilot", {}, all_renderings())
    got = outcome(result)
    assert result.new == ("pilot-000001", "pilot-000002", "pilot-000003", "pilot-000004")
    for town in ORDER:
        assert len({e for rid, e in got.items() if rid.endswith(town)}) == 1, town


def test_a_new_pilot_in_six_renderings_is_one_new_entity():
    previous = entities_of(all_renderings())
    result = run("pilot", previous, all_renderings([*ORDER, "Savonlinna"]))
    got = outcome(result)
    assert result.new == ("pilot-000001",)
    assert {e for rid, e in got.items() if rid.endswith("Savonlinna")} == {"pilot-000001"}
    assert all(got[rid] == ENTITY[rid.rsplit("-", 1)[1]] for rid in got if "Savo" not in rid)


def test_a_new_language_joins_the_entities_it_had():
    fi = [r for r in all_renderings() if r["language"] == "fi"]
    result = run("pilot", entities_of(fi), all_renderings())
    assert result.new == () and result.ended == ()
    assert all(m.entity_id == ENTITY[m.record_id.rsplit("-", 1)[1]] for m in result.matches)


def test_place_key_from_a_gazetteer_aligns_brahestad_and_raahe():
    """Only the coordinator and position say who is who; Raahe/Brahestad needs the resolver."""
    gazetteer = {"raahe": "Raahe", "raahen": "Raahe", "brahestad": "Raahe", "brahestads": "Raahe",
                 "iisalmen": "Iisalmi", "idensalmi": "Iisalmi"}  # fmt: skip

    def place_key(text: str) -> str | None:
        return gazetteer.get(text.split()[0].casefold())

    records = [
        pilot("Raahe", 0, municipalities=[], contact=None, kind="project"),
        pilot("Iisalmi", 1, municipalities=[], contact=None, kind="project"),
        pilot("Raahe", 1, "sv", municipalities=[], contact=None, kind="project",
              coordinator="Brahestads stad"),
        pilot("Iisalmi", 0, "sv", municipalities=[], contact=None, kind="project",
              coordinator="Idensalmi stad"),
    ]  # fmt: skip
    got = outcome(run("pilot", {}, records, place_key=place_key))
    assert got["pilot-fi-page-Raahe"] == got["pilot-sv-page-Raahe"]
    assert got["pilot-fi-page-Iisalmi"] == got["pilot-sv-page-Iisalmi"]
    assert got["pilot-fi-page-Raahe"] != got["pilot-fi-page-Iisalmi"]


# -- persons -------------------------------------------------------------------------------


def person(key: str, name: str, title: str, email: str | None, phone: str | None, **over):
    record = {
        "id": f"contact-{key}", "record_type": "contact", "language": "fi",
        "rendering": "page", "page_id": "page-fi-page", "name": name, "title": title,
        "email": email, "phone": phone, "role": "further_information", "pilot_id": None,
    }  # fmt: skip
    record.update(over)
    return record


ALHO = person("alho", "Olli Alho", "Neuvotteleva virkamies", "olli.alho@tem.fi", "+358295063591")
ANTTONEN = person("anttonen", "Lari Anttonen", "Ylitarkastaja", "lari.anttonen@tem.fi", None)
PEOPLE = {"P1": [ALHO], "P2": [ANTTONEN]}


@pytest.mark.parametrize(
    "new_alho",
    [
        pytest.param({"title": "Johtava asiantuntija", "email": "olli.alho@gov.fi"},
                     id="title-and-email-change"),
        pytest.param({"title": "Johtava asiantuntija", "email": "alho.olli@tem.fi", "phone": None},
                     id="title-and-email-change-no-phone"),
        pytest.param({"phone": "+358295000000"}, id="phone-change"),
        pytest.param({"name": "Alho Olli"}, id="name-order-family-given"),
        pytest.param({"name": "Alho, Olli"}, id="name-order-family-comma-given"),
    ],
)  # fmt: skip
def test_person_keeps_entity(new_alho):
    result = run("contact", PEOPLE, [{**ALHO, **new_alho}, ANTTONEN])
    assert outcome(result) == {"contact-alho": "P1", "contact-anttonen": "P2"}
    assert result.ended == () and result.new == ()


def test_person_replaced_as_pilot_contact_is_ended_and_new():
    juha = person("juha", "Juha Heikkinen", "kehittämispäällikkö", "juha.heikkinen@iisalmi.fi",
                  "+358408302711", role="pilot_contact", pilot_id="pilot-iisalmi")  # fmt: skip
    sanna = person("sanna", "Sanna Kärkkäinen", "projektipäällikkö",
                   "sanna.karkkainen@iisalmi.fi", "+358408302799", role="pilot_contact",
                   pilot_id="pilot-iisalmi")  # fmt: skip
    result = run("contact", {"P3": [juha]}, [sanna])
    assert result.ended == ("P3",) and result.new == ("person-000001",)
    assert len(result.notes) == 1


VIRTANEN_TEM = person("virtanen-tem", "Anna Virtanen", "Ylitarkastaja",
                      "anna.virtanen@tem.fi", "+358295000001")  # fmt: skip
VIRTANEN_KOKKOLA = person("virtanen-kokkola", "Anna Virtanen", "kehittämispäällikkö",
                          "anna.virtanen@kokkola.fi", "+358400000002", role="pilot_contact",
                          pilot_id="pilot-kokkola")  # fmt: skip


def test_two_persons_with_one_name_on_one_page_stay_two():
    first = run("contact", {}, [VIRTANEN_TEM, VIRTANEN_KOKKOLA])
    assert len(set(first.entity_ids)) == 2
    previous = {"V1": [VIRTANEN_TEM], "V2": [VIRTANEN_KOKKOLA]}
    changed = {**VIRTANEN_KOKKOLA, "title": "projektipäällikkö"}
    result = run("contact", previous, [changed, VIRTANEN_TEM])
    assert outcome(result) == {"contact-virtanen-kokkola": "V2", "contact-virtanen-tem": "V1"}


def test_one_person_in_two_roles_on_a_page_is_one_entity():
    as_contact = {**ALHO, "id": "contact-alho-2", "role": "pilot_contact", "pilot_id": "p-1"}
    result = run("contact", {}, [ALHO, as_contact])
    assert len(set(result.entity_ids)) == 1


def test_person_in_another_language_is_the_same_person():
    sv = {**ALHO, "id": "contact-alho-sv", "language": "sv", "title": "Konsultativ tjänsteman",
          "page_id": "page-sv-page"}  # fmt: skip
    result = run("contact", PEOPLE, [sv, ALHO, ANTTONEN])
    assert outcome(result)["contact-alho-sv"] == "P1"


# -- pages and whole snapshots -------------------------------------------------------------


def page(language: str, rendering: str, host: str = "http://www.tem.fi") -> dict:
    query = {"fi": "", "sv": "&l=sv", "en": "&l=en"}[language]
    script = "text" if rendering == "text" else "index"
    url = f"{host}/{script}.phtml?s=4398{query}"
    return {
        "id": f"page-{language}-{rendering}", "record_type": "page", "language": language,
        "rendering": rendering, "final_url": url, "url": url,
        "is_text_version": rendering == "text", "title": f"Pilotit {language}",
        "graphic_version_url": url.replace("text.", "index.") if rendering == "text" else None,
    }  # fmt: skip


def test_pages_one_family_across_languages_and_renderings_and_hosts():
    records = [page(lang, rend) for lang in ("fi", "sv", "en") for rend in ("page", "text")]
    first = run("page", {}, records)
    assert set(first.entity_ids) == {"page-000001"}
    moved = [page(lang, rend, "http://127.0.0.1:8014") for lang in ("fi", "sv") for rend in
             ("page", "text")]  # fmt: skip
    again = run("page", {"page-000001": records}, moved)
    assert set(again.entity_ids) == {"page-000001"}
    assert {m.how for m in again.matches} == {"changed"}


def test_assign_snapshot_runs_pages_pilots_and_persons():
    pages = [page(lang, "page") for lang in ("fi", "sv")]
    pilots = [r for r in all_renderings() if r["rendering"] == "page" and r["language"] != "en"]
    for r in pilots:
        r["page_id"] = f"page-{r['language']}-page"
    contacts = [{**ALHO, "id": f"contact-alho-{lang}", "language": lang,
                 "page_id": f"page-{lang}-page", "role": "pilot_contact",
                 "pilot_id": f"pilot-{lang}-page-Raahe"} for lang in ("fi", "sv")]  # fmt: skip
    current = {"page": pages, "pilot": pilots, "contact": contacts}
    first = assign_snapshot({}, current, new_id=sequential_ids())
    assert first["page"].new == ("page-000001",)
    assert len(first["pilot"].new) == 4 and first["contact"].new == ("person-000006",)
    previous = {
        kind: {e: [r for r, x in zip(current[kind], a.entity_ids, strict=True) if x == e]
               for e in set(a.entity_ids)}
        for kind, a in first.items()
    }  # fmt: skip
    second = assign_snapshot(previous, current, new_id=sequential_ids(100))
    for kind, a in second.items():
        assert a.entity_ids == first[kind].entity_ids
        assert {m.how for m in a.matches} == {"unchanged"}


# -- determinism and the parts -------------------------------------------------------------


def test_same_input_in_any_order_gives_the_same_output():
    previous = entities_of(all_renderings())
    records = all_renderings([*ORDER, "Savonlinna"])
    records[2]["coordinator"] = "Porvoon kaupunki"
    expected = run("pilot", previous, records)
    for seed in range(5):
        shuffled = records[:]
        random.Random(seed).shuffle(shuffled)
        again = run("pilot", dict(reversed(list(previous.items()))), shuffled)
        assert outcome(again) == outcome(expected)
        assert again.new == expected.new and again.ended == expected.ended


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("kemijarven", "kemijarvi", True),
        ("kemin", "kemi", True),
        ("kemin", "kemijarven", False),
        ("brahestads", "brahestad", True),
        ("oulaisten", "oulainen", True),
        ("kalajoen", "kalajoki", True),
        ("lapinlahti", "lapinjarvi", False),
        ("pori", "porvoo", False),
        ("kannus", "kannonkoski", False),
    ],
    ids=lambda v: str(v),
)
def test_same_stem(a, b, same):
    assert same_stem(a, b) is same


@pytest.mark.parametrize(
    ("a", "b", "low", "high"),
    [
        ("uudet kasvualat", "kasvualat uudet", 1.0, 1.0),
        ("seudun elinvoima", "seudun elinvoima hyvinvointi", 0.8, 0.8),
        ("hyvinvointipalvelut seudun", "hyvinvointipalvelujen seudun", 1.0, 1.0),
        ("maaseudun vuorovaikutus", "matkailun kehittaminen", 0.0, 0.0),
    ],
    ids=["reordered", "words-added", "inflected", "unrelated"],
)
def test_theme_similarity(a, b, low, high):
    assert low <= theme_similarity(frozenset(a.split()), frozenset(b.split())) <= high


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        assign("project", {}, [], new_id=sequential_ids())
