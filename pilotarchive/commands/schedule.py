"""Run in the foreground and start each target's `run` when its cron expression (local time
of the host) is due. Logs each start and outcome on stderr, survives failing runs, never
runs a target twice at once, catches up once after the host slept, and stops cleanly on
SIGTERM or Ctrl-C (running runs are stopped and logged as interrupted)."""

import argparse
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING

from pilotarchive.commands._config import add_config

if TYPE_CHECKING:
    from pilotarchive.schedule.loop import Scheduler

NAME = "schedule"
HELP = "start each target's run when its cron schedule is due (foreground)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_config(p)


def run(args: argparse.Namespace) -> int:
    from pilotarchive.schedule.config import load_config
    from pilotarchive.schedule.loop import ProcessHandle, Scheduler

    config = load_config(args.config)
    config_file = str(config.file) if config.file else None
    scheduler = Scheduler(config, launch=lambda t: ProcessHandle(t.name, config_file))
    waker = _Waker(scheduler)
    scheduler.sleep = waker.sleep
    previous = {sig: signal.signal(sig, waker.handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return scheduler.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _Waker:
    """Sleeps that a signal cuts short, so SIGTERM stops the loop at once."""

    def __init__(self, scheduler: "Scheduler") -> None:
        self.scheduler = scheduler
        self.event = threading.Event()

    def sleep(self, seconds: float) -> None:
        self.event.wait(seconds)

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.scheduler.stop()
        self.event.set()
