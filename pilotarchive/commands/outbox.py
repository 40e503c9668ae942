"""The messages waiting in output/outbox/: list them (the default), send them now, or
retry the ones given up on.

A message waits when the SMTP server could not take it (down, refused, timeout, bad
login) or when it was written by `run --dry-run`. `send` first writes the digests of
periods that have ended, then sends everything waiting; what fails keeps waiting, its
failures counted, and after MAX_ATTEMPTS it moves to output/undeliverable/ so it stops
coming back in every run's error. `retry` puts those back (after the address or the
server was fixed)."""

import argparse
from typing import TYPE_CHECKING

from pilotarchive.commands._common import target_name_arg
from pilotarchive.commands._config import add_config

if TYPE_CHECKING:
    from pilotarchive.alerts.outbox import Outbox, Waiting
    from pilotarchive.schedule.config import Config


NAME = "outbox"
HELP = "list or send the messages waiting in the outbox"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "action",
        nargs="?",
        choices=("list", "send", "retry"),
        default="list",
        help="list (the default): what waits and what was given up on; send: send what "
        "waits now; retry: put the undeliverable messages back in the outbox",
    )
    add_config(p)
    p.add_argument(
        "--target", metavar="NAME", type=target_name_arg, help="only the messages of this target"
    )


def run(args: argparse.Namespace) -> int:
    from pilotarchive.alerts.outbox import Outbox
    from pilotarchive.schedule.config import load_config

    config = load_config(args.config, need_password=args.action == "send")
    if args.target:
        config.target(args.target)  # an unknown target is a usage error
    outbox = Outbox(config.output)
    if args.action == "send":
        return _send(config, outbox, args.target)
    if args.action == "retry":
        back = outbox.retry(args.target)
        print(f"{len(back)} message(s) back in {outbox.waiting}; `outbox send` sends them")
        return 0
    waiting = outbox.pending(args.target)
    for item in waiting:
        print(f"{item.name}  to {item.recipient}  {item.subject}{_failures(item)}")
    print(f"{len(waiting)} message(s) waiting in {outbox.waiting}")
    given_up = outbox.given_up(args.target)
    for item in given_up:
        print(f"{item.name}  to {item.recipient}  {item.subject}{_failures(item)}")
    if given_up:
        print(
            f"{len(given_up)} message(s) undeliverable in {outbox.undeliverable} "
            "(`pilotarchive outbox retry` puts them back)"
        )
    return 0


def _failures(item: "Waiting") -> str:
    """``  (2 failed attempts, last: why)``, or nothing for a message never tried."""
    if not item.attempts:
        return ""
    plural = "s" if item.attempts != 1 else ""
    return f"  ({item.attempts} failed attempt{plural}, last: {item.last_failure})"


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
