"""Each rule here once went unnoticed when switched off: every other test still passed.

Issue 22 broke the code on purpose, one rule at a time; these are the rules no test caught.
Each test below was run with its rule switched off and failed (see docs/contributing.md for
the habit, and the table in the issue's closing note). Expected values are written by hand
or taken from the replica's own content (pilotarchive/replica/content.py), never from the
code under test.
"""

import json
import re
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.spiders import Spider

from pilotarchive.alerts.outbox import Outbox
from pilotarchive.crawl import crawl_settings
from pilotarchive.extract.page import extract_page
from pilotarchive.middlewares import OutOfScope, ScopeMiddleware
from pilotarchive.replica.content import NIEMI, PILOTS_PAGE_ID, VERSIONS, PilotEntry
from pilotarchive.replica.server import Fault, ReplicaServer, render
from tests.helpers import Run, crawl, load_manifest, load_records, run_cli
from tests.hostile import HostileServer

# -- dates: the order of d/m/yyyy, the label before the date, the clock's range ------------


def _page(line: str) -> bytes:
    """A page whose only date is in ``line``: no meta, no Last-Modified to fall back on."""
    return (
        '<html lang="fi"><head><meta charset="utf-8"><title>Sivu</title></head><body>'
        f'<div id="content"><h1>Sivu</h1><p>Teksti.</p><p>{line}</p></div></body></html>'
    ).encode()


def _updated(line: str) -> tuple[str, str | None] | None:
    found = extract_page(_page(line), "http://127.0.0.1/x").updated
    return (found.date, found.time) if found is not None else None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # d/m/yyyy is day first, as Europeans write it: never read as m/d/yyyy.
        ("Päivitetty 3/4/2015", ("2015-04-03", None)),
        ("Last updated: 12/3/2015", ("2015-03-12", None)),
        ("Uppdaterad 25/3/2015", ("2015-03-25", None)),  # no 25th month to fall back on
        # The date follows its label; a date later in a sentence that has the word is not it.
        ("Päivitetty ohjelma julkaistaan 12.3.2015", None),
        ("Updated programme to be published on 12 March 2015", None),
        ("Updated on 19 November 2014", ("2014-11-19", None)),  # a short word between
        # A clock outside 00:00-23:59 is no clock; the date stands.
        ("Päivitetty: 19.11.2014 klo 25.10", ("2014-11-19", None)),
        ("Päivitetty: 19.11.2014 klo 14.75", ("2014-11-19", None)),
        ("Päivitetty: 19.11.2014 klo 24.00", ("2014-11-19", None)),
        ("Päivitetty: 19.11.2014 klo 14.60", ("2014-11-19", None)),
        ("Päivitetty: 19.11.2014 klo 23.59", ("2014-11-19", "23:59")),
        ("Päivitetty: 19.11.2014 klo 0.00", ("2014-11-19", "00:00")),
    ],
    ids=[
        "dmy-day-first",
        "dmy-day-first-12",
        "dmy-day-25",
        "label-then-other-words",
        "label-then-other-words-en",
        "label-on-then-date",
        "hour-25",
        "minute-75",
        "hour-24",
        "minute-60",
        "last-minute",
        "midnight",
    ],
)
def test_update_dates_keep_their_rules(line: str, expected: tuple | None) -> None:
    assert _updated(line) == expected


@pytest.mark.parametrize(
    ("head", "headers", "expected"),
    [
        # No date in the text: the metadata, as written there, and its clock only if it has one.
        ('<meta name="dcterms.modified" content="19.11.2014">', {},
         ("2014-11-19", None, "19.11.2014", "meta:dcterms.modified")),
        ('<meta name="dcterms.modified" content="2014-11-19">', {},
         ("2014-11-19", None, "2014-11-19", "meta:dcterms.modified")),
        ('<meta name="dcterms.modified" content="2014-11-19T14:20:00+02:00">', {},
         ("2014-11-19", "14:20", "2014-11-19T14:20:00+02:00", "meta:dcterms.modified")),
        ('<meta name="dcterms.modified" content="2014-11-19 14:20">', {},
         ("2014-11-19", "14:20", "2014-11-19 14:20", "meta:dcterms.modified")),
        ('<meta name="dcterms.modified" content="19.11.2014 klo 14.20">', {},
         ("2014-11-19", "14:20", "19.11.2014 klo 14.20", "meta:dcterms.modified")),
        # Nothing in the page: the server's Last-Modified, with its clock.
        ("", {"Last-Modified": "Wed, 19 Nov 2014 12:20:00 GMT"},
         ("2014-11-19", "12:20", "Wed, 19 Nov 2014 12:20:00 GMT", "http-last-modified")),
    ],
    ids=["meta-dotted", "meta-date-only", "meta-iso-time", "meta-space-time", "meta-dotted-klo",
         "http"],
)  # fmt: skip
def test_update_date_fallbacks_keep_what_they_read(
    head: str, headers: dict, expected: tuple
) -> None:
    page = (
        f'<html lang="fi"><head><meta charset="utf-8">{head}<title>Sivu</title></head>'
        '<body><div id="content"><h1>Sivu</h1><p>Teksti.</p></div></body></html>'
    ).encode()
    found = extract_page(page, "http://127.0.0.1/x", headers=headers).updated
    assert found is not None
    assert (found.date, found.time, found.text, found.source) == expected


# -- scope: the middleware is the last word, whoever made the request -----------------------


def test_the_scope_middleware_stops_what_the_spider_did_not_filter() -> None:
    """The spider filters links before they become requests, and redirects have their own
    check, so a crawl never reaches this backstop; called directly, it must still refuse."""
    start = "http://127.0.0.1:8014/seutukaupunkipilotit"
    settings = crawl_settings({"PILOTARCHIVE_START_URLS": [start]})
    order = settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert order.get("pilotarchive.middlewares.ScopeMiddleware") is not None  # enabled
    middleware = ScopeMiddleware.from_crawler(Crawler(Spider, settings))
    assert middleware.process_request(Request("http://127.0.0.1:8014/index.phtml?s=1")) is None
    redirected = Request(
        "http://127.0.0.1:8015/index.phtml?s=4398",  # another port: another origin
        meta={"redirect_urls": [start], "redirect_times": 1},
    )
    for request in (
        redirected,
        Request("http://127.0.0.2:8014/index.phtml"),
        Request("https://127.0.0.1:8014/index.phtml"),
        Request("http://localhost:8014/index.phtml"),
    ):
        with pytest.raises(OutOfScope, match="out of scope"):
            middleware.process_request(request)


# -- the outbox: a key it holds is never written again ------------------------------------


def _message(subject: str, key: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "pilotarchive <pilotarchive@example.org>"
    msg["To"] = "analyst@example.org"
    msg["Subject"] = subject
    msg["X-Pilotarchive-Key"] = key
    msg.set_content(f"{subject}\n")
    return msg


def test_the_outbox_refuses_a_key_it_holds(tmp_path: Path) -> None:
    """A run killed after writing some messages writes them all again on the next run: the
    outbox must keep the first of each and, once sent, never queue it a second time."""
    box = Outbox(tmp_path)
    key = "change/pilots/20141119T000000Z/analyst@example.org"
    assert box.put(key, _message("first", key)) is True
    assert box.put(key, _message("second", key)) is False
    (waiting,) = box.pending()
    assert waiting.subject == "first"
    box.mark_sent(waiting)
    assert box.put(key, _message("third", key)) is False  # sent already: not again
    assert box.pending() == []
    (sent,) = (tmp_path / "sent").glob("*.eml")
    assert "Subject: first" in sent.read_text(encoding="utf-8")


# -- health: a partial outage and an emptied contacts box are not healthy -------------------


def _health(run: Run) -> dict:
    return load_manifest(run.snapshot)["health"]


def test_a_partial_outage_is_degraded_not_healthy(replica: ReplicaServer, tmp_path: Path) -> None:
    """Four of the six pilots pages answering 500 or timing out is an outage, not a site
    that removed them: a healthy verdict would send subscribers false removals."""
    crawl(replica, tmp_path)  # six pages answering 200: the baseline
    replica.inject("/index.phtml?l=sv&s=4398", Fault(status=500))
    replica.inject("/text.phtml?l=sv&s=4398", Fault(status=503))
    replica.inject("/index.phtml?l=en&s=4398", Fault(delay=2.5))
    replica.inject("/text.phtml?l=en&s=4398", Fault(delay=2.5))
    fast = ("-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=0")
    outage = crawl(replica, tmp_path, *fast, expect=3)
    failures = load_manifest(outage.snapshot)["failures"]
    reasons = {f["url"].removeprefix(replica.url): f["reason"] for f in failures}
    assert reasons["/index.phtml?l=sv&s=4398"].startswith("HTTP 500")
    assert reasons["/text.phtml?l=sv&s=4398"].startswith("HTTP 503")
    assert reasons["/index.phtml?l=en&s=4398"].startswith("timeout")
    assert reasons["/text.phtml?l=en&s=4398"].startswith("timeout")
    health = _health(outage)
    assert health["verdict"] == "degraded"
    assert [(f["kind"], f["severity"]) for f in health["findings"]] == [("pages_missing", "error")]
    assert health["findings"][0]["message"].startswith("4 of the 6 pages that answered 200")
    assert health["counts"]["pages_ok"] == {"old": 6, "new": 2}
    # One page of six lost is within what a crawl may lose: healthy, against the same
    # baseline (a degraded snapshot is never one).
    replica.clear_faults()
    replica.inject("/text.phtml?l=en&s=4398", Fault(status=500))
    one_lost = crawl(replica, tmp_path, *fast)
    assert _health(one_lost)["verdict"] == "healthy"
    assert _health(one_lost)["baseline"] == _health(outage)["baseline"]


FI_TEXT = f"/text.phtml?s={PILOTS_PAGE_ID}"


def _without_contacts(body: bytes) -> bytes:
    """The replica's Finnish text page with every person gone and every pilot kept: the
    contact lines of the pilots, the project's contact and the "Lisätietoja" box's people."""
    body, lines = re.subn(rb"<br>\nYhteyshenkil\xf6:[^<]*", b"", body)
    body, project = re.subn(rb" \(yhteystiedot [^)]*\)", b"", body)
    body, box = re.subn(rb'(<div class="lisatietoja">).*?(</div>)', rb"\1\2", body, flags=re.S)
    assert (lines, project, box) == (4, 1, 1), "the replica's page changed: adapt the test"
    return body


def test_contacts_gone_while_the_pilots_stay_is_degraded(
    hostile: HostileServer, tmp_path: Path
) -> None:
    """A page that named seven people and names none, while its pilots are all there, was
    misread (a box moved, a markup change): the people did not all leave at once."""
    seed = VERSIONS["2014-11-19"]
    page = render(seed, "/text.phtml", {"s": str(PILOTS_PAGE_ID)})
    route = hostile.route(FI_TEXT, headers=[(b"Content-Type", b"text/html")], body=page.body)
    before = crawl(hostile, tmp_path, path=FI_TEXT)  # type: ignore[arg-type]
    (fi,) = [p for p in load_records(before.snapshot)["pages"] if p["status"] == 200]
    # Four pilots and the project; their four contacts, the project's and the box's two.
    assert (fi["pilot_count"], fi["contact_count"]) == (5, 7)
    route.body = _without_contacts(page.body)
    after = crawl(hostile, tmp_path, path=FI_TEXT, expect=3)  # type: ignore[arg-type]
    (fi,) = [p for p in load_records(after.snapshot)["pages"] if p["status"] == 200]
    assert (fi["pilot_count"], fi["contact_count"]) == (5, 0)
    health = _health(after)
    assert health["verdict"] == "degraded"
    contacts = [f for f in health["findings"] if f["record_type"] == "contact"]
    assert [(f["kind"], f["severity"], f["message"]) for f in contacts] == [
        (
            "extraction_failed",
            "error",
            "the page named 7 contacts before and none now, answering 200",
        )
    ]
    assert [f["kind"] for f in health["findings"]] == ["extraction_failed"]  # that one only


# -- diff: one person, one changed detail --------------------------------------------------


def _with_niemi(pilot: PilotEntry, **changed: str) -> PilotEntry:
    return replace(pilot, contact=replace(NIEMI, **changed)) if pilot.contact == NIEMI else pilot


def _serve_niemi(replica: ReplicaServer, **changed: str) -> None:
    """The seed version with the rural pilot's contact Kaisa Niemi changed in one detail."""
    seed = VERSIONS["2014-11-19"]
    pages = {
        lang: replace(state, pilots=tuple(_with_niemi(p, **changed) for p in state.pilots))
        for lang, state in seed.pages.items()
    }
    replica.version = replace(seed, pages=pages)


def _changes(output: Path, old: Path, new: Path) -> list[dict]:
    run = run_cli("diff", old.name, new.name, "--format", "json", "--output", str(output))
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)["changes"]


def test_a_person_whose_only_change_is_the_email_or_the_phone(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    """Nothing else about the person changes, so nothing else could carry the change: the
    e-mail (or the phone) must be compared itself."""
    first = crawl(replica, tmp_path).snapshot
    _serve_niemi(replica, email="kaisa.niemi@kpedu.fi")  # the domain: every page's form
    second = crawl(replica, tmp_path).snapshot
    _serve_niemi(replica, email="kaisa.niemi@kpedu.fi", phone="040 806 5124")
    third = crawl(replica, tmp_path).snapshot
    # Niemi is on each of the six pages (three languages, graphic and text): each page's
    # rural pilot and its contact record change, in that one field.
    for old, new, field, was, now in (
        (first, second, "email", "kaisa.niemi@kokkola.fi", "kaisa.niemi@kpedu.fi"),
        (second, third, "phone", "+358408065123", "+358408065124"),
    ):
        changes = _changes(tmp_path, old, new)
        people = [c for c in changes if c["record_type"] == "contact"]
        kinds = [(c["record_type"], c["kind"], [f["field"] for f in c["fields"]]) for c in changes]
        # Each page's text changed too; nothing else did.
        assert sorted(kinds) == sorted(
            [("page", "modified", ["text"])] * 6
            + [("pilot", "modified", ["contact"])] * 6
            + [("contact", "modified", [field])] * 6
        )
        people = [c for c in changes if c["record_type"] == "contact"]
        for c in people:
            assert c["kind"] == "modified"
            assert c["fields"] == [{"field": field, "old": was, "new": now}]
        for c in (c for c in changes if c["record_type"] == "pilot"):
            (change,) = c["fields"]
            assert change["field"] == "contact" and change["old"]["name"] == "Kaisa Niemi"
            assert (change["old"][field], change["new"][field]) == (was, now)
            assert {k: v for k, v in change["old"].items() if k != field} == {
                k: v for k, v in change["new"].items() if k != field
            }
