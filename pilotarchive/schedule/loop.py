"""``pilotarchive schedule``: start each target's run when its cron expression is due.

A foreground loop for a terminal, a systemd service or a container. Cron expressions are
read by croniter (the field's library: ranges, steps, names, ``@daily``), in the host's
local time. Each due run is ``pilotarchive run TARGET`` in a subprocess, so a failing or
crashing run never takes the loop down; its exit code and its one-line summary are logged.

- A target is never run twice at once: a run still going when the next is due is logged
  and that occurrence skipped (the per-target lock would stop it anyway).
- After the host slept (or the loop was stopped) through several due times, the target is
  run once, not once per missed time: the next due time is computed from now.
- SIGTERM (or Ctrl-C) stops the loop: no new run starts, running ones are asked to stop
  (they record "interrupted" in runs.jsonl) and waited for, and the loop exits 0.

The clock, the sleep and the way a run is started are injected, so a test can pass a
simulated day in a second and see each due run start exactly once.
"""

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Protocol

from croniter import croniter

from pilotarchive.schedule.config import Config, Target

POLL = 1.0  # seconds between looks at running runs
MAX_SLEEP = 60.0  # the longest single sleep, so a jump of the wall clock is seen soon
STOP_WAIT = 120.0  # seconds running runs get to stop after SIGTERM


class Handle(Protocol):
    """A started run: ``poll()`` is None while it runs, then its exit code."""

    def poll(self) -> int | None: ...

    def terminate(self) -> None: ...

    def summary(self) -> str: ...


class ProcessHandle:
    """``pilotarchive run TARGET`` in a subprocess, its output kept for the log."""

    def __init__(self, target: str, config_file: str | None) -> None:
        self.output: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in summary)
        cmd = [sys.executable, "-m", "pilotarchive", "run", target]
        if config_file:
            cmd += ["--config", config_file]
        self.proc = subprocess.Popen(cmd, stdout=self.output, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def poll(self) -> int | None:
        return self.proc.poll()

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()

    def summary(self) -> str:
        self.output.seek(0)
        text = self.output.read().decode("utf-8", "replace")
        self.output.close()
        return " | ".join(line.strip() for line in text.splitlines() if line.strip())


Launch = Callable[[Target], Handle]
Clock = Callable[[], datetime]
Sleep = Callable[[float], Any]


def local_now() -> datetime:
    """The host's local time, with its offset (what cron expressions are written in)."""
    return datetime.now().astimezone()


def next_due(target: Target, after: datetime) -> datetime:
    result: datetime = croniter(target.schedule, after).get_next(datetime)
    return result


def missed(target: Target, due: datetime, now: datetime) -> int:
    """How many due times fell between ``due`` and ``now`` (for the log)."""
    count, it = 0, croniter(target.schedule, due)
    while count < 10_000:
        nxt: datetime = it.get_next(datetime)
        if nxt > now:
            break
        count += 1
    return count


@dataclass
class Running:
    handle: Handle
    started: datetime
    due: datetime


class Scheduler:
    def __init__(
        self,
        config: Config,
        *,
        launch: Launch,
        clock: Clock = local_now,
        sleep: Sleep = time.sleep,
        log: Callable[[str], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.launch = launch
        self.clock = clock
        self.sleep = sleep
        self.monotonic = monotonic
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.running: dict[str, Running] = {}
        self.stopping = False
        self.started: list[tuple[str, datetime]] = []  # (target, due time): what was run

    def log(self, message: str) -> None:
        self._log(f"{self.clock().isoformat(timespec='seconds')} {message}")

    def stop(self) -> None:
        """Ask the loop to stop (from a signal handler): it finishes its current step."""
        self.stopping = True

    def _reap(self) -> None:
        for name, run in list(self.running.items()):
            code = run.handle.poll()
            if code is None:
                continue
            del self.running[name]
            took = (self.clock() - run.started).total_seconds()
            word = {0: "ok", 1: "FAILED", 3: "DEGRADED", 130: "interrupted"}.get(code, "FAILED")
            summary = run.handle.summary()
            self.log(
                f"{name}: finished, exit {code} ({word}) after {took:.0f} s"
                + (f": {summary}" if summary else "")
            )

    def _start(self, target: Target, due: datetime, now: datetime) -> None:
        behind = missed(target, due, now)
        if target.name in self.running:
            self.log(
                f"{target.name}: due at {due.isoformat(timespec='minutes')}, but the run "
                "started before is still going; this one is skipped"
            )
            return
        note = f" (catching up once for {behind + 1} missed due times)" if behind else ""
        try:
            handle = self.launch(target)
        except OSError as exc:
            self.log(f"{target.name}: could not start: {exc.strerror or exc}")
            return
        pid = getattr(handle, "pid", None)
        self.running[target.name] = Running(handle, now, due)
        self.started.append((target.name, due))
        self.log(
            f"{target.name}: started"
            + (f" (pid {pid})" if pid else "")
            + f", due at {due.isoformat(timespec='minutes')}{note}"
        )

    def run(self, until: datetime | None = None) -> int:
        """Loop until stopped (or until ``until``, for tests); returns the exit code."""
        targets = list(self.config.targets)
        now = self.clock()
        due = {t.name: next_due(t, now) for t in targets}
        for t in targets:
            self.log(
                f"{t.name}: schedule {t.schedule!r}, next run at "
                f"{due[t.name].isoformat(timespec='minutes')}"
            )
        while not self.stopping:
            now = self.clock()
            self._reap()
            if until is not None and now >= until:
                break
            for t in targets:
                if now >= due[t.name]:
                    self._start(t, due[t.name], now)
                    due[t.name] = next_due(t, now)
            wake = min(due.values())
            delay = (wake - now).total_seconds()
            if self.running:
                delay = min(delay, POLL)
            self.sleep(max(0.0, min(delay, MAX_SLEEP)))
        return self._shutdown()

    def _shutdown(self) -> int:
        if self.running:
            names = ", ".join(self.running)
            verb = "stopping" if self.stopping else "waiting for"
            self.log(f"{verb} {len(self.running)} running run(s): {names}")
            if self.stopping:
                for run in self.running.values():
                    run.handle.terminate()
            deadline = self.monotonic() + STOP_WAIT
            while self.running and self.monotonic() < deadline:
                self._reap()
                if self.running:
                    time.sleep(0.1)
            for name, run in self.running.items():
                kill = getattr(run.handle, "kill", None)
                if kill is not None:
                    kill()
                self.log(f"{name}: did not stop within {STOP_WAIT:.0f} s; killed")
        self.log("schedule stopped" if self.stopping else "schedule ended")
        return 0
