"""What the replica says: the pilots page in three languages and three dated versions.

The Finnish paragraphs are the seed text of the 2014 page, verbatim. The list of pilots was
lost from the seed; the entries here (themes, towns, people, addresses, numbers) are
illustrative, not historical (see README.md beside this file). The Swedish and English texts
are our translations. Versions differ the way the real site changed over time.
"""

from dataclasses import dataclass, field, replace
from datetime import date

PILOTS_PAGE_ID = 4398


@dataclass(frozen=True)
class Person:
    given: str
    family: str
    titles: dict[str, str]  # language -> title
    email: str  # the real address; each page decides how to write it
    phone: str  # national form, e.g. "044 439 3301"


@dataclass(frozen=True)
class PilotEntry:
    key: str
    themes: dict[str, str]
    coordinators: dict[str, str]
    municipalities: tuple[str, ...]  # Finnish names; see MUNICIPALITY_NAMES_SV
    contact: Person


MUNICIPALITY_NAMES_SV = {
    "Raahe": "Brahestad",
    "Iisalmi": "Idensalmi",
    "Loviisa": "Lovisa",
    "Porvoo": "Borgå",
    "Raasepori": "Raseborg",
    "Kokkola": "Karleby",
    "Pietarsaari": "Jakobstad",
    "Kaustinen": "Kaustby",
    "Veteli": "Vetil",
    "Savonlinna": "Nyslott",
}

MÄKINEN = Person(
    "Leena",
    "Mäkinen",
    {"fi": "elinkeinojohtaja", "sv": "Näringslivsdirektör", "en": "Business Development Director"},
    "leena.makinen@raahe.fi",
    "044 439 3301",
)
HEIKKINEN = Person(
    "Juha",
    "Heikkinen",
    {"fi": "kehittämispäällikkö", "sv": "Utvecklingschef", "en": "Development Manager"},
    "juha.heikkinen@iisalmi.fi",
    "040 830 2711",
)
KÄRKKÄINEN = Person(
    "Sanna",
    "Kärkkäinen",
    {"fi": "projektipäällikkö", "sv": "Projektchef", "en": "Project Manager"},
    "sanna.karkkainen@iisalmi.fi",
    "040 830 2799",
)
ERIKSSON = Person(
    "Mikael",
    "Eriksson",
    {"fi": "kehitysjohtaja", "sv": "Utvecklingsdirektör", "en": "Development Director"},
    "mikael.eriksson@loviisa.fi",
    "044 055 5432",
)
NIEMI = Person(
    "Kaisa",
    "Niemi",
    {"fi": "erityisasiantuntija", "sv": "Specialsakkunnig", "en": "Senior Specialist"},
    "kaisa.niemi@kokkola.fi",
    "040 806 5123",
)
LAINE = Person(
    "Pekka",
    "Laine",
    {"fi": "hankepäällikkö", "sv": "Projektledare", "en": "Project Manager"},
    "pekka.laine@savonlinna.fi",
    "044 417 4000",
)
ALHO = Person(
    "Olli",
    "Alho",
    {"fi": "Neuvotteleva virkamies", "sv": "Konsultativ tjänsteman", "en": "Ministerial Adviser"},
    "olli.alho@tem.fi",
    "029 506 3591",
)
ANTTONEN = Person(
    "Lari",
    "Anttonen",
    {"fi": "Ylitarkastaja", "sv": "Överinspektör", "en": "Senior Officer"},
    "lari.anttonen@tem.fi",
    "029 504 7032",
)

VIRTANEN = Person(
    "Tommi", "Virtanen", {}, "tommi.virtanen@yrityssalo.fi", ""
)  # the project's contact: no title, no phone on the page
# The persons of the "Lisätietoja" box, in the order the page names them.
FURTHER_INFORMATION = (ALHO, ANTTONEN)


@dataclass(frozen=True)
class ProjectEntry:
    """The separate project: the same facts in every version and language."""

    themes: dict[str, str]  # the noun phrase, as a reader would name it
    coordinators: dict[str, str]
    contact: Person


SALO_PROJECT = ProjectEntry(
    {
        "fi": "seutukaupunkien rakennemuutoksen hoito",
        "sv": "hantering av strukturomvandlingen i regionstäderna",
        "en": "managing structural change in regional towns",
    },
    {"fi": "Salon kaupunki", "sv": "Salo stad", "en": "City of Salo"},
    VIRTANEN,
)

INDUSTRY = PilotEntry(
    "industry",
    {
        "fi": "Teollisuuden rakennemuutos ja uudet kasvualat",
        "sv": "Industrins strukturomvandling och nya tillväxtbranscher",
        "en": "Industrial restructuring and new growth sectors",
    },
    {"fi": "Raahen kaupunki", "sv": "Brahestads stad", "en": "City of Raahe"},
    ("Raahe", "Kalajoki", "Ylivieska", "Nivala", "Oulainen"),
    MÄKINEN,
)
WELLBEING = PilotEntry(
    "wellbeing",
    {
        "fi": "Hyvinvointipalvelut ja seudun elinvoima",
        "sv": "Välfärdstjänster och regionens livskraft",
        "en": "Welfare services and regional vitality",
    },
    {"fi": "Iisalmen kaupunki", "sv": "Idensalmi stad", "en": "City of Iisalmi"},
    ("Iisalmi", "Kiuruvesi", "Lapinlahti", "Sonkajärvi", "Vieremä"),
    HEIKKINEN,
)
BILINGUAL = PilotEntry(
    "bilingual",
    {
        "fi": "Kaksikielisten kaupunkien yhteistyö ja kansainvälistyminen",
        "sv": "Samarbete och internationalisering i tvåspråkiga städer",
        "en": "Cooperation and internationalisation of bilingual towns",
    },
    {"fi": "Loviisan kaupunki", "sv": "Lovisa stad", "en": "Town of Loviisa"},
    ("Loviisa", "Porvoo", "Raasepori", "Kokkola", "Pietarsaari"),
    ERIKSSON,
)
RURAL = PilotEntry(
    "rural",
    {
        "fi": "Kaupunkien ja maaseudun vuorovaikutus",
        "sv": "Växelverkan mellan stad och landsbygd",
        "en": "Urban-rural interaction",
    },
    {"fi": "Kokkolan kaupunki", "sv": "Karleby stad", "en": "City of Kokkola"},
    ("Kokkola", "Kannus", "Kaustinen", "Veteli", "Toholampi"),
    NIEMI,
)
TOURISM = PilotEntry(
    "tourism",
    {
        "fi": "Matkailu- ja kulttuuripalvelujen kehittäminen",
        "sv": "Utveckling av turism- och kulturtjänster",
        "en": "Developing tourism and cultural services",
    },
    {"fi": "Savonlinnan kaupunki", "sv": "Nyslotts stad", "en": "City of Savonlinna"},
    ("Savonlinna", "Enonkoski", "Rantasalmi", "Sulkava"),
    LAINE,
)


@dataclass(frozen=True)
class LanguageState:
    """One language version of the pilots page in one site version."""

    updated: date
    pilots: tuple[PilotEntry, ...]
    municipality_count: int = 38
    text_version: bool = True


@dataclass(frozen=True)
class SiteVersion:
    id: str
    description: str
    pages: dict[str, LanguageState]  # languages whose pilots page exists
    changes: tuple[str, ...] = field(default=())
    # "classic"; or a broken state for health checks: "redesign" (same content, new markup
    # the extractors do not know) or "empty" (the CMS served the pilots page without content)
    layout: str = "classic"

    @property
    def date(self) -> date:
        return max(state.updated for state in self.pages.values())


_V1_PILOTS = (INDUSTRY, WELLBEING, BILINGUAL, RURAL)
_V2_PILOTS = (INDUSTRY, replace(WELLBEING, contact=KÄRKKÄINEN), BILINGUAL, RURAL)
_V3_PILOTS = (
    INDUSTRY,
    replace(WELLBEING, contact=KÄRKKÄINEN),
    replace(
        BILINGUAL,
        coordinators={"fi": "Porvoon kaupunki", "sv": "Borgå stad", "en": "City of Porvoo"},
    ),
    RURAL,
    TOURISM,
)

VERSIONS: dict[str, SiteVersion] = {
    v.id: v
    for v in (
        SiteVersion(
            "2014-06",
            "Pilots launched: Finnish and Swedish pages only; 'In English' leads to the "
            "English front page.",
            {
                "fi": LanguageState(date(2014, 6, 12), _V1_PILOTS),
                "sv": LanguageState(date(2014, 6, 12), _V1_PILOTS),
            },
        ),
        SiteVersion(
            "2014-11-19",
            "The seed state: the wellbeing pilot's contact replaced (Heikkinen -> Kärkkäinen); "
            "the English page appears, lagging behind (updated 3 October 2014, old contact).",
            {
                "fi": LanguageState(date(2014, 11, 19), _V2_PILOTS),
                "sv": LanguageState(date(2014, 11, 19), _V2_PILOTS),
                "en": LanguageState(date(2014, 10, 3), _V1_PILOTS),
            },
            (
                "pilot wellbeing: contact Juha Heikkinen -> Sanna Kärkkäinen (fi, sv)",
                "page en: appears (pilots page in English)",
            ),
        ),
        SiteVersion(
            "2015-06",
            "A fifth pilot (tourism, Savonlinna) added, the bilingual pilot's coordinator "
            "changed to Porvoo, 43 municipalities, English caught up, Swedish text version "
            "gone (404).",
            {
                "fi": LanguageState(date(2015, 6, 15), _V3_PILOTS, 43),
                "sv": LanguageState(date(2015, 6, 15), _V3_PILOTS, 43, text_version=False),
                "en": LanguageState(date(2015, 6, 15), _V3_PILOTS, 43),
            },
            (
                "pilot tourism: added (fi, sv, en)",
                "pilot bilingual: coordinator Loviisa -> Porvoo (fi, sv, en)",
                "pilot wellbeing: contact Juha Heikkinen -> Sanna Kärkkäinen (en)",
                "programme: 38 -> 43 municipalities, 4 -> 5 pilots",
                "page sv text version: disappears (404)",
            ),
        ),
    )
}

# Later versions, after the dated sequence, that change what stays while one thing changes:
# the archive must keep each pilot and person one entity through them (issue 17). Each is
# a realistic edit of the ministry's page: a pilot led by a town missing from every old
# table; its leadership handed to a joint authority that is not a town at all; a partner
# town joining; a theme reworded; the whole list reordered; two pilots exchanging their
# coordinators; a contact person's new title and e-mail address.
KORHONEN = Person(
    "Petri",
    "Korhonen",
    {"fi": "kehittämisjohtaja", "sv": "Utvecklingsdirektör", "en": "Director of Development"},
    "petri.korhonen@kemijarvi.fi",
    "040 721 4410",
)
ARCTIC = PilotEntry(
    "arctic",
    {
        "fi": "Arktinen biotalous ja luontomatkailu",
        "sv": "Arktisk bioekonomi och naturturism",
        "en": "Arctic bioeconomy and nature tourism",
    },
    {"fi": "Kemijärven kaupunki", "sv": "Kemijärvi stad", "en": "Town of Kemijärvi"},
    ("Kemijärvi", "Pelkosenniemi", "Salla", "Savukoski"),
    KORHONEN,
)
_V4_PILOTS = (*_V3_PILOTS, ARCTIC)
_EAST_LAPLAND = {
    "fi": "Itä-Lapin kuntayhtymä",
    "sv": "Samkommunen för Östra Lappland",
    "en": "East Lapland Joint Municipal Authority",
}
_V5 = {p.key: p for p in _V4_PILOTS}
_V5["arctic"] = replace(ARCTIC, coordinators=_EAST_LAPLAND)
_V5["wellbeing"] = replace(
    _V5["wellbeing"], municipalities=(*WELLBEING.municipalities, "Pielavesi")
)
_V5["tourism"] = replace(
    TOURISM,
    themes={
        "fi": "Matkailun ja kulttuuripalvelujen kehittäminen seudulla",
        "sv": "Utveckling av regionens turism- och kulturtjänster",
        "en": "Developing the region's tourism and cultural services",
    },
)
# The list renumbered: every pilot at a new position.
_V5_PILOTS = tuple(
    _V5[k] for k in ("arctic", "tourism", "rural", "bilingual", "wellbeing", "industry")
)
_V6 = dict(_V5)
_V6["industry"] = replace(_V5["industry"], coordinators=RURAL.coordinators)
_V6["rural"] = replace(_V5["rural"], coordinators=INDUSTRY.coordinators)
_V6["industry"] = replace(
    _V6["industry"],
    contact=replace(
        MÄKINEN,
        titles={"fi": "kehitysjohtaja", "sv": "Utvecklingsdirektör", "en": "Development Director"},
        email="leena.makinen@raahenseutu.fi",
    ),
)
_V6_PILOTS = tuple(_V6[p.key] for p in _V5_PILOTS)


def _everywhere(day: date, pilots: tuple[PilotEntry, ...], towns: int) -> dict[str, LanguageState]:
    return {language: LanguageState(day, pilots, towns) for language in ("fi", "sv", "en")}


for _version in (
    SiteVersion(
        "2016-02",
        "A sixth pilot, led by Kemijärvi, a town in none of the old tables.",
        _everywhere(date(2016, 2, 10), _V4_PILOTS, 47),
        ("pilot arctic: added (fi, sv, en)", "programme: 43 -> 47 municipalities"),
    ),
    SiteVersion(
        "2016-09",
        "The list renumbered in a new order; the arctic pilot's lead handed to a joint "
        "authority (not a town); Pielavesi joins the wellbeing pilot; the tourism theme "
        "reworded.",
        _everywhere(date(2016, 9, 1), _V5_PILOTS, 48),
        (
            "pilots: every pilot at a new position",
            "pilot arctic: coordinator Kemijärvi -> Itä-Lapin kuntayhtymä (fi, sv, en)",
            "pilot wellbeing: Pielavesi joins (fi, sv, en)",
            "pilot tourism: theme reworded (fi, sv, en)",
            "programme: 47 -> 48 municipalities",
        ),
    ),
    SiteVersion(
        "2017-03",
        "The industry and rural pilots exchange their coordinators (Raahe, Kokkola); the "
        "industry pilot's contact Leena Mäkinen has a new title and e-mail address.",
        _everywhere(date(2017, 3, 20), _V6_PILOTS, 48),
        (
            "pilot industry: coordinator Raahe -> Kokkola (fi, sv, en)",
            "pilot rural: coordinator Kokkola -> Raahe (fi, sv, en)",
            "person Leena Mäkinen: title and e-mail changed (fi, sv, en)",
        ),
    ),
):
    VERSIONS[_version.id] = _version
IDENTITY_VERSIONS = ("2015-06", "2016-02", "2016-09", "2017-03")
_SEED = VERSIONS["2014-11-19"]
# Broken states of the seed version, outside the dated sequence: what a crawl meets when the
# site's layout changes under it, or its CMS fails. Only the graphic pilots pages are hit.
VERSIONS["2014-11-19-redesign"] = replace(
    _SEED,
    id="2014-11-19-redesign",
    description="The seed state in a new layout (pilot cards instead of a list, new class "
    "names): same content, markup the extractors do not know.",
    changes=(),
    layout="redesign",
)
VERSIONS["2014-11-19-empty"] = replace(
    _SEED,
    id="2014-11-19-empty",
    description="The seed state with the pilots pages' content block empty (a CMS failure).",
    changes=(),
    layout="empty",
)
DATED_VERSIONS = ("2014-06", "2014-11-19", "2015-06")
DEFAULT_VERSION = "2014-11-19"

# The seed's Finnish paragraphs, verbatim; "{n}" and "{m}" are filled per version.
INTRO: dict[str, tuple[str, ...]] = {
    "fi": (
        "Työ- ja elinkeinoministeriö on käynnistänyt {n_word} pilottia erityisesti "
        "seutukaupunkien sekä kasvusopimusmenettelyn ulkopuolisten maakuntakeskusten "
        "kilpailukyvyn  ja yhteistyön edistämiseksi. Tavoitteena on kannustaa innovatiivisiin "
        "avauksiin ja tukea kaupunkien yhteistyötä vahvuuksien ja kasvupotentiaalin "
        "hyödyntämisessä sekä edistää kilpailukykyä.",
        "Hallituksen alueiden kehittämistavoitteissa monikeskuksisuus nähdään maan "
        "kehittämisessä vahvana kilpailutekijänä. Maakuntakeskukset, teolliset keskukset sekä "
        "seutukaupungit ovat keskeisessä roolissa, kun etsitään ratkaisuja elinkeinoelämän "
        "uudistumiseen, yhteyksien rakentumiseen sekä peruspalvelujen turvaamiseen "
        "erityyppisillä kaupunkiseuduilla. Pilottimenettelyn käynnistäminen perustuu "
        "kaupunkipoliittiseen toimenpideohjelmaan.",
        "Pilottien tarkoituksena on luoda kehitettävissä teemoissa kaupunkeja kokoava malli, "
        "jossa useita kuntia ja alueita toimii yhdessä. Olennaista piloteissa ovat "
        "kokeilevuus, alueiden väliset ja sisäiset kumppanuudet ja linkit yrityksiin.",
    ),
    "sv": (
        "Arbets- och näringsministeriet har inlett {n_word} pilotprojekt särskilt för att "
        "främja konkurrenskraften och samarbetet i regionstäderna och i de landskapscentrum "
        "som står utanför tillväxtavtalen. Målet är att uppmuntra till innovativa initiativ och "
        "stödja städernas samarbete i utnyttjandet av styrkor och tillväxtpotential samt att "
        "främja konkurrenskraften.",
        "I regeringens mål för regionutvecklingen ses flerkärnighet som en stark "
        "konkurrensfaktor i utvecklingen av landet. Landskapscentrumen, industricentrumen och "
        "regionstäderna har en central roll när man söker lösningar för förnyelsen av "
        "näringslivet, utbyggnaden av förbindelser och tryggandet av basservicen i olika "
        "typer av stadsregioner. Pilotförfarandet bygger på det stadspolitiska "
        "åtgärdsprogrammet.",
        "Syftet med pilotprojekten är att skapa en modell som samlar städerna kring de teman "
        "som utvecklas och där flera kommuner och regioner arbetar tillsammans. Väsentligt i "
        "pilotprojekten är försöksverksamhet, partnerskap mellan och inom regionerna och "
        "kopplingar till företag.",
    ),
    "en": (
        "The Ministry of Employment and the Economy has launched {n_word} pilots to promote "
        "the competitiveness and cooperation of regional towns in particular and of regional "
        "centres outside the growth agreement procedure. The aim is to encourage innovative "
        "openings, to support cooperation between towns in making use of their strengths and "
        "growth potential, and to promote competitiveness.",
        "In the Government's regional development objectives, a polycentric structure is seen "
        "as a strong competitive factor in developing the country. Regional centres, "
        "industrial centres and regional towns play a key role in the search for solutions "
        "for renewing business, building connections and securing basic services in "
        "different kinds of urban regions. The pilot procedure is based on the urban policy "
        "action programme.",
        "The purpose of the pilots is to create a model that brings towns together around the "
        "themes to be developed, with several municipalities and regions working together. "
        "Experimentation, partnerships between and within regions, and links with companies "
        "are essential in the pilots.",
    ),
}
LIST_HEADING = {
    "fi": "Piloteissa keskitytään ajankohtaisiin teemoihin",
    "sv": "Pilotprojekten fokuserar på aktuella teman",
    "en": "The pilots focus on topical themes",
}
LIST_INTRO = {
    "fi": "TEM on käynnistänyt {n_word} pilottia, joiden teemat ja koordinoivat tahot ovat "
    "seuraavat:",
    "sv": "ANM har inlett {n_word} pilotprojekt med följande teman och samordnare:",
    "en": "The Ministry has launched {n_word} pilots, with the following themes and coordinators:",
}
# The separate project's sentence, in the seed's words (Finnish verbatim) and in the other
# phrasings the layouts use: the same facts (SALO_PROJECT), said differently, as ministry
# writers do. "{contact}" is the contact in parentheses.
PROJECT_SENTENCES: dict[str, dict[str, str]] = {
    "seed": {
        "fi": "Lisäksi on käynnistetty seutukaupunkien rakennemuutoksen hoitoon keskittyvä "
        "erillinen hanke, jota koordinoi Salon kaupunki {contact}.",
        "sv": "Dessutom har ett separat projekt som fokuserar på hantering av "
        "strukturomvandlingen i regionstäderna startats, som samordnas av Salo stad {contact}.",
        "en": "In addition, a separate project focusing on managing structural change in "
        "regional towns has been launched, coordinated by the City of Salo {contact}.",
    },
    "next-sentence": {
        "fi": "Lisäksi on käynnistetty erillinen hanke, joka keskittyy seutukaupunkien "
        "rakennemuutoksen hoitoon. Sitä koordinoi Salon kaupunki {contact}.",
        "sv": "Dessutom har ett separat projekt för hantering av strukturomvandlingen i "
        "regionstäderna startats. Det samordnas av Salo stad {contact}.",
        "en": "A separate project on managing structural change in regional towns has also "
        "been launched. It is coordinated by the City of Salo {contact}.",
    },
    "coordinator-role": {
        "fi": "Seutukaupunkien rakennemuutoksen hoitoon keskittyvän erillisen hankkeen "
        "koordinaattorina toimii Salon kaupunki {contact}.",
        "sv": "Ett separat projekt med inriktning på hantering av strukturomvandlingen i "
        "regionstäderna har också startats. Samordnare är Salo stad {contact}.",
        "en": "In addition, a separate project, led by the City of Salo, focuses on managing "
        "structural change in regional towns {contact}.",
    },
    "theme-and-responsible": {
        "fi": "Lisäksi on käynnistetty erillinen hanke, jonka teemana on seutukaupunkien "
        "rakennemuutoksen hoito. Hankkeen vastuutahona on Salon kaupunki {contact}.",
        "sv": "Salo stad samordnar dessutom ett separat projekt som fokuserar på hantering av "
        "strukturomvandlingen i regionstäderna {contact}.",
        "en": "A separate project focusing on managing structural change in regional towns has "
        "also been launched. The coordinator is the City of Salo {contact}.",
    },
}
PROJECT_CONTACT = {
    "fi": "(yhteystiedot Tommi Virtanen, etunimi.sukunimi@yrityssalo.fi)",
    "sv": "(kontaktperson Tommi Virtanen, fornamn.efternamn@yrityssalo.fi)",
    "en": "(contact Tommi Virtanen, firstname.lastname@yrityssalo.fi)",
}
PROJECT = {
    lang: text.format(contact=PROJECT_CONTACT[lang])
    for lang, text in PROJECT_SENTENCES["seed"].items()
}
OUTRO: dict[str, tuple[str, ...]] = {
    "fi": (
        "Pilotit perustuvat kaupunkien väliseen yhteistyöhön ja kaikkiaan pilotteihin "
        "osallistuu kumppaneina {m} kuntaa eri puolilta Suomea. Pilotit toteutetaan vuosina "
        "2014 ja 2015.",
        "Pilottien toteuttamiseen ei ole osoitettu erillistä rahoitusta, sen sijaan niiden "
        "käynnistämiseksi ja koordinointiin työ- ja elinkeinoministeriö on myöntänyt "
        "siemenrahoitusta.",
    ),
    "sv": (
        "Pilotprojekten bygger på samarbete mellan städer och sammanlagt deltar {m} kommuner "
        "från olika delar av Finland som partner. Pilotprojekten genomförs under åren 2014 "
        "och 2015.",
        "Ingen separat finansiering har anvisats för genomförandet av pilotprojekten, men "
        "arbets- och näringsministeriet har beviljat startfinansiering för att inleda och "
        "samordna dem.",
    ),
    "en": (
        "The pilots are based on cooperation between towns, and a total of {m} "
        "municipalities from different parts of Finland take part in them as partners. The "
        "pilots will be carried out in 2014 and 2015.",
        "No separate funding has been allocated for carrying out the pilots; instead, the "
        "Ministry of Employment and the Economy has granted seed funding for launching and "
        "coordinating them.",
    ),
}
NUMBER_WORD = {
    "fi": {4: "neljä", 5: "viisi", 6: "kuusi"},
    "sv": {4: "fyra", 5: "fem", 6: "sex"},
    "en": {4: "four", 5: "five", 6: "six"},
}
