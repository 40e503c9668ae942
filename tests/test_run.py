# ruff: noqa: E501  (the issue's example verbatim; expected messages read best whole)
"""`pilotarchive run` as its user meets it: the configuration, the lock, the run log, a
killed run. The crawls are real (the replica on 127.0.0.1), as is the SMTP server."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pilotarchive.archive.lock import output_lock
from pilotarchive.cli import main
from pilotarchive.replica.server import Fault, ReplicaServer
from pilotarchive.schedule.config import Config, load_config
from tests.alerting import outbox, pa, runs, sent, write_config
from tests.mailserver import MailServer

START = "/seutukaupunkipilotit"

ISSUE_EXAMPLE = """\
output = "output"                      # the output folder, as --output

[smtp]
host = "127.0.0.1"
port = 8025
security = "none"                      # none | starttls | tls
username = ""                          # empty: no login
password_env = "PILOTARCHIVE_SMTP_PASSWORD"   # the password is read from this variable, never from the file

[mail]
sender = "pilotarchive <pilotarchive@example.org>"
unsubscribe = "mailto:unsubscribe@example.org"  # or an https URL (then List-Unsubscribe-Post too)
maintainers = ["ops@example.org"]               # told when a crawl is degraded or fails

[[target]]
name = "pilots"
start_urls = ["http://www.tem.fi/seutukaupunkipilotit"]
scope = "page"
schedule = "0 6 * * 1-5"               # cron expression, local time of the host
settings = { DOWNLOAD_TIMEOUT = 30 }   # any crawl setting, as -s
subscribers = [
  { email = "researcher@example.org", language = "fi" },
  { email = "analyst@example.org", language = "en", digest = "weekly" },
]
"""


def start_run(folder: Path, output: int) -> subprocess.Popen:
    """``pilotarchive run`` in the background, in ``folder`` (its pilotarchive.toml)."""
    return subprocess.Popen(
        [sys.executable, "-m", "pilotarchive", "run"],
        cwd=folder,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        stdout=output,
        stderr=output,
        text=True,
    )


@pytest.fixture
def mailserver() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


def test_the_issue_example_works_as_written(tmp_path: Path):
    file = tmp_path / "pilotarchive.toml"
    file.write_text(ISSUE_EXAMPLE, encoding="utf-8")
    config = load_config(file, environ={})
    assert config.output == Path("output")
    assert (config.smtp.host, config.smtp.port, config.smtp.security) == ("127.0.0.1", 8025, "none")
    assert config.mail.maintainers == ("ops@example.org",)
    (target,) = config.targets
    assert target.name == "pilots" and target.schedule == "0 6 * * 1-5"
    assert dict(target.settings) == {"DOWNLOAD_TIMEOUT": "30"}
    assert [(s.email, s.language, s.digest) for s in target.subscribers] == [
        ("researcher@example.org", "fi", "none"),
        ("analyst@example.org", "en", "weekly"),
    ]


def test_no_file_means_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(None)
    assert config == Config() and config.file is None
    assert [t.name for t in config.targets] == ["pilots"]
    assert config.targets[0].subscribers == ()


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (
            "host = ",
            "hots = ",
            "pilotarchive.toml:4: smtp.hots: unknown key 'hots'; did you mean 'host'?",
        ),
        (
            "port = 8025",
            'port = "8025"',
            "pilotarchive.toml:5: smtp.port: expected a whole number, got '8025'",
        ),
        (
            'username = ""',
            'username = "bob"',
            "pilotarchive.toml:8: smtp.password_env: the SMTP login 'bob' needs a password, and the variable PILOTARCHIVE_SMTP_PASSWORD is not set",
        ),
        (
            'username = ""',
            'password = "hunter2"',
            "pilotarchive.toml:7: smtp.password: the password is never read from the file",
        ),
        (
            '"en", digest',
            '"de", digest',
            "pilotarchive.toml:23: target[0].subscribers[1].language: must be one of 'fi', 'sv', 'en', not 'de'",
        ),
        (
            '"0 6 * * 1-5"',
            '"0 6 * *"',
            "pilotarchive.toml:19: target[0].schedule: '0 6 * *' is not a cron expression",
        ),
        (
            "DOWNLOAD_TIMEOUT = 30",
            "DOWNLOAD_TIMOUT = 30",
            "pilotarchive.toml:20: target[0].settings.DOWNLOAD_TIMOUT: unknown setting 'DOWNLOAD_TIMOUT'; did you mean DOWNLOAD_TIMEOUT?",
        ),
        (
            '"analyst@example.org"',
            '"analyst"',
            "pilotarchive.toml:23: target[0].subscribers[1].email: 'analyst' is not an e-mail address",
        ),
        ("[mail]", "[mail]]", "pilotarchive.toml: not valid TOML"),
        # A final newline passes a schema pattern ending in "$" (Python's re): refused, as
        # every control character anywhere in the file, before it reaches a mail header.
        (
            '"analyst@example.org"',
            '"analyst@example.org\\n"',
            "pilotarchive.toml:23: target[0].subscribers[1].email: 'analyst@example.org\\n': "
            "a control character ('\\n') is not allowed",
        ),
        (
            'output = "output"',
            'output = "out\\tput"',
            "pilotarchive.toml:1: output: 'out\\tput': a control character ('\\t') is not allowed",
        ),
        (
            '"mailto:unsubscribe@example.org"',
            '"mailto:u@example.org\\r\\nBcc: x@y.z"',
            "pilotarchive.toml:12: mail.unsubscribe: 'mailto:u@example.org\\r\\nBcc: x@y.z' is "
            "not a mailto: address or an https:// URL",
        ),
        (
            '"0 6 * * 1-5"',
            '"0 0 30 2 *"',
            "pilotarchive.toml:19: target[0].schedule: '0 0 30 2 *' never runs (no such date)",
        ),
        (
            "port = 8025",
            "port = 8025\ntimeout = 1e400",
            "pilotarchive.toml:6: smtp.timeout: inf is out of range: at most 3600",
        ),
    ],
    ids=[
        "unknown-key",
        "wrong-type",
        "password-variable-missing",
        "password-in-file",
        "bad-language",
        "bad-cron",
        "unknown-setting",
        "bad-email",
        "not-toml",
        "newline-after-email",
        "control-in-name",
        "header-in-unsubscribe",
        "cron-never-due",
        "infinite-timeout",
    ],
)
def test_config_errors_name_the_key_and_the_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    old: str,
    new: str,
    said: str,
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PILOTARCHIVE_SMTP_PASSWORD", raising=False)
    assert old in ISSUE_EXAMPLE
    (tmp_path / "pilotarchive.toml").write_text(ISSUE_EXAMPLE.replace(old, new, 1), "utf-8")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"pilotarchive: {said}"), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--config", "missing.toml"]) == 2
    assert "missing.toml: no such configuration file" in capsys.readouterr().err
    (tmp_path / "pilotarchive.toml").write_text(ISSUE_EXAMPLE, "utf-8")
    assert main(["run", "nosuch"]) == 2
    assert "no target 'nosuch'" in capsys.readouterr().err
    assert main(["outbox"]) == 0
    assert "0 message(s) waiting" in capsys.readouterr().out


def test_two_runs_of_one_target_at_once(replica: ReplicaServer, mailserver, tmp_path: Path):
    write_config(tmp_path, replica.url + START, mailserver.port)
    output = tmp_path / "output"
    # The first run holds its target's lock while its crawl waits for the output folder's
    # lock, which the test holds: the first run is mid-way, however slow the machine.
    folder = output_lock(output, wait=0).acquire()
    try:
        first = start_run(tmp_path, subprocess.PIPE)
        lock = output / "locks" / "pilots.lock"
        deadline = time.monotonic() + 60
        while not (lock.exists() and lock.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        second = pa("run", "pilots", cwd=tmp_path)
        # The second run ended while the first still held the lock: it stopped at once.
        assert first.poll() is None, first.communicate()
    finally:
        folder.release()
    assert second.returncode == 1
    assert f"target 'pilots' is locked by pid {first.pid}" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
    _out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    log = runs(tmp_path)
    assert sorted(r["outcome"] for r in log) == ["first", "locked"]
    assert [r["exit"] for r in log if r["outcome"] == "locked"] == [1]


def run_mid_crawl(replica: ReplicaServer, folder: Path, output: int) -> subprocess.Popen:
    """``pilotarchive run`` started and caught mid-crawl: once its crawl has asked for the
    start page, which the replica answers 3 s later."""
    replica.inject(START, Fault(delay=3.0))
    asked = len(replica.requests)
    victim = start_run(folder, output)
    deadline = time.monotonic() + 60
    while not any(p == START for _, p, _ in replica.requests[asked:]):
        assert time.monotonic() < deadline and victim.poll() is None, "the run never asked"
        time.sleep(0.02)
    return victim


def test_a_killed_run_loses_nothing(replica: ReplicaServer, mailserver, tmp_path: Path):
    write_config(tmp_path, replica.url + START, mailserver.port)
    replica.set_version("2014-11-19")
    assert pa("run", cwd=tmp_path).returncode == 0
    replica.set_version("2015-06")
    # Killed in the middle of the crawl (SIGKILL: no chance to clean up).
    victim = run_mid_crawl(replica, tmp_path, subprocess.DEVNULL)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    replica.clear_faults()
    after = pa("run", cwd=tmp_path)
    assert after.returncode == 0, after.stderr
    # 4 changed entities from 2014-11-19 to 2015-06 (see tests/test_alerts.py, LINES_2015)
    assert "4 change(s)" in after.stdout and "3 sent" in after.stdout
    # Killed after the change set was kept and one message written, before the rest: the
    # next run writes the missing messages once and sends them.
    state_file = tmp_path / "output" / "alerts" / "pilots" / "state.json"
    state = json.loads(state_file.read_text())
    changes = sorted((tmp_path / "output" / "alerts" / "pilots" / "changes").glob("*.json"))
    old = json.loads(changes[-1].read_text())["old"]
    state["last_alerted"] = old
    state_file.write_text(json.dumps(state))
    gone = [p for p in sent(tmp_path) if "forskare" in p.name or "analyst" in p.name]
    for path in gone:
        path.unlink()
    again = pa("run", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "no changes" in again.stdout and "2 sent" in again.stdout
    assert sorted(r.rcpt_tos[0] for r in mailserver.received[3:]) == [
        "analyst@example.org",
        "forskare@example.org",
    ]
    assert len(sent(tmp_path)) == 3 and outbox(tmp_path) == []


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_logs_the_exit_it_ends_with(
    how: int, replica: ReplicaServer, mailserver, tmp_path: Path
) -> None:
    """Found by a new user's pass: a run stopped by Ctrl-C exited 130 while its line in
    runs.jsonl said exit 1."""
    write_config(tmp_path, replica.url + START, mailserver.port)
    victim = run_mid_crawl(replica, tmp_path, subprocess.PIPE)
    victim.send_signal(how)
    assert victim.wait(timeout=60) == 130
    replica.clear_faults()
    log = [json.loads(x) for x in (tmp_path / "output" / "runs.jsonl").read_text().splitlines()]
    assert (log[-1]["outcome"], log[-1]["exit"]) == ("interrupted", 130)


def test_a_run_that_breaks_is_still_in_the_run_log(tmp_path: Path) -> None:
    """An error of ours (not the target's) still leaves its line in runs.jsonl, then is
    raised whole: the run log is what an archivist audits."""
    from datetime import UTC, datetime

    from pilotarchive.schedule.run import run_target

    file = tmp_path / "pilotarchive.toml"
    file.write_text(ISSUE_EXAMPLE.replace('output = "output"', f'output = "{tmp_path / "out"}"'))
    config = load_config(file)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError):
        run_target(config, config.targets[0], clock=lambda: datetime(2026, 1, 5, tzinfo=UTC),
                   crawl=broken)  # fmt: skip
    log = (tmp_path / "out" / "runs.jsonl").read_text(encoding="utf-8").splitlines()
    [line] = [json.loads(x) for x in log]
    assert line["outcome"] == "error" and "internal error: RuntimeError: a bug" in line["error"]
