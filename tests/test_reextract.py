"""``reextract``: snapshots derived again from their own WARCs.

Archives written by earlier releases are fixtures (``fixtures/archives/``: one crawl of
the replica by the release that introduced each record or manifest schema version, made
with that release's own ``demo``; see the README there). Expected values come from the
earlier derivation (what the old release wrote), from the replica, or by hand.
"""

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from pilotarchive.archive.lock import target_lock
from pilotarchive.records.validate import schema_version
from tests.helpers import check_archive, load_manifest, load_records, run_cli
from tests.hostile import HostileServer, Route
from tests.test_backfill import Front, backfill_args, front, wayback  # noqa: F401 (fixtures)
from tests.test_rules import PAGE, PILOTS, RULES

FIXTURES = Path(__file__).parent / "fixtures" / "archives"
WITH_WARC = sorted(
    p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name != "records-1.0.0-manifest-1.0.0"
)


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with the sha256 of its bytes."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def copy(name: str, tmp_path: Path) -> tuple[Path, Path]:
    output = tmp_path / name
    shutil.copytree(FIXTURES / name, output)
    return output, next(p for p in (output / "snapshots").iterdir())


def register_of(output: Path, target: str | None, snapshot_id: str) -> dict[str, str]:
    file = output / "identity" / (target or "_untargeted") / "snapshots" / f"{snapshot_id}.json"
    return {rid: v[0] for rid, v in json.loads(file.read_text(encoding="utf-8"))["records"].items()}


def records_of(folder: Path) -> list[dict]:
    return [r for rows in load_records(folder).values() for r in rows]


@pytest.mark.parametrize("name", WITH_WARC)
def test_archives_of_every_earlier_release_are_derived_again(name: str, tmp_path: Path) -> None:
    output, snapshot = copy(name, tmp_path)
    old = tree(snapshot)
    old_records = records_of(snapshot)
    assert run_cli("validate", "--output", str(output)).returncode == 0
    run = run_cli("reextract", "--output", str(output))
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{snapshot.name}  derivation 2:" in run.stdout and "HEALTHY" in run.stdout
    check_archive(snapshot)
    assert run_cli("validate", "--output", str(output)).returncode == 0
    new = tree(snapshot)
    # The WARC bytes are the very same; the earlier derivation is kept byte for byte.
    assert {k: v for k, v in new.items() if k.startswith("archive/")} == {
        k: v for k, v in old.items() if k.startswith("archive/")
    }
    for rel, digest in old.items():
        if rel == "manifest.json" or rel.startswith("records/"):
            assert new[f"derivations/1/{rel}"] == digest, rel
    manifest = load_manifest(snapshot)
    assert manifest["snapshot_id"] == snapshot.name and manifest["manifest_version"] == (
        schema_version("manifest")
    )
    assert manifest["derivation"]["number"] == 2 and manifest["derivation"]["reextracted"]
    assert manifest["derivation"]["rules"] is None
    assert manifest["derivation"]["earlier"] == ["derivations/1"]
    assert manifest["health"]["verdict"] == "healthy"
    records = records_of(snapshot)
    assert {r["schema_version"] for r in records} == {schema_version("pilot")}

    # The same pages, and as many pilots per page, as the old release read (its records are
    # the expectation; the wording of a theme may differ: the reading of themes improved).
    def pages(rows: list[dict]) -> list[tuple]:
        return sorted((r["language"], r["final_url"], r["pilot_count"], r["status"])
                      for r in rows if r["record_type"] == "page")  # fmt: skip

    def pilots(rows: list[dict]) -> list[tuple]:
        return sorted((r["language"], r["coordinator"]) for r in rows
                      if r["record_type"] == "pilot")  # fmt: skip

    assert pages(records) == pages(old_records)
    assert pilots(records) == pilots(old_records)
    # Entities: every record carries the register's id.
    assignment = register_of(output, manifest.get("target"), snapshot.name)
    assert {r["id"]: r["entity_id"] for r in records} == assignment


def test_a_second_reextract_keeps_both_earlier_derivations(tmp_path: Path) -> None:
    output, snapshot = copy(WITH_WARC[-1], tmp_path)
    first = tree(snapshot)
    assert run_cli("reextract", "--output", str(output)).returncode == 0
    second = tree(snapshot)
    # Read the same the second time: only --force writes a derivation then (see below).
    run = run_cli("reextract", snapshot.name, "--output", str(output), "--force")
    assert run.returncode == 0 and "derivation 3" in run.stdout, run.stdout + run.stderr
    manifest = load_manifest(snapshot)
    assert manifest["derivation"]["earlier"] == ["derivations/1", "derivations/2"]
    after = tree(snapshot)
    assert after["derivations/1/manifest.json"] == first["manifest.json"]
    assert after["derivations/2/manifest.json"] == second["manifest.json"]
    assert after["derivations/2/records/pilots.jsonl"] == second["records/pilots.jsonl"]
    check_archive(snapshot)


def test_a_snapshot_that_reads_the_same_is_left_as_it_was(tmp_path: Path) -> None:
    """The idempotence guard: re-reading an unchanged archive (a nightly reextract, the
    same release and rules) writes nothing: no derivations/<n> per snapshot per night.
    What changes the reading (rules here) still writes one."""
    output, snapshot = copy(WITH_WARC[-1], tmp_path)
    assert run_cli("reextract", "--output", str(output)).returncode == 0
    once = tree(snapshot)
    register = tree(output / "identity")
    for _ in range(2):
        run = run_cli("reextract", "--output", str(output))
        assert run.returncode == 0, run.stdout + run.stderr
        assert f"{snapshot.name}  unchanged: reads as derivation 2 does" in run.stdout
        assert "0 snapshot(s) derived again, 1 unchanged" in run.stdout
        assert tree(snapshot) == once  # byte for byte, the manifest too
        assert tree(output / "identity") == register
    assert not [p for p in (output / "snapshots").iterdir() if p.name.startswith(".tmp-")]
    assert run_cli("validate", "--output", str(output)).returncode == 0


def test_what_counts_as_reading_the_same() -> None:
    """Any difference in the records (an entity id is in them), the health, the rejected
    count or the rules is a new derivation; a manifest that lists no records (written before
    manifests listed files) is never taken as the same."""
    from pilotarchive.derive.reread import _reads_the_same

    files = {"records/pilots.jsonl": {"sha256": "a" * 64, "bytes": 10},
             "archive/x.warc.gz": {"sha256": "b" * 64, "bytes": 5}}  # fmt: skip
    old = {"files": files, "health": {"verdict": "healthy"}, "rejected": 0,
           "derivation": {"number": 2, "rules": None, "release": "0.1.0"}}  # fmt: skip
    new = {**old, "derivation": {"number": 3, "rules": None, "release": "0.2.0"}}
    assert _reads_the_same(old, new)  # another release reading the same: nothing to keep
    other = {"records/pilots.jsonl": {"sha256": "c" * 64, "bytes": 10}}
    assert not _reads_the_same(old, {**new, "files": {**files, **other}})
    assert not _reads_the_same(old, {**new, "health": {"verdict": "degraded"}})
    assert not _reads_the_same(old, {**new, "rejected": 1})
    assert not _reads_the_same(old, {**new, "derivation": {"rules": {"pilot": 1}}})
    assert not _reads_the_same({**old, "files": {}}, {**new, "files": {}})


def test_a_snapshot_without_a_warc_is_named_and_left_as_it_was(tmp_path: Path) -> None:
    output, snapshot = copy("records-1.0.0-manifest-1.0.0", tmp_path)
    before = tree(snapshot)
    run = run_cli("reextract", "--output", str(output))
    assert run.returncode == 0, run.stderr
    assert f"{snapshot.name}  left as it was" in run.stdout and "no WARC" in run.stdout
    assert tree(snapshot) == before
    assert run_cli("validate", "--output", str(output)).returncode == 0


def _appended_record() -> bytes:
    """A well-formed gzipped WARC record that the crawl never wrote."""
    import gzip

    body = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<script>x()</script>"
    head = (
        "WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: http://evil.example/x\r\n"
        "WARC-Date: 2026-01-01T00:00:00Z\r\n"
        "WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000000>\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    return gzip.compress(head + body + b"\r\n\r\n")


# "cut-end": the last gzip member cut short, which a reader of records may not notice;
# "appended": a valid record added after the crawl. Both differ from the manifest's sha256:
# a re-derivation must never sum them anew (then every later audit and deposit would pass).
@pytest.mark.parametrize("damage", ["flipped", "truncated", "cut-end", "appended"])
def test_a_damaged_warc_is_named_and_the_snapshot_never_half_rewritten(
    damage: str, tmp_path: Path
) -> None:
    output, snapshot = copy(WITH_WARC[0], tmp_path)
    warc = next((snapshot / "archive").glob("*.warc.gz"))
    data = bytearray(warc.read_bytes())
    if damage == "flipped":
        data[len(data) // 2] ^= 0xFF
    elif damage == "truncated":
        del data[len(data) * 2 // 3 :]
    elif damage == "cut-end":
        del data[-8:]
    else:
        data += _appended_record()
    warc.write_bytes(bytes(data))
    before = tree(output / "snapshots")
    run = run_cli("reextract", "--output", str(output))
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"{snapshot.name}  SKIPPED" in run.stdout and "Traceback" not in run.stderr
    assert tree(output / "snapshots") == before  # nothing left behind, nothing changed
    # and the audit still sees the damage afterwards
    assert run_cli("validate", "--all", "--output", str(output)).returncode == 1


def test_a_same_release_derivation_gives_the_crawls_records(archive: Path, tmp_path: Path) -> None:
    """The crawl and reextract run one derivation: read again by the release that crawled
    them, the archive's snapshots (revisits, 304s, a degraded redesign among them) get
    the very same records, entities and verdicts."""
    output = tmp_path / "archive"
    shutil.copytree(archive, output)
    snapshots = sorted(p for p in (output / "snapshots").iterdir() if not p.name.startswith("."))
    before = {
        s.name: (tree(s / "records"), load_manifest(s)["health"]["verdict"]) for s in snapshots
    }
    assert "degraded" in {v for _, v in before.values()}
    # So the guard finds each one unchanged and writes nothing ...
    run = run_cli("reextract", "--output", str(output))
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"0 snapshot(s) derived again, {len(snapshots)} unchanged" in run.stdout
    # ... and a derivation forced through gives the very same records.
    run = run_cli("reextract", "--output", str(output), "--force")
    assert run.returncode == 0, run.stdout + run.stderr
    for s in snapshots:
        records, verdict = before[s.name]
        assert tree(s / "records") == records, s.name
        assert load_manifest(s)["health"]["verdict"] == verdict
        assert load_manifest(s)["derivation"]["number"] == 2
        check_archive(s)
        assignment = register_of(output, load_manifest(s).get("target"), s.name)
        assert {r["id"]: r["entity_id"] for r in records_of(s)} == assignment


def test_records_of_a_crawl_carry_the_register_ids(archive: Path, tmp_path: Path) -> None:
    output = tmp_path / "archive"
    shutil.copytree(archive, output)
    assert run_cli("identity", "--output", str(output), "--rebuild").returncode == 0
    for s in sorted(p for p in (output / "snapshots").iterdir() if not p.name.startswith(".")):
        assignment = register_of(output, load_manifest(s).get("target"), s.name)
        assert {r["id"]: r["entity_id"] for r in records_of(s)} == assignment, s.name


def _config(tmp_path: Path, url: str, rules: str = RULES) -> Path:
    file = tmp_path / "pilotarchive.toml"
    file.write_text(f'[[target]]\nname = "kokeilut"\nstart_urls = ["{url}"]\n{rules}',
                    encoding="utf-8")  # fmt: skip
    return file


def test_a_degraded_snapshot_becomes_healthy_once_rules_are_written(
    hostile: HostileServer, tmp_path: Path
) -> None:
    hostile.routes["/kokeilut"] = Route(body=PAGE)
    output = tmp_path / "output"
    crawl = run_cli("crawl", f"{hostile.url}/kokeilut", "--output", str(output),
                    "--target", "kokeilut", "--fast-loopback")  # fmt: skip
    assert crawl.returncode == 3, crawl.stderr  # degraded: the page says three pilots
    snapshot = Path(crawl.stdout.strip().splitlines()[-1])
    assert load_manifest(snapshot)["health"]["verdict"] == "degraded"
    # Subscribers were last told of an older snapshot (the crawl before the redesign).
    alerts = output / "alerts" / "kokeilut"
    alerts.mkdir(parents=True)
    (alerts / "state.json").write_text('{"last_alerted": "20140101T000000Z", "digests": {}}')
    before = run_cli("export", "--output", str(output), "--to", str(tmp_path / "before"))
    assert before.returncode == 1 and "no healthy snapshot" in before.stderr
    # Without rules a re-reading changes nothing (nothing is written, the alerts stay);
    # with them the page is read completely.
    config = _config(tmp_path, f"{hostile.url}/kokeilut", rules="")
    run = run_cli("reextract", "--output", str(output), "--config", str(config))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "unchanged: reads as derivation 1 does (pilots 0, contacts 0, degraded)" in run.stdout
    config = _config(tmp_path, f"{hostile.url}/kokeilut")
    run = run_cli("reextract", "--target", "kokeilut", "--output", str(output),
                  "--config", str(config))  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "pilots 0 -> 3" in run.stdout and "degraded -> HEALTHY" in run.stdout
    assert "1 page(s) read with rules" in run.stdout
    check_archive(snapshot)
    manifest = load_manifest(snapshot)
    assert manifest["health"]["verdict"] == "healthy"
    assert manifest["derivation"]["number"] == 2 and manifest["derivation"]["rules"]["target"] == (
        "kokeilut"
    )
    themes = sorted(p["theme"] for p in load_records(snapshot)["pilots"])
    assert themes == sorted(t for t, *_ in PILOTS)
    # It enters the dataset: its pilots now have versions there.
    export = tmp_path / "after"
    assert run_cli("export", "--output", str(output), "--to", str(export)).returncode == 0
    dataset = "\n".join(p.read_text(encoding="utf-8") for p in export.rglob("*.csv"))
    assert all(t in dataset for t, *_ in PILOTS)
    # Found on re-reading: not mailed; the next alert starts from the healthy snapshot.
    assert "not mailed" in run.stdout
    state = json.loads((alerts / "state.json").read_text(encoding="utf-8"))
    assert state["last_alerted"] == snapshot.name
    assert not (output / "outbox").exists() or not any((output / "outbox").rglob("*.eml"))


def test_a_re_reading_that_changes_nothing_keeps_the_changes_not_yet_mailed(
    replica, tmp_path: Path
) -> None:
    """A crawl made by hand holds real changes since the last alert (nobody was told: only
    ``run`` mails). ``reextract --force`` reads it again as it was read: no change found on
    re-reading, so the next alert still starts where it did. (The alert start moved to
    every snapshot re-derived healthy, and those changes were never mailed.)"""
    from tests.helpers import crawl

    output = tmp_path / "output"
    assert crawl(replica, output, "--target", "t").returncode == 0
    first = sorted(p.name for p in (output / "snapshots").iterdir())[0]
    replica.set_version("2014-11-19")
    assert crawl(replica, output, "--target", "t").returncode == 0
    alerts = output / "alerts" / "t"
    alerts.mkdir(parents=True)
    state = json.dumps({"last_alerted": first, "digests": {}})
    (alerts / "state.json").write_text(state, encoding="utf-8")
    run = run_cli("reextract", "--output", str(output), "--force", cwd=tmp_path)
    assert run.returncode == 0 and "2 snapshot(s) derived again" in run.stdout, run.stdout
    assert "not mailed" not in run.stdout
    assert json.loads((alerts / "state.json").read_text(encoding="utf-8"))["last_alerted"] == first


def test_a_crawl_degraded_by_bad_rules_and_read_again_keeps_its_changes_for_the_alert(
    replica, tmp_path: Path
) -> None:
    """The site changed; the crawl that saw it was degraded by bad rules, so nobody was
    told. Read again without them it is healthy, and the last alert's snapshot was read
    again too: the next alert diffs two readings of the same reader, so it starts where
    it did and mails the site's changes once, as the maintainers' mail promises. (It moved
    past them, and they were never mailed.) Only when the last alert's snapshot is not
    read again does the start move, so that a better reading is not mailed as news."""
    from tests.helpers import crawl

    output = tmp_path / "output"
    assert crawl(replica, output, "--target", "t").returncode == 0
    replica.set_version("2016-02")
    bad = json.dumps({"pilot": [{"block": "body", "theme": "h1"}]})
    assert crawl(replica, output, "--target", "t", "-s", f"PILOTARCHIVE_RULES={bad}",
                 expect=3).returncode == 3  # fmt: skip
    first, second = sorted(p.name for p in (output / "snapshots").iterdir())
    alerts = output / "alerts" / "t"
    alerts.mkdir(parents=True)
    (alerts / "state.json").write_text(json.dumps({"last_alerted": first, "digests": {}}),
                                       encoding="utf-8")  # fmt: skip
    partial = tmp_path / "partial"
    shutil.copytree(output, partial)
    run = run_cli("reextract", "--output", str(output), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{second}  derivation 2:" in run.stdout and "degraded -> HEALTHY" in run.stdout
    assert f"{first}  unchanged" in run.stdout and "not mailed" not in run.stdout
    assert json.loads((alerts / "state.json").read_text(encoding="utf-8"))["last_alerted"] == first
    # The second snapshot alone: the first keeps its reading, so the start moves.
    run = run_cli("reextract", second, "--output", str(partial), cwd=tmp_path)
    assert run.returncode == 0 and "degraded -> HEALTHY" in run.stdout, run.stdout
    assert f"the next alert starts from {second}" in run.stdout
    state = json.loads((partial / "alerts" / "t" / "state.json").read_text(encoding="utf-8"))
    assert state["last_alerted"] == second


def test_reextract_waits_for_no_run_of_its_target(hostile: HostileServer, tmp_path: Path) -> None:
    hostile.routes["/kokeilut"] = Route(body=PAGE)
    output = tmp_path / "output"
    crawl = run_cli("crawl", f"{hostile.url}/kokeilut", "--output", str(output),
                    "--target", "kokeilut", "--fast-loopback")  # fmt: skip
    snapshot = Path(crawl.stdout.strip().splitlines()[-1])
    before = tree(snapshot)
    with target_lock(output, "kokeilut"):
        run = run_cli("reextract", "--output", str(output))
    assert run.returncode == 1 and "target 'kokeilut' is locked" in run.stderr, run.stderr
    assert tree(snapshot) == before


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["nosuch"], "no snapshot 'nosuch'"),
        (["--target", "nosuch", "--config", "{config}"], "no such target"),
    ],
    ids=["unknown-snapshot", "unknown-target"],
)
def test_wrong_input_is_a_usage_error(args: list[str], said: str, tmp_path: Path) -> None:
    output, _ = copy(WITH_WARC[0], tmp_path)
    config = _config(tmp_path, "http://127.0.0.1:9/x")
    run = run_cli("reextract", "--output", str(output), *[a.format(config=config) for a in args])
    assert run.returncode == 2 and said in run.stderr and "Traceback" not in run.stderr


def test_a_snapshot_whose_revisits_point_into_a_damaged_warc_is_left_whole(
    archive: Path, tmp_path: Path
) -> None:
    """The redesign's crawl stores unchanged payloads (the text versions) as revisits of the
    crawl before it: with that record damaged, both are skipped, the later one after its
    new derivation was begun (its own WARC reads fine), and neither is changed at all."""
    output = tmp_path / "archive"
    shutil.copytree(archive, output)
    later, original = next(
        (s, p["warc_refers_to"])
        for s in sorted((output / "snapshots").iterdir())
        for p in load_records(s)["pages"]
        if p["warc_refers_to"]
    )
    earlier = output / "snapshots" / original["snapshot_id"]
    warc = earlier / "archive" / original["filename"]
    data = bytearray(warc.read_bytes())
    data[original["offset"] + 200] ^= 0xFF  # inside the record the later snapshot needs
    warc.write_bytes(bytes(data))
    before = tree(output / "snapshots")
    run = run_cli("reextract", earlier.name, later.name, "--output", str(output))
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"{earlier.name}  SKIPPED" in run.stdout and f"{later.name}  SKIPPED" in run.stdout
    assert tree(output / "snapshots") == before


def test_backfilled_snapshots_are_derived_again_keeping_their_captures(
    front: Front,  # noqa: F811 (the fixture of test_backfill)
    tmp_path: Path,
) -> None:
    from pilotarchive.cli import main

    out = tmp_path / "out"
    assert main(backfill_args(front, out)) == 0
    snapshots = sorted(p for p in (out / "snapshots").iterdir())
    before = {s.name: load_records(s)["pages"] for s in snapshots}
    # The same release reads them the same: --force, or nothing would be derived again.
    run = run_cli("reextract", "--output", str(out), "--force")
    assert run.returncode == 0, run.stdout + run.stderr
    for s in snapshots:
        check_archive(s)
        pages = load_records(s)["pages"]
        assert [p["capture"] for p in pages] == [p["capture"] for p in before[s.name]]
        assert [p["retrieved_at"] for p in pages] == [p["retrieved_at"] for p in before[s.name]]
        manifest = load_manifest(s)
        assert manifest["origin"] == "backfill" and manifest["derivation"]["number"] == 2


def test_a_crawl_committing_while_the_register_is_rebuilt_is_not_held_up(
    hostile: HostileServer, tmp_path: Path
) -> None:
    """reextract holds the entity register's lock while it rebuilds it: a crawl committing
    then waits a few seconds for it, not minutes, and commits with a note."""
    from pilotarchive.archive.lock import FileLock
    from pilotarchive.derive.entities import REGISTER_WAIT

    hostile.routes["/kokeilut"] = Route(body=PAGE)
    output = tmp_path / "output"
    lock = output / "identity" / "kokeilut" / ".lock"
    with FileLock(lock, wait=0):
        args = ("--output", str(output), "--target", "kokeilut", "--fast-loopback")
        crawl = run_cli("crawl", f"{hostile.url}/kokeilut", *args, timeout=REGISTER_WAIT + 60)
    assert crawl.returncode == 3, crawl.stderr  # written (degraded: no rules)
    snapshot = Path(crawl.stdout.strip().splitlines()[-1])
    check_archive(snapshot)
    assert any("entity ids not taken from the entity register" in n
               for n in load_manifest(snapshot)["notes"])  # fmt: skip
