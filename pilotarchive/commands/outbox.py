"""The messages waiting in output/outbox/: list them (the default), or send them now.

A message waits when the SMTP server could not take it (down, refused, timeout, bad
login) or when it was written by `run --dry-run`. `send` first writes the digests of
periods that have ended, then sends everything waiting; what fails keeps waiting."""

import argparse
from typing import TYPE_CHECKING

from pilotarchive.commands._config import add_config

if TYPE_CHECKING:
    from pilotarchive.alerts.outbox import Outbox
    from pilotarchive.schedule.config import Config

NAME = "outbox"
HELP = "list or send the messages waiting in the outbox"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "action", nargs="?", choices=("list", "send"), default="list", help="default: list"
    )
    add_config(p)
    p.add_argument("--target", metavar="NAME", help="only the messages of this target")


def run(args: argparse.Namespace) -> int:
    from pilotarchive.alerts.outbox import Outbox
    from pilotarchive.schedule.config import load_config

    config = load_config(args.config, need_password=args.action == "send")
    if args.target:
        config.target(args.target)  # an unknown target is a usage error
    outbox = Outbox(config.output)
    if args.action == "send":
        return _send(config, outbox, args.target)
    waiting = outbox.pending(args.target)
    for item in waiting:
        print(f"{item.name}  to {item.recipient}  {item.subject}")
    print(f"{len(waiting)} message(s) waiting in {outbox.waiting}")
    return 0


def _send(config: "Config", outbox: "Outbox", only: str | None) -> int:
    """Digests of ended periods first (for targets no run holds), then everything waiting."""
    from pilotarchive.alerts.send import raise_for, send_waiting
    from pilotarchive.alerts.state import read_state
    from pilotarchive.archive.lock import target_lock
    from pilotarchive.exceptions import LockHeld
    from pilotarchive.schedule.loop import local_now
    from pilotarchive.schedule.run import queue_digests

    for target in config.targets:
        if only and target.name != only:
            continue
        if not any(s.digest != "none" for s in target.subscribers):
            continue
        try:
            with target_lock(config.output, target.name):
                state = read_state(config.output, target.name)
                queue_digests(config, target, outbox, state, local_now(), None)
        except LockHeld:
            pass  # a run of the target is going on; it writes its digests itself
    report = send_waiting(config.smtp, outbox, outbox.pending(only))
    left = len(outbox.pending(only))
    print(f"{len(report.sent)} message(s) sent, {left} waiting in {outbox.waiting}")
    raise_for(report, outbox)
    return 0
