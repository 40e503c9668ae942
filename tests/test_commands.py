"""What a user types: wrong input gets one line and the right exit code, never a traceback.

Exit codes: 0 success, 1 failure, 2 usage, 3 a snapshot written but judged degraded.
"""

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pilotarchive.archive.owner import Ownership
from pilotarchive.cli import build_parser
from pilotarchive.replica.server import Fault, ReplicaServer
from tests.helpers import crawl, load_manifest, run_cli, start_crawl, warc_records
from tests.hostile import HostileServer, html_page

ROOT = Path(__file__).resolve().parent.parent


def one_line(run, code: int) -> str:
    assert run.returncode == code, (run.returncode, run.stdout, run.stderr)
    assert "Traceback" not in run.stderr + run.stdout
    lines = [x for x in run.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, run.stderr
    return lines[0]


# -- 13. tracebacks instead of one line ------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (
            ["crawl", "http://127.0.0.1:1/", "-s", "DOWNLOAD_TIMEOUT=abc"],
            2,
            "DOWNLOAD_TIMEOUT='abc': expected a finite number",
        ),
        (["crawl", "http://127.0.0.1:99999/"], 2, "valid port"),
        (["crawl", "http://[::1/"], 2, "is not an http(s) URL"),
        (["crawl", "http://127.0.0.1:1/", "--max-pages", "0"], 2, "--max-pages must be"),
        (
            ["crawl", "http://127.0.0.1:1/", "-s", "PILOTARCHIVE_MAX_PAGES=-1"],
            2,
            "-s PILOTARCHIVE_MAX_PAGES must be",
        ),
        (["crawl", "http://127.0.0.1:1/\r\nWARC-Type: evil"], 2, "control character"),
        (["crawl", "http://127.0.0.1:1/", "--operator", "Eve\r\nWARC-Type: x"], 2, "--operator"),
        (
            ["crawl", "http://127.0.0.1:1/", "-s", "DOWNLOD_TIMEOUT=10"],
            2,
            "unknown setting 'DOWNLOD_TIMEOUT'; did you mean DOWNLOAD_TIMEOUT?",
        ),
        (
            ["crawl", "http://127.0.0.1:1/", "-s", "PILOTARCHIVE_OUTPT_DIR=x"],
            2,
            "did you mean PILOTARCHIVE_OUTPUT_DIR?",
        ),
        (["crawl", "http://127.0.0.1:1/", "-s", "ROBOTSTXT_OBEY=maybe"], 2, "true or false"),
        (["crawl", "http://127.0.0.1:1/", "--allow-host", "::"], 2, "--allow-host"),
        (["diff", "--replay-url", "http://x/{ts}/{url}"], 2, "unknown field(s) ts"),
        (["diff", "--replay-url", "http://x/{url"], 2, "--replay-url"),
        (["replica", "serve", "--port", "99999"], 2, "a port is a number from 0 to 65535"),
        (["validate", "2" * 5000], 2, "not a snapshot id or path"),
        (["diff", "2" * 300, "3" * 300], 2, "not a snapshot id or path"),
        (["history", "x", "--output", "/nonexistent/folder"], 2, "no such folder"),
        (["history", "x", "--output", "."], 1, "no snapshots"),
        (["wacz", "--file", "x.zip"], 2, "ends in .wacz"),
        # An OS error no command foresaw is still one line naming the file (the CLI's net).
        (
            ["replica", "serve", "--synthetic", "3", "--static", "/proc/no/site"],
            1,
            "/proc/no: No such file or directory",
        ),
        (["history", " "], 2, "give an entity id or a part of a name"),
        (["demo", "--layout", "nope"], 2, "--layout 'nope': known layouts are table"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_wrong_input_is_one_line(argv: list[str], code: int, says: str, tmp_path: Path) -> None:
    run = run_cli(*argv, cwd=tmp_path)
    line = one_line(run, code)
    assert says in line, line
    assert not (tmp_path / "output" / "snapshots").exists() or not list(
        (tmp_path / "output" / "snapshots").iterdir()
    )


def test_a_start_url_that_is_not_utf8_is_refused_without_leftovers(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable.encode(), b"-m", b"pilotarchive", b"crawl", b"http://127.0.0.1:1/p\xe4",
         b"--output", str(tmp_path).encode()],
        capture_output=True,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert b"Traceback" not in proc.stderr and b"not valid text" in proc.stderr
    assert not (tmp_path / "snapshots").exists() or not list((tmp_path / "snapshots").iterdir())


def test_unreachable_start_url_says_one_line(tmp_path: Path) -> None:
    run = run_cli("crawl", "http://127.0.0.1:1/", "--output", str(tmp_path), "--fast-loopback")
    line = one_line(run, 1)  # no Scrapy ERROR lines before it (item 16)
    assert line.startswith("pilotarchive: no page could be read") and "127.0.0.1:1" in line
    assert not list((tmp_path / "snapshots").iterdir())


def test_diff_file_must_be_a_file_in_a_folder_that_exists(replica, tmp_path: Path) -> None:
    crawl(replica, tmp_path)
    crawl(replica, tmp_path)
    for target, says in ((tmp_path, "is a folder"), (tmp_path / "no" / "d.html", "does not exist")):
        run = run_cli("diff", "--output", str(tmp_path), "--file", str(target))
        assert says in one_line(run, 2)
    assert not [p for p in tmp_path.rglob(".tmp-*")]
    (tmp_path / "dir.wacz").mkdir()
    for target, says in ((tmp_path / "dir.wacz", "is a folder"),
                         (tmp_path / "no" / "x.wacz", "does not exist")):  # fmt: skip
        run = run_cli("wacz", "--output", str(tmp_path), "--file", str(target))
        assert says in one_line(run, 2)  # the caller's mistake, as for diff --file
    assert not [p for p in tmp_path.rglob(".tmp-*")]


def test_wacz_of_a_damaged_warc_puts_nothing_in_place(replica, tmp_path: Path) -> None:
    snapshot = crawl(replica, tmp_path).snapshot
    (warc,) = (snapshot / "archive").glob("*.warc.gz")
    data = warc.read_bytes()
    warc.write_bytes(data[:100] + b"\x00" * 300 + data[400:])
    package = tmp_path / "p.wacz"
    run = run_cli("wacz", "--output", str(tmp_path), "--file", str(package))
    line = one_line(run, 1)
    assert line.startswith(f"pilotarchive: {warc}: cannot be read ("), line
    assert not package.exists()
    assert not list(tmp_path.glob(".tmp-*"))


# -- 15. one meaning per option --------------------------------------------------------------


def test_output_is_the_folder_and_file_the_file_in_every_command() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, command in sub.choices.items():
        options = {s: a for a in command._actions for s in a.option_strings}
        if "--output" in options:
            assert options["--output"].dest == "output", name
            assert "-o" in options and options["-o"].dest == "output", name
            assert options["--output"].metavar == "DIR", name
        if "--file" in options:
            assert options["--file"].metavar == "FILE", name
    assert "--file" in {s for a in sub.choices["diff"]._actions for s in a.option_strings}
    assert "--file" in {s for a in sub.choices["wacz"]._actions for s in a.option_strings}


# -- 16. noise and silence -------------------------------------------------------------------


def test_a_polite_crawl_says_nothing_but_its_summary(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    """No fast loopback: the loopback middleware is off, which is not worth a warning."""
    run = run_cli(
        "crawl", f"{replica.url}/seutukaupunkipilotit", "--output", str(tmp_path),
        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=false",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stderr == "", run.stderr


def test_stale_folders_are_reported_once(replica: ReplicaServer, tmp_path: Path) -> None:
    crawl(replica, tmp_path)
    stale = tmp_path / "snapshots" / ".tmp-20141119T120000Z-999999999"
    (stale / "records").mkdir(parents=True)
    Ownership(stale).release()  # as a killed crawl leaves it: its owner file, no lock held
    run = crawl(replica, tmp_path)
    assert run.stderr.count(".tmp-20141119T120000Z-999999999") == 1, run.stderr


def test_a_spent_budget_is_said_with_the_pages_left(replica: ReplicaServer, tmp_path: Path) -> None:
    run = crawl(replica, tmp_path, "--max-pages", "2")
    assert "page budget of 2 reached" in run.stdout
    skipped = load_manifest(run.snapshot)["skipped"]
    assert skipped and all(s["reason"] == "page budget spent (--max-pages 2)" for s in skipped)


def test_ctrl_c_says_what_happens(replica: ReplicaServer, tmp_path: Path) -> None:
    replica.inject("/text.phtml", Fault(delay=8))
    proc = start_crawl(replica, tmp_path, "-s", "DOWNLOAD_TIMEOUT=30")
    deadline = time.monotonic() + 30
    while not any(p.startswith("/text.phtml") for _, p, _ in replica.requests):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert "stopping after the pages in flight" in err and "Ctrl-C again to abort" in err
    assert "no snapshot" in err
    assert proc.returncode == 1
    assert "Traceback" not in err


# -- 17. progress ----------------------------------------------------------------------------


def test_progress_on_a_terminal_and_not_elsewhere(replica: ReplicaServer, tmp_path: Path) -> None:
    replica.inject("/text.phtml", Fault(delay=1.5))
    argv = [sys.executable, "-m", "pilotarchive", "crawl", f"{replica.url}/seutukaupunkipilotit",
            "--output", str(tmp_path), "--fast-loopback", "-s",
            "PILOTARCHIVE_PROGRESS_INTERVAL=0.5"]  # fmt: skip
    # Not a terminal: nothing but the summary.
    quiet = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert quiet.returncode == 0 and "pages fetched" not in quiet.stderr
    # A terminal: a progress line, rewritten in place.
    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, stdin=follower, stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    seen = b""
    while proc.poll() is None or select.select([leader], [], [], 0.1)[0]:
        if select.select([leader], [], [], 0.2)[0]:
            try:
                seen += os.read(leader, 4096)
            except OSError:
                break
    proc.wait(timeout=60)
    os.close(leader)
    assert proc.returncode == 0
    assert b"pages fetched" in seen and b"failed" in seen and b"queued" in seen
    assert b"pages/s" in seen and b"\r" in seen
    # -v off a terminal: progress as log lines.
    loud = subprocess.run([*argv, "-v"], capture_output=True, text=True, timeout=60)
    assert "progress:" in loud.stderr and "pages fetched" in loud.stderr


# -- 18. exit codes --------------------------------------------------------------------------


def test_diff_exit_code(replica: ReplicaServer, tmp_path: Path) -> None:
    crawl(replica, tmp_path)
    crawl(replica, tmp_path)
    same = run_cli("diff", "--exit-code", "--output", str(tmp_path))
    assert same.returncode == 0 and "no changes" in same.stdout
    replica.set_version("2015-06")
    crawl(replica, tmp_path)
    changed = run_cli("diff", "--exit-code", "--output", str(tmp_path))
    assert changed.returncode == 1 and "changed" in changed.stdout
    assert run_cli("diff", "--output", str(tmp_path)).returncode == 0


def test_scrapy_crawl_exit_codes(replica: ReplicaServer, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    scrapy = [sys.executable, "-m", "scrapy", "crawl", "ministry", "-s",
              f"PILOTARCHIVE_OUTPUT_DIR={tmp_path}", "-s", "PILOTARCHIVE_FAST_LOOPBACK=true",
              "-s", "LOG_LEVEL=ERROR"]  # fmt: skip
    failed = subprocess.run(
        [*scrapy, "-s", "PILOTARCHIVE_START_URLS=http://127.0.0.1:1/"],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert failed.returncode == 1 and "no page could be read" in failed.stderr
    ok = subprocess.run(
        [*scrapy, "-s", f"PILOTARCHIVE_START_URLS={replica.url}/seutukaupunkipilotit"],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    replica.set_version("2014-11-19-redesign")
    degraded = subprocess.run(
        [*scrapy, "-s", f"PILOTARCHIVE_START_URLS={replica.url}/seutukaupunkipilotit"],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert degraded.returncode == 3, degraded.stderr


# -- 19. history and snapshots ---------------------------------------------------------------


def test_history_is_in_time_order(replica: ReplicaServer, tmp_path: Path) -> None:
    for version in ("2014-06", "2014-11-19", "2015-06"):
        replica.set_version(version)
        crawl(replica, tmp_path)
    run = run_cli("history", "Heikkinen", "--output", str(tmp_path))
    stamps = [line.split()[0] for line in run.stdout.splitlines()[1:] if line.startswith("  2")]
    assert stamps == sorted(stamps), run.stdout
    assert run.stdout.rstrip().splitlines()[-2].endswith("gone")
    # The page and its text version are one page entity (records' entity_id, schema 1.3.0).
    history = run_cli("history", "Pilotprojekt för utveckling", "--output", str(tmp_path)).stdout
    assert history.startswith("history of page-"), history
    # The Swedish text version disappears (404): named by what it was, not "Sidan hittades inte".
    assert (
        "[sv] disappeared on Pilotprojekt för utveckling av regionstäder (text version)" in history
    )
    assert "Sidan hittades inte" not in history


def test_snapshots_judges_a_snapshot_made_before_health_was_stored(replica, tmp_path: Path) -> None:
    """A manifest without ``health`` (made before health was judged) is judged on read, from
    its records: the redesign states four pilots and yields none, so it is degraded, not
    "healthy" by default and not left unknown."""
    replica.set_version("2014-11-19-redesign")
    snapshot = crawl(replica, tmp_path, expect=3).snapshot
    manifest = load_manifest(snapshot)
    assert manifest["health"]["verdict"] == "degraded"
    del manifest["health"]  # as a snapshot made before health was judged
    (snapshot / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    run = run_cli("snapshots", "--json", "--output", str(tmp_path))
    assert run.returncode == 0, run.stderr
    listed = json.loads(run.stdout)
    assert (listed["id"], listed["health"]) == (snapshot.name, "degraded")
    assert "health" not in load_manifest(snapshot)  # judged, never written into a snapshot


# -- 20. small things ------------------------------------------------------------------------


def test_operator_flag_reaches_the_warcinfo(replica: ReplicaServer, tmp_path: Path) -> None:
    run = crawl(replica, tmp_path, "--operator", "Jane Doe <jane@example.org>")
    info = warc_records(run.snapshot)[0]
    assert info["type"] == "warcinfo" and b"operator: Jane Doe <jane@example.org>" in info["raw"]


def test_readme_commands_use_the_installed_path() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme[readme.index("## Quick start") : readme.index("## Commands")]
    activated = False
    for line in quick.splitlines():
        line = line.removeprefix("$ ")  # a console block's prompt
        activated = activated or line.startswith(". .venv/bin/activate")
        if line.startswith("pilotarchive ") and not activated:
            raise AssertionError(f"README runs pilotarchive before activating .venv: {line}")
    assert activated or ".venv/bin/pilotarchive" in quick


def test_an_injected_header_never_reaches_the_warc(hostile: HostileServer, tmp_path: Path) -> None:
    hostile.page("/", html_page("Sivu"))
    run = run_cli("crawl", f"{hostile.url}/", "--output", str(tmp_path), "--fast-loopback",
                  "-s", "PILOTARCHIVE_OPERATOR=a\nWARC-Type: response")  # fmt: skip
    assert "control character" in one_line(run, 2)
    assert hostile.requests == []


def test_demo_into_a_folder_holding_another_targets_site_is_refused_before_crawling(
    tmp_path: Path,
) -> None:
    """The tour writes its site and dataset into OUTPUT/site and OUTPUT/dataset; another
    target's there made it crawl four snapshots into the archive and then stop."""
    from pilotarchive.export.marker import MARKER, marker_bytes

    site = tmp_path / "archive" / "site"
    site.mkdir(parents=True)
    (site / MARKER).write_bytes(marker_bytes("site", [], target="pilots"))
    run = run_cli("demo", "--output", str(tmp_path / "archive"), cwd=tmp_path)
    line = one_line(run, 2)
    assert f"{site} holds the site of target 'pilots', and the tour writes its own there" in line
    assert not (tmp_path / "archive" / "snapshots").exists()
