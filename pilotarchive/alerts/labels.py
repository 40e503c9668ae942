# ruff: noqa: E501  (phrases read best whole, one a line)
"""Every word an alert says of its own, one table per language (fi, sv, en).

A subscriber reads the whole mail in one language: subject, headings, field names, kinds
of change, the names of languages, dates and numbers. What the pages said is quoted as
they said it; when the quoted value is in another language than the mail, the mail names
that language. The three tables have the same keys (a test checks it, and that no table
holds another's words), so a phrase is never missing in one language.

Placeholders are ``{name}``; a table's own words never contain a field key of the records
(``text_version_url``, ``municipalities``), which the tests also check.
"""

from datetime import UTC, date, datetime

FI: dict[str, str] = {
    # the subject and the opening
    "count_one": "1 muutos",
    "count_many": "{n} muutosta",
    "subject": "{count}: {title}",
    "subject_digest": "{count}: {title} ({period})",
    "intro": "Arkiston haku {new} löysi sivulta {title} seuraavat muutokset verrattuna hakuun {old}.",
    "intro_digest": "Sivun {title} muutokset ajalla {period}, {sets}, vanhin ensin.",
    "sets_one": "yksi haku",
    "sets_many": "{n} hakua",
    "set_heading": "Haku {new} (verrattuna hakuun {old})",
    "period_daily": "päivä {label}",
    "period_weekly": "viikko {label}",
    "see_all": "Kaikki muutokset arkistossa",
    "moment": "{date} klo {hour}.{minute} UTC",
    # kinds of entity
    "kind_pilot": "Pilotti",
    "kind_project": "Hanke",
    "kind_person": "Yhteyshenkilö",
    "kind_page": "Sivu",
    # what happened to an entity
    "added": "Lisätty {langs}",
    "removed": "Poistettu {langs}",
    "appeared": "Sivu ilmestyi {langs}",
    "appeared_text": "Tekstiversio ilmestyi {langs}",
    "disappeared": "Sivu ei enää vastaa {langs} (HTTP {status})",
    "disappeared_text": "Tekstiversio ei enää vastaa {langs} (HTTP {status})",
    "with_records": "sivulla {pilots} ja {persons}",
    "pilots_one": "1 pilotti",
    "pilots_many": "{n} pilottia",
    "persons_one": "1 yhteyshenkilö",
    "persons_many": "{n} yhteyshenkilöä",
    "text_changed": "Sivun teksti muuttui {langs}",
    "field_line": "{field}: {old} → {new}",
    "in_langs": "({langs})",
    "none": "ei mitään",
    "quoted": "”{value}” ({lang})",
    "quote_marks": "”{value}”",
    # links
    "on_site": "Arkistossa",
    "archived": "arkistoitu kopio",
    "previous": "edellinen kopio",
    "live": "sivu verkossa",
    "pages": "Sivut",
    "text_version": "tekstiversio",
    # translation lag
    "lag": "Käännökset jäljessä",
    "lag_line": "{label}: {field} muuttui {changed}; {behind} on yhä {there}.",
    "lag_missing": "{label} on listattu {changed}, mutta ei vielä {behind}.",
    # the footer
    "footer": "Saat tämän viestin, koska tilasit ilmoitukset kohteen {target} muutoksista.",
    "unsubscribe": "Tilauksen peruminen",
    "no_archive_links": "",
    # programme facts
    "programme_value": "{pilots}, {municipalities}",
    "municipalities_one": "1 kunta",
    "municipalities_many": "{n} kuntaa",
    # the maintainers' mail
    "m_subject_degraded": "pilotarchive: haku tarvitsee huomiota ({target}: tiedot jäivät lukematta)",
    "m_subject_failed": "pilotarchive: haku tarvitsee huomiota ({target}: haku epäonnistui)",
    "m_degraded": "Kohteen {target} haku {run} tallensi tilannekuvan, mutta osa sivujen tiedoista jäi lukematta. Tilaajille ei kerrottu mitään.",
    "m_failed": "Kohteen {target} haku {run} ei tallentanut tilannekuvaa: {reason}. Tilaajille ei kerrottu mitään.",
    "m_pages": "Mikä epäonnistui ja millä sivuilla",
    "m_since": "Ongelma on jatkunut {since} alkaen ({runs}).",
    "m_runs_one": "1 haku",
    "m_runs_many": "{n} hakua",
    "m_last_healthy": "Viimeisin ehjä tilannekuva: {snapshot} ({when}).",
    "m_no_healthy": "Ehjää tilannekuvaa ei vielä ole.",
    "m_todo": "Mitä tehdä",
    "m_todo_rules": "Jos sivujen rakenne on muuttunut, kirjoita kohteelle lukusäännöt (CSS- tai XPath-valitsimet tauluihin [[target.rules.pilot]] ja [[target.rules.contact]] kohteen alle tiedostossa pilotarchive.toml, ks. docs/reextract.md) ja lue tallennetut sivut uudelleen komennolla: pilotarchive reextract --target {target}",
    "m_todo_check": "Tarkista tilannekuva: pilotarchive validate {snapshot}",
    "m_todo_crawl": "Jos sivusto ei vastannut, seuraava ajastettu haku yrittää uudelleen; tarkista osoitteet {urls}.",
    "m_todo_after": "Kun haku on taas ehjä, tilaajat saavat todelliset muutokset kerran, verrattuna viimeisimpään ehjään tilannekuvaan.",
    "m_finding": "{url}: {what}",
    "m_no_url": "(ei sivua)",
    "m_kind_extraction_failed_pilot": "pilotteja ei saatu luettua",
    "m_kind_extraction_failed_contact": "yhteyshenkilöitä ei saatu luettua",
    "m_kind_update_date_not_in_text": "päivityspäivää ei enää löydy sivun tekstistä",
    "m_kind_pages_missing": "monet aiemmin vastanneet sivut puuttuvat",
    "m_kind_other": "ongelma",
}

SV: dict[str, str] = {
    "count_one": "1 ändring",
    "count_many": "{n} ändringar",
    "subject": "{count}: {title}",
    "subject_digest": "{count}: {title} ({period})",
    "intro": "Arkivets hämtning {new} hittade följande ändringar på sidan {title} jämfört med hämtningen {old}.",
    "intro_digest": "Ändringarna på sidan {title} under {period}, {sets}, äldsta först.",
    "sets_one": "en hämtning",
    "sets_many": "{n} hämtningar",
    "set_heading": "Hämtningen {new} (jämförd med hämtningen {old})",
    "period_daily": "dagen {label}",
    "period_weekly": "veckan {label}",
    "see_all": "Alla ändringar i arkivet",
    "moment": "{date} kl. {hour}.{minute} UTC",
    "kind_pilot": "Pilotprojekt",
    "kind_project": "Projekt",
    "kind_person": "Kontaktperson",
    "kind_page": "Sidan",
    "added": "Tillagd {langs}",
    "removed": "Borttagen {langs}",
    "appeared": "Sidan publicerades {langs}",
    "appeared_text": "Textversionen publicerades {langs}",
    "disappeared": "Sidan svarar inte längre {langs} (HTTP {status})",
    "disappeared_text": "Textversionen svarar inte längre {langs} (HTTP {status})",
    "with_records": "med {pilots} och {persons}",
    "pilots_one": "1 pilotprojekt",
    "pilots_many": "{n} pilotprojekt",
    "persons_one": "1 kontaktperson",
    "persons_many": "{n} kontaktpersoner",
    "text_changed": "Sidans text ändrades {langs}",
    "field_line": "{field}: {old} → {new}",
    "in_langs": "({langs})",
    "none": "ingenting",
    "quoted": "”{value}” ({lang})",
    "quote_marks": "”{value}”",
    "on_site": "I arkivet",
    "archived": "arkiverad kopia",
    "previous": "föregående kopia",
    "live": "sidan på webben",
    "pages": "Sidorna",
    "text_version": "textversionen",
    "lag": "Översättningar som släpar efter",
    "lag_line": "{label}: {field} ändrades {changed}; {behind} står fortfarande {there}.",
    "lag_missing": "{label} finns {changed}, men ännu inte {behind}.",
    "footer": "Du får detta meddelande eftersom du prenumererar på ändringar av {target}.",
    "unsubscribe": "Avsluta prenumerationen",
    "no_archive_links": "",
    "programme_value": "{pilots}, {municipalities}",
    "municipalities_one": "1 kommun",
    "municipalities_many": "{n} kommuner",
    "m_subject_degraded": "pilotarchive: hämtningen behöver åtgärdas ({target}: uppgifter kunde inte läsas)",
    "m_subject_failed": "pilotarchive: hämtningen behöver åtgärdas ({target}: hämtningen misslyckades)",
    "m_degraded": "Hämtningen {run} av {target} sparade en ögonblicksbild, men en del av sidornas uppgifter kunde inte läsas. Prenumeranterna fick inget meddelande.",
    "m_failed": "Hämtningen {run} av {target} sparade ingen ögonblicksbild: {reason}. Prenumeranterna fick inget meddelande.",
    "m_pages": "Vad som misslyckades och på vilka sidor",
    "m_since": "Problemet har funnits sedan {since} ({runs}).",
    "m_runs_one": "1 hämtning",
    "m_runs_many": "{n} hämtningar",
    "m_last_healthy": "Senaste felfria ögonblicksbild: {snapshot} ({when}).",
    "m_no_healthy": "Det finns ännu ingen felfri ögonblicksbild.",
    "m_todo": "Vad göra",
    "m_todo_rules": "Om sidornas struktur har ändrats, skriv läsregler för målet (CSS- eller XPath-selektorer i tabellerna [[target.rules.pilot]] och [[target.rules.contact]] under målet i pilotarchive.toml, se docs/reextract.md) och läs de sparade sidorna på nytt med: pilotarchive reextract --target {target}",
    "m_todo_check": "Kontrollera ögonblicksbilden: pilotarchive validate {snapshot}",
    "m_todo_crawl": "Om webbplatsen inte svarade försöker nästa schemalagda hämtning igen; kontrollera adresserna {urls}.",
    "m_todo_after": "När hämtningen åter är felfri får prenumeranterna de verkliga ändringarna en gång, jämförda med den senaste felfria ögonblicksbilden.",
    "m_finding": "{url}: {what}",
    "m_no_url": "(ingen sida)",
    "m_kind_extraction_failed_pilot": "pilotprojekten kunde inte läsas",
    "m_kind_extraction_failed_contact": "kontaktpersonerna kunde inte läsas",
    "m_kind_update_date_not_in_text": "uppdateringsdatumet finns inte längre i sidans text",
    "m_kind_pages_missing": "många sidor som svarade tidigare saknas",
    "m_kind_other": "problem",
}

EN: dict[str, str] = {
    "count_one": "1 change",
    "count_many": "{n} changes",
    "subject": "{count}: {title}",
    "subject_digest": "{count}: {title} ({period})",
    "intro": "The archive's crawl of {new} found these changes on {title}, compared with the crawl of {old}.",
    "intro_digest": "The changes on {title} in {period}, {sets}, oldest first.",
    "sets_one": "one crawl",
    "sets_many": "{n} crawls",
    "set_heading": "Crawl of {new} (compared with the crawl of {old})",
    "period_daily": "the day {label}",
    "period_weekly": "the week {label}",
    "see_all": "All the changes in the archive",
    "moment": "{date}, {hour}:{minute} UTC",
    "kind_pilot": "Pilot",
    "kind_project": "Project",
    "kind_person": "Contact person",
    "kind_page": "Page",
    "added": "Added {langs}",
    "removed": "Removed {langs}",
    "appeared": "The page was published {langs}",
    "appeared_text": "The text version was published {langs}",
    "disappeared": "The page no longer answers {langs} (HTTP {status})",
    "disappeared_text": "The text version no longer answers {langs} (HTTP {status})",
    "with_records": "with {pilots} and {persons}",
    "pilots_one": "1 pilot",
    "pilots_many": "{n} pilots",
    "persons_one": "1 contact person",
    "persons_many": "{n} contact persons",
    "text_changed": "The page's text changed {langs}",
    "field_line": "{field}: {old} → {new}",
    "in_langs": "({langs})",
    "none": "nothing",
    "quoted": "“{value}” ({lang})",
    "quote_marks": "“{value}”",
    "on_site": "In the archive",
    "archived": "archived copy",
    "previous": "previous copy",
    "live": "the live page",
    "pages": "The pages",
    "text_version": "text version",
    "lag": "Translations lagging behind",
    "lag_line": "{label}: the {field} changed {changed}; {behind} still says {there}.",
    "lag_missing": "{label} is listed {changed}, but not yet {behind}.",
    "footer": "You receive this because you subscribed to changes of {target}.",
    "unsubscribe": "Unsubscribe",
    "no_archive_links": "",
    "programme_value": "{pilots}, {municipalities}",
    "municipalities_one": "1 municipality",
    "municipalities_many": "{n} municipalities",
    "m_subject_degraded": "pilotarchive: the crawler needs attention ({target}: facts not read)",
    "m_subject_failed": "pilotarchive: the crawler needs attention ({target}: the crawl failed)",
    "m_degraded": "The crawl {run} of {target} saved a snapshot, but some of the pages' facts could not be read. Subscribers were not told anything.",
    "m_failed": "The crawl {run} of {target} saved no snapshot: {reason}. Subscribers were not told anything.",
    "m_pages": "What failed, on which pages",
    "m_since": "This has been going on since {since} ({runs}).",
    "m_runs_one": "1 crawl",
    "m_runs_many": "{n} crawls",
    "m_last_healthy": "Last healthy snapshot: {snapshot} ({when}).",
    "m_no_healthy": "There is no healthy snapshot yet.",
    "m_todo": "What to do",
    "m_todo_rules": "If the pages' layout changed, write reading rules for the target (CSS or XPath selectors in [[target.rules.pilot]] and [[target.rules.contact]] tables under the target in pilotarchive.toml; see docs/reextract.md) and read the stored pages again with: pilotarchive reextract --target {target}",
    "m_todo_check": "Check the snapshot: pilotarchive validate {snapshot}",
    "m_todo_crawl": "If the site did not answer, the next scheduled crawl tries again; check the addresses {urls}.",
    "m_todo_after": "Once a crawl is healthy again, subscribers get the real changes once, compared with the last healthy snapshot.",
    "m_finding": "{url}: {what}",
    "m_no_url": "(no page)",
    "m_kind_extraction_failed_pilot": "the pilots could not be read",
    "m_kind_extraction_failed_contact": "the contact persons could not be read",
    "m_kind_update_date_not_in_text": "the update date is no longer in the page's text",
    "m_kind_pages_missing": "many pages that answered before are missing",
    "m_kind_other": "problem",
}

LABELS: dict[str, dict[str, str]] = {"fi": FI, "sv": SV, "en": EN}

# The field names of the records, as a reader names them.
FIELDS: dict[str, dict[str, str]] = {
    "fi": {
        "title": "Otsikko",
        "status": "Tila",
        "updated": "Päivityspäivä",
        "alternates": "Kieliversiot",
        "text_version_url": "Tekstiversion osoite",
        "programme": "Ohjelma",
        "kind": "Laji",
        "theme": "Teema",
        "coordinator": "Koordinaattori",
        "contact": "Yhteyshenkilö",
        "municipalities": "Kunnat",
        "name": "Nimi",
        "email": "Sähköposti",
        "phone": "Puhelin",
        "organization": "Organisaatio",
        "role": "Rooli",
    },
    "sv": {
        "title": "Rubrik",
        "status": "Svarskod",
        "updated": "Uppdateringsdatum",
        "alternates": "Språkversioner",
        "text_version_url": "Textversionens adress",
        "programme": "Programmet",
        "kind": "Typ",
        "theme": "Tema",
        "coordinator": "Samordnare",
        "contact": "Kontaktperson",
        "municipalities": "Kommuner",
        "name": "Namn",
        "email": "E-post",
        "phone": "Telefon",
        "organization": "Organisation",
        "role": "Roll",
    },
    "en": {
        "title": "Title",
        "status": "HTTP status",
        "updated": "Update date",
        "alternates": "Language versions",
        "text_version_url": "Text version's address",
        "programme": "Programme",
        "kind": "Kind",
        "theme": "Theme",
        "coordinator": "Coordinator",
        "contact": "Contact person",
        "municipalities": "Municipalities",
        "name": "Name",
        "email": "E-mail",
        "phone": "Phone number",
        "organization": "Organization",
        "role": "Role",
    },
}

# "in Finnish" as an adverb, and the language of a page as an adjective phrase.
IN_LANGUAGE: dict[str, dict[str, str]] = {
    "fi": {"fi": "suomeksi", "sv": "ruotsiksi", "en": "englanniksi", "": "kielettömänä"},
    "sv": {"fi": "finska", "sv": "svenska", "en": "engelska", "": "utan språk"},
    "en": {"fi": "Finnish", "sv": "Swedish", "en": "English", "": "without a language"},
}
IN_PREFIX = {"fi": "", "sv": "på ", "en": "in "}  # said once before the list of languages
LANGUAGE_PAGE: dict[str, dict[str, str]] = {
    "fi": {"fi": "suomenkielisellä sivulla", "sv": "ruotsinkielisellä sivulla",
           "en": "englanninkielisellä sivulla", "": "sivulla"},
    "sv": {"fi": "på den finska sidan", "sv": "på den svenska sidan",
           "en": "på den engelska sidan", "": "på sidan"},
    "en": {"fi": "the Finnish page", "sv": "the Swedish page", "en": "the English page",
           "": "the page"},
}  # fmt: skip
AND: dict[str, str] = {"fi": "ja", "sv": "och", "en": "and"}
MONTHS_EN = ("January February March April May June July August September October "
             "November December").split()  # fmt: skip


def labels(language: str) -> dict[str, str]:
    return LABELS.get(language, EN)


def field_name(language: str, field: str) -> str:
    """A field as a reader names it; an unknown field is said as a field, never raw."""
    return FIELDS.get(language, FIELDS["en"]).get(field) or field.replace("_", " ").capitalize()


def count(language: str, n: int, what: str = "count") -> str:
    """ "1 muutos", "4 muutosta", "3 pilots": ``what`` is the key family (count, pilots,
    persons, municipalities, sets, m_runs)."""
    w = labels(language)
    return w[f"{what}_one"] if n == 1 else w[f"{what}_many"].format(n=n)


def enumerate_words(language: str, items: list[str]) -> str:
    """ "suomeksi, ruotsiksi ja englanniksi"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {AND.get(language, 'and')} {items[-1]}"


def in_languages(language: str, codes: list[str]) -> str:
    """ "suomeksi ja ruotsiksi", "på finska och svenska", "in Finnish and Swedish"."""
    names = IN_LANGUAGE.get(language, IN_LANGUAGE["en"])
    listed = enumerate_words(language, [names.get(c, c) for c in codes])
    return IN_PREFIX.get(language, "") + listed if codes else listed


def day(language: str, value: date) -> str:
    """A date as the language writes it: 15.6.2015 (fi, sv) or 15 June 2015 (en)."""
    if language == "en":
        return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"
    return f"{value.day}.{value.month}.{value.year}"


def moment(language: str, value: datetime) -> str:
    """A crawl's time: "15.6.2015 klo 6.00 UTC", "15 June 2015, 06:00 UTC"."""
    value = value.astimezone(UTC)
    hour = f"{value.hour:02d}" if language == "en" else str(value.hour)
    return labels(language)["moment"].format(
        date=day(language, value.date()), hour=hour, minute=f"{value.minute:02d}"
    )
