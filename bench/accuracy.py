"""Extraction accuracy on every layout of the replica, scored against the replica's content.

Run: ``python bench/accuracy.py [--version 2014-11-19] [--layouts table,div,...,tabs]
[--extract]``. For each layout the replica (``pilotarchive/replica``) is served on
127.0.0.1 and crawled with ``pilotarchive crawl`` (with ``--extract``: each language and
text version is fetched over HTTP and extracted in this process). The records are scored
against what the replica says, read from ``replica/content.py`` (never hard-coded here):

- pages: each language version (and text version) fetched, in its language and rendering;
- dates: its update date;
- pilots: each pilot's theme, coordinator and partner municipalities;
- contacts: each pilot's contact: name, title, e-mail (explicit, obfuscated or pattern)
  and phone;
- persons: the further-information box's persons, with titles, phones and e-mails;
- project: the separate project's theme (compared without case: a sentence may begin with
  it), coordinator and contact.

A fact counts when extracted exactly; a fact extracted that the page does not state counts
against the score too. The text versions are a layout row of their own ("text", from the
first layout that has them). Crawls must also record no failure but the ones the content
says are due (a linked page that is gone, as 2015-06's Swedish text version), and every
pilot must be one entity whatever the languages and renderings that repeat it; a 404 for
a version no page links to is listed apart (the manifest's no_such_version), not as a
failure. One table row per layout and language, then every miss; exits 1 below 100 %.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pilotarchive.extract.page import extract_page
from pilotarchive.records.build import FetchFacts, build_records
from pilotarchive.replica.content import (
    FURTHER_INFORMATION,
    MUNICIPALITY_NAMES_SV,
    PILOTS_PAGE_ID,
    SALO_PROJECT,
    VERSIONS,
    Person,
    PilotEntry,
)
from pilotarchive.replica.layouts import LAYOUTS
from pilotarchive.replica.render import PageRef
from pilotarchive.replica.server import ReplicaServer

CATEGORIES = ("pages", "dates", "pilots", "contacts", "persons", "project")
LANGUAGES = ("fi", "sv", "en")
Fact = tuple
Facts = dict[str, set[Fact]]  # category -> facts


def e164(person: Person) -> str | None:
    return "+358" + person.phone[1:].replace(" ", "") if person.phone else None


def _person(person: Person, language: str) -> Fact:
    return (
        f"{person.given} {person.family}",
        person.titles.get(language),
        person.email,
        e164(person),
    )


def _towns(entry: PilotEntry, language: str) -> tuple[str, ...]:
    if language == "sv":
        return tuple(MUNICIPALITY_NAMES_SV.get(m, m) for m in entry.municipalities)
    return entry.municipalities


def expected(version: str, language: str, rendering: str) -> Facts:
    """What the replica's pilots page says in ``language`` and ``rendering``."""
    state = VERSIONS[version].pages[language]
    project = SALO_PROJECT
    return {
        "pages": {(language, rendering)},
        "dates": {(language, rendering, state.updated.isoformat())},
        "pilots": {
            (p.themes[language], p.coordinators[language], _towns(p, language))
            for p in state.pilots
        },
        "contacts": {(p.themes[language], *_person(p.contact, language)) for p in state.pilots},
        "persons": {_person(p, language) for p in FURTHER_INFORMATION},
        "project": {
            (
                project.themes[language].casefold(),
                project.coordinators[language],
                f"{project.contact.given} {project.contact.family}",
                project.contact.email,
            )
        },
    }


def extracted(records: list[dict], page: dict) -> Facts:
    """The same kinds of facts, from one page's records."""
    own = [r for r in records if r.get("page_id") == page["id"]]
    language, rendering = page["language"], page["rendering"]
    facts: Facts = {
        "pages": {(language, rendering)},
        "dates": {(language, rendering, page["updated"])},
        "pilots": set(),
        "contacts": set(),
        "persons": set(),
        "project": set(),
    }
    for r in own:
        if r["record_type"] == "pilot" and r["kind"] == "pilot":
            facts["pilots"].add((r["theme"], r["coordinator"], tuple(r["municipalities"])))
            c = r["contact"]
            if c:
                facts["contacts"].add((r["theme"], c["name"], c["title"], c["email"], c["phone"]))
        elif r["record_type"] == "pilot":
            c = r["contact"] or {}
            facts["project"].add(
                ((r["theme"] or "").casefold(), r["coordinator"], c.get("name"), c.get("email"))
            )
        elif r["record_type"] == "contact" and r["role"] == "further_information":
            facts["persons"].add((r["name"], r["title"], r["email"], r["phone"]))
    return facts


def crawl(replica: ReplicaServer, output: Path) -> tuple[list[dict], dict]:
    """A real crawl of the replica, as a user runs it; its records and manifest."""
    run = subprocess.run(
        [sys.executable, "-m", "pilotarchive", "crawl", f"{replica.url}/seutukaupunkipilotit",
         "--output", str(output), "--fast-loopback", "-s", "DOWNLOAD_TIMEOUT=10"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if run.returncode not in (0, 3):  # 3: a snapshot judged degraded is still a snapshot
        raise SystemExit(f"crawl failed ({run.returncode}): {run.stderr.strip()[-500:]}")
    snapshot = Path(run.stdout.strip().splitlines()[-1])
    records = []
    for name in ("pages", "pilots", "contacts"):
        text = (snapshot / "records" / f"{name}.jsonl").read_text(encoding="utf-8")
        records += [json.loads(line) for line in text.splitlines()]
    manifest = json.loads((snapshot / "manifest.json").read_text(encoding="utf-8"))
    return records, manifest


def fetch_and_extract(replica: ReplicaServer) -> tuple[list[dict], dict]:
    """Each language and text version of the pilots page fetched over 127.0.0.1 and
    extracted here: the extraction alone, without the crawler."""
    records: list[dict] = []
    for language in LANGUAGES:
        for text in (False, True):
            url = replica.url + PageRef(language, PILOTS_PAGE_ID, text).url
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    body, headers = response.read(), dict(response.headers.items())
            except urllib.error.HTTPError:
                continue  # no such page in this version or layout
            page = extract_page(body, url, headers=headers)
            records += build_records(page, FetchFacts("20141119T000000Z", "2014-11-19T00:00:00Z"))
    return records, {"failures": [], "no_such_version": []}


def score(expect: set[Fact], got: set[Fact]) -> tuple[int, int, list[Fact], list[Fact]]:
    """(matched, out of, missed, extra): extras count against the score."""
    missed = sorted(expect - got, key=repr)
    extra = sorted(got - expect, key=repr)
    return len(expect & got), len(expect) + len(extra), missed, extra


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="2014-11-19", choices=sorted(VERSIONS))
    parser.add_argument("--layouts", default=",".join(LAYOUTS), help="comma-separated")
    parser.add_argument(
        "--extract", action="store_true", help="fetch and extract here instead of crawling"
    )
    args = parser.parse_args()
    version = VERSIONS[args.version]
    if version.layout != "classic":
        print(f"{args.version} is a broken version: scores measure a working layout")
    layouts = [name.strip() for name in args.layouts.split(",") if name.strip()]
    text_from = next(
        (name for name in layouts if name in LAYOUTS and LAYOUTS[name].text_versions), None
    )
    rows: list[tuple[str, str, dict[str, tuple[int, int]]]] = []
    misses: list[str] = []
    entity_lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for layout in layouts:
            if layout not in LAYOUTS:
                raise SystemExit(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
            with ReplicaServer(args.version, layout=layout) as replica:
                if args.extract:
                    records, manifest = fetch_and_extract(replica)
                else:
                    records, manifest = crawl(replica, Path(tmp) / layout)
            # A linked page the content says is gone (2015-06's Swedish text version) is a
            # failure the crawl must record; any other failure is a miss.
            gone = {
                replica.url + PageRef(lang, PILOTS_PAGE_ID, True).url
                for lang, state in version.pages.items()
                if not state.text_version and LAYOUTS[layout].text_versions
            }
            for failure in manifest.get("failures", []):
                if failure["url"] in gone:
                    gone.discard(failure["url"])
                    continue
                misses.append(f"{layout}: failure {failure['url']}: {failure['reason']}")
            if not args.extract:
                misses += [f"{layout}: no failure recorded for the missing {url}" for url in gone]
            pages = {
                (p["language"], p["rendering"]): p
                for p in records
                if p["record_type"] == "page"
                and p["status"] == 200
                and p["final_url"].endswith(f"s={PILOTS_PAGE_ID}")
            }
            renderings = ["page"]
            if LAYOUTS[layout].text_versions and layout == text_from:
                renderings.append("text")  # the text versions: one row set, one layout's crawl
            for rendering in renderings:
                row_name = layout if rendering == "page" else "text"
                for language in LANGUAGES:
                    state = version.pages.get(language)
                    if state is None or (rendering == "text" and not state.text_version):
                        continue
                    want = expected(args.version, language, rendering)
                    page = pages.get((language, rendering))
                    got = extracted(records, page) if page else {c: set() for c in CATEGORIES}
                    cells = {}
                    for category in CATEGORIES:
                        matched, total, missed, extra = score(want[category], got[category])
                        cells[category] = (matched, total)
                        where = f"{row_name} {language} {category}"
                        misses += [f"{where}: missed {fact}" for fact in missed]
                        misses += [f"{where}: extra {fact}" for fact in extra]
                    rows.append((row_name, language, cells))
            pilots = [r for r in records if r["record_type"] == "pilot"]
            entities = {r["entity_id"] for r in pilots}
            stated = len({p.key for s in version.pages.values() for p in s.pilots}) + 1
            entity_lines.append(
                f"  {layout:7s} {len(pilots):3d} pilot and project records, "
                f"{len(entities)} entities (the site states {stated})"
                + (f"; no such version: {len(manifest.get('no_such_version', []))} guessed URL(s)"
                   if not args.extract else "")
            )  # fmt: skip
            if len(entities) != stated:
                misses.append(f"{layout}: {len(entities)} pilot entities, not {stated}")
    print(f"replica {args.version}, {'extraction' if args.extract else 'crawl'} of each layout")
    header = f"{'layout':8s}{'lang':5s}" + "".join(f"{c:>10s}" for c in CATEGORIES)
    print(header + f"{'score':>9s}")
    total_matched = total_all = 0
    for row_name, language, cells in rows:
        matched = sum(m for m, _ in cells.values())
        total = sum(t for _, t in cells.values())
        total_matched += matched
        total_all += total
        line = f"{row_name:8s}{language:5s}" + "".join(
            f"{f'{m}/{t}':>10s}" for m, t in cells.values()
        )
        print(line + f"{100 * matched / total if total else 0:8.1f}%")
    overall = 100 * total_matched / total_all if total_all else 0.0
    print(f"{'all':13s}{'':50s}{f'{total_matched}/{total_all}':>10s}{overall:7.1f}%")
    print("entities (one per pilot and the project, whatever the languages and renderings):")
    print("\n".join(entity_lines))
    if misses:
        print(f"misses ({len(misses)}):")
        for miss in misses:
            print(f"  {miss}")
    else:
        print("misses: none")
    return 0 if overall == 100.0 and not misses else 1


if __name__ == "__main__":
    sys.exit(main())
