# ruff: noqa: E501  (phrases read best whole, one a line)
"""The few words of an alert, in the subscriber's language (fi, sv, en).

One table, as the extraction keeps its phrases in one place: headings, kinds of change and
field names. What changed is quoted as the page wrote it, in the page's own language.
"""

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "intro": "{count} found on {title}, by the crawl of {new}, compared with the crawl of {old}.",
        "intro_digest": "{count} found on {title} in {period}, in {sets} crawl(s), oldest first.",
        "set": "Crawl of {new}, compared with {old}",
        "pilot": "Pilots",
        "contact": "Contacts",
        "page": "Pages",
        "added": "added",
        "removed": "removed",
        "modified": "changed",
        "appeared": "appeared",
        "disappeared": "disappeared",
        "on": "on",
        "live": "live page",
        "archived": "archived copy",
        "previous": "previous copy",
        "with_added": "added with it",
        "with_removed": "removed with it",
        "totals": "Totals",
        "links": "The pages: live, archived now, archived before",
        "one": "1 change",
        "many": "{n} changes",
        "lag": "Translation lag (changed in one language, not yet in another)",
        "lag_line": "{field} of {label}: changed in {langs} to {here}; {behind} still has {there}",
        "footer": "You get this because you subscribed to changes of {target}. Unsubscribe: {unsubscribe}",
        "day": "day",
        "week": "week",
    },
    "fi": {
        "intro": "{count} sivulla {title}: {new} haettua sivua verrattiin {old} haettuun.",
        "intro_digest": "{count} sivulla {title} ajalla {period}, {sets} haussa, vanhin ensin.",
        "set": "Haku {new}, verrattuna hakuun {old}",
        "pilot": "Pilotit",
        "contact": "Yhteyshenkilöt",
        "page": "Sivut",
        "added": "lisätty",
        "removed": "poistettu",
        "modified": "muuttunut",
        "appeared": "ilmestynyt",
        "disappeared": "kadonnut",
        "on": "sivulla",
        "live": "sivu verkossa",
        "archived": "arkistoitu kopio",
        "previous": "edellinen kopio",
        "with_added": "lisätty samalla",
        "with_removed": "poistettu samalla",
        "totals": "Yhteensä",
        "links": "Sivut: verkossa, arkistoitu nyt, arkistoitu edellisellä kerralla",
        "one": "1 muutos",
        "many": "{n} muutosta",
        "lag": "Käännösviive (muuttunut yhdellä kielellä, ei vielä toisella)",
        "lag_line": "{label}, {field}: muuttunut kielellä {langs}: {here}; kielellä {behind} yhä {there}",
        "footer": "Saat tämän viestin, koska tilasit ilmoitukset kohteen {target} muutoksista. Tilauksen peruminen: {unsubscribe}",
        "day": "päivä",
        "week": "viikko",
    },
    "sv": {
        "intro": "{count} på {title}: hämtningen {new} jämförd med hämtningen {old}.",
        "intro_digest": "{count} på {title} under {period}, i {sets} hämtning(ar), äldsta först.",
        "set": "Hämtningen {new}, jämförd med {old}",
        "pilot": "Piloter",
        "contact": "Kontaktpersoner",
        "page": "Sidor",
        "added": "tillagd",
        "removed": "borttagen",
        "modified": "ändrad",
        "appeared": "ny",
        "disappeared": "försvunnen",
        "on": "på",
        "live": "sidan på webben",
        "archived": "arkiverad kopia",
        "previous": "föregående kopia",
        "with_added": "tillagt med den",
        "with_removed": "borttaget med den",
        "totals": "Totalt",
        "links": "Sidorna: på webben, arkiverade nu, arkiverade förra gången",
        "one": "1 ändring",
        "many": "{n} ändringar",
        "lag": "Översättningsfördröjning (ändrat på ett språk, ännu inte på ett annat)",
        "lag_line": "{label}, {field}: ändrat på {langs} till {here}; {behind} har ännu {there}",
        "footer": "Du får detta eftersom du prenumererar på ändringar av {target}. Avsluta prenumerationen: {unsubscribe}",
        "day": "dag",
        "week": "vecka",
    },
}

LANGUAGE_NAMES = {
    "en": {"fi": "In Finnish", "sv": "In Swedish", "en": "In English", "": "No language"},
    "fi": {"fi": "Suomeksi", "sv": "Ruotsiksi", "en": "Englanniksi", "": "Ei kieltä"},
    "sv": {"fi": "På finska", "sv": "På svenska", "en": "På engelska", "": "Inget språk"},
}

FIELDS = {
    "en": {},
    "fi": {
        "title": "otsikko",
        "status": "tila",
        "updated": "päivitetty",
        "alternates": "kieliversiot",
        "text_version_url": "tekstiversio",
        "programme": "ohjelma",
        "kind": "laji",
        "theme": "teema",
        "coordinator": "koordinaattori",
        "contact": "yhteyshenkilö",
        "municipalities": "kunnat",
        "name": "nimi",
        "email": "sähköposti",
        "phone": "puhelin",
        "organization": "organisaatio",
        "role": "rooli",
    },
    "sv": {
        "title": "rubrik",
        "status": "status",
        "updated": "uppdaterad",
        "alternates": "språkversioner",
        "text_version_url": "textversion",
        "programme": "programmet",
        "kind": "typ",
        "theme": "tema",
        "coordinator": "koordinator",
        "contact": "kontaktperson",
        "municipalities": "kommuner",
        "name": "namn",
        "email": "e-post",
        "phone": "telefon",
        "organization": "organisation",
        "role": "roll",
    },
}


def words(language: str) -> dict[str, str]:
    return WORDS.get(language, WORDS["en"])


def field_name(language: str, field: str) -> str:
    return FIELDS.get(language, {}).get(field, field)


def count_words(n: int) -> str:
    """The count as the Subject starts with it: "1 change", "3 changes"."""
    return f"{n} change" if n == 1 else f"{n} changes"


def local_count(language: str, n: int) -> str:
    """The count in the subscriber's language, for the text ("18 muutosta")."""
    w = words(language)
    return w["one"] if n == 1 else w["many"].format(n=n)
