"""Every phrase the extractors look for, per language, in one place.

A new variant met on the real site is added here (and gets a golden case), not in the
extractor code. Keys are the page languages pilotarchive knows: ``fi``, ``sv``, ``en``.
Matching is case-insensitive unless a table says otherwise.
"""

LANGUAGES = ("fi", "sv", "en")

# Link texts (lower-cased, stripped) that lead to another language version of the page.
LANGUAGE_LINK_TEXTS: dict[str, str] = {
    "suomeksi": "fi",
    "suomi": "fi",
    "på finska": "fi",
    "in finnish": "fi",
    "finnish": "fi",
    "fi": "fi",
    "på svenska": "sv",
    "svenska": "sv",
    "ruotsiksi": "sv",
    "in swedish": "sv",
    "swedish": "sv",
    "sv": "sv",
    "in english": "en",
    "english": "en",
    "englanniksi": "en",
    "på engelska": "en",
    "en": "en",
}

# Link texts that lead to the text-only version of the page, and back to the graphic one.
TEXT_VERSION_LINK_TEXTS = frozenset({"tekstiversio", "textversion", "text version", "text only"})
GRAPHIC_VERSION_LINK_TEXTS = frozenset(
    {"graafinen versio", "grafisk version", "graphic version", "graphical version"}
)

# URL conventions for the language of a page: query parameters and path prefixes.
LANGUAGE_QUERY_KEYS = ("l", "lang", "language", "kieli")
LANGUAGE_PATH_PREFIXES = {"/fi/": "fi", "/sv/": "sv", "/en/": "en", "/svenska/": "sv"}
# URL conventions for the text-only version of a page, tried (as a guess, marked as such)
# only when the page links to no text version: the script's name swapped, or else a query
# parameter added.
TEXT_VERSION_PATHS = {"/index.phtml": "/text.phtml"}
TEXT_VERSION_QUERY = ("tv", "1")

# Frequent short words, for guessing a language from the text as a last resort.
STOPWORDS: dict[str, frozenset[str]] = {
    "fi": frozenset(
        "ja on ei että se ovat ole sekä kun myös jossa joiden mutta tai kuin vuonna".split()
    ),
    "sv": frozenset("och är att som en ett det för med av på till har inte de om".split()),
    "en": frozenset("and the of to is are in for with that by on has have this be".split()),
}

# Labels before an update date ("Sivua viimeksi päivitetty: 19.11.2014").
UPDATE_LABELS: dict[str, tuple[str, ...]] = {
    "fi": (
        "sivua viimeksi päivitetty",
        "viimeksi päivitetty",
        "sivu päivitetty viimeksi",
        "päivitetty viimeksi",
        "sivua päivitetty viimeksi",
        "päivitetty",
        "muokattu",
        "muokattu viimeksi",
    ),
    "sv": (
        "sidan senast uppdaterad",
        "senast uppdaterad",
        "sidan uppdaterades senast",
        "uppdaterad senast",
        "uppdaterad",
        "ändrad",
        "senast ändrad",
    ),
    "en": (
        "page last updated",
        "last updated",
        "updated",
        "last modified",
        "modified",
        "page updated",
        "this page was last updated on",
        "this page was last updated",
    ),
}

# Month names in dates written out: genitive and nominative Finnish forms, Swedish, English.
MONTHS: dict[str, int] = {}
for _n, _names in enumerate(
    (
        ("tammikuuta", "tammikuu", "januari", "january", "jan"),
        ("helmikuuta", "helmikuu", "februari", "february", "feb"),
        ("maaliskuuta", "maaliskuu", "mars", "march", "mar"),
        ("huhtikuuta", "huhtikuu", "april", "apr"),
        ("toukokuuta", "toukokuu", "maj", "may"),
        ("kesäkuuta", "kesäkuu", "juni", "june", "jun"),
        ("heinäkuuta", "heinäkuu", "juli", "july", "jul"),
        ("elokuuta", "elokuu", "augusti", "august", "aug"),
        ("syyskuuta", "syyskuu", "september", "sep", "sept"),
        ("lokakuuta", "lokakuu", "oktober", "october", "oct", "okt"),
        ("marraskuuta", "marraskuu", "november", "nov"),
        ("joulukuuta", "joulukuu", "december", "dec"),
    ),
    start=1,
):
    for _name in _names:
        MONTHS[_name] = _n

# Headings of a box of persons that belongs to the page ("Lisätietoja:"), wherever the box
# stands (extract/boxes.py). Lower-case, without the colon; a heading must be the whole
# text of its element (or come first on its line, followed by a colon and the persons).
BOX_LABELS: dict[str, tuple[str, ...]] = {
    "fi": (
        "lisätietoja", "lisätiedot", "lisätietoja antavat", "lisätietoja antaa",
        "lisätietoja antava virkamies", "lisätietoja antavat virkamiehet", "yhteyshenkilöt",
        "yhteyshenkilö", "yhteystiedot", "tiedustelut", "lisätietoja saa",
        "lisätietoja antavat myös", "lisää tietoa antavat",
    ),
    "sv": (
        "ytterligare information", "mer information", "mera information", "närmare upplysningar",
        "ytterligare upplysningar", "mer info", "kontaktpersoner", "kontaktperson",
        "kontaktuppgifter", "kontakt", "förfrågningar", "mer information ges av",
        "ytterligare information ges av", "närmare upplysningar ges av",
        "mer information lämnas av", "ytterligare upplysningar ges av",
    ),
    "en": (
        "further information", "more information", "additional information",
        "for more information", "for further information", "further details", "inquiries",
        "enquiries", "contacts", "contact", "contact person", "contact persons",
        "contact information", "contact details", "for more information, please contact",
        "for more information, contact", "for further information, please contact",
        "for further information, contact", "more information is available from",
        "further information is available from",
    ),
}  # fmt: skip

# Labels before a person inside a pilot or project entry.
CONTACT_LABELS: dict[str, tuple[str, ...]] = {
    "fi": ("yhteyshenkilö", "yhteystiedot", "lisätietoja"),
    "sv": ("kontaktperson", "kontaktuppgifter", "kontakt"),
    "en": ("contact person", "contact", "contacts"),
}

# Words that join the names in a list of municipalities.
LIST_CONJUNCTIONS = ("ja", "och", "and", "sekä", "samt")

# Words that mark an organisation written next to a person ("Tommi Virtanen, Yrityssalo Oy").
# A chunk whose last word ends with one of these, or that starts with one of the phrases,
# is the person's organisation.
ORGANIZATION_WORD_ENDINGS = (
    "kaupunki", "kunta", "ministeriö", "liitto", "yhtymä", "keskus", "virasto", "oy", "ry",
    "oyj", "stad", "kommun", "ministeriet", "förbund", "centralen", "verket", "ab",
    "council", "ministry", "agency", "centre", "center", "ltd", "municipality",
)  # fmt: skip
ORGANIZATION_PREFIXES = ("city of", "town of", "ministry of", "municipality of", "regional council")

# An organisation that is the site's own (a page-level e-mail pattern covers its staff).
HOST_ORGANIZATION_WORDS = ("ministeriö", "ministeriet", "ministry")

# Labels before a phone number; the number follows in any spacing.
PHONE_LABELS = (
    "puhelin", "puh", "p", "tfn", "tel", "telefon", "phone", "telephone", "gsm", "mob",
    "mobile", "mobil", "matkapuhelin",
)  # fmt: skip

# Placeholders in e-mail patterns ("etunimi.sukunimi@tem.fi").
EMAIL_GIVEN_PLACEHOLDERS = frozenset({"etunimi", "fornamn", "förnamn", "firstname", "first"})
EMAIL_FAMILY_PLACEHOLDERS = frozenset(
    {"sukunimi", "efternamn", "lastname", "surname", "familyname", "last"}
)
# Finnish transliteration of names into e-mail addresses.
EMAIL_TRANSLITERATION = str.maketrans(
    {"ä": "a", "ö": "o", "å": "a", "é": "e", "è": "e", "ü": "u", "á": "a", "ø": "o", "æ": "ae"}
)

# Column headings of a pilot table, mapped to the field they hold.
PILOT_COLUMNS: dict[str, str] = {
    "teema": "theme",
    "pilotti": "theme",
    "tema": "theme",
    "pilot": "theme",
    "theme": "theme",
    "pilottihanke": "theme",
    "pilotprojekt": "theme",
    "pilot project": "theme",
    "koordinaattori": "coordinator",
    "koordinoiva taho": "coordinator",
    "koordinoija": "coordinator",
    "samordnare": "coordinator",
    "samordnande part": "coordinator",
    "coordinator": "coordinator",
    "coordinating body": "coordinator",
    "kunnat": "municipalities",
    "kumppanikunnat": "municipalities",
    "kommuner": "municipalities",
    "partnerkommuner": "municipalities",
    "municipalities": "municipalities",
    "partner municipalities": "municipalities",
    "yhteyshenkilö": "contact",
    "kontaktperson": "contact",
    "contact": "contact",
    "contact person": "contact",
}

# Labelled fields inside a pilot paragraph ("Teema: ... Koordinaattori: ...").
PILOT_FIELD_LABELS: dict[str, str] = {
    **PILOT_COLUMNS,
    "kumppanit": "municipalities",
    "partners": "municipalities",
    "yhteystiedot": "contact",
    "kontakt": "contact",
    # Labels of later layouts (a label/value grid, a table of labelled rows, "Label: value").
    "koordinoi": "coordinator",
    "koordinoija": "coordinator",
    "vastuutaho": "coordinator",
    "vetäjä": "coordinator",
    "samordnas av": "coordinator",
    "huvudman": "coordinator",
    "ansvarig": "coordinator",
    "coordinated by": "coordinator",
    "lead": "coordinator",
    "led by": "coordinator",
    "lead partner": "coordinator",
    "mukana olevat kunnat": "municipalities",
    "mukana": "municipalities",
    "deltar": "municipalities",
    "lead organisation": "coordinator",
    "lead organization": "coordinator",
    "coordinating organisation": "coordinator",
    "coordinating organization": "coordinator",
    "osallistuvat kunnat": "municipalities",
    "deltagande kommuner": "municipalities",
    "participating municipalities": "municipalities",
    "yhteyshenkilöt": "contact",
    "kontaktpersoner": "contact",
    "contact persons": "contact",
}

# Column headings of a table of persons (a contact table), mapped to what the column holds.
PERSON_COLUMNS: dict[str, str] = {
    "nimi": "name", "namn": "name", "name": "name", "henkilö": "name", "person": "name",
    "nimike": "title", "tehtävä": "title", "titel": "title", "befattning": "title",
    "title": "title", "position": "title", "job title": "title",
    "puhelin": "phone", "puh": "phone", "puhelinnumero": "phone", "telefon": "phone",
    "tfn": "phone", "phone": "phone", "telephone": "phone", "tel": "phone",
    "sähköposti": "email", "e-post": "email", "epost": "email", "e-mail": "email",
    "email": "email",
    "yhteystiedot": "name", "kontaktuppgifter": "name", "contact details": "name",
    # A name in two columns, family and given name apart.
    "sukunimi": "family", "etunimi": "given", "efternamn": "family", "förnamn": "given",
    "fornamn": "given", "last name": "family", "surname": "family", "family name": "family",
    "first name": "given", "given name": "given", "forename": "given",
}  # fmt: skip

# Phrases after which the coordinator is named: passive and relative forms, and the
# "coordinator is X" forms ("jota koordinoi Salon kaupunki", "Sitä koordinoi Salon
# kaupunki", "som samordnas av Salo stad", "samordnare är Salo stad", "led by the City of
# Salo", "The coordinator is the City of Salo"). Longest first when matched.
COORDINATOR_PHRASES: dict[str, tuple[str, ...]] = {
    "fi": (
        "jota koordinoi", "joita koordinoi", "jota koordinoivat", "koordinoi", "koordinoivat",
        "koordinaattorina toimii", "koordinaattorina on", "koordinaattorina",
        "koordinoijana toimii", "koordinoijana", "koordinoivana tahona toimii",
        "koordinoivana tahona", "vastuutahona toimii", "vastuutahona on", "vastuutahona",
        "vetäjänä toimii", "vetäjänä", "koordinaattori on", "hanketta koordinoi",
        "hanketta vetää", "jota vetää",
    ),
    "sv": (
        "som samordnas av", "samordnas av", "som koordineras av", "koordineras av",
        "som leds av", "leds av", "samordnare är", "samordnaren är", "samordnare för projektet är",
        "ansvarig samordnare är", "huvudman är",
    ),
    "en": (
        "which is coordinated by", "is coordinated by", "coordinated by", "which is led by",
        "is led by", "led by", "headed by", "the coordinator is", "its coordinator is",
        "coordinator is", "the coordinating body is", "the lead is", "the lead partner is",
    ),
}  # fmt: skip
# Verbs in the active voice: the coordinator is the subject before them ("Salon kaupunki
# koordinoi hanketta", "Salo stad samordnar projektet", "The City of Salo coordinates a
# separate project"). A Finnish verb is active only when an object word follows it
# (COORDINATOR_OBJECT_WORDS); "Sitä koordinoi Salon kaupunki" names it after the verb.
COORDINATOR_ACTIVE_VERBS: dict[str, tuple[str, ...]] = {
    "fi": ("koordinoi", "koordinoivat", "vetää", "vastaa"),
    "sv": ("samordnar", "koordinerar", "leder", "ansvarar för samordningen av"),
    "en": ("coordinates", "is coordinating", "leads", "is leading", "runs"),
}
COORDINATOR_OBJECT_WORDS = frozenset(
    "hanketta hankkeen sitä tätä projektia projektin erillistä erillisen pilottia niitä".split()
)
# A coordinator named before a participle, in the genitive ("Salon kaupungin koordinoima
# erillinen hanke"): the genitive is read back to the nominative (see FI_GENITIVES).
COORDINATOR_AGENT_PHRASES: dict[str, tuple[str, ...]] = {
    "fi": ("koordinoima", "koordinoiman", "koordinoimaa", "koordinoimassa", "vetämä", "vetämän"),
    "sv": (),
    "en": (),
}
# The coordinator between two words ("with the City of Salo as coordinator", "med Salo
# stad som samordnare"), as regular expressions with a group named "coordinator".
COORDINATOR_AROUND_PATTERNS: dict[str, tuple[str, ...]] = {
    "fi": (r"(?P<coordinator>[^,.;()]{2,80}?)\s(?:toimiessa|ollessa)\skoordinaattorina",),
    "sv": (r"\bmed\s(?P<coordinator>[^,.;()]{2,80}?)\ssom\s(?:samordnare|huvudman)\b",),
    "en": (r"\bwith\s(?P<coordinator>[^,.;()]{2,80}?)\sas\s(?:the\s)?(?:coordinator|lead)\b",),
}
# Words before the subject or the theme of a sentence that belong to neither ("Lisäksi on
# käynnistetty ...", "Dessutom ...", "In addition, ...").
SENTENCE_LEADS: dict[str, tuple[str, ...]] = {
    "fi": ("lisäksi", "myös", "on", "ovat", "käynnistetty", "käynnistettiin", "käynnistänyt",
           "nyt", "jo", "sekä"),
    "sv": ("dessutom", "också", "även", "har", "ett", "en", "startats", "inletts"),
    "en": ("in", "addition", "also", "moreover", "furthermore", "the", "a", "an"),
}  # fmt: skip
# Finnish genitives of the words that end an organisation's name ("Salon kaupungin" is
# "Salon kaupunki").
FI_GENITIVES: dict[str, str] = {
    "kaupungin": "kaupunki", "kunnan": "kunta", "liiton": "liitto", "kuntayhtymän": "kuntayhtymä",
    "keskuksen": "keskus", "yhdistyksen": "yhdistys", "seutukunnan": "seutukunta",
    "ministeriön": "ministeriö", "yhtymän": "yhtymä",
}  # fmt: skip

# A separate project (not a pilot) in running text, in the cases a sentence puts it in.
PROJECT_WORDS: dict[str, tuple[str, ...]] = {
    "fi": ("erillinen hanke", "erillistä hanketta", "erillisen hankkeen", "erillisessä hankkeessa",
           "erillinen projekti", "erillistä projektia", "erillisen projektin", "erillishanke",
           "erillishankkeen", "erillishanketta"),
    "sv": ("separat projekt", "separata projektet", "särskilt projekt", "särskilda projektet"),
    "en": ("separate project",),
}  # fmt: skip
# The project's theme, as regular expressions with a group named "theme", tried in order
# on each sentence about the project. Lower-case literals (matched by patterns.Phrases);
# every repetition bounded, so matching is linear. A pattern marked "inflected" finds the
# theme in the illative or translative case ("hoitoon keskittyvä", "keskittyy hoitoon",
# "hoitamiseksi"), read back to the nominative (FI_NOMINATIVE_ENDINGS).
_THEME = r"(?P<theme>[^,.;()]{3,200}?)"
_END_FI = r"(?=\s?(?:[,.;(]|$)|\s(?:ja\s(?:sitä|sen|hanketta)|jota|jonka|joka)\b)"
_END_SV = r"(?=\s?(?:[,.;(]|$)|\s(?:har|startats|inletts|som|och\ssom|samordnas|leds)\b)"
_END_EN = r"(?=\s?(?:[,.;(]|$)|\s(?:has|have|was|is|which|coordinated|led|and\sis)\b)"
PROJECT_THEME_PATTERNS: dict[str, tuple[tuple[str, bool], ...]] = {
    "fi": (
        (r"(?<![^\s,])" + _THEME + r"\skeskittyv(?:ä|än|ää|ässä)"
         r"\s(?:erillinen|erillisen|erillistä|erillisessä)"
         r"\s(?:hanke|hankkeen|hanketta|hankkeessa|projekti|projektin|projektia)", True),
        (r"(?:jo(?:ka|nka)|se|hanke)\s(?:keskittyy|keskittyvät|paneutuu|tähtää)\s" + _THEME
         + _END_FI, True),
        (r"(?:teemana|aiheena|tavoitteena)\s(?:on\s)?" + _THEME + _END_FI, False),
        (r"(?:erillinen|erillistä)\s(?:hanke|projekti|hanketta|projektia)\s" + _THEME + _END_FI,
         True),
    ),
    "sv": (
        (r"(?:projekt|projektet|det)\s(?:som\s)?(?:fokuserar|inriktar\ssig|koncentrerar\ssig)"
         r"\spå\s" + _THEME + _END_SV, False),
        (r"projekt\s(?:med\sinriktning\spå|inriktat\spå|som\sgäller|för|om|kring)\s" + _THEME
         + _END_SV, False),
        (r"(?:tema|temat)\s(?:är)\s" + _THEME + _END_SV, False),
        # "ett separat projekt med temat X", "har startats med inriktning på X"
        (r"(?:med\stemat|med\sinriktning\spå)\s" + _THEME + _END_SV, False),
    ),
    "en": (
        (r"project\s(?:focusing|focused|concentrating|which\sfocuses)\son\s" + _THEME + _END_EN,
         False),
        (r"\s(?:focuses|concentrates|will\sfocus)\son\s" + _THEME + _END_EN, False),
        (r"project\s(?:on|for|about|addressing|dealing\swith)\s" + _THEME + _END_EN, False),
        (r"theme\sis\s" + _THEME + _END_EN, False),
        (r"(?:on\sthe\stheme\sof|with\sthe\stheme)\s" + _THEME + _END_EN, False),
    ),
}  # fmt: skip
# Finnish case endings of a theme's head word and their nominative, longest first:
# "hoitoon" is "hoito", "kehittämiseen" "kehittäminen", "yhteistyöhön" "yhteistyö".
FI_NOMINATIVE_ENDINGS: tuple[tuple[str, str], ...] = (
    ("amiseksi", "aminen"), ("ämiseksi", "äminen"), ("miseksi", "minen"),
    ("yyteen", "yys"), ("uuteen", "uus"), ("kseen", "s"), ("iseen", "inen"),
    ("uihin", "ut"), ("yihin", "yt"), ("oihin", "ot"), ("öihin", "öt"),
    ("ahan", "a"), ("ähän", "ä"), ("ohon", "o"), ("öhön", "ö"), ("uhun", "u"), ("yhyn", "y"),
    ("ehen", "e"), ("oon", "o"), ("öön", "ö"), ("uun", "u"), ("yyn", "y"), ("aan", "a"),
    ("ään", "ä"), ("iin", "i"), ("een", "i"),
)  # fmt: skip

# Programme facts: number words, and the phrases carrying the counts and years.
NUMBER_WORDS: dict[str, int] = {
    "yksi": 1, "kaksi": 2, "kolme": 3, "neljä": 4, "viisi": 5, "kuusi": 6,
    "seitsemän": 7, "kahdeksan": 8, "yhdeksän": 9, "kymmenen": 10,
    "en": 1, "ett": 1, "två": 2, "tre": 3, "fyra": 4, "fem": 5, "sex": 6,
    "sju": 7, "åtta": 8, "nio": 9, "tio": 10,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
# Bounded repetition only, and a number starts only where a run of digits starts: these
# run over the whole text of a page, which may be anything. (The check that no digit comes
# before sits after the first digit: a pattern that begins with a look-behind is tried at
# every position, one that begins with a digit is scanned for in C.)
PILOT_COUNT_PATTERNS: dict[str, str] = {
    "fi": r"käynnistänyt\s{1,3}(?P<n>\w{1,20})\s{1,3}pilottia",
    "sv": r"inlett\s{1,3}(?P<n>\w{1,20})\s{1,3}pilot(?:projekt|er)",
    "en": r"launched\s{1,3}(?P<n>\w{1,20})\s{1,3}pilots?",
}
MUNICIPALITY_COUNT_PATTERNS: dict[str, str] = {
    "fi": r"(?P<n>\d(?<!\d\d)\d{0,5})\s{1,3}kuntaa",
    "sv": r"(?P<n>\d(?<!\d\d)\d{0,5})\s{1,3}kommuner",
    "en": r"(?P<n>\d(?<!\d\d)\d{0,5})\s{1,3}municipalities",
}
YEARS_PATTERNS: dict[str, str] = {
    "fi": r"vuosina\s{1,3}(?P<a>\d{4})\s{0,3}(?:ja|–|-)\s{0,3}(?P<b>\d{4})",
    "sv": r"(?:åren|under)\s{1,3}(?P<a>\d{4})\s{0,3}(?:och|–|-)\s{0,3}(?P<b>\d{4})",
    "en": r"(?:in|during)\s{1,3}(?P<a>\d{4})\s{0,3}(?:and|–|-)\s{0,3}(?P<b>\d{4})",
}

# Civil-service titles written before a name, longest first when matched.
TITLES: dict[str, tuple[str, ...]] = {
    "fi": (
        "neuvotteleva virkamies", "ylitarkastaja", "tarkastaja", "erityisasiantuntija",
        "asiantuntija", "kehittämispäällikkö", "kehitysjohtaja", "kaupunginjohtaja",
        "elinkeinojohtaja", "elinkeinoasiamies", "projektipäällikkö", "hankepäällikkö",
        "osastopäällikkö", "yksikön päällikkö", "johtaja", "teollisuusneuvos",
        "hallitusneuvos", "erityisavustaja", "suunnittelija", "kaupunginsihteeri",
        "toimitusjohtaja", "ylijohtaja", "kansliapäällikkö", "neuvotteleva virkamies",
        "projektikoordinaattori", "koordinaattori",
    ),
    "sv": (
        "konsultativ tjänsteman", "överinspektör", "inspektör", "specialsakkunnig",
        "sakkunnig", "utvecklingschef", "utvecklingsdirektör", "stadsdirektör",
        "näringslivsdirektör", "projektchef", "projektledare", "avdelningschef",
        "enhetschef", "direktör", "industriråd", "regeringsråd", "specialmedarbetare",
        "planerare", "verkställande direktör", "överdirektör", "kanslichef",
        "projektkoordinator", "koordinator",
    ),
    "en": (
        "ministerial adviser", "senior officer", "senior inspector", "inspector",
        "special adviser", "senior specialist", "specialist", "development manager",
        "development director", "city manager", "mayor", "business development director",
        "director of business development", "project manager", "project coordinator",
        "head of unit", "director general", "director", "industrial counsellor",
        "government counsellor", "senior adviser", "adviser", "planner",
        "chief executive officer", "permanent secretary", "coordinator",
    ),
}  # fmt: skip

# Given names common in Finland (Finnish and Swedish), lower-case. Tells given from family
# name where the order is not marked by a comma.
GIVEN_NAMES = frozenset(
    """
    aapo aarne aaro aatu aila aino aki aleksi alexander ali alina amanda anders andreas anja
    anna anne anneli annika anni anssi antero anti antti anu ari arja arto arttu arvo asko
    atte auli aulis benjamin birgitta bo carl carina christian christina daniel eemeli eero
    eeva eija eila eino eira elias elina elisa elisabeth elli emil emilia emma erik erika
    erkki esa esko eveliina fredrik gustav hanna hannele hannu hans harri heidi heikki heli
    helena helmi henna henri henrik hilkka hilma iida ilkka ilmari inga inger ingrid irene
    irja irma jaakko jan jani janne jari jarkko jarmo jaana jenna jenni jere jesse joakim
    joel johan johanna johannes joni jonna jorma jouko jouni juha juhani juho jukka julia
    jussi jyrki jyri kaarina kaisa kalevi kalle kari karin karoliina kasper katariina kati
    katja kerstin kimmo kirsi kirsti kristian kristiina kristina kyösti lari lars lasse
    laura lauri leena leif lena liisa linda linnea lotta lucas maarit maija maria marianne
    marika marja marjatta marko markku markus marita martti matias matti mervi miia mika
    mikael mikko minna mira mirja mirva monica niina niklas niko nina noora olavi oliver
    olli onni oskari otto outi paavo paula pauliina pekka pentti per peter petri petteri
    petra pia pirjo pirkko pertti raija raimo rainer raili reijo riikka riitta risto ritva
    robert roope rune sami sampo samuel sanna santeri sara satu seppo simo sirpa sofia
    stefan susanna suvi taina taisto tapani tapio tarja teemu teija terhi terttu tiina timo
    tom tomas tommi toni topi tuija tuomas tuomo tuula tuuli ulla ulrika unto urpo vaino
    valtteri veikko veli venla vesa ville virpi väinö william yrjö
    """.split()
)

# Endings that mark a Finnish family name ("Anttonen", "Mäkinen").
FAMILY_NAME_ENDINGS = ("nen", "sson", "ström", "berg", "lund", "qvist", "holm")
