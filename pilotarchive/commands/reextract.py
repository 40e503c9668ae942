"""Derive snapshots' records again from their own WARCs, with this release's extractor and
the target's rules from the configuration file; then their entities (the register is
rebuilt) and their health. A snapshot keeps its id and its WARC bytes; its earlier
derivation is kept in snapshots/<id>/derivations/<n>/, and its manifest names the release
and rules that derived the current records. A snapshot that cannot be read again (no
WARC, a damaged one) is named and left as it was. Changes that only re-reading revealed
are not mailed (see docs/reextract.md)."""

import argparse
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

from pilotarchive.commands._common import UNTARGETED, target_name_arg
from pilotarchive.commands._config import add_config, add_config_output, config_output

if TYPE_CHECKING:
    from pilotarchive.derive.reread import Outcome

NAME = "reextract"
HELP = "derive snapshots' records again from their WARCs (current extractor and rules)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "snapshots",
        nargs="*",
        metavar="SNAPSHOT",
        help="snapshot ids or paths (default: every snapshot, of --target when given)",
    )
    p.add_argument(
        "--target",
        metavar="NAME",
        type=target_name_arg,
        help="this target's snapshots only (rules: from --config)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="write a new derivation even for a snapshot that reads as its current one "
        "does (by default such a snapshot is left as it was: nothing new to keep)",
    )
    add_config_output(p)
    add_config(p)


def run(args: argparse.Namespace) -> int:
    from pilotarchive.archive.snapshot import list_snapshots, resolve_snapshot, snapshot_dir
    from pilotarchive.controls import printable
    from pilotarchive.derive.reread import reextract
    from pilotarchive.exceptions import SnapshotError, UsageError
    from pilotarchive.extract.rules import Rules
    from pilotarchive.schedule.config import load_config

    config = load_config(args.config, need_password=False)
    args.output = config_output(args.output, config.output)
    if not snapshot_dir(args.output).is_dir():
        raise SnapshotError(
            f"no snapshots under {snapshot_dir(args.output)}; run `pilotarchive crawl`"
        )
    rules = {t.name: t.rules for t in config.targets}
    untargeted = False  # --target untargeted: the snapshots made without a target
    if args.target is not None and args.target not in rules:
        # A backfilled or once-configured target lives in the archive only: it is read
        # again with the generic reader. A name known to neither is a typing mistake, with
        # a configuration file or without one (it read nothing and said "no snapshot").
        in_archive = {i.target for i in list_snapshots(args.output)}
        held = {t for t in in_archive if t}
        untargeted = args.target == UNTARGETED and None in in_archive
        if args.target not in held and not untargeted:
            named = set(rules) | held | ({UNTARGETED} if None in in_archive else set())
            known = ", ".join(sorted(named)) or "none"
            where = f"in {config.file} nor " if config.file is not None else ""
            raise UsageError(
                f"--target {args.target}: no such target {where}among the snapshots of "
                f"{args.output} (known: {known})"
            )
        if config.file is not None and not untargeted:
            print(f"target {args.target} has no [[target]] in {config.file}: read again "
                  "without rules (add one with [[target.rules.pilot]] to give it "
                  "rules)")  # fmt: skip
    target = None if untargeted else args.target
    selected = None
    if args.snapshots:
        selected = []
        targets = {i.id: i.target for i in list_snapshots(args.output)}
        for ref in args.snapshots:
            path = resolve_snapshot(args.output, ref)
            if path.parent.resolve() != snapshot_dir(args.output).resolve():
                raise UsageError(f"{ref}: not a snapshot of {snapshot_dir(args.output)}")
            of = targets.get(path.name, target)
            if args.target is not None and of != target:
                raise UsageError(f"{ref}: a snapshot of target {of or 'none'}, not of "
                                 f"--target {args.target}")  # fmt: skip
            selected.append(path.name)

    def rules_for(target: str | None) -> Rules:
        return rules.get(target or "", Rules((), target))

    def report(o: "Outcome") -> None:
        if o.skipped:
            said = "SKIPPED, left as it was" if o.failed else "left as it was"
            print(f"{o.snapshot_id}  {said}: {printable(o.reason or '')}")
            return
        b, a = o.before, o.after
        if o.unchanged:
            print(f"{o.snapshot_id}  unchanged: reads as derivation {o.derivation} does "
                  f"(pilots {b['pilot']}, contacts {b['contact']}, {b['verdict']}); "
                  "nothing written")  # fmt: skip
            return
        rules_note = f", {o.rules_pages} page(s) read with rules" if o.rules_pages else ""
        print(
            f"{o.snapshot_id}  derivation {o.derivation}: pilots {b['pilot']} -> {a['pilot']}, "
            f"contacts {b['contact']} -> {a['contact']}, {b['verdict']} -> "
            f"{a['verdict'].upper()}{rules_note}"
        )

    # SIGTERM (a service manager, `kill`) ends the run as Ctrl-C does: the snapshot being
    # derived is left as it was and its half-built derivation removed, not left behind.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        outcomes, moved = reextract(
            args.output,
            selected,
            rules_for,
            target=target,
            any_target=args.target is None,
            report=report,
            force=args.force,
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    return _summarise(outcomes, moved, report)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _summarise(
    outcomes: "list[Outcome]", moved: dict[str, str], report: "Callable[[Outcome], None]"
) -> int:
    for o in outcomes:
        if o.skipped and o.target is None and o.before == {}:
            report(o)  # a damaged manifest: not walked
    for target, start in sorted(moved.items()):
        print(f"alerts of {target}: changes found on re-reading are not mailed; the next "
              f"alert starts from {start}")  # fmt: skip
    unchanged = sum(1 for o in outcomes if o.unchanged)
    done = sum(1 for o in outcomes if not o.skipped) - unchanged
    failed = sum(1 for o in outcomes if o.failed)
    if not outcomes:
        print("no snapshot to derive again")
        return 0
    kept = len(outcomes) - done - unchanged - failed
    same = f"{unchanged} unchanged, " if unchanged else ""
    print(f"{done} snapshot(s) derived again, {same}{failed} skipped for damage or an "
          f"error, {kept} without a WARC")  # fmt: skip
    if unchanged and not done:
        print("(--force writes a new derivation even where it reads the same)")
    return 1 if failed else 0
