"""prune: the retention policy by hand-made times, and a real archive pruned (once killed
half way) that still validates and replays every kept snapshot in pywb."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pilotarchive.archive.prune import by_policy
from pilotarchive.archive.snapshot import SnapshotInfo
from pilotarchive.replica.server import ReplicaServer
from pilotarchive.schedule.config import Retention
from tests.helpers import crawl, load_records, run_cli
from tests.test_replay import free_port, start_pywb
from tests.tools import pywb_bin

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
TIMES = [  # oldest first; the comment says what keeps it, by hand, under DEFAULT below
    "20240601T060000.000000Z",  # monthly 2024-06 (for ever)
    "20250110T060000.000000Z",  # deleted: 2025-01 has a newer one, older than a year
    "20250115T060000.000000Z",  # monthly 2025-01
    "20260301T060000.000000Z",  # weekly 2026-W09 (a Sunday)
    "20260302T060000.000000Z",  # weekly 2026-W10 (the Monday after)
    "20260930T060000.000000Z",  # monthly 2026-09
    "20261001T060000.000000Z",  # deleted: 2026-W40 and 2026-10 have 2 October, newer
    "20261002T060000.000000Z",  # weekly 2026-W40, monthly 2026-10
    "20261119T060000.000000Z",  # daily
    "20261120T060000.000000Z",  # daily
    "20261204T060000.000000Z",  # daily
    "20261205T060000.000000Z",  # one of the last 2, daily
    "20261205T070000.000000Z",  # one of the last 2, daily (the newest of its day)
]
DEFAULT = Retention(keep_last=2, daily_days=31, weekly_weeks=52, monthly_months=None)


def _infos(ids: list[str]) -> list[SnapshotInfo]:
    return [SnapshotInfo(Path(i), {}) for i in ids]


@pytest.mark.parametrize(
    ("policy", "deleted"),
    [
        (DEFAULT, {"20250110T060000.000000Z", "20261001T060000.000000Z"}),
        # Months for a year only: the two oldest go as well.
        (
            Retention(keep_last=2, daily_days=31, weekly_weeks=52, monthly_months=12),
            {"20240601T060000.000000Z", "20250110T060000.000000Z", "20250115T060000.000000Z",
             "20261001T060000.000000Z"},
        ),
        # The last one only, and one a month: the newest of each month.
        (
            Retention(keep_last=1, daily_days=0, weekly_weeks=0, monthly_months=None),
            set(TIMES) - {"20240601T060000.000000Z", "20250115T060000.000000Z",
                          "20260302T060000.000000Z", "20260930T060000.000000Z",
                          "20261002T060000.000000Z", "20261120T060000.000000Z",
                          "20261205T070000.000000Z"},
        ),
    ],
    ids=["default-windows", "monthly-for-a-year", "last-and-monthly"],
)  # fmt: skip
def test_policy_keeps_the_newest_of_each_bucket(policy: Retention, deleted: set[str]) -> None:
    kept = by_policy(_infos(TIMES), policy, NOW)
    assert set(TIMES) - set(kept) == deleted


def test_policy_says_why() -> None:
    kept = by_policy(_infos(TIMES), DEFAULT, NOW)
    assert kept["20261205T070000.000000Z"] == [
        "one of the last 2", "daily 2026-12-05", "weekly 2026-W49", "monthly 2026-12",
    ]  # fmt: skip
    assert kept["20260302T060000.000000Z"] == ["weekly 2026-W10", "monthly 2026-03"]
    assert kept["20260301T060000.000000Z"] == ["weekly 2026-W09"]


# -- a real archive ---------------------------------------------------------------------

POLICY = """[[target]]
name = "a"
[target.retention]
keep_last = 1
daily_days = 0
weekly_weeks = 0
monthly_months = 1
"""


def _ids(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "snapshots").iterdir() if not p.name.startswith("."))


def _killed_prune(out: Path, config: Path) -> int:
    """``prune --yes`` killed (os._exit, nothing cleaned up) right after its first rename."""
    script = (
        "import os, sys\n"
        "real = os.rename\n"
        "def rename(a, b):\n"
        "    real(a, b)\n"
        "    os._exit(9)\n"
        "os.rename = rename\n"
        "from pilotarchive.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script, "prune", "--target", "a", "--yes", "--output", str(out),
         "--config", str(config)],
        capture_output=True, timeout=120,
    ).returncode  # fmt: skip


def _replay(port: int, url: str, ts: str) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/pilots/{ts}id_/{url}", headers={"Accept-Encoding": "gzip"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_prune_keeps_what_kept_revisits_need_and_every_kept_snapshot_replays(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    config = tmp_path / "pilotarchive.toml"
    config.write_text(POLICY, encoding="utf-8")
    served: dict[str, dict[str, bytes]] = {}  # snapshot -> path -> body, as the replica sent
    with ReplicaServer(port=0) as replica:
        made = []
        for version in ("2014-11-19", "2014-11-19", "2014-11-19", "2015-06", "2015-06"):
            replica.set_version(version)
            snapshot = crawl(replica, out, "--target", "a").snapshot
            # A page answered 304 was, as served then, the bytes of its last 200.
            before = served[made[-1]] if made else {}
            made.append(snapshot.name)
            served[snapshot.name] = {
                p: before[p] if r.status == 304 else r.body for p, r in replica.served.items()
            }
        # Another target's crawl: never pruned here, and whatever it needs stays too.
        other = crawl(replica, out, "--target", "b").snapshot.name
        first, second, third, changed, newest = made

        dry = run_cli("prune", "--target", "a", "--output", str(out), "--config", str(config))
        assert dry.returncode == 0, dry.stderr
        # The newest is the policy's; the changed version's crawl holds originals of the
        # pages that changed, the first one those of everything else; the two recrawls of
        # the unchanged first version hold nothing but revisits into the first.
        assert f"keep    {newest}  one of the last 1" in dry.stdout
        assert f"keep    {changed}  needed by " in dry.stdout
        assert f"keep    {first}  needed by " in dry.stdout
        assert f"delete  {second}" in dry.stdout and f"delete  {third}" in dry.stdout
        assert "dry run: 2 snapshot(s) would be deleted, 3 kept" in dry.stdout
        assert _ids(out) == sorted([*made, other])  # a dry run deletes nothing

        # Killed after its first rename: the newest doomed one is gone, the rest is whole.
        assert _killed_prune(out, config) == 9
        assert third not in _ids(out) and second in _ids(out)
        assert (out / ".pruning" / third).is_dir()
        checked = run_cli("validate", "--all", "--output", str(out))
        assert checked.returncode == 0, checked.stderr

        done = run_cli("prune", "--target", "a", "--yes", "--output", str(out),
                       "--config", str(config))  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert f"deleted {second}" in done.stdout
        assert _ids(out) == sorted([first, changed, newest, other])
        assert not (out / ".pruning").exists()
        checked = run_cli("validate", "--all", "--output", str(out))
        assert checked.returncode == 0, checked.stderr
        with sqlite3.connect(out / "index.sqlite3") as db:
            named = {r[0] for r in db.execute("SELECT DISTINCT snapshot_id FROM payloads")}
        assert named <= set(_ids(out))  # the digest index names no deleted snapshot
        # A crawl after the prune writes no revisit into a deleted snapshot.
        crawl(replica, out, "--target", "a")
        assert run_cli("validate", "--all", "--output", str(out)).returncode == 0

    root = tmp_path / "pywb"
    root.mkdir()
    subprocess.run([pywb_bin() / "wb-manager", "init", "pilots"], cwd=root, check=True,
                   capture_output=True)  # fmt: skip
    warcs = sorted(str(w) for w in (out / "snapshots").glob("*/archive/*.warc.gz"))
    subprocess.run([pywb_bin() / "wb-manager", "add", "pilots", *warcs], cwd=root, check=True,
                   capture_output=True)  # fmt: skip
    port = free_port()
    proc = start_pywb(root, port)
    try:
        replayed = 0
        for ident in (first, changed, newest):
            for page in load_records(out / "snapshots" / ident)["pages"]:
                if page["status"] != 200:
                    continue
                path = page["final_url"].split("/", 3)[3]
                ts = "".join(ch for ch in page["warc_date"] if ch.isdigit())[:14]
                status, body = _replay(port, page["final_url"], ts)
                assert status == 200, (ident, page["final_url"])
                assert body == served[ident]["/" + path], (ident, page["final_url"])
                replayed += 1
        assert replayed >= 15
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_prune_refuses_while_a_crawl_writes_and_names_wrong_targets(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    crawl(replica, out, "--target", "a")
    crawl(replica, out, "--target", "a")
    busy = out / "snapshots" / ".tmp-20991231T000000.000000Z-1"
    busy.mkdir()
    run = run_cli("prune", "--target", "a", "--yes", "--output", str(out), cwd=tmp_path)
    assert run.returncode == 1 and "a crawl is writing" in run.stderr
    assert len(_ids(out)) == 2
    shutil.rmtree(busy)
    unknown = run_cli("prune", "--target", "nosuch", "--output", str(out), cwd=tmp_path)
    assert unknown.returncode == 2 and "no snapshot of target 'nosuch'" in unknown.stderr
    # No configuration file: the default policy, said so; two snapshots of today are kept.
    env_dir = tmp_path / "cwd"
    env_dir.mkdir()
    run = run_cli("prune", "--target", "a", "--output", str(out), cwd=env_dir)
    assert run.returncode == 0, run.stderr
    assert "policy (the default policy (no configuration file))" in run.stdout
    assert "dry run: 0 snapshot(s) would be deleted, 2 kept" in run.stdout
    # A configuration whose target has no retention table: the defaults, said so (a new
    # user's pass found "[target.retention] of 'a'" named for a table the file lacks).
    (env_dir / "pilotarchive.toml").write_text('[[target]]\nname = "a"\n')
    run = run_cli("prune", "--target", "a", "--output", str(out), cwd=env_dir)
    assert "policy (the default policy ('a' in pilotarchive.toml has no retention table))" in (
        run.stdout
    )
    (env_dir / "pilotarchive.toml").write_text(POLICY)
    run = run_cli("prune", "--target", "a", "--output", str(out), cwd=env_dir)
    assert "policy ([target.retention] of 'a' in pilotarchive.toml)" in run.stdout
    assert json.loads((out / "snapshots" / _ids(out)[0] / "manifest.json").read_text())["target"]
    # Windows in words: "forever" for any of them, 0 for none.
    forever = POLICY.replace("daily_days = 0", 'daily_days = "forever"').replace(
        "monthly_months = 1", 'monthly_months = "forever"'
    )
    (env_dir / "pilotarchive.toml").write_text(forever)
    run = run_cli("prune", "--target", "a", "--output", str(out), cwd=env_dir)
    assert run.returncode == 0, run.stderr
    assert "one a day for ever, one a week for 0 weeks, one a month for ever" in run.stdout
    # monthly_months = 0 once meant "for ever" where daily_days = 0 means none: refused,
    # before anything is planned or deleted, and only by prune (a crawl still loads it).
    before = _ids(out)
    (env_dir / "pilotarchive.toml").write_text(
        POLICY.replace("monthly_months = 1", "monthly_months = 0")
    )
    for args in ((), ("--yes",)):
        run = run_cli("prune", "--target", "a", "--output", str(out), *args, cwd=env_dir)
        assert run.returncode == 2, run.stdout + run.stderr
        assert 'monthly_months = 0 meant "one a month for ever"' in run.stderr
        assert 'write monthly_months = "forever"' in run.stderr and _ids(out) == before
    check = run_cli("snapshots", "--output", str(out), cwd=env_dir)
    assert check.returncode == 0, check.stderr
    bad = POLICY.replace("monthly_months = 1", 'monthly_months = "always"')
    (env_dir / "pilotarchive.toml").write_text(bad)
    run = run_cli("prune", "--target", "a", "--output", str(out), cwd=env_dir)
    assert run.returncode == 2 and "monthly_months" in run.stderr, run.stderr
    assert os.listdir(out / "snapshots")


def test_a_crawl_after_pruning_never_revisits_a_deleted_original(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    """A version that came and went: its originals are in a snapshot nothing kept needs.
    Pruned, the digest index forgets them, so when the version comes back its pages are
    archived in full again rather than as revisits of records that are gone."""
    out = tmp_path / "out"
    config = tmp_path / "pilotarchive.toml"
    config.write_text(POLICY, encoding="utf-8")
    made = []
    for version in ("2014-11-19", "2015-06", "2014-11-19"):
        replica.set_version(version)
        made.append(crawl(replica, out, "--target", "a").snapshot.name)
    run = run_cli("prune", "--target", "a", "--yes", "--output", str(out),
                  "--config", str(config))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert _ids(out) == [made[0], made[2]]  # the 2015 version's crawl went
    with sqlite3.connect(out / "index.sqlite3") as db:
        named = {r[0] for r in db.execute("SELECT DISTINCT snapshot_id FROM payloads")}
    assert made[1] not in named
    replica.set_version("2015-06")
    crawl(replica, out, "--target", "a")
    checked = run_cli("validate", "--all", "--output", str(out))
    assert checked.returncode == 0, checked.stderr


def test_another_targets_revisits_keep_their_originals(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    """Target a's first snapshot holds originals only a snapshot of another target still
    revisits: pruning a keeps it, and never touches the other target's snapshot."""
    out = tmp_path / "out"
    config = tmp_path / "pilotarchive.toml"
    config.write_text(POLICY, encoding="utf-8")
    first = crawl(replica, out, "--target", "a").snapshot.name
    # Archived in full (no deduplication, no conditional request): it needs nothing of the
    # first.
    second = crawl(replica, out, "--target", "a", "-s", "PILOTARCHIVE_DEDUP=false",
                   "-s", "PILOTARCHIVE_CONDITIONAL=false")  # fmt: skip
    second = second.snapshot.name
    # Unconditional, so that its revisits go by digest to the first (a 304 would point
    # into the second, the previous snapshot).
    third = crawl(replica, out, "--target", "a", "-s", "PILOTARCHIVE_CONDITIONAL=false").snapshot
    manifest = json.loads((third / "manifest.json").read_text(encoding="utf-8"))
    manifest["target"] = "demo"  # made by another target, revisiting the first
    (third / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    run = run_cli("prune", "--target", "a", "--yes", "--output", str(out),
                  "--config", str(config))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert f"keep    {first}  needed by " in run.stdout and f"of kept {third.name}" in run.stdout
    assert f"keep    {second}  one of the last 1" in run.stdout
    assert _ids(out) == [first, second, third.name]
    assert run_cli("validate", "--all", "--output", str(out)).returncode == 0


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("1000000000", '1000000000 is out of range: at most 36500 (or "forever")'),
        ("99999999999999999999", "is out of range: at most 36500"),
        ("-1", '-1 is out of range: at least 0 (or "forever")'),
        ('"Forever"', "'Forever' is not a number of days or \"forever\""),
        ("1.5", "expected a whole number or text in quotes, got 1.5"),
    ],
)
def test_a_retention_window_out_of_range_is_one_line_naming_the_key(value: str, said: str) -> None:
    """A huge window made prune fail with a traceback (OverflowError in timedelta); a word
    that is almost "forever" got the schema's own words."""
    from pilotarchive.exceptions import ConfigError
    from pilotarchive.schedule.config import parse_config

    text = f'[[target]]\nname = "a"\n[target.retention]\ndaily_days = {value}\n'
    with pytest.raises(ConfigError) as exc:
        parse_config(text, Path("pilotarchive.toml"))
    assert "target[0].retention.daily_days: " in str(exc.value) and said in str(exc.value)


def test_whole_numbers_written_as_floats_are_read_as_numbers() -> None:
    from pilotarchive.schedule.config import parse_config

    text = '[[target]]\nname = "a"\n[target.retention]\nkeep_last = 2.0\ndaily_days = 1e1\n'
    policy = parse_config(text, Path("pilotarchive.toml")).target("a").retention
    assert (policy.keep_last, policy.daily_days) == (2, 10)
    assert isinstance(policy.keep_last, int) and isinstance(policy.daily_days, int)
    kept = by_policy(_infos(TIMES), policy, NOW)  # keep_last = 2.0 failed to slice
    assert len([r for r in kept.values() if any("one of the last 2" in x for x in r)]) == 2


def test_validate_all_names_a_committed_snapshot_deleted_by_hand_and_not_a_pruned_one(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    """A snapshot folder deleted by hand left no trace: ``validate --all`` said "valid" and
    the register was rebuilt without it. The ledger of commits and prunes tells it apart
    from a snapshot ``prune`` deleted."""
    from pilotarchive.archive.ledger import LEDGER

    out = tmp_path / "out"
    assert crawl(replica, out, "--target", "b").returncode == 0
    for version in ("2014-06", "2014-11-19", "2015-06", "2015-06"):
        replica.set_version(version)
        assert crawl(replica, out, "--target", "a").returncode == 0
    ids = _ids(out)
    assert [json.loads(line)["snapshot_id"] for line in
            (out / LEDGER).read_text(encoding="utf-8").splitlines()] == ids  # fmt: skip
    other_id = ids[0]  # target b's: never pruned here, nor deleted
    # By prune (the last one, and one a month: the two oldest of this month go): fine.
    config = tmp_path / "pilotarchive.toml"
    config.write_text(POLICY, encoding="utf-8")
    run = run_cli("prune", "--target", "a", "--yes", "--output", str(out), "--config", str(config))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run_cli("validate", "--all", "--output", str(out)).returncode == 0
    # By hand: named, exit 1, whatever is still there.
    kept = [i for i in _ids(out) if i != other_id]
    gone = kept[0]
    shutil.rmtree(out / "snapshots" / gone)
    run = run_cli("validate", "--all", "--output", str(out))
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"{gone}  MISSING" in run.stdout
    assert f"{gone}: committed at " in run.stderr and "nor deleted by `pilotarchive prune`" in (
        run.stderr
    )
    other = run_cli("validate", "--all", "--target", "b", "--output", str(out))
    assert other.returncode == 0, other.stdout + other.stderr  # another target's audit
    assert gone not in other.stdout + other.stderr
