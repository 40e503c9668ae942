"""Alerts as people choose them: what is noise, what a target ignores, what a subscriber
wants, leaving the list in one click, the feed, and the mail as a browser renders it.

The runs are real (`pilotarchive run` against the replica and aiosmtpd on 127.0.0.1); the
expected values are written by hand from the replica's content (pilotarchive/replica/
content.py: 2014-11-19 -> 2015-06 changes four entities, see tests/test_alerts.py).
"""

import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from pilotarchive.alerts.changeset import ChangeSet
from pilotarchive.alerts.labels import FIELDS, IN_LANGUAGE, LABELS
from pilotarchive.alerts.noise import canonical_url, same, text_is_noise
from pilotarchive.export.serve import make_server
from pilotarchive.replica.server import ReplicaServer
from tests.alerting import html_text, pa, write_config
from tests.mailserver import MailServer
from tests.test_alerts import SITE, START, TITLES, _parts, check_message

FI, SV, EN = "researcher@example.org", "forskare@example.org", "analyst@example.org"
ONLY_THREE = ((FI, "fi", "none"), (SV, "sv", "none"), (EN, "en", "none"))


@pytest.fixture
def mailserver() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


def _by_recipient(server: MailServer) -> dict:
    return {r.rcpt_tos[0]: r.message for r in server.received}


# -- the label tables ------------------------------------------------------------------------


def test_each_language_has_every_phrase_and_none_of_the_others() -> None:
    assert LABELS["fi"].keys() == LABELS["sv"].keys() == LABELS["en"].keys()
    assert FIELDS["fi"].keys() == FIELDS["sv"].keys() == FIELDS["en"].keys()
    for lang, table in LABELS.items():
        for other, theirs in LABELS.items():
            if other == lang:
                continue
            shared = {k for k in table if table[k] == theirs[k] and "{" not in table[k]}
            # Only the language-free phrases are shared (punctuation, a word both use).
            assert shared <= {"no_archive_links", "m_kind_other"}, (lang, other, shared)
    for lang in FIELDS:
        for key, name in FIELDS[lang].items():
            assert "_" not in name and name != key, (lang, key)  # never the raw field
            others = [FIELDS[o][key] for o in FIELDS if o != lang]
            assert name not in others, (lang, key, name)
    assert set(IN_LANGUAGE["fi"].values()).isdisjoint(IN_LANGUAGE["sv"].values())


# -- noise -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "field", "news"),
    [
        ("Teollisuuden rakennemuutos", "Teollisuuden  rakennemuutos\n", "theme", False),
        ("Teollisuuden rakennemuutos", "teollisuuden Rakennemuutos", "theme", False),
        ("Teollisuuden rakennemuutos", "Teollisuuden murros", "theme", True),
        ("/index.phtml?s=4398&l=sv", "/index.phtml?l=sv&s=4398", "text_version_url", False),
        ("/sivu%C3%A4.html", "/sivuä.html", "text_version_url", False),
        ("https://TEM.fi:443/a?s=1", "https://tem.fi/a?s=1&utm_source=x&fbclid=1", "url", False),
        ("/text.phtml?s=4398", "/text.phtml?s=4399", "text_version_url", True),
        (["Raahe", "Kalajoki"], ["Kalajoki", "Raahe"], "municipalities", False),
        (["Raahe", "Kalajoki"], ["Raahe", "Nivala"], "municipalities", True),
        ("2014-11-19", "2015-06-15", "updated", True),
    ],
    ids=[
        "whitespace",
        "case-only",
        "reworded",
        "query-reordered",
        "re-encoded",
        "host-case-port-tracking",
        "other-page",
        "partners-reordered",
        "partner-changed",
        "date",
    ],
)
def test_noise_is_not_news(old: object, new: object, field: str, news: bool) -> None:
    assert same(old, new, field) is not news


def test_a_reflowed_text_is_not_news() -> None:
    assert text_is_noise(["--- old", "+++ new", "-Pilotit  ja hankkeet", "+pilotit ja hankkeet"])
    assert not text_is_noise(["-Pilotit ja hankkeet", "+Pilotit ja kokeilut"])
    assert canonical_url("https://tem.fi/x?b=2&a=1#top") == "https://tem.fi/x?a=1&b=2"


# -- the target's and the subscriber's choices, through a real run -----------------------------


def test_ignored_fields_and_a_subscriber_s_choices(
    replica: ReplicaServer, mailserver: MailServer, tmp_path: Path
):
    write_config(
        tmp_path,
        replica.url + START,
        mailserver.port,
        subscribers=(*ONLY_THREE, ("contacts@example.org", "fi", "none")),
        mail_extra=f'site_url = "{SITE}"',
        # The target ignores coordinators: the bilingual pilot's only change is not news.
        target_extra='ignore_fields = ["coordinator", "page.programme"]',
        subscriber_extra={"contacts@example.org": 'entities = ["pilot"], fields = ["contact"]'},
    )
    replica.set_version("2014-11-19")
    assert pa("run", cwd=tmp_path).returncode == 0
    replica.set_version("2015-06")
    result = pa("run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "3 change(s)" in result.stdout  # 4 entities changed, one only in an ignored field
    mails = _by_recipient(mailserver)
    assert str(mails[FI]["Subject"]) == f"3 muutosta: {TITLES['fi']}"
    text, _ = check_message(mails[FI], "fi", replica.url)
    assert "Koordinaattori: Loviisan" not in text and "Porvoo" not in text
    assert "Ohjelma:" not in text and "Kaksikielisten" not in text
    assert "Päivityspäivä: " in text  # the page's other changes are still news
    # Pilots only, contacts only: the wellbeing pilot's contact, and the tourism pilot
    # (new entities are always said); not the page.
    assert str(mails["contacts@example.org"]["Subject"]) == f"2 muutosta: {TITLES['fi']}"
    text, _ = check_message(mails["contacts@example.org"], "fi", replica.url)
    assert "Yhteyshenkilö: Juha Heikkinen" in text and "Lisätty suomeksi" in text
    assert "Sivu: " not in text and "Päivityspäivä" not in text


# -- one-click unsubscribe through `pilotarchive serve` ---------------------------------------


def test_one_click_unsubscribe_through_serve(
    replica: ReplicaServer, mailserver: MailServer, tmp_path: Path
):
    write_config(
        tmp_path,
        replica.url + START,
        mailserver.port,
        subscribers=ONLY_THREE,
        unsubscribe="mailto:leave@example.org",
        mail_extra=f'site_url = "{SITE}"\none_click = true',
    )
    replica.set_version("2014-06")
    assert pa("run", cwd=tmp_path).returncode == 0
    replica.set_version("2014-11-19")
    assert pa("run", cwd=tmp_path).returncode == 0
    msg = _by_recipient(mailserver)[FI]
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = (u.strip(" <>") for u in " ".join(msg["List-Unsubscribe"].split()).split(","))
    assert https.startswith(f"{SITE}unsubscribe?") and "token=" in https
    assert (
        mailto == "mailto:leave@example.org?subject=unsubscribe%20pilots%20researcher%40example.org"
    )
    # The published site is behind an HTTPS proxy; here serve is reached directly.
    server = make_server(tmp_path / "output", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    local = f"http://127.0.0.1:{server.server_address[1]}/site/"
    try:
        page = urllib.request.urlopen(https.replace(SITE, local), timeout=10).read().decode()
        assert '<form method="post"' in page  # a GET (a link scanner) unsubscribes nobody
        forged = https.replace("token=", "token=0")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(
                urllib.request.Request(forged.replace(SITE, local), data=b"x", method="POST"),
                timeout=10,
            )
        assert refused.value.code == 403
        one_click = urllib.request.Request(
            https.replace(SITE, local), data=b"List-Unsubscribe=One-Click", method="POST"
        )
        with urllib.request.urlopen(one_click, timeout=10) as answer:
            assert answer.status == 200
    finally:
        server.shutdown()
        server.server_close()
    before = len(mailserver.received)
    replica.set_version("2015-06")
    assert pa("run", cwd=tmp_path).returncode == 0
    later = [r.rcpt_tos[0] for r in mailserver.received[before:]]
    assert sorted(later) == sorted([SV, EN])  # the Finnish subscriber left; the others stay


# -- the feed ------------------------------------------------------------------------------------


def test_feed_per_language_parsed_by_a_feed_library(
    replica: ReplicaServer, mailserver: MailServer, tmp_path: Path
):
    write_config(tmp_path, replica.url + START, mailserver.port, subscribers=ONLY_THREE,
                 mail_extra=f'site_url = "{SITE}"')  # fmt: skip
    for version in ("2014-06", "2014-11-19", "2015-06"):
        replica.set_version(version)
        assert pa("run", cwd=tmp_path).returncode == 0
    built = pa("site", "--target", "pilots", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    site = tmp_path / "output" / "site"
    expected = {
        "fi": ["4 muutosta: " + TITLES["fi"], "2 muutosta: " + TITLES["fi"]],
        "sv": ["4 ändringar: " + TITLES["sv"], "2 ändringar: " + TITLES["sv"]],
        "en": ["4 changes: " + TITLES["en"], "2 changes: " + TITLES["en"]],
    }
    mails = _by_recipient(mailserver)
    for lang, titles in expected.items():
        feed = feedparser.parse((site / "feeds" / f"changes.{lang}.atom").read_bytes())
        assert not feed.bozo, feed.bozo_exception
        assert feed.version == "atom10" and feed.feed.language == lang
        assert [e.title for e in feed.entries] == titles  # newest first
        for entry in feed.entries:
            assert entry.link.startswith(f"{SITE}diffs/") and entry.id.startswith("urn:")
            assert "file:" not in entry.content[0].value
        # The same words as the mail of that language (the last run's change set).
        newest = html_text(feed.entries[0].content[0].value)
        mail = [m for m in mails.values() if m["Content-Language"] == lang][-1]
        text, _ = _parts(mail)
        for line in text.split("\n-- ")[0].splitlines()[2:]:
            line = line.strip().removeprefix("- ")
            if line and "<" not in line:
                assert line in newest, (lang, line)
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        head = page.read_text(encoding="utf-8").split("</head>", 1)[0]
        for lang in ("fi", "sv", "en"):
            assert f'<link rel="alternate" type="application/atom+xml" hreflang="{lang}"' in head, (
                page
            )


# -- the HTML part as a browser renders it -------------------------------------------------------


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium")
def test_html_part_renders_in_headless_chromium(
    replica: ReplicaServer, mailserver: MailServer, tmp_path: Path
):
    write_config(tmp_path, replica.url + START, mailserver.port, subscribers=ONLY_THREE,
                 mail_extra=f'site_url = "{SITE}"')  # fmt: skip
    replica.set_version("2014-11-19")
    assert pa("run", cwd=tmp_path).returncode == 0
    replica.set_version("2015-06")
    assert pa("run", cwd=tmp_path).returncode == 0
    _, markup = _parts(_by_recipient(mailserver)[FI])
    page = tmp_path / "alert-fi.html"
    page.write_text(markup, encoding="utf-8")
    shot = tmp_path / "alert-fi.png"
    profile = tmp_path / "chromium-profile"
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--window-size=900,1400",
         f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a page, not a blank
    dumped = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    shown = html_text(dumped.stdout)
    assert "4 muutosta: Pilotit seutukaupunkien kehittämiseen" in shown
    assert "Koordinaattori: Loviisan kaupunki → Porvoon kaupunki" in shown


# -- configuration and the maintainers' message ---------------------------------------------


@pytest.mark.parametrize(
    ("mail", "said"),
    [
        ('site_url = "file:///srv/site"', "mail.site_url: 'file:///srv/site' is not an http(s)"),
        ('site_url = "https://a.example.org/x?y"', "mail.site_url:"),
        ("one_click = true", "mail.one_click: one-click unsubscribe needs [mail] site_url"),
        ('maintainer_language = "de"', "mail.maintainer_language: must be one of"),
    ],
    ids=["file-url", "query", "one-click-without-site", "language"],
)
def test_wrong_mail_settings_are_refused_at_start(tmp_path: Path, mail: str, said: str) -> None:
    write_config(tmp_path, "http://127.0.0.1:9/x", 25, mail_extra=mail)
    result = pa("run", cwd=tmp_path)
    assert result.returncode == 2
    assert said in result.stderr and "pilotarchive.toml:" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_wrong_subscriber_choices_are_refused(tmp_path: Path) -> None:
    write_config(
        tmp_path, "http://127.0.0.1:9/x", 25, subscriber_extra={FI: 'fields = ["Coordinator!"]'},
        target_extra='ignore_fields = ["person.phone"]',
    )  # fmt: skip
    result = pa("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "subscribers[0].fields[0]: 'Coordinator!' is not a field name" in result.stderr
    write_config(
        tmp_path, "http://127.0.0.1:9/x", 25, subscriber_extra={FI: 'fields = ["coordinater"]'},
        target_extra='ignore_fields = ["persn.phone"]',
    )  # fmt: skip
    result = pa("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "ignore_fields[0]: 'persn' is no kind of entity" in result.stderr
    assert "fields[0]: no field 'coordinater'; did you mean 'coordinator'?" in result.stderr


def test_maintainers_hear_in_their_language_since_when_and_what_to_do(
    replica: ReplicaServer, mailserver: MailServer, tmp_path: Path
):
    write_config(tmp_path, replica.url + START, mailserver.port, subscribers=ONLY_THREE,
                 mail_extra='maintainer_language = "fi"')  # fmt: skip
    replica.set_version("2014-11-19")
    assert pa("run", cwd=tmp_path).returncode == 0
    replica.set_version("2014-11-19-empty")  # the CMS serves the pilots pages empty, twice
    assert pa("run", cwd=tmp_path).returncode == 3
    assert pa("run", cwd=tmp_path).returncode == 3
    received = mailserver.received
    assert {r.rcpt_tos[0] for r in received} == {"ops@example.org", "oncall@example.org"}
    snaps = sorted(
        p.name for p in (tmp_path / "output" / "snapshots").iterdir() if p.name[0] != "."
    )
    last = [r.message for r in received if r.rcpt_tos == ["ops@example.org"]][-1]
    assert last["Subject"] == (
        "pilotarchive: haku tarvitsee huomiota (pilots: tiedot jäivät lukematta)"
    )
    assert last["Content-Language"] == "fi"
    text, markup = _parts(last)
    from pilotarchive.alerts.headers import when
    from tests.test_alerts import foreign_phrases

    for other in ("sv", "en"):
        for phrase in foreign_phrases("fi", other):
            assert phrase not in text and phrase not in html_text(markup), phrase
    # Which pages: the three graphic pilots pages (fi, sv, en), each named once.
    failed = [line for line in text.splitlines() if "pilotteja ei saatu luettua" in line]
    assert len(failed) == 3 and len(set(failed)) == 3
    # Since when: the first of the two degraded runs, and how many.
    assert f"Ongelma on jatkunut {when(snaps[1], 'fi')} alkaen (2 hakua)." in text
    assert f"Viimeisin ehjä tilannekuva: {snaps[0]}" in text
    assert "pilotarchive reextract --target pilots" in text
    assert f"pilotarchive validate {snaps[2]}" in text


# -- another language's values, through the gazetteer ----------------------------------------


def _swedish_only(old: str, new: str) -> ChangeSet:
    change = {
        "record_type": "pilot", "kind": "modified", "id": "pilot-r1", "entity_id": "pilot-x",
        "language": "sv", "label": "Samarbete", "page_id": "page-sv", "archive": {},
        "fields": [{"field": "coordinator", "old": old, "new": new}],
    }  # fmt: skip
    names = {"fi": "Kaksikielisten kaupunkien yhteistyö", "sv": "Samarbete"}
    return ChangeSet(
        "pilots", "20150101T060000.000000Z", "20150102T060000.000000Z",
        {"changes": [change], "translation_lag": []}, {"fi": "Pilotit"},
        {"pilot-x": {"kind": "pilot", "labels": names}},
        {"page-sv": {"language": "sv", "rendering": "page", "url": "http://x/"}},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("lang", "old", "new", "line"),
    [
        ("fi", "Lovisa stad", "Borgå stad", "Koordinaattori: Loviisa → Porvoo (ruotsiksi)"),
        ("en", "Lovisa stad", "Borgå stad", "Coordinator: Loviisa → Porvoo (in Swedish)"),
        ("sv", "Lovisa stad", "Borgå stad", "Samordnare: Lovisa stad → Borgå stad (på svenska)"),
        (
            "fi",
            "Lovisa stad",
            "Nowhere stad",
            "Koordinaattori: Loviisa → ”Nowhere stad” (ruotsiksi)",
        ),
    ],
    ids=["fi-reader", "en-reader", "sv-reader", "unknown-town-quoted"],
)
def test_a_town_only_another_language_names_is_said_in_the_reader_s(
    lang: str, old: str, new: str, line: str
) -> None:
    from pilotarchive.alerts.news import news_of
    from pilotarchive.alerts.render import Links, blocks_text, news_blocks

    text = "\n".join(blocks_text(news_blocks(lang, news_of(_swedish_only(old, new)), [], Links())))
    assert line in text, text
    heading = {
        "fi": "Pilotti: Kaksikielisten kaupunkien yhteistyö",
        "sv": "Pilotprojekt: Samarbete",
        "en": "Pilot: “Kaksikielisten kaupunkien yhteistyö” (in Finnish)",
    }[lang]
    assert heading in text


def test_a_subscriber_may_name_entities_by_id_or_kind() -> None:
    from pilotarchive.alerts.news import Choices, news_of

    cs = _swedish_only("Lovisa stad", "Borgå stad")
    assert [n.entity_id for n in news_of(cs, Choices(entities=frozenset({"pilot-x"})))] == [
        "pilot-x"
    ]
    assert news_of(cs, Choices(entities=frozenset({"pilot-y", "person", "page"}))) == []
    assert len(news_of(cs, Choices(entities=frozenset({"pilot"})))) == 1
    assert news_of(cs, Choices(fields=frozenset({"contact"}))) == []
    assert news_of(cs, Choices(ignored=frozenset({("pilot", "coordinator")}))) == []
    assert news_of(_swedish_only("Lovisa  stad", "lovisa stad")) == []  # noise
