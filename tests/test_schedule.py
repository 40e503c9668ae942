"""`pilotarchive schedule` with an injected clock: a simulated day passes in a moment, and
every due run starts exactly once. The last tests start real runs and a real loop."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pilotarchive.replica.server import ReplicaServer
from pilotarchive.schedule.config import Config, Target
from pilotarchive.schedule.loop import ProcessHandle, Scheduler
from tests.alerting import runs, write_config
from tests.mailserver import MailServer

MONDAY = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    now: datetime
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


@dataclass
class FakeRun:
    """A run that takes ``length`` simulated seconds and ends with ``code``."""

    clock: FakeClock
    length: float
    code: int = 0
    started: datetime = field(init=False)
    terminated: bool = False

    def __post_init__(self) -> None:
        self.started = self.clock.now

    def poll(self) -> int | None:
        if self.terminated:
            return 130
        if (self.clock.now - self.started).total_seconds() >= self.length:
            return self.code
        return None

    def terminate(self) -> None:
        self.terminated = True

    def summary(self) -> str:
        return "fake"


def _config(*schedules: tuple[str, str]) -> Config:
    return Config(targets=tuple(Target(name, schedule=expr) for name, expr in schedules))


def _loop(config: Config, clock: FakeClock, length: float = 120, code: int = 0):
    log: list[str] = []
    scheduler = Scheduler(
        config,
        launch=lambda t: FakeRun(clock, length, code),
        clock=clock,
        sleep=clock.sleep,
        log=log.append,
    )
    return scheduler, log


def test_a_simulated_day_runs_each_due_run_once():
    clock = FakeClock(MONDAY)
    config = _config(
        ("often", "*/30 * * * *"),
        ("morning", "0 6 * * 1-5"),
        ("twice", "15 9,17 * * *"),
        ("weekend", "0 8 * * 6,0"),
    )
    scheduler, log = _loop(config, clock)
    scheduler.run(until=MONDAY + timedelta(days=1))
    by_target: dict[str, list[datetime]] = {}
    for name, due in scheduler.started:
        by_target.setdefault(name, []).append(due)
    assert by_target["often"] == [MONDAY + timedelta(minutes=30 * n) for n in range(1, 48)]
    assert by_target["morning"] == [MONDAY.replace(hour=6)]
    assert by_target["twice"] == [
        MONDAY.replace(hour=9, minute=15),
        MONDAY.replace(hour=17, minute=15),
    ]
    assert "weekend" not in by_target  # a Monday
    assert sum("finished, exit 0 (ok)" in line for line in log) == len(scheduler.started)
    assert all(s <= 60 for s in clock.slept), "sleeps are short, so a clock jump is seen soon"


def test_catches_up_once_after_the_host_slept():
    clock = FakeClock(MONDAY + timedelta(hours=5, minutes=50))
    scheduler, log = _loop(_config(("often", "*/10 * * * *")), clock)
    real_sleep = clock.sleep

    def host_sleeps(seconds: float) -> None:
        if clock.now < MONDAY + timedelta(hours=6):
            clock.now = MONDAY + timedelta(hours=11, minutes=5)  # suspended for five hours
        else:
            real_sleep(seconds)

    scheduler.sleep = host_sleeps
    scheduler.run(until=MONDAY + timedelta(hours=11, minutes=15))
    assert [due for _, due in scheduler.started] == [
        MONDAY + timedelta(hours=6),  # once for the 31 missed times, at wake-up
        MONDAY + timedelta(hours=11, minutes=10),
    ]
    assert any("catching up once for 31 missed due times" in line for line in log)


def test_never_twice_at_once_and_survives_failures():
    clock = FakeClock(MONDAY)
    scheduler, log = _loop(_config(("slow", "*/10 * * * *")), clock, length=25 * 60, code=1)
    scheduler.run(until=MONDAY + timedelta(hours=1, minutes=5))
    # Runs of 25 minutes every 10 minutes: one at a time, the others skipped and said so.
    starts = [due for _, due in scheduler.started]
    assert starts == [MONDAY + timedelta(minutes=m) for m in (10, 40)]
    assert sum("still going; this one is skipped" in line for line in log) == 4
    assert sum("finished, exit 1 (FAILED)" in line for line in log) == 2  # and it went on


def test_a_launch_that_fails_is_logged_and_the_loop_goes_on():
    clock = FakeClock(MONDAY)
    log: list[str] = []

    def launch(target: Target) -> FakeRun:
        raise OSError(2, "No such file or directory")

    scheduler = Scheduler(
        _config(("x", "0 * * * *")), launch=launch, clock=clock, sleep=clock.sleep, log=log.append
    )
    assert scheduler.run(until=MONDAY + timedelta(hours=3)) == 0
    assert sum("could not start: No such file or directory" in line for line in log) == 2


def test_stop_asks_running_runs_to_stop():
    clock = FakeClock(MONDAY)
    scheduler, log = _loop(_config(("x", "* * * * *")), clock, length=3600)
    real_sleep = clock.sleep

    def sleep(seconds: float) -> None:
        real_sleep(seconds)
        if scheduler.running:
            scheduler.stop()  # as the SIGTERM handler does

    scheduler.sleep = sleep
    assert scheduler.run() == 0
    assert any("stopping 1 running run(s): x" in line for line in log)
    assert any("finished, exit 130 (interrupted)" in line for line in log)
    assert log[-1].endswith("schedule stopped")


def test_real_runs_with_an_injected_clock(replica: ReplicaServer, tmp_path: Path):
    """Two targets, two real `pilotarchive run`s each over a simulated morning."""
    mail = MailServer().start()
    try:
        config_file = write_config(
            tmp_path, replica.url + "/seutukaupunkipilotit", mail.port, schedule="0 6,7 * * *"
        )
        text = config_file.read_text()
        second = text[text.index("[[target]]") :].replace('name = "pilots"', 'name = "other"')
        config_file.write_text(text + "\n" + second.replace('"0 6,7 * * *"', '"30 6,7 * * *"'))
        from pilotarchive.schedule.config import load_config

        config = load_config(config_file)
        clock = FakeClock(datetime(2026, 11, 30, 5, 59, tzinfo=UTC))

        def sleep(seconds: float) -> None:
            time.sleep(min(seconds, 0.02))
            clock.sleep(seconds)

        log: list[str] = []
        cwd = os.getcwd()
        os.chdir(tmp_path)  # the runs write to output/ relative to here
        try:
            scheduler = Scheduler(
                config,
                launch=lambda t: ProcessHandle(t.name, str(config_file)),
                clock=clock,
                sleep=sleep,
                log=log.append,
            )
            scheduler.run(until=datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
        finally:
            os.chdir(cwd)
        assert [(n, d.strftime("%H:%M")) for n, d in scheduler.started] == [
            ("pilots", "06:00"),
            ("other", "06:30"),
            ("pilots", "07:00"),
            ("other", "07:30"),
        ]
        log_runs = runs(tmp_path)
        assert sorted((r["target"], r["outcome"]) for r in log_runs) == [
            ("other", "first"),
            ("other", "unchanged"),
            ("pilots", "first"),
            ("pilots", "unchanged"),
        ]
        assert sum("finished, exit 0 (ok)" in line for line in log) == 4, log
    finally:
        mail.stop()


def test_schedule_stops_cleanly_on_sigterm(tmp_path: Path):
    config_file = write_config(tmp_path, "http://127.0.0.1:9/x", 9, schedule="0 3 1 1 *")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pilotarchive", "schedule", "--config", str(config_file)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()
    assert "pilots: schedule '0 3 1 1 *', next run at" in first
    proc.send_signal(signal.SIGTERM)
    try:
        _out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("schedule did not stop on SIGTERM")
    assert proc.returncode == 0
    assert err.strip().endswith("schedule stopped") and "Traceback" not in err
