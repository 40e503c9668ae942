"""One entity across languages and renderings: the same pilot in fi, sv and en, on the page
and on its text version; the same person anywhere; one page family.

Every record carries its ``entity_id`` (schemas 1.3.0), so a dataset counts each pilot once
however many pages and text versions repeat it. A pilot is known by its partner
municipalities (or, without them, by its coordinating town), written with their Finnish
names: "Brahestads stad" and "City of Raahe" are both Raahe. A person is known by the
normalised name. A page is known by its graphic version's URL without the language
parameter, so the fi, sv and en pilots pages and their text versions are one page family.
"""

import hashlib
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from pilotarchive.extract.conventions import graphic_version_url
from pilotarchive.extract.phrases import LANGUAGE_PATH_PREFIXES, LANGUAGE_QUERY_KEYS
from pilotarchive.records.ids import normalise_text, page_key

# Finnish name: (Finnish genitive as in "Raahen kaupunki", Swedish name). English pages
# use the Finnish name ("City of Raahe"). Towns of the replica first, then other towns and
# municipalities with a Swedish name.
PLACES: dict[str, tuple[str, str]] = {
    "Raahe": ("Raahen", "Brahestad"), "Iisalmi": ("Iisalmen", "Idensalmi"),
    "Loviisa": ("Loviisan", "Lovisa"), "Porvoo": ("Porvoon", "Borgå"),
    "Kokkola": ("Kokkolan", "Karleby"), "Salo": ("Salon", "Salo"),
    "Savonlinna": ("Savonlinnan", "Nyslott"), "Raasepori": ("Raaseporin", "Raseborg"),
    "Pietarsaari": ("Pietarsaaren", "Jakobstad"), "Kaustinen": ("Kaustisen", "Kaustby"),
    "Veteli": ("Vetelin", "Vetil"), "Kalajoki": ("Kalajoen", "Kalajoki"),
    "Ylivieska": ("Ylivieskan", "Ylivieska"), "Nivala": ("Nivalan", "Nivala"),
    "Oulainen": ("Oulaisten", "Oulainen"), "Kiuruvesi": ("Kiuruveden", "Kiuruvesi"),
    "Lapinlahti": ("Lapinlahden", "Lapinlahti"), "Sonkajärvi": ("Sonkajärven", "Sonkajärvi"),
    "Vieremä": ("Vieremän", "Vieremä"), "Kannus": ("Kannuksen", "Kannus"),
    "Toholampi": ("Toholammin", "Toholampi"), "Enonkoski": ("Enonkosken", "Enonkoski"),
    "Rantasalmi": ("Rantasalmen", "Rantasalmi"), "Sulkava": ("Sulkavan", "Sulkava"),
    "Helsinki": ("Helsingin", "Helsingfors"), "Espoo": ("Espoon", "Esbo"),
    "Vantaa": ("Vantaan", "Vanda"), "Turku": ("Turun", "Åbo"),
    "Tampere": ("Tampereen", "Tammerfors"), "Oulu": ("Oulun", "Uleåborg"),
    "Vaasa": ("Vaasan", "Vasa"), "Hämeenlinna": ("Hämeenlinnan", "Tavastehus"),
    "Lappeenranta": ("Lappeenrannan", "Villmanstrand"), "Mikkeli": ("Mikkelin", "S:t Michel"),
    "Kajaani": ("Kajaanin", "Kajana"), "Tornio": ("Tornion", "Torneå"),
    "Pori": ("Porin", "Björneborg"), "Rauma": ("Rauman", "Raumo"),
    "Lahti": ("Lahden", "Lahtis"), "Hanko": ("Hangon", "Hangö"),
    "Kristiinankaupunki": ("Kristiinankaupungin", "Kristinestad"),
    "Uusikaupunki": ("Uudenkaupungin", "Nystad"), "Naantali": ("Naantalin", "Nådendal"),
    "Parainen": ("Paraisten", "Pargas"), "Kaarina": ("Kaarinan", "S:t Karins"),
    "Hyvinkää": ("Hyvinkään", "Hyvinge"), "Järvenpää": ("Järvenpään", "Träskända"),
    "Kerava": ("Keravan", "Kervo"), "Lohja": ("Lohjan", "Lojo"),
    "Uusikaarlepyy": ("Uudenkaarlepyyn", "Nykarleby"), "Kaskinen": ("Kaskisten", "Kaskö"),
    "Närpiö": ("Närpiön", "Närpes"), "Mustasaari": ("Mustasaaren", "Korsholm"),
    "Kruunupyy": ("Kruunupyyn", "Kronoby"), "Kirkkonummi": ("Kirkkonummen", "Kyrkslätt"),
    "Sipoo": ("Sipoon", "Sibbo"), "Inkoo": ("Inkoon", "Ingå"), "Siuntio": ("Siuntion", "Sjundeå"),
    "Kemiönsaari": ("Kemiönsaaren", "Kimitoön"), "Pyhtää": ("Pyhtään", "Pyttis"),
    "Kemi": ("Kemin", "Kemi"), "Kuopio": ("Kuopion", "Kuopio"),
    "Joensuu": ("Joensuun", "Joensuu"), "Jyväskylä": ("Jyväskylän", "Jyväskylä"),
    "Seinäjoki": ("Seinäjoen", "Seinäjoki"), "Rovaniemi": ("Rovaniemen", "Rovaniemi"),
    "Kotka": ("Kotkan", "Kotka"), "Kouvola": ("Kouvolan", "Kouvola"),
    "Forssa": ("Forssan", "Forssa"), "Imatra": ("Imatran", "Imatra"),
}  # fmt: skip
_FORMS: dict[str, str] = {}
for _fi, (_gen, _sv) in PLACES.items():
    for _form in (_fi, _gen, _sv, _sv + "s"):
        _FORMS[normalise_text(_form)] = _fi
_TOWN_WORDS = re.compile(
    r"\b(kaupunki|kunta|stad|kommun|city of|town of|municipality of|the)\b", re.IGNORECASE
)


def place(name: str | None) -> str | None:
    """The Finnish name of a town written in any of its forms, or the text normalised."""
    if not name:
        return None
    text = normalise_text(_TOWN_WORDS.sub(" ", name))
    if text in _FORMS:
        return _FORMS[text]
    for word in text.split():
        if word in _FORMS:
            return _FORMS[word]
    return text or None


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def pilot_entity(record: dict[str, Any]) -> str:
    towns = sorted({p for m in record.get("municipalities") or [] if (p := place(m))})
    if len(towns) >= 2:
        key = "towns:" + ",".join(towns)
    elif record.get("coordinator"):
        key = "coordinator:" + (place(record["coordinator"]) or "")
    else:
        key = "theme:" + normalise_text(record.get("theme"))
    return f"{record.get('kind', 'pilot')}-{_digest(key)}"


def person_key(record: dict[str, Any] | None) -> str | None:
    if not record:
        return None
    return normalise_text(f"{record.get('given_name', '')} {record.get('family_name', '')}")


def person_entity(record: dict[str, Any]) -> str:
    return f"person-{_digest(person_key(record) or '')}"


def page_family(url: str) -> str:
    """The URL without its language marker: fi, sv and en versions share it."""
    parts = urlsplit(url)
    path = parts.path
    for prefix in LANGUAGE_PATH_PREFIXES:
        if path.startswith(prefix):
            path = "/" + path[len(prefix) :]
            break
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in LANGUAGE_QUERY_KEYS]
    return page_key(f"http://x{path}" + (f"?{urlencode(query)}" if query else ""))


def page_entity(record: dict[str, Any]) -> str:
    """The page family of the graphic version: a text version links back to it (or its URL
    is read back by the conventions), so both renderings are one entity."""
    url = record["final_url"]
    if record.get("is_text_version"):
        url = record.get("graphic_version_url") or graphic_version_url(url)
    return f"page-{_digest(page_family(url))}"


def compute_entity(kind: str, record: dict[str, Any]) -> str:
    """The entity of a record of ``kind`` ("page", "pilot", "contact"), from what it says."""
    if kind == "pilot":
        return pilot_entity(record)
    if kind == "contact":
        return person_entity(record)
    return page_entity(record)
