"""Rules a maintainer writes (extract/rules.py): checked when the configuration loads, and
a layout the generic reader misses read completely with them, in a crawl of a real server
on 127.0.0.1.

The page ``fixtures/layouts/cards-without-labels.html`` is a deliberately unusual layout:
pilots as cards whose fields are told apart by class names only (no label word anywhere),
the ministry's persons in a table without headers, phones and e-mails only in ``tel:`` and
``mailto:`` links. The expected records below are written by hand from that page.
"""

import json
import shutil
from pathlib import Path

import pytest

from pilotarchive.exceptions import ConfigError
from pilotarchive.extract.page import extract_page
from pilotarchive.extract.rules import NOTE_KIND, extract_with_rules
from pilotarchive.schedule.config import parse_config
from pilotarchive.schedule.run import crawl_command
from tests.helpers import check_archive, load_manifest, load_records, run_cli
from tests.hostile import HostileServer, Route

PAGE = (Path(__file__).parent / "fixtures" / "layouts" / "cards-without-labels.html").read_bytes()
HTML = {"Content-Type": "text/html; charset=utf-8"}

RULES = """
[[target.rules.pilot]]
block = "article.x-card"
theme = ".x-t"
coordinator = "xpath:.//div[@data-k='lead']"
municipalities = "ul.x-m li"
contact_name = ".x-n"
contact_title = ".x-r"
contact_phone = "a.i-tel::attr(href)"
contact_email = "a.i-mail::attr(href)"

[[target.rules.contact]]
block = "table.x-staff tr"
name = "td.a"
title = "td.b"
phone = "xpath:./td[@class='c']/a/@href"
email = "td.d a::attr(href)"
"""

# By hand, from the page.
PILOTS = [
    ("Elinvoimainen keskusta ja kauppa", "Raahen kaupunki", ["Raahe", "Kalajoki", "Siikajoki"],
     ("Maija", "Virtanen", "kehittämispäällikkö", "+358401234567", "maija.virtanen@raahe.fi")),
    ("Osaamisen ja työn uudet muodot", "Iisalmen kaupunki", ["Iisalmi", "Kiuruvesi", "Vieremä"],
     ("Pekka", "Korhonen", "elinkeinojohtaja", "+358447654321", "pekka.korhonen@iisalmi.fi")),
    ("Saavutettavat palvelut saaristossa", "Loviisan kaupunki", ["Loviisa", "Porvoo", "Pyhtää"],
     ("Anna", "Nieminen", "suunnittelija", "+358405556677", "anna.nieminen@loviisa.fi")),
]  # fmt: skip
PERSONS = [
    ("Olli", "Laine", "neuvotteleva virkamies", "+358295064000", "olli.laine@tem.fi"),
    ("Liisa", "Salo", "erityisasiantuntija", "+358295063000", "liisa.salo@tem.fi"),
]


def config_text(rules: str = RULES, url: str = "http://127.0.0.1:9/kokeilut") -> str:
    return f'[[target]]\nname = "kokeilut"\nstart_urls = ["{url}"]\n{rules}'


def rules_of(text: str):  # type: ignore[no-untyped-def]
    return parse_config(text, Path("pilotarchive.toml")).target("kokeilut").rules


def test_the_generic_reader_misses_the_layout() -> None:
    page = extract_page(PAGE, "http://127.0.0.1/kokeilut", headers=HTML)
    assert page.programme is not None and page.programme.pilot_count == 3  # it says three
    assert page.pilots == [] and page.contacts == []


def test_rules_read_the_layout_completely() -> None:
    page = extract_with_rules(PAGE, "http://127.0.0.1/kokeilut", rules=rules_of(config_text()),
                              headers=HTML)  # fmt: skip
    got = [
        (p.theme, p.coordinator, p.municipalities,
         (p.contact.person.given_name, p.contact.person.family_name, p.contact.person.title,
          p.contact.phone, p.contact.email) if p.contact else None)
        for p in page.pilots
    ]  # fmt: skip
    assert got == PILOTS
    persons = [(c.person.given_name, c.person.family_name, c.person.title, c.phone, c.email)
               for c in page.contacts]  # fmt: skip
    assert persons == PERSONS
    assert {c.role for c in page.contacts} == {"further_information"}
    assert [n.kind for n in page.notes] == [NOTE_KIND]


def test_a_rule_for_other_pages_leaves_the_generic_reading() -> None:
    elsewhere = 'block = "article.x-card"\npages = "/other/"'
    rules = rules_of(config_text(RULES.replace('block = "article.x-card"', elsewhere)))
    page = extract_with_rules(PAGE, "http://127.0.0.1/kokeilut", rules=rules, headers=HTML)
    assert page.pilots == [] and len(page.contacts) == 2  # the contact rule applies


@pytest.mark.parametrize(
    ("bad", "line", "key", "said"),
    [
        ('theme = ".x-t"', 7, "target[0].rules.pilot[0].theme", "is not a CSS selector"),
        ("coordinator = \"xpath:.//div[@data-k='lead']\"", 8,
         "target[0].rules.pilot[0].coordinator", "is not a XPath selector"),
        ('title = "td.b"', 18, "target[0].rules.contact[0].title", "is not a CSS selector"),
        ('municipalities = "ul.x-m li"', 9, "target[0].rules.pilot[0].municipalities",
         "is not a CSS selector"),
    ],
    ids=["css-theme", "xpath-coordinator", "css-contact-title", "css-list"],
)  # fmt: skip
def test_a_bad_selector_is_a_usage_error_naming_key_and_line(
    bad: str, line: int, key: str, said: str
) -> None:
    broken = {
        'theme = ".x-t"': 'theme = ".x-t["',
        "coordinator = \"xpath:.//div[@data-k='lead']\"": 'coordinator = "xpath:.//div[@"',
        'title = "td.b"': 'title = "td.b::"',
        'municipalities = "ul.x-m li"': 'municipalities = "ul > > li"',
    }[bad]
    text = config_text(RULES.replace(bad, broken))
    assert text.splitlines()[line - 1] == broken  # the line the message must name
    with pytest.raises(ConfigError) as exc:
        rules_of(text)
    assert f"pilotarchive.toml:{line}: {key}: " in str(exc.value) and said in str(exc.value)


@pytest.mark.parametrize(
    ("rules", "said"),
    [
        ('[[target.rules.pilot]]\nblock = "div"\nthem = "h3"\n',
         "unknown key 'them'; did you mean 'theme'?"),
        ('[[target.rules.pilot]]\ntheme = "h3"\n', "missing key 'block'"),
        ('[[target.rules.contact]]\nblock = "tr"\ntitle = "td"\n', "missing key 'name'"),
        ('[[target.rules.page]]\nblock = "div"\n', "unknown record type 'page'"),
        ('[[target.rules.pilot]]\nblock = "div"\ntheme = "h3"\npages = "("\n',
         "no regular expression"),
        ('[[target.rules.pilot]]\nblock = "div"\ntheme = "h3"\nkind = "x"\n', "must be one of"),
        ('[[target.rules.pilot]]\nblock = ""\ntheme = "h3"\n', "an empty selector"),
        ('[[target.rules.pilot]]\nblock = 3\ntheme = "h3"\n', "expected a selector"),
    ],
    ids=["typo", "no-block", "no-name", "record-type", "pages-regex", "kind", "empty", "number"],
)  # fmt: skip
def test_wrong_rules_are_refused_when_the_file_loads(rules: str, said: str) -> None:
    with pytest.raises(ConfigError) as exc:
        rules_of(config_text(rules))
    assert said in str(exc.value) and "target[0].rules." in str(exc.value)


def test_rules_go_to_the_crawl_of_run_and_nowhere_else() -> None:
    config = parse_config(config_text() + '\n[[target]]\nname = "plain"\n',
                          Path("pilotarchive.toml"))  # fmt: skip
    cmd = crawl_command(config, config.target("kokeilut"))
    passed = [a for a in cmd if a.startswith("PILOTARCHIVE_RULES=")]
    assert len(passed) == 1
    assert json.loads(passed[0].split("=", 1)[1]) == config.target("kokeilut").rules.as_dict()
    assert not any("PILOTARCHIVE_RULES" in a for a in crawl_command(config, config.target("plain")))


def test_a_crawl_with_rules_reads_the_layout_and_says_so(
    hostile: HostileServer, tmp_path: Path
) -> None:
    hostile.routes["/kokeilut"] = Route(body=PAGE)
    rules = rules_of(config_text())
    output = tmp_path / "output"
    common = ("--output", str(output), "--target", "kokeilut", "--fast-loopback")
    plain = run_cli("crawl", f"{hostile.url}/kokeilut", *common)
    assert plain.returncode == 3, plain.stderr  # degraded: says three pilots, none read
    run = run_cli("crawl", f"{hostile.url}/kokeilut", *common,
                  "-s", f"PILOTARCHIVE_RULES={rules.to_json()}")  # fmt: skip
    assert run.returncode == 0, run.stderr
    snapshot = Path(run.stdout.strip().splitlines()[-1])
    check_archive(snapshot)
    records = load_records(snapshot)
    pilots = sorted(
        (p["theme"], p["coordinator"], p["municipalities"],
         (p["contact"]["given_name"], p["contact"]["family_name"], p["contact"]["title"],
          p["contact"]["phone"], p["contact"]["email"]))
        for p in records["pilots"]
    )  # fmt: skip
    assert pilots == sorted(PILOTS)
    persons = sorted(
        (c["given_name"], c["family_name"], c["title"], c["phone"], c["email"])
        for c in records["contacts"]
        if c["role"] == "further_information"
    )
    assert persons == sorted(PERSONS)
    assert [n["kind"] for n in records["pages"][0]["notes"]] == [NOTE_KIND]
    manifest = load_manifest(snapshot)
    assert manifest["health"]["verdict"] == "healthy"
    assert manifest["derivation"]["rules"]["sha256"] == rules.sha256
    assert manifest["derivation"]["rules"]["target"] == "kokeilut"


OVERMATCH = RULES.replace('block = "article.x-card"', 'block = "*"', 1)


def _overmatch(rules: str, page: bytes = PAGE) -> tuple[list, list[str]]:
    from pilotarchive.extract.notes import RULES_OVERMATCH

    got = extract_with_rules(page, "http://127.0.0.1/kokeilut", rules=rules_of(config_text(rules)),
                             headers=HTML)  # fmt: skip
    return got.pilots, [n.message for n in got.notes if n.kind == RULES_OVERMATCH]


def test_a_rule_reading_pilots_inside_its_own_blocks_is_said() -> None:
    """``block = "*"`` gives the page's first pilot for the page, its body, every wrapper
    around a card: the same pilot read again in each. Said in a note naming the rule (by
    its number among the pilot rules, a contact rule before it not counted) and the tags."""
    _, (said,) = _overmatch(OVERMATCH)
    assert said.startswith("pilot rule 1 of target kokeilut (block '*') read a pilot in a <")
    assert "that its own block, a <" in said and "make it name only each pilot's own element" in (
        said
    )
    contact_first = OVERMATCH[OVERMATCH.index("[[target.rules.contact]]"):] + OVERMATCH[
        : OVERMATCH.index("[[target.rules.contact]]")]  # fmt: skip
    _, (said,) = _overmatch(contact_first)
    assert said.startswith("pilot rule 1 of target kokeilut (block '*')")


def test_a_pilot_read_again_by_another_rule_is_said() -> None:
    """Two rules, one for the themes' own elements and one for the cards: each pilot is
    read twice, and the first reading (a theme without its fields) is the one kept."""
    themes = '[[target.rules.pilot]]\nblock = "xpath://div[@class=\'x-t\']"\ntheme = "xpath:."\n'
    _, (said,) = _overmatch(themes + RULES)
    assert said.startswith(
        "pilot rule 2 of target kokeilut (block 'article.x-card') read a pilot in a <article> "
        "that pilot rule 1's block, a <div> inside it"
    )
    # A block around the cards whose theme selector finds the first card's theme.
    deck = '[[target.rules.pilot]]\nblock = "main"\ntheme = ".x-t"\n'
    _, (said,) = _overmatch(deck + RULES)
    assert "read a pilot in a <main> that pilot rule 2's block, a <article> inside it" in said


def test_cards_nested_in_cards_are_no_overmatch() -> None:
    """A card inside another card gives a pilot of its own: no pilot is read twice."""
    text = PAGE.decode("utf-8")
    third = text.index('<article class="x-card"', text.index('<article class="x-card"') + 1)
    third = text.index('<article class="x-card"', third + 1)
    inner = text[third : text.index("</article>", third) + len("</article>")]
    text = text.replace(inner, "")
    second_end = text.index("</article>", text.index("</article>") + 1)
    nested = text[:second_end] + inner + text[second_end:]  # the third card in the second
    assert nested.count("<article") == 3 and "</article></article>" in nested
    pilots, said = _overmatch(RULES, nested.encode("utf-8"))
    assert said == [] and sorted(p.theme for p in pilots) == sorted(t for t, *_ in PILOTS)
    # Blocks that hold other blocks without a record of their own are none either.
    nested = (
        b"<html><body><div><div><b>Kokeilu</b></div><div><b>Toinen</b></div></div></body></html>"
    )
    pilots, said = _overmatch('[[target.rules.pilot]]\nblock = "div"\ntheme = "xpath:./b"\n',
                              nested)  # fmt: skip
    assert [p.theme for p in pilots] == ["Kokeilu", "Toinen"] and said == []


def test_rules_that_match_everything_degrade_the_snapshot_they_re_derive(
    hostile: HostileServer, tmp_path: Path
) -> None:
    """Judged healthy against a baseline re-derived with the same junk, such rules made
    hundreds of records unnoticed (pilots 18 -> 362); now the page is judged misread."""
    hostile.routes["/kokeilut"] = Route(body=PAGE)
    output = tmp_path / "output"
    good = rules_of(config_text())
    common = ("--output", str(output), "--target", "kokeilut", "--fast-loopback")
    run = run_cli("crawl", f"{hostile.url}/kokeilut", *common,
                  "-s", f"PILOTARCHIVE_RULES={good.to_json()}")  # fmt: skip
    assert run.returncode == 0, run.stderr
    snapshot = Path(run.stdout.strip().splitlines()[-1])
    config = tmp_path / "pilotarchive.toml"
    config.write_text(f'output = "{output}"\n' + config_text(OVERMATCH, f"{hostile.url}/kokeilut"),
                      encoding="utf-8")  # fmt: skip
    run = run_cli("reextract", "--config", str(config), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "healthy -> DEGRADED" in run.stdout
    health = load_manifest(snapshot)["health"]
    assert health["verdict"] == "degraded"
    assert any("read a pilot in a <" in f["message"] for f in health["findings"])


def test_rules_that_are_not_json_stop_the_crawl_in_one_line(
    hostile: HostileServer, tmp_path: Path
) -> None:
    hostile.routes["/kokeilut"] = Route(body=PAGE)
    run = run_cli("crawl", f"{hostile.url}/kokeilut", "--output", str(tmp_path / "o"),
                  "-s", 'PILOTARCHIVE_RULES={"pilot": [{"block": "div["}]}')  # fmt: skip
    assert run.returncode != 0 and "PILOTARCHIVE_RULES" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_rule_matching_everything_is_bounded_like_a_page() -> None:
    cards = b"".join(b"<div><b>Kokeilu numero %d</b></div>" % n for n in range(1000))
    many = b"<html lang='fi'><body>" + cards + b"</body></html>"
    rules = rules_of(config_text('[[target.rules.pilot]]\nblock = "div"\ntheme = "b"\n'))
    page = extract_with_rules(many, "http://127.0.0.1/x", rules=rules, headers=HTML)
    assert len(page.pilots) == 200
    assert "records_capped" in [n.kind for n in page.notes]


def test_the_maintainers_mail_names_unread_pages_and_how_to_write_rules() -> None:
    from datetime import UTC, datetime

    from pilotarchive.alerts.compose import Trouble, health_alert
    from pilotarchive.schedule.config import Config, Target

    url = "http://127.0.0.1:9/kokeilut"
    finding = {"kind": "extraction_failed", "severity": "error", "language": "fi",
               "url": url, "message": "3 pilots said, 0 read"}  # fmt: skip
    trouble = Trouble("degraded", "20261205T010000Z", "degraded", (finding,), "20261205T010000Z")
    msg = health_alert(Config(), Target("kokeilut"), "ops@example.org", trouble,
                       datetime.now(UTC))  # fmt: skip
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "http://127.0.0.1:9/kokeilut" in text  # the page that was not read, named
    assert "[[target.rules.pilot]]" in text and "pilotarchive reextract --target kokeilut" in text
    other = Trouble("failed", "20261205T010000Z", "no page could be read")
    msg = health_alert(Config(), Target("kokeilut"), "ops@example.org", other, datetime.now(UTC))
    assert "target.rules" not in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_page_answered_304_is_read_with_the_rules_now_in_force(
    hostile: HostileServer, tmp_path: Path
) -> None:
    """A 304 page keeps the previous snapshot's records, except where the target's rules
    cover it: then its bytes (the previous snapshot's) are read with them, and the records
    still say they were carried over."""
    etag = b'"v1"'
    hostile.routes["/kokeilut"] = Route(
        headers=[(b"Content-Type", b"text/html; charset=utf-8"), (b"ETag", etag)],
        body=PAGE,
        etag_304=etag,
    )
    pilots_only = rules_of(config_text(RULES[: RULES.index("[[target.rules.contact]]")]))
    every = rules_of(config_text())
    common = ("--output", str(tmp_path / "o"), "--target", "kokeilut", "--fast-loopback")
    first = run_cli("crawl", f"{hostile.url}/kokeilut", *common,
                    "-s", f"PILOTARCHIVE_RULES={pilots_only.to_json()}")  # fmt: skip
    assert first.returncode == 0, first.stderr
    second = run_cli("crawl", f"{hostile.url}/kokeilut", *common,
                     "-s", f"PILOTARCHIVE_RULES={every.to_json()}")  # fmt: skip
    assert second.returncode == 0, second.stderr
    old, new = (Path(r.stdout.strip().splitlines()[-1]) for r in (first, second))
    records = load_records(new)
    page = records["pages"][0]
    assert (
        page["fetch_status"] == 304
        and page["unchanged"]
        and page["carried_over_from"] == (old.name)
    )
    assert len(load_records(old)["contacts"]) == 3  # the pilots' contacts only
    persons = [c for c in records["contacts"] if c["role"] == "further_information"]
    assert len(persons) == 2 and len(records["pilots"]) == 3
    check_archive(new)


REDIS = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin")


@pytest.mark.skipif(REDIS is None, reason="Debian's redis-server is not installed")
def test_a_split_crawl_takes_the_rules_to_its_workers(
    hostile: HostileServer, tmp_path: Path
) -> None:
    """The rules travel in the Redis job (PILOTARCHIVE_RULES is one of its settings), and
    whichever worker fetches the page reads it with them; rules a worker would refuse stop
    the split crawl before anything starts, naming the setting."""
    hostile.routes["/kokeilut"] = Route(body=PAGE)
    rules = rules_of(config_text())
    output = tmp_path / "output"
    common = ("--output", str(output), "--target", "kokeilut", "--fast-loopback",
              "--workers", "2")  # fmt: skip
    run = run_cli("crawl", f"{hostile.url}/kokeilut", *common,
                  "-s", f"PILOTARCHIVE_RULES={rules.to_json()}")  # fmt: skip
    assert run.returncode == 0, run.stderr
    snapshot = Path(run.stdout.strip().splitlines()[-1])
    check_archive(snapshot)
    records = load_records(snapshot)
    assert sorted((p["theme"], p["coordinator"]) for p in records["pilots"]) == sorted(
        (theme, coordinator) for theme, coordinator, *_ in PILOTS
    )
    assert load_manifest(snapshot)["derivation"]["rules"]["sha256"] == rules.sha256
    bad = run_cli("crawl", f"{hostile.url}/kokeilut", *common,
                  "-s", 'PILOTARCHIVE_RULES={"pilot": [{"block": "div["}]}')  # fmt: skip
    assert bad.returncode == 2 and "PILOTARCHIVE_RULES" in bad.stderr
    assert len(list((output / "snapshots").iterdir())) == 1
