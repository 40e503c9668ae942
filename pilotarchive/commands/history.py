"""Print the timeline of a pilot, person or page family over every snapshot: first seen,
each change (for a person, also being replaced as a pilot's contact or becoming one), and
last seen then gone, or present when it is still there. Give an entity id (from a diff) or
a part of a name, theme or title."""

import argparse
import json

from pilotarchive.commands._common import add_output, add_target, choose_target
from pilotarchive.exceptions import UsageError

NAME = "history"
HELP = "one entity's timeline over all snapshots"
READS_OUTPUT = True  # an --output that names no folder is a usage error
ENTITY_PREFIXES = ("pilot-", "project-", "person-", "page-", "text-")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("entity", metavar="ENTITY_ID|NAME")
    p.add_argument(
        "--format",
        "-f",
        choices=("text", "json"),
        default="text",
        help="text (default), or JSON: the entity id and its events with their changes",
    )
    add_output(p)
    add_target(p)


def run(args: argparse.Namespace) -> int:
    from pilotarchive.archive.snapshot import snapshot_dir
    from pilotarchive.diff.history import find_entities, iter_infos, timeline
    from pilotarchive.exceptions import SnapshotError

    if not args.entity.strip():
        raise UsageError("give an entity id or a part of a name, theme or title")
    if next(iter_infos(args.output), None) is None:
        raise SnapshotError(
            f"no snapshots under {snapshot_dir(args.output)}; run `pilotarchive crawl`"
        )
    entity = args.entity
    target = choose_target(args.output, args.target)
    if not entity.startswith(ENTITY_PREFIXES):
        hits = find_entities(args.output, entity, target)
        if not hits:
            shown = entity if len(entity) <= 80 else entity[:77] + "..."
            raise UsageError(f"no pilot, person or page matches {shown!r}")
        if len(hits) > 1:
            if args.format == "json":
                matches = [{"entity_id": e, "label": label} for e, label in sorted(hits.items())]
                print(json.dumps({"query": entity, "matches": matches}, ensure_ascii=False,
                                 indent=2))  # fmt: skip
                return 2
            lines = "\n".join(f"  {eid}  {label}" for eid, label in sorted(hits.items()))
            print(f"{len(hits)} entities match {entity!r}; say which:\n{lines}")
            return 2
        entity = next(iter(hits))
    events = timeline(args.output, entity, target)
    if args.format == "json":
        data = {"entity_id": entity, "events": [e.as_json() for e in events]}
        print(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))
        return 0
    print(f"history of {entity}")
    for event in events:
        print(f"  {event.snapshot_id}  {event.what}")
        for line in event.details:
            print(f"      {line}")
    return 0
