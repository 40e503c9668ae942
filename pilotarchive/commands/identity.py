"""Build, update or rebuild the entity register of a target and show its entities: every
pilot, project, person and page family the archive has seen, with its id, first and last
snapshot. The register is kept in OUTPUT/identity/<target>/ beside the snapshots."""

import argparse
import json
import sys

from pilotarchive.commands._common import add_output, add_target, choose_target

NAME = "identity"
HELP = "the entity register: every pilot, person and page with its id and lifetime"
READS_OUTPUT = True  # an --output that names no folder is a usage error


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_output(p)
    add_target(p)
    p.add_argument("--rebuild", action="store_true",
                   help="build the register again from the first snapshot")  # fmt: skip
    p.add_argument("--json", action="store_true", help="one JSON object per entity")


def run(args: argparse.Namespace) -> int:
    from pilotarchive.controls import printable
    from pilotarchive.identity.register import ensure_register

    target = choose_target(args.output, args.target)
    register = ensure_register(args.output, target, rebuild=args.rebuild)
    latest = register.snapshots[-1] if register.snapshots else None
    # The id breaks ties: the run that builds the register holds its entities in the order
    # they were met, later runs in the order register.json keeps them.
    order = sorted(register.entities.items(),
                   key=lambda kv: (kv[1].kind, kv[1].first_snapshot, kv[0]))  # fmt: skip
    for ident, entity in order:
        if args.json:
            sys.stdout.write(json.dumps({"entity_id": ident, **entity.as_dict()},
                                        ensure_ascii=False) + "\n")  # fmt: skip
            continue
        until = "now" if entity.last_snapshot == latest else entity.last_snapshot
        print(f"{ident:28} {entity.kind:8} {entity.first_snapshot} .. {until:24} "
              f"{printable(entity.label)[:60]}")  # fmt: skip
    if not args.json:
        print(f"{len(register.entities)} entities over {len(register.snapshots)} snapshots "
              f"({register.root})")  # fmt: skip
    return 0
