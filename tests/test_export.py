"""The dataset: temporal tables (golden cases), files a researcher's tools read and check
(frictionless, Datasette), determinism and stability, wrong input."""

import csv
import io
import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from pilotarchive.archive.snapshot import SnapshotInfo, list_snapshots, snapshot_time
from pilotarchive.exceptions import DiskFull, UsageError
from pilotarchive.export.columns import TABLES
from pilotarchive.export.temporal import Identities, Source, iso_time, versions
from pilotarchive.records.ids import fingerprint
from tests.helpers import crawl, load_records, run_cli

BIN = Path(sys.executable).parent


def export(output: Path, to: Path, *args: str) -> Path:
    run = run_cli("export", "--output", str(output), "--to", str(to), *args)
    assert run.returncode == 0, run.stderr
    return to


def snapshot_ids(output: Path) -> list[str]:
    return [s.id for s in list_snapshots(output)]


# -- golden cases of the temporal logic -------------------------------------------------------

T = ["20140601T000000Z", "20141119T000000Z", "20150101T000000Z", "20150601T000000Z"]
FI, SV = "http://x/index.phtml?s=1", "http://x/index.phtml?l=sv&s=1"
TEXT = "http://x/text.phtml?s=1"


def page(snap: str, url: str, lang: str = "fi", status: int = 200, text: bool = False,
         title: str = "Pilotit") -> dict[str, Any]:  # fmt: skip
    from pilotarchive.records.ids import page_id

    record = {
        "record_type": "page", "id": page_id(url), "language": lang, "url": url,
        "final_url": url, "status": status, "title": title if status < 400 else "404",
        "is_text_version": text, "graphic_version_url": FI if text else None,
        "source_url": url, "snapshot_id": snap,
    }  # fmt: skip
    record["fingerprint"] = fingerprint(record)
    return record


def pilot(snap: str, url: str, coordinator: str, lang: str = "fi") -> dict[str, Any]:
    from pilotarchive.records.ids import page_id

    record = {
        "record_type": "pilot", "id": f"pilot-{page_id(url)[5:]}", "page_id": page_id(url),
        "language": lang, "kind": "pilot", "theme": "Kaksikieliset kaupungit",
        "coordinator": coordinator, "contact": None, "municipalities": ["Loviisa", "Porvoo"],
        "source_url": url, "snapshot_id": snap,
    }  # fmt: skip
    record["fingerprint"] = fingerprint(record)
    return record


def source(n: int, pages: list[dict], pilots: list[dict], health: str = "healthy") -> Source:
    snap = T[n]
    info = SnapshotInfo(Path("/nowhere") / snap, {"snapshot_id": snap})
    s = Source(info, snapshot_time(snap), health)
    s.pages = {p["id"]: p for p in pages}
    s.records = {"page": pages, "pilot": pilots, "contact": []}
    return s


def snap(n: int, coordinator: str | None = "Loviisan kaupunki", *, fetched: bool = True,
         status: int = 200, text: bool = False, graphic: bool = True,
         health: str = "healthy") -> Source:  # fmt: skip
    """Snapshot ``n``: the fi page (and its text version) with one pilot."""
    pages, pilots = [], []
    if fetched and graphic:
        pages.append(page(T[n], FI, status=status))
        if coordinator and status < 400:
            pilots.append(pilot(T[n], FI, coordinator))
    if fetched and text:
        pages.append(page(T[n], TEXT, text=True))
        if coordinator:
            pilots.append(pilot(T[n], TEXT, coordinator))
    return source(n, pages, pilots, health)


# (first snapshot, valid_to, last snapshot that showed it, rendering, coordinator): the
# last snapshot is the last that fetched the page and saw the version, written by hand.
CASES = {
    "an unchanged crawl is no new version": (
        [snap(0), snap(1)],
        [(T[0], None, None, "page", "Loviisan kaupunki")],
    ),
    "a changed field ends one version and starts the next": (
        [snap(0), snap(1, "Porvoon kaupunki")],
        [
            (T[0], T[1], T[0], "page", "Loviisan kaupunki"),
            (T[1], None, None, "page", "Porvoon kaupunki"),
        ],
    ),
    "a page not fetched is no evidence: the version goes on": (
        [snap(0), snap(1, fetched=False), snap(2)],
        [(T[0], None, None, "page", "Loviisan kaupunki")],
    ),
    "a page not fetched is not the version's last sight": (
        [snap(0), snap(1, fetched=False), snap(2, "Porvoon kaupunki")],
        [
            (T[0], T[2], T[0], "page", "Loviisan kaupunki"),
            (T[2], None, None, "page", "Porvoon kaupunki"),
        ],
    ),
    "a page answering 404 ends the version": (
        [snap(0), snap(1, status=404)],
        [(T[0], T[1], T[0], "page", "Loviisan kaupunki")],
    ),
    "a pilot gone from a page that answered ends the version": (
        [snap(0), snap(1), snap(2, None), snap(3)],
        [
            (T[0], T[2], T[1], "page", "Loviisan kaupunki"),
            (T[3], None, None, "page", "Loviisan kaupunki"),
        ],
    ),
    "page and text version are one row, from the page": (
        [snap(0, text=True), snap(1, text=True)],
        [(T[0], None, None, "page", "Loviisan kaupunki")],
    ),
    "the text version stands in while the page is missing": (
        [snap(0, text=True), snap(1, text=True, status=404)],
        [
            (T[0], T[1], T[0], "page", "Loviisan kaupunki"),
            (T[1], None, None, "text", "Loviisan kaupunki"),
        ],
    ),
    "a degraded snapshot neither ends nor starts a version": (
        [snap(0), snap(1, None, health="degraded"), snap(2, "Porvoon kaupunki")],
        [
            (T[0], T[2], T[0], "page", "Loviisan kaupunki"),
            (T[2], None, None, "page", "Porvoon kaupunki"),
        ],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_temporal_golden_cases(name: str) -> None:
    sources, expected = CASES[name]
    rows = versions(sources, Identities(s for s in sources if s.used))["pilots"]
    got = [
        (r["first_snapshot"], r["valid_to"], r["last_snapshot"], r["rendering"], r["coordinator"])
        for r in sorted(rows, key=lambda r: r["valid_from"])
    ]
    want = [
        (first, iso_time(snapshot_time(to)) if to else None, last, rendering, value)  # type: ignore[arg-type]
        for first, to, last, rendering, value in expected
    ]
    assert got == want
    assert len({r["entity_id"] for r in rows}) == 1  # one pilot, whatever happened to it


def test_an_error_page_keeps_the_identity_its_url_had() -> None:
    sources = [snap(0, text=True), snap(1, text=True, status=404)]
    ids = Identities(sources)
    gone = sources[1].pages[page(T[1], FI)["id"]]
    assert gone["title"] == "404"
    assert ids.page(gone) == ids.page(sources[0].pages[gone["id"]])
    text = sources[0].pages[page(T[0], TEXT, text=True)["id"]]
    assert ids.page(text)[0] == ids.page(gone)[0] and ids.page(text)[1] == "text"


# -- the files -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dataset(archive: Path, tmp_path_factory) -> Path:
    return export(archive, tmp_path_factory.mktemp("export") / "dataset")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_file_is_there_and_says_the_same(dataset: Path, archive: Path) -> None:
    names = {p.name for p in dataset.iterdir()}
    for table in TABLES:
        assert {f"{table.name}.csv", f"{table.name}.jsonl"} <= names
    assert {"pilotarchive.sqlite", "metadata.json", "datapackage.json", "CITATION.cff"} <= names
    db = sqlite3.connect(dataset / "pilotarchive.sqlite")
    for table in TABLES:
        raw = (dataset / f"{table.name}.csv").read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and raw.endswith(b"\r\n")  # UTF-8, RFC 4180
        rows = read_csv(dataset / f"{table.name}.csv")
        lines = (dataset / f"{table.name}.jsonl").read_text(encoding="utf-8").splitlines()
        count = db.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0]
        assert len(rows) == len(lines) == count, table.name
        assert list(rows[0]) == table.names == list(json.loads(lines[0]))
    indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"idx_pilots_entity_id", "idx_pilots_valid_from", "idx_changes_entity_id"} <= indexes
    pk = [r[1] for r in db.execute("PRAGMA table_info(pilots)") if r[5]]
    assert pk == ["entity_id", "language", "first_snapshot"]
    # Counting pilots never counts one twice: one row per pilot and language now.
    current = db.execute(
        "SELECT language, count(*), count(DISTINCT entity_id) FROM pilots "
        "WHERE valid_to IS NULL AND kind = 'pilot' GROUP BY language"
    ).fetchall()
    assert current == [("en", 5, 5), ("fi", 5, 5), ("sv", 5, 5)]
    assert (
        db.execute("SELECT count(DISTINCT entity_id) FROM pilots WHERE kind='pilot'").fetchone()[0]
        == 5
    )
    snapshots = read_csv(dataset / "snapshots.csv")
    assert [r["health"] for r in snapshots] == ["healthy", "healthy", "degraded", "healthy"]
    assert [r["used"] for r in snapshots] == ["true", "true", "false", "true"]
    assert read_csv(dataset / "pilots.csv")[0]["valid_from"].endswith("Z")  # ISO 8601, UTC
    cff = (dataset / "CITATION.cff").read_text(encoding="utf-8")
    newest = snapshot_ids(archive)[-1]
    assert "type: dataset" in cff and f'version: "{newest}"' in cff
    assert f"date-released: {newest[:4]}-{newest[4:6]}-{newest[6:8]}" in cff
    assert "seutukaupunkipilotit" in cff
    meta = json.loads((dataset / "metadata.json").read_text(encoding="utf-8"))
    assert meta["license"] == "unknown" and meta["source"] and meta["title"]
    for table in TABLES:  # every column described
        described = meta["databases"]["pilotarchive"]["tables"][table.name]["columns"]
        assert set(described) == set(table.names) and all(described.values())
    package = json.loads((dataset / "datapackage.json").read_text(encoding="utf-8"))
    fields = {f["name"]: f for f in package["resources"][2]["schema"]["fields"]}
    # The description comes from schemas/page.schema.json.
    assert fields["pilot_count"]["description"] == "Pilot and project records read from this page."


def _phone(national: str) -> str:
    """The E.164 form of a Finnish number as the replica writes it ("044 439 3301")."""
    return "+358" + national.replace(" ", "")[1:]


def _truth() -> tuple[set[tuple], set[tuple]]:
    """The pilots and the people the replica's last version (2015-06) shows, written from
    its content (pilotarchive/replica/content.py): (language, kind, theme, coordinator,
    contact, e-mail, phone, municipalities) and (language, name, e-mail, phone, role)."""
    from pilotarchive.replica import content as c

    v3 = c.VERSIONS["2015-06"].pages["fi"].pilots
    pilots, people = set(), set()
    for lang in ("fi", "sv", "en"):

        def town(name: str, lang: str = lang) -> str:
            return c.MUNICIPALITY_NAMES_SV.get(name, name) if lang == "sv" else name

        for p in v3:
            who = p.contact
            pilots.add((lang, "pilot", p.themes[lang], p.coordinators[lang],
                        f"{who.given} {who.family}", who.email, _phone(who.phone),
                        tuple(map(town, p.municipalities))))  # fmt: skip
            people.add((lang, f"{who.given} {who.family}", who.email, _phone(who.phone),
                        "pilot_contact"))  # fmt: skip
        salo = c.SALO_PROJECT
        name = f"{salo.contact.given} {salo.contact.family}"
        pilots.add((lang, "project", salo.themes[lang], salo.coordinators[lang], name,
                    salo.contact.email, None, ()))  # fmt: skip
        people.add((lang, name, salo.contact.email, None, "project_contact"))
        for who in c.FURTHER_INFORMATION:
            people.add((lang, f"{who.given} {who.family}", who.email, _phone(who.phone),
                        "further_information"))  # fmt: skip
    return pilots, people


def _current(rows: list[dict[str, Any]]) -> tuple[set[tuple], set[tuple]]:
    """Today's pilot rows and people rows of one format, in the form of ``_truth``."""
    pilots, people = set(), set()
    for r in rows:
        if r["valid_to"] not in (None, ""):
            continue
        if "theme" in r:
            towns = r["municipalities"]
            towns = json.loads(towns) if isinstance(towns, str) else towns
            pilots.add((r["language"], r["kind"], r["theme"], r["coordinator"],
                        r["contact_name"], r["contact_email"], r["contact_phone"] or None,
                        tuple(towns)))  # fmt: skip
        else:
            people.add((r["language"], r["name"], r["email"], r["phone"] or None, r["role"]))
    return pilots, people


def test_every_format_holds_what_the_replica_shows_now(dataset: Path) -> None:
    """CSV, JSONL and SQLite each hold the replica's current pilots and people: agreeing
    with each other is not enough (three formats can be wrong the same way)."""
    truth = _truth()
    assert len(truth[0]) == 18 and len(truth[1]) == 24  # 5 pilots and a project; 8 people
    db = sqlite3.connect(dataset / "pilotarchive.sqlite")
    db.row_factory = sqlite3.Row
    for name in ("csv", "jsonl", "sqlite"):
        rows: list[dict[str, Any]] = []
        for table in ("pilots", "contacts"):
            if name == "csv":
                rows += read_csv(dataset / f"{table}.csv")
            elif name == "jsonl":
                text = (dataset / f"{table}.jsonl").read_text(encoding="utf-8")
                rows += [json.loads(line) for line in text.splitlines()]
            else:
                rows += [dict(r) for r in db.execute(f'SELECT * FROM "{table}"')]
        assert _current(rows) == truth, name


def test_frictionless_validates_the_data_package(dataset: Path) -> None:
    run = subprocess.run(
        [str(BIN / "frictionless"), "validate", "datapackage.json"],
        cwd=dataset,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "INVALID" not in run.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read().decode("utf-8"))


def test_datasette_serves_the_pilot_versions(dataset: Path, archive: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [str(BIN / "datasette"), "serve", str(dataset / "pilotarchive.sqlite"), "--metadata",
         str(dataset / "metadata.json"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                _get(f"{base}/-/versions.json")
                break
            except OSError:
                if server.poll() is not None:
                    raise AssertionError(server.stderr.read().decode()) from None
                time.sleep(0.1)
        meta = _get(f"{base}/-/metadata.json")
        assert meta["license"] == "unknown"
        # The 2015-06 step: the bilingual pilot's coordinator, Loviisa -> Porvoo, in Finnish.
        rows = _get(
            f"{base}/pilotarchive/pilots.json?_shape=array&language=fi"
            "&theme__startswith=Kaksikielisten&_sort=valid_from"
        )
        step = next(s for s in list_snapshots(archive) if s.id == snapshot_ids(archive)[-1])
        assert [r["coordinator"] for r in rows] == ["Loviisan kaupunki", "Porvoon kaupunki"]
        assert len({r["entity_id"] for r in rows}) == 1
        older, newer = rows
        assert older["valid_to"] == newer["valid_from"] == iso_time(snapshot_time(step.id))  # type: ignore[arg-type]
        assert older["last_snapshot"] == snapshot_ids(archive)[1]  # the degraded one skipped
        assert newer["valid_to"] is None and newer["first_snapshot"] == step.id
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_exporting_twice_gives_the_same_bytes(dataset: Path, archive: Path, tmp_path) -> None:
    again = export(archive, tmp_path / "again")
    names = sorted(p.name for p in dataset.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        assert (dataset / name).read_bytes() == (again / name).read_bytes(), name


def _records(data: bytes) -> list[bytes]:
    """CSV records as stored (a value's own line breaks are LF; records end in CRLF)."""
    return data.split(b"\r\n")[1:-1]


def test_one_more_snapshot_leaves_the_old_rows_as_they_were(
    archive: Path, history_replica, tmp_path
) -> None:
    output = tmp_path / "output"
    shutil.copytree(archive, output)
    before = export(output, tmp_path / "before")
    history_replica.set_version("2014-11-19")  # back: the coordinator is Loviisa again
    crawl(history_replica, output)
    newest = snapshot_ids(output)[-1]
    after = export(output, tmp_path / "after")
    ended_at = iso_time(snapshot_time(newest)).encode()  # type: ignore[arg-type]
    last = snapshot_ids(output)[-2].encode()
    ended = 0
    for table in TABLES:
        old = _records((before / f"{table.name}.csv").read_bytes())
        new = set(_records((after / f"{table.name}.csv").read_bytes()))
        assert len(new) >= len(old)
        for row in old:
            if row in new:
                continue  # byte for byte the same
            # Else only a version the new snapshot ended: its end columns filled, no more.
            assert table.name in ("pilots", "contacts", "pages"), row
            fields = next(csv.reader(io.StringIO(row.decode("utf-8"))))
            i, j = table.names.index("valid_to"), table.names.index("last_snapshot")
            assert fields[i] == fields[j] == "", row
            fields[i], fields[j] = ended_at.decode(), last.decode()
            out = io.StringIO()
            csv.writer(out, lineterminator="\r\n").writerow(fields)
            assert out.getvalue().encode("utf-8")[:-2] in new, row
            ended += 1
    assert ended >= 3  # the coordinator's 2015-06 versions, at least, ended
    rows = read_csv(after / "pilots.csv")
    porvoo = [r for r in rows if r["coordinator"] == "Porvoon kaupunki"]
    assert porvoo and all(r["valid_to"] == ended_at.decode() for r in porvoo)


# -- wrong input -----------------------------------------------------------------------------


def test_no_snapshots_is_one_line(tmp_path: Path) -> None:
    run = run_cli("export", "--output", str(tmp_path))
    assert run.returncode == 1
    assert run.stderr.strip().count("\n") == 0 and "no snapshots" in run.stderr


def test_a_damaged_snapshot_is_named_and_skipped(archive: Path, tmp_path: Path) -> None:
    output = tmp_path / "output"
    shutil.copytree(archive, output)
    ids = snapshot_ids(output)
    first = output / "snapshots" / ids[0] / "records" / "pilots.jsonl"
    first.write_bytes(b"{garbled\n" + first.read_bytes())
    (output / "snapshots" / ids[1] / "manifest.json").unlink()
    (output / "snapshots" / "not-a-snapshot").mkdir()
    run = run_cli("export", "--output", str(output), "--to", str(tmp_path / "d"))
    assert run.returncode == 0, run.stderr
    lines = run.stderr.strip().splitlines()
    damaged = [line for line in lines if "damaged snapshot" in line]
    assert len(damaged) == 4 and ids[0] in damaged[0] and "pilots.jsonl" in damaged[0]
    assert ids[1] in damaged[1] and "manifest.json is missing" in damaged[1]
    # The third's revisits stand for records of the second, whose WARC no manifest vouches
    # for now: no evidence either (see the test of a WARC that no longer verifies).
    assert ids[2] in damaged[2] and f"stands for a record of snapshot {ids[1]}" in damaged[2]
    assert "not-a-snapshot" in damaged[3]
    snapshots = read_csv(tmp_path / "d" / "snapshots.csv")
    assert [r["health"] for r in snapshots] == [
        "damaged", "damaged", "damaged", "healthy", "damaged"
    ]  # fmt: skip
    assert {r["first_snapshot"] for r in read_csv(tmp_path / "d" / "pilots.csv")} == {ids[-1]}
    check = subprocess.run(
        [str(BIN / "frictionless"), "validate", "datapackage.json"],
        cwd=tmp_path / "d",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0, check.stdout  # damaged rows still fit the description


def test_a_snapshot_whose_warc_no_longer_verifies_is_named_and_skipped(
    archive: Path, tmp_path: Path
) -> None:
    """The dataset cites each value's WARC record as its evidence; a WARC whose bytes
    differ from the manifest's sha256 is no evidence, so its snapshot is left out and
    named, as one with damaged records is (``wacz`` and ``bag`` refuse it too). Its
    records alone would pass: only the WARC was touched."""
    output = tmp_path / "output"
    shutil.copytree(archive, output)
    ids = snapshot_ids(output)
    warc = next((output / "snapshots" / ids[0] / "archive").glob("*.warc.gz"))
    data = bytearray(warc.read_bytes())
    data[len(data) // 2] ^= 0x01
    warc.write_bytes(bytes(data))
    for command in ("export", "site"):
        run = run_cli(command, "--output", str(output), "--to", str(tmp_path / command))
        assert run.returncode == 0, run.stderr
        damaged = [line for line in run.stderr.splitlines() if "damaged snapshot" in line]
        assert len(damaged) == 1 and ids[0] in damaged[0], run.stderr
        assert "sha256 differs from the manifest" in damaged[0]
    snapshots = read_csv(tmp_path / "export" / "snapshots.csv")
    health = [r["health"] for r in snapshots]
    assert health[0] == "damaged" and "damaged" not in health[1:]


def test_a_snapshot_whose_revisits_stand_for_a_damaged_warc_is_left_out_too(
    archive: Path, tmp_path: Path
) -> None:
    """A revisit's values are evidenced by the original's WARC record in an earlier
    snapshot: when that WARC no longer verifies (or is gone), the snapshots whose revisits
    stand for it cite no evidence either, and are named and left out with it."""
    output = tmp_path / "output"
    shutil.copytree(archive, output)
    ids = snapshot_ids(output)
    refers = {
        i: {(p.get("warc_refers_to") or {}).get("snapshot_id") for p in
            load_records(output / "snapshots" / i)["pages"]} - {None, i}
        for i in ids
    }  # fmt: skip
    lost = min(o for r in refers.values() for o in r)  # the archive fixture has revisits
    depends = {i for i, r in refers.items() if lost in r}
    next((output / "snapshots" / lost / "archive").glob("*.warc.gz")).unlink()
    run = run_cli("export", "--output", str(output), "--to", str(tmp_path / "d"))
    assert run.returncode == 0, run.stderr
    damaged = [line for line in run.stderr.splitlines() if "damaged snapshot" in line]
    assert len(damaged) == 1 + len(depends), run.stderr
    (gone,) = [line for line in damaged if "its revisit of" not in line]
    assert lost in gone and "listed in the manifest but missing" in gone
    for i in depends:
        (line,) = [line for line in damaged if f"/{i}: its revisit of" in line]
        assert f"stands for a record of snapshot {lost}, which is no evidence now" in line
    health = {r["snapshot_id"]: r["health"] for r in read_csv(tmp_path / "d" / "snapshots.csv")}
    assert {i for i, h in health.items() if h == "damaged"} == {lost, *depends}
    for row in read_csv(tmp_path / "d" / "pages.csv"):
        assert lost not in row["warc_filename"], row  # no value cites the lost WARC


def test_export_to_a_symbolic_link_writes_into_the_folder_it_names(
    archive: Path, tmp_path: Path
) -> None:
    """The link stays a link; the dataset is in the folder it names, twice in a row, and no
    ``.old-`` or ``.tmp-`` is left beside either."""
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    for _ in range(2):
        run = run_cli("export", "--output", str(archive), "--to", str(link))
        assert run.returncode == 0, run.stderr
        assert link.is_symlink() and (real / "datapackage.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".old-", ".tmp-"))]
    inside = tmp_path / "inside"
    inside.symlink_to(archive / "snapshots")
    run = run_cli("export", "--output", str(archive), "--to", str(inside))
    assert run.returncode == 2 and "snapshots" in run.stderr, run.stderr


def test_only_degraded_snapshots_is_an_error(archive: Path, tmp_path: Path) -> None:
    output = tmp_path / "output"
    degraded = snapshot_ids(archive)[2]
    shutil.copytree(archive / "snapshots" / degraded, output / "snapshots" / degraded)
    run = run_cli("export", "--output", str(output))
    assert run.returncode == 1 and "no healthy snapshot" in run.stderr


def test_targets_are_not_mixed(archive: Path, tmp_path: Path) -> None:
    output = tmp_path / "output"
    shutil.copytree(archive, output)
    manifest = output / "snapshots" / snapshot_ids(output)[0] / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps({**data, "target": "other"}), encoding="utf-8")
    run = run_cli("export", "--output", str(output))
    assert run.returncode == 2 and "several targets" in run.stderr and "--target" in run.stderr
    run = run_cli("export", "--output", str(output), "--target", "nosuch")
    assert run.returncode == 2 and "other" in run.stderr
    export(output, tmp_path / "other", "--target", "other")
    assert len(read_csv(tmp_path / "other" / "snapshots.csv")) == 1


def test_a_folder_that_is_no_dataset_is_not_replaced(archive: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    run = run_cli("export", "--output", str(archive), "--to", str(tmp_path))
    assert run.returncode == 2 and "not a dataset" in run.stderr
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_failing_export_leaves_the_previous_dataset(
    archive: Path, tmp_path: Path, monkeypatch
) -> None:
    from pilotarchive.export import dataset as module

    to = export(archive, tmp_path / "dataset", "--format", "csv")
    before = {p.name: p.read_bytes() for p in to.iterdir()}

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(module, "write_sqlite", broken)
    with pytest.raises(DiskFull, match="disk full"):
        module.export_dataset(archive, to)
    assert {p.name: p.read_bytes() for p in to.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


def test_unknown_format_is_a_usage_error() -> None:
    from pilotarchive.export.dataset import formats_of

    assert formats_of("all") == ("csv", "jsonl", "sqlite", "datapackage")
    with pytest.raises(UsageError, match="unknown format"):
        formats_of(["xlsx"])


def test_a_record_removed_with_one_entity_and_added_with_another_gives_two_rows() -> None:
    """A pilot ended (it was gone in a healthy crawl) and came back as a new entity; with
    the snapshot between them left out (damaged), the diff of its neighbours removes the
    record from the old entity and adds it, the same record id, to the new one. The two
    rows shared a key, and the export and the site stopped with "a bug"."""
    from types import SimpleNamespace

    from pilotarchive.export.temporal import change_rows

    old = SimpleNamespace(id="20261201T000000Z", iso="2026-12-01T00:00:00Z")
    new = SimpleNamespace(id="20261203T000000Z", iso="2026-12-03T00:00:00Z")
    fields = [{"field": "coordinator", "old": None, "new": "Raahen kaupunki"}]
    change = {"record_type": "pilot", "id": "pilot-4e38", "language": "fi", "label": "x",
              "fields": fields}  # fmt: skip
    diff = {"changes": [{**change, "kind": "removed", "entity_id": "pilot-a8fc"},
                        {**change, "kind": "added", "entity_id": "pilot-a8fc-2"}]}  # fmt: skip
    ids = SimpleNamespace(by_snapshot={})
    rows = change_rows(old, new, ids, diff)  # type: ignore[arg-type]
    assert [(r["change"], r["entity_id"]) for r in rows] == [
        ("removed", "pilot-a8fc"), ("added", "pilot-a8fc-2")
    ]  # fmt: skip
