"""Thin a target's snapshots by its retention policy ([target.retention] in the
configuration: the last N, the newest of each day for a month, of each week for a year, of
each month after). A snapshot whose originals a kept snapshot's revisits need is kept too,
as is the newest healthy one. A dry run unless --yes: it prints what it would keep (and
why) and delete."""

import argparse
from datetime import UTC, datetime

from pilotarchive.commands._common import target_name_arg
from pilotarchive.commands._config import add_config, add_config_output, config_output

NAME = "prune"
HELP = "delete old snapshots of a target by its retention policy (dry run unless --yes)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--target", metavar="NAME", type=target_name_arg, required=True, help="the target to prune"
    )
    p.add_argument("--yes", action="store_true", help="delete for real (default: a dry run)")
    add_config_output(p)
    add_config(p)


def run(args: argparse.Namespace) -> int:
    from pilotarchive.archive.prune import execute, plan
    from pilotarchive.exceptions import ConfigError, UsageError
    from pilotarchive.schedule.config import Retention, ambiguous_months, load_config

    config = load_config(args.config, need_password=False)
    output = config_output(args.output, config.output)
    if not output.is_dir():
        raise UsageError(f"--output {output}: no such folder")
    try:
        target = config.target(args.target)
        policy = target.retention
        source = f"[target.retention] of {args.target!r} in {config.file}"
        if not target.retention_written:
            source = f"the default policy ({args.target!r} in {config.file} has no retention table)"
        if config.file is None:
            source = "the default policy (no configuration file)"
    except ConfigError as exc:
        if config.file is not None:
            # Never delete by a policy nobody wrote for this target (a backfilled one).
            raise ConfigError(
                f"{exc}; prune deletes only by a policy written for the target: add a "
                f"[[target]] with name = {args.target!r} and a [target.retention] table "
                f"to {config.file}"
            ) from exc
        policy, source = Retention(), "the default policy (no configuration file)"
    if why := ambiguous_months(policy):
        raise UsageError(f"{config.file}: [target.retention] of {args.target!r}: {why}")
    now = datetime.now(UTC)
    result = (
        execute(output, args.target, policy, now)
        if args.yes
        else plan(output, args.target, policy, now)
    )

    def window(n: int | None, unit: str) -> str:
        return "for ever" if n is None else f"for {n} {unit}"

    print(f"policy ({source}): the last {policy.keep_last}, one a day "
          f"{window(policy.daily_days, 'days')}, one a week "
          f"{window(policy.weekly_weeks, 'weeks')}, one a month "
          f"{window(policy.monthly_months, 'months')}")  # fmt: skip
    for decision in result.decisions:
        if decision.keep:
            print(f"keep    {decision.id}  {'; '.join(decision.reasons)}")
        else:
            print(f"{'deleted' if args.yes else 'delete':7} {decision.id}")
    if result.dangling:
        print(f"note: {result.dangling} revisit(s) in the folder were dangling before this "
              "prune (`pilotarchive validate --all` names them)")  # fmt: skip
    doomed = len(result.delete)
    if args.yes:
        print(f"{doomed} snapshot(s) deleted, {len(result.kept)} kept")
    else:
        print(f"dry run: {doomed} snapshot(s) would be deleted, {len(result.kept)} kept; "
              "run again with --yes to delete them")  # fmt: skip
    return 0
