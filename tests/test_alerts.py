"""Change alerts through a real SMTP server on 127.0.0.1, as subscribers receive them.

Each test serves the replica, runs `pilotarchive run` in a subprocess (the crawl is real),
and reads what aiosmtpd received with the standard library's ``email`` package.
"""

import dataclasses
import email
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.policy import default
from email.utils import getaddresses, parsedate_to_datetime
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pilotarchive.alerts.clean import one_line
from pilotarchive.alerts.compose import when
from pilotarchive.alerts.labels import FIELDS, IN_LANGUAGE, LABELS
from pilotarchive.alerts.outbox import Outbox
from pilotarchive.alerts.state import read_state
from pilotarchive.archive.snapshot import make_snapshot_id
from pilotarchive.replica.server import ReplicaServer
from pilotarchive.schedule.config import load_config
from pilotarchive.schedule.run import queue_digests
from tests.alerting import MAINTAINERS, html_text, outbox, pa, runs, sent, write_config
from tests.mailserver import PASSWORD, USER, MailServer, free_port, make_certificate

START = "/seutukaupunkipilotit"
IMMEDIATE = {
    "researcher@example.org": "fi",
    "forskare@example.org": "sv",
    "analyst@example.org": "en",
}
SITE = "https://archive.example.org/pilots/"  # [mail] site_url: where the site is published
UNSUBSCRIBE = "https://example.org/unsubscribe?"  # write_config's [mail] unsubscribe
TITLES = {
    "fi": "Pilotit seutukaupunkien kehittämiseen",
    "sv": "Pilotprojekt för utveckling av regionstäder",
    "en": "Pilots for developing regional towns",
}
# What changed from the replica's 2014-11-19 to 2015-06 (pilotarchive/replica/content.py,
# VERSIONS["2015-06"].changes), written out by hand: four entities changed. The bilingual
# pilot's coordinator (Loviisa -> Porvoo, every language); the tourism pilot added (every
# language); the wellbeing pilot's contact, which only the English page still had to
# change (Heikkinen -> Kärkkäinen); the pilots page (its update date, 4 -> 5 pilots and
# 38 -> 43 municipalities, the Swedish text version gone with a 404).
CHANGED_2015 = 4
LINES_2015 = {
    "fi": [
        "Pilotti: Kaksikielisten kaupunkien yhteistyö ja kansainvälistyminen",
        "Koordinaattori: Loviisan kaupunki → Porvoon kaupunki (suomeksi, ruotsiksi ja englanniksi)",
        "Pilotti: Matkailu- ja kulttuuripalvelujen kehittäminen",
        "Lisätty suomeksi, ruotsiksi ja englanniksi",
        "Koordinaattori: Savonlinnan kaupunki",
        "Kunnat: Savonlinna, Enonkoski, Rantasalmi, Sulkava",
        "Pilotti: Hyvinvointipalvelut ja seudun elinvoima",
        "Yhteyshenkilö: Juha Heikkinen (juha.heikkinen@iisalmi.fi, +358408302711) → "
        "Sanna Kärkkäinen (sanna.karkkainen@iisalmi.fi, +358408302799) (englanniksi)",
        "Sivu: Pilotit seutukaupunkien kehittämiseen",
        "Tekstiversio ei enää vastaa ruotsiksi (HTTP 404)",
        "Päivityspäivä: 3.10.2014 → 15.6.2015 (englanniksi); "
        "19.11.2014 → 15.6.2015 (suomeksi ja ruotsiksi)",
        "Ohjelma: 4 pilottia, 38 kuntaa → 5 pilottia, 43 kuntaa "
        "(suomeksi, ruotsiksi ja englanniksi)",
    ],
    "sv": [
        "Pilotprojekt: Samarbete och internationalisering i tvåspråkiga städer",
        "Samordnare: Lovisa stad → Borgå stad (på finska, svenska och engelska)",
        "Pilotprojekt: Utveckling av turism- och kulturtjänster",
        "Tillagd på finska, svenska och engelska",
        "Kommuner: Nyslott, Enonkoski, Rantasalmi, Sulkava",
        "Pilotprojekt: Välfärdstjänster och regionens livskraft",
        "Sidan: Pilotprojekt för utveckling av regionstäder",
        "Textversionen svarar inte längre på svenska (HTTP 404)",
        "Uppdateringsdatum: 3.10.2014 → 15.6.2015 (på engelska); "
        "19.11.2014 → 15.6.2015 (på finska och svenska)",
        "Programmet: 4 pilotprojekt, 38 kommuner → 5 pilotprojekt, 43 kommuner "
        "(på finska, svenska och engelska)",
    ],
    "en": [
        "Pilot: Cooperation and internationalisation of bilingual towns",
        "Coordinator: Town of Loviisa → City of Porvoo (in Finnish, Swedish and English)",
        "Pilot: Developing tourism and cultural services",
        "Added in Finnish, Swedish and English",
        "Coordinator: City of Savonlinna",
        "Pilot: Welfare services and regional vitality",
        "Contact person: Juha Heikkinen (Development Manager, juha.heikkinen@iisalmi.fi, "
        "+358408302711) → Sanna Kärkkäinen (Project Manager, sanna.karkkainen@iisalmi.fi, "
        "+358408302799) (in English)",
        "Page: Pilots for developing regional towns",
        "The text version no longer answers in Swedish (HTTP 404)",
        "Update date: 3 October 2014 → 15 June 2015 (in English); "
        "19 November 2014 → 15 June 2015 (in Finnish and Swedish)",
        "Programme: 4 pilots, 38 municipalities → 5 pilots, 43 municipalities "
        "(in Finnish, Swedish and English)",
    ],
}
# Each change is named once: these appear exactly once in a mail of that language.
ONCE = {
    "fi": ["Porvoon kaupunki", "Sanna Kärkkäinen", "Pekka Laine", "HTTP 404", "43 kuntaa"],
    "sv": ["Borgå stad", "Sanna Kärkkäinen", "Pekka Laine", "HTTP 404", "43 kommuner"],
    "en": ["City of Porvoo", "Sanna Kärkkäinen", "Pekka Laine", "HTTP 404", "43 municipalities"],
}
KIND_HEADINGS = {
    "fi": ("Pilotti: ", "Hanke: ", "Yhteyshenkilö: ", "Sivu: "),
    "sv": ("Pilotprojekt: ", "Projekt: ", "Kontaktperson: ", "Sidan: "),
    "en": ("Pilot: ", "Project: ", "Contact person: ", "Page: "),
}


@pytest.fixture
def mailserver() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


def _snapshots(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / "output" / "snapshots").iterdir() if p.name[0] != ".")


def _parts(msg: email.message.EmailMessage) -> tuple[str, str]:
    plain, rich = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and rich is not None
    return plain.get_content(), rich.get_content()


def _change_step(replica: ReplicaServer, folder: Path, password: str | None = None) -> None:
    """First run on 2014-11-19 (nothing to compare: no alert), then the site changes."""
    replica.set_version("2014-11-19")
    first = pa("run", cwd=folder, password=password)
    assert first.returncode == 0, first.stderr
    assert "first snapshot" in first.stdout
    replica.set_version("2015-06")


def _entity_headings(text: str, lang: str) -> list[str]:
    """The lines that open a changed entity (not the details under an added one)."""
    return [line for line in text.splitlines() if line.startswith(KIND_HEADINGS[lang])]


def _links(text: str, markup: str) -> list[str]:
    return re.findall(r"<((?:https?|mailto|file):[^>]+)>", text) + re.findall(
        r'href="([^"]+)"', markup
    )


def check_message(msg: email.message.EmailMessage, lang: str, live: str) -> tuple[str, str]:
    """What holds for every alert a subscriber of ``lang`` gets: the text and the HTML say
    the same, nothing of another language's words, no raw field name, no file://, links
    to the published site (or the live page, or the unsubscribe mailto:)."""
    text, markup = _parts(msg)
    shown = html_text(markup)
    for other in LABELS:
        if other == lang:
            continue
        for phrase in foreign_phrases(lang, other):
            assert phrase not in text, f"{other} words {phrase!r} in the {lang} text part"
            assert phrase not in shown, f"{other} words {phrase!r} in the {lang} HTML part"
    for key in FIELDS["en"]:
        assert f"{key}:" not in text and f"{key}:" not in shown, f"raw field {key}"
    assert "_" not in "".join(re.findall(r"\b[a-z]+_[a-z_]+\b", text.split("\n-- ")[0]))
    assert "file:" not in text and "file:" not in markup
    for link in _links(text, markup):
        link = link.replace("&amp;", "&")
        assert link.startswith((SITE, live, "mailto:", UNSUBSCRIBE)), link
    lowered = markup.lower()
    assert "<img" not in lowered and "<script" not in lowered and "<style" not in lowered
    assert "style=" not in lowered and "<link" not in lowered
    return text, markup


def foreign_phrases(lang: str, other: str) -> list[str]:
    """The words of ``other``'s label tables that ``lang``'s tables do not share (each
    phrase cut at its placeholders, pieces of four letters or more)."""
    mine = " ".join([*LABELS[lang].values(), *FIELDS[lang].values(), *IN_LANGUAGE[lang].values()])
    out = []
    for value in [*LABELS[other].values(), *FIELDS[other].values(), *IN_LANGUAGE[other].values()]:
        for piece in re.split(r"\{[a-z_]+\}", value):
            piece = piece.strip(" ,.:;()”“")
            if len(piece) >= 4 and piece not in mine:
                out.append(piece)
    return out


def _check_change_alerts(received: list, folder: Path, live: str) -> None:
    assert len(received) == len(IMMEDIATE)  # one per immediate subscriber; the digest waits
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(IMMEDIATE)
    for r in received:
        msg = r.message
        to = [addr for _, addr in getaddresses(msg.get_all("To"))]
        assert to == r.rcpt_tos and len(to) == 1, "one recipient per message, never a list"
        lang = IMMEDIATE[to[0]]
        assert msg.get_content_type() == "multipart/alternative"
        count = {"fi": "4 muutosta", "sv": "4 ändringar", "en": "4 changes"}[lang]
        assert str(msg["Subject"]) == f"{count}: {TITLES[lang]}"
        assert msg["From"] == "pilotarchive <pilotarchive@example.org>"
        assert parsedate_to_datetime(msg["Date"]).tzinfo is not None
        assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith("@example.org>")
        assert msg["List-Id"] == "pilotarchive pilots <pilots.pilotarchive.example.org>"
        quoted = to[0].replace("@", "%40")
        assert " ".join(msg["List-Unsubscribe"].split()) == (  # unfolded
            f"<https://example.org/unsubscribe?email={quoted}&list=pilots>, "
            f"<mailto:pilotarchive@example.org?subject=unsubscribe%20pilots%20{quoted}>"
        )
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["Auto-Submitted"] == "auto-generated"
        assert msg["Content-Language"] == lang
        text, markup = check_message(msg, lang, live)
        shown = html_text(markup)
        for line in LINES_2015[lang]:
            assert line in text, f"{line!r} missing from the text part to {to[0]}"
            assert line in shown, f"{line!r} missing from the HTML part to {to[0]}"
        for name in ONCE[lang]:
            assert text.count(name) == 1, (name, text)
        headings = _entity_headings(text, lang)
        assert len(headings) == CHANGED_2015 == len(set(headings)), headings
        # Links a subscriber can open: the change and the archived copies on the site.
        snaps = _snapshots(folder)
        change = f"{SITE}diffs/{snaps[-2].name}_{snaps[-1].name}.html"
        assert f"<{change}>" in text and f'href="{change}"' in markup
        assert f"{SITE}snapshots/{snaps[-1].name}/archive/" in text


def test_change_alert_plain_smtp(replica: ReplicaServer, mailserver: MailServer, tmp_path: Path):
    write_config(tmp_path, replica.url + START, mailserver.port, mail_extra=f'site_url = "{SITE}"')
    _change_step(replica, tmp_path)
    assert mailserver.received == []  # the first run of a target sends no change alert
    second = pa("run", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("\n") == 1  # one line per target
    assert f"{CHANGED_2015} change(s)" in second.stdout and "3 sent" in second.stdout
    _check_change_alerts(mailserver.received, tmp_path, replica.url)
    third = pa("run", cwd=tmp_path)  # unchanged: nothing sent
    assert third.returncode == 0 and "no changes" in third.stdout
    assert len(mailserver.received) == 3
    log = runs(tmp_path)
    assert [r["outcome"] for r in log] == ["first", "changed", "unchanged"]
    assert log[1]["mails"] == {"queued": 3, "sent": 3, "waiting": 0, "digest_later": 1}
    assert log[1]["counts"]["changes"] == CHANGED_2015 and log[1]["health"] == "healthy"
    assert all(r["start"] <= r["end"] and r["error"] is None for r in log)


def test_change_alert_starttls_with_login(replica: ReplicaServer, tmp_path: Path):
    cert, key = make_certificate(tmp_path)
    server = MailServer(tls_files=(cert, key)).start()
    try:
        write_config(
            tmp_path,
            replica.url + START,
            server.port,
            security="starttls",
            username=USER,
            ca_file=cert,
            mail_extra=f'site_url = "{SITE}"',
        )
        # No password in the environment: refused at start-up, naming the variable and line.
        missing = pa("run", cwd=tmp_path)
        assert missing.returncode == 2
        assert "pilotarchive.toml:8: smtp.password_env" in missing.stderr
        assert "PILOTARCHIVE_SMTP_PASSWORD is not set" in missing.stderr
        assert len(missing.stderr.strip().splitlines()) == 1
        _change_step(replica, tmp_path, password=PASSWORD)
        # A wrong password: the run says so, exits 1, the messages wait in the outbox.
        wrong = pa("run", cwd=tmp_path, password="wrong")
        assert wrong.returncode == 1
        assert "refused the login of 'alerts'" in wrong.stderr
        assert len(outbox(tmp_path)) == 3 and server.received == []
        delivered = pa("outbox", "send", cwd=tmp_path, password=PASSWORD)
        assert delivered.returncode == 0, delivered.stderr
        assert all(r.tls and r.authenticated for r in server.received)
        _check_change_alerts(server.received, tmp_path, replica.url)
    finally:
        server.stop()


def test_smtp_down_keeps_the_message_and_delivers_it_once(replica: ReplicaServer, tmp_path: Path):
    port = free_port()
    server = MailServer(port)  # not started: the server is down
    write_config(tmp_path, replica.url + START, port)
    _change_step(replica, tmp_path)
    down = pa("run", cwd=tmp_path)
    assert down.returncode == 1
    assert "connection refused" in down.stderr and "outbox" in down.stderr
    assert len(down.stderr.strip().splitlines()) == 1
    assert len(outbox(tmp_path)) == 3 and sent(tmp_path) == []
    listing = pa("outbox", cwd=tmp_path)
    assert "3 message(s) waiting" in listing.stdout
    assert runs(tmp_path)[-1]["outcome"] == "mail_failed"
    server.start()
    try:
        # Retried by the next run: delivered, and the change is not mailed again.
        again = pa("run", cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert "no changes" in again.stdout and "3 sent" in again.stdout
        assert sorted(r.rcpt_tos[0] for r in server.received) == sorted(IMMEDIATE)
        assert outbox(tmp_path) == [] and len(sent(tmp_path)) == 3
        more = pa("run", cwd=tmp_path)
        assert more.returncode == 0
        assert pa("outbox", "send", cwd=tmp_path).returncode == 0
        assert len(server.received) == 3, "delivered exactly once"
    finally:
        server.stop()


def test_broken_layout_tells_maintainers_only(
    replica: ReplicaServer, mailserver: MailServer, tmp_path: Path
):
    write_config(tmp_path, replica.url + START, mailserver.port)
    _change_step(replica, tmp_path)
    replica.set_version("2014-11-19-empty")
    broken = pa("run", cwd=tmp_path)
    assert broken.returncode == 3, broken.stderr
    assert "DEGRADED" in broken.stdout
    assert sorted(r.rcpt_tos[0] for r in mailserver.received) == sorted(MAINTAINERS)
    broken_id = _snapshots(tmp_path)[-1].name
    for r in mailserver.received:
        msg = r.message
        assert msg["Subject"] == (
            "pilotarchive: the crawler needs attention (pilots: facts not read)"
        )
        assert "List-Unsubscribe" not in msg and msg["Content-Language"] == "en"
        text, _ = _parts(msg)
        # What failed on which pages: the graphic pilots pages the CMS emptied
        # (VERSIONS["2014-11-19-empty"] empties the graphic page of every language).
        failed = [line for line in text.splitlines() if "the pilots could not be read" in line]
        assert len(failed) == 3, text
        assert all(replica.url in line for line in failed)
        assert "Last healthy snapshot: " + _snapshots(tmp_path)[0].name in text
        assert f"This has been going on since {when(broken_id)} (1 crawl)." in text
        assert "pilotarchive reextract --target pilots" in text  # what to do
        assert "pilotarchive.toml" in text and f"pilotarchive validate {broken_id}" in text
    # Back to a healthy version: subscribers get the real changes (against 2014-11-19), once.
    replica.set_version("2015-06")
    healthy = pa("run", cwd=tmp_path)
    assert healthy.returncode == 0, healthy.stderr
    subscribers = mailserver.received[len(MAINTAINERS) :]
    assert sorted(r.rcpt_tos[0] for r in subscribers) == sorted(IMMEDIATE)
    first, _broken, last = _snapshots(tmp_path)
    for r in subscribers:
        assert f"change/pilots/{first.name}/{last.name}/" in r.message["X-Pilotarchive-Key"]
        count = {"fi": "4 muutosta", "sv": "4 ändringar", "en": "4 changes"}
        lang = IMMEDIATE[r.rcpt_tos[0]]
        assert r.message["Subject"] == f"{count[lang]}: {TITLES[lang]}"
    assert pa("run", cwd=tmp_path).returncode == 0
    assert len(mailserver.received) == len(MAINTAINERS) + len(IMMEDIATE)


def test_dry_run_writes_the_outbox_and_sends_nothing(
    replica: ReplicaServer, mailserver: MailServer, tmp_path: Path
):
    write_config(tmp_path, replica.url + START, mailserver.port)
    _change_step(replica, tmp_path)
    dry = pa("run", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "3 written to the outbox (dry run: none sent)" in dry.stdout
    assert mailserver.received == [] and len(outbox(tmp_path)) == 3
    for path in outbox(tmp_path):  # what would be sent, readable as it is
        msg = email.message_from_bytes(path.read_bytes(), policy=default)
        lang = IMMEDIATE[str(msg["To"])]
        count = {"fi": "4 muutosta", "sv": "4 ändringar", "en": "4 changes"}[lang]
        assert msg["Subject"] == f"{count}: {TITLES[lang]}"
        # No [mail] site_url here: no archive links at all, and never a file:// one.
        text, markup = _parts(msg)
        for part in (text, markup):
            assert "file:" not in part and "/archive/" not in part and "diffs/" not in part
            assert "entities/" not in part and replica.url in part  # the live pages only
    assert pa("outbox", "send", cwd=tmp_path).returncode == 0
    assert len(mailserver.received) == 3 and outbox(tmp_path) == []


def test_weekly_digest_has_every_change_set_in_order(
    replica: ReplicaServer, mailserver: MailServer, tmp_path: Path
):
    write_config(tmp_path, replica.url + START, mailserver.port)
    replica.set_version("2014-06")
    assert pa("run", cwd=tmp_path).returncode == 0
    for version in ("2014-11-19", "2015-06"):
        replica.set_version(version)
        assert pa("run", cwd=tmp_path).returncode == 0
    weekly = [r for r in mailserver.received if r.rcpt_tos == ["weekly@example.org"]]
    assert weekly == []  # the week has not ended
    # A week later (the clock injected): one digest with both change sets, oldest first.
    config = load_config(tmp_path / "pilotarchive.toml")
    config = dataclasses.replace(config, output=tmp_path / "output")
    target = config.targets[0]
    box = Outbox(config.output)
    state = read_state(config.output, "pilots")
    later = datetime.now(UTC) + timedelta(days=8)
    assert queue_digests(config, target, box, state, later, UTC) == 1
    assert queue_digests(config, target, box, read_state(config.output, "pilots"), later, UTC) == 0
    assert pa("outbox", "send", cwd=tmp_path).returncode == 0
    weekly = [r for r in mailserver.received if r.rcpt_tos == ["weekly@example.org"]]
    assert len(weekly) == 1
    msg = weekly[0].message
    snaps = _snapshots(tmp_path)
    week = "-".join(map(str, _iso_week(snaps[-1].name)))
    # Two change sets: 2014-06 -> 2014-11-19 changed the wellbeing pilot's contact and the
    # pilots page (the English page published); 2014-11-19 -> 2015-06 the four entities of
    # LINES_2015. Counted once each: wellbeing, page, bilingual, tourism.
    assert msg["Subject"] == f"4 changes: {TITLES['en']} (the week {week})"
    text, markup = check_message(msg, "en", replica.url)
    shown = html_text(markup)
    first = [
        "Contact person: Juha Heikkinen (juha.heikkinen@iisalmi.fi, +358408302711) → "
        "Sanna Kärkkäinen (sanna.karkkainen@iisalmi.fi, +358408302799) "
        "(in Finnish and Swedish)",
        "The page was published in English, with 5 pilots and 7 contact persons",
        "Welfare services and regional vitality: the contact person changed in Finnish and "
        "Swedish; the English page still says “Juha Heikkinen” (in English).",
    ]
    for line in [*first, *LINES_2015["en"]]:
        assert line in text and line in shown, line
    # The language links changed from 2014-06 to 2014-11-19 (/index.phtml?l=en gained
    # &s=4398): noise, left out.
    assert "Language versions" not in text and "index.phtml?l=en&s=4398" not in shown
    headings = [
        f"Crawl of {when(b.name)} (compared with the crawl of {when(a.name)})"
        for a, b in (snaps[0:2], snaps[1:3])
    ]
    assert f"{headings[0]}: 2 changes" in text and f"{headings[1]}: 4 changes" in text
    # oldest first (the crawls may fall in one minute: told apart by their counts)
    assert text.index(f"{headings[0]}: 2 changes") < text.index(f"{headings[1]}: 4 changes")


def _iso_week(snapshot_id: str) -> tuple[int, str]:
    year, week, _ = datetime.strptime(snapshot_id[:8], "%Y%m%d").isocalendar()
    return year, f"W{week:02d}"


class _TitleProxy:
    """The replica behind a proxy that writes a hostile title into its pages: CR/LF raw, as
    character references and percent-encoded, U+2028 as a reference and as a JSON escape."""

    TITLE = "Pilotit seutukaupunkien kehittämiseen"
    EVIL = (
        "Pilotit seutukaupunkien kehittämiseen&#13;&#10;Bcc: victim@example.org"
        "%0d%0aX-Injected: yes&#8232;\\u2028 loppu\r\nTo: all@example.org"
    )

    def __init__(self, upstream: ReplicaServer) -> None:
        self.upstream = upstream
        self.evil = False
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                host, port = "127.0.0.1", int(proxy.upstream.url.rsplit(":", 1)[1])
                conn = HTTPConnection(host, port, timeout=10)
                conn.request("GET", self.path)  # no conditional headers, no gzip
                answer = conn.getresponse()
                body = answer.read()
                if proxy.evil:
                    for charset in ("utf-8", "iso-8859-1"):
                        body = body.replace(proxy.TITLE.encode(charset), proxy.EVIL.encode(charset))
                self.send_response(answer.status)
                for name in ("Content-Type", "Location"):
                    if answer.getheader(name):
                        self.send_header(name, answer.getheader(name))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_subject_is_one_clean_line(replica: ReplicaServer, mailserver: MailServer, tmp_path: Path):
    proxy = _TitleProxy(replica)
    try:
        write_config(
            tmp_path,
            proxy.url + START,
            mailserver.port,
            subscribers=(("researcher@example.org", "fi", "none"),),
        )
        assert pa("run", cwd=tmp_path).returncode == 0
        proxy.evil = True
        result = pa("run", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    finally:
        proxy.close()
    (received,) = mailserver.received
    raw = received.data.replace(b"\r\n", b"\n")
    head = raw.split(b"\n\n", 1)[0]
    unfolded = head.replace(b"\n ", b" ").replace(b"\n\t", b" ")
    assert sum(line.lower().startswith(b"subject:") for line in unfolded.split(b"\n")) == 1
    msg = received.message
    assert msg.get_all("Bcc") is None and msg.get_all("X-Injected") is None
    assert msg.get_all("To") == ["researcher@example.org"]
    subject = str(msg["Subject"])
    # One thing changed: the pilots page's title (on the page and its text version).
    assert subject.startswith("1 muutos: Pilotit seutukaupunkien kehittämiseen"), subject
    for bad in ("\r", "\n", "\u2028", "%0d", "%0a", "&#13;", "&#10;", "&#8232;", "\\u2028"):
        assert bad not in subject.lower(), (bad, subject)
    assert "Bcc: victim@example.org X-Injected: yes loppu To: all@example.org" in subject


@pytest.mark.parametrize(
    ("title", "clean"),
    [
        ("Pilotit\r\nBcc: x@y", "Pilotit Bcc: x@y"),
        ("Pilotit%0d%0aBcc: x", "Pilotit Bcc: x"),
        ("Pilotit%0D%0ABcc: x", "Pilotit Bcc: x"),
        ("Pilotit&#13;&#10;Bcc", "Pilotit Bcc"),
        ("Pilotit&#x0d;&#x0a;Bcc", "Pilotit Bcc"),
        ("Pilotit\u2028Bcc\u2029x", "Pilotit Bcc x"),
        ("Pilotit\\u2028Bcc", "Pilotit Bcc"),
        ("Pilotit%250d%250aBcc", "Pilotit Bcc"),
        ("Pilotit%0d%E4", "Pilotit %E4"),
        ("a\u200bb\x85c\x00d", "a b c d"),
        ("kehittämiseen 100% varma", "kehittämiseen 100% varma"),
        ("", ""),
    ],
    ids=[
        "crlf",
        "percent",
        "percent-upper",
        "entities",
        "hex-entities",
        "u2028-raw",
        "u2028-escaped",
        "double-percent",
        "not-utf8",
        "format-and-c1",
        "plain-percent",
        "empty",
    ],
)
def test_one_line(title: str, clean: str) -> None:
    assert one_line(title) == clean


def test_slow_server_timeout_keeps_messages(replica: ReplicaServer, tmp_path: Path):
    """A server that accepts the connection and never answers: a timeout, said in one line."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    try:
        write_config(tmp_path, replica.url + START, listener.getsockname()[1], timeout=1)
        _change_step(replica, tmp_path)
        result = pa("run", cwd=tmp_path)
        assert result.returncode == 1
        assert "did not answer within 1 s" in result.stderr
        assert len(outbox(tmp_path)) == 3
    finally:
        listener.close()


def test_failed_crawl_tells_maintainers_only(mailserver: MailServer, tmp_path: Path):
    nothing_there = f"http://127.0.0.1:{free_port()}{START}"  # connection refused
    write_config(tmp_path, nothing_there, mailserver.port)
    result = pa("run", cwd=tmp_path)
    assert result.returncode == 1
    assert "crawl FAILED (subscribers not told)" in result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(r.rcpt_tos[0] for r in mailserver.received) == sorted(MAINTAINERS)
    msg = mailserver.received[0].message
    assert msg["Subject"] == "pilotarchive: the crawler needs attention (pilots: the crawl failed)"
    text, _ = _parts(msg)
    assert "saved no snapshot" in text and "There is no healthy snapshot yet." in text
    assert "check the addresses " + nothing_there in text
    assert runs(tmp_path)[-1]["outcome"] == "crawl_failed"
    # Failing again: since the first failed run, and how many.
    assert pa("run", cwd=tmp_path).returncode == 1
    first = make_snapshot_id(datetime.fromisoformat(runs(tmp_path)[0]["start"]))
    text, _ = _parts(mailserver.received[-1].message)
    assert f"This has been going on since {when(first)} (2 crawls)." in text


def test_implicit_tls(tmp_path: Path):
    """security = "tls" (SMTPS): the certificate verified against ca_file, then delivered."""
    import ssl

    from aiosmtpd.controller import Controller

    from pilotarchive.alerts.compose import Trouble, health_alert, health_key
    from pilotarchive.alerts.send import send_waiting
    from pilotarchive.schedule.config import Config, SmtpConfig, Target
    from tests.mailserver import _Handler

    cert, key = make_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    handler, port = _Handler(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=context)
    controller.start()
    try:
        smtp = SmtpConfig(port=port, security="tls", ca_file=cert, timeout=5)
        config = dataclasses.replace(Config(), smtp=smtp, output=tmp_path / "output")
        trouble = Trouble("failed", "20261130T060000.000000Z", "test")
        target = Target("pilots")
        box = Outbox(config.output)
        msg = health_alert(config, target, "ops@example.org", trouble, datetime.now(UTC))
        assert box.put(health_key("pilots", trouble, "ops@example.org"), msg)
        report = send_waiting(smtp, box, box.pending())
        assert report.ok and len(report.sent) == 1
        (received,) = handler.received
        assert received.rcpt_tos == ["ops@example.org"]  # over TLS: a plain client fails
        # Without the CA the certificate does not verify: said, and the message kept.
        assert box.put(health_key("pilots", trouble, "x@example.org"), msg)
        untrusted = dataclasses.replace(smtp, ca_file=None)
        report = send_waiting(untrusted, box, box.pending())
        assert not report.ok and "certificate does not verify" in (report.error or "")
        assert len(box.pending()) == 1
        # A plain client gets no SMTP banner from a TLS port: the message keeps waiting.
        plain = dataclasses.replace(smtp, security="none", timeout=1)
        assert not send_waiting(plain, box, box.pending()).ok
        assert len(box.pending()) == 1 and len(handler.received) == 1
    finally:
        controller.stop()
