"""Compare two snapshots (ids or paths; default: the two latest) field by field, with the
new snapshot's health first: extraction failures are reported as such, not as removals.
Text for a terminal or an e-mail, JSON (schemas/diff.schema.json), or a self-contained
HTML page."""

import argparse
import sys
from pathlib import Path

from pilotarchive.commands._common import (
    UNTARGETED,
    add_file,
    add_output,
    add_target,
    choose_target,
)
from pilotarchive.exceptions import PilotarchiveError, SnapshotError, UsageError

NAME = "diff"
HELP = "what changed between two snapshots"
READS_OUTPUT = True  # an --output that names no folder is a usage error


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "old",
        nargs="?",
        help="the older snapshot (default: the last healthy one before the latest, of its target)",
    )
    p.add_argument("new", nargs="?", help="the newer snapshot (default: the latest)")
    p.add_argument("--format", "-f", choices=("text", "json", "html"), default="text")
    add_file(p, "write to FILE instead of standard output")
    add_output(p)
    add_target(p)
    p.add_argument(
        "--exit-code",
        action="store_true",
        help="exit 1 when there are changes, 0 when there are none (as git diff --exit-code)",
    )
    p.add_argument(
        "--site",
        type=Path,
        metavar="DIR",
        help="HTML links to the archived pages in this site (default: OUTPUT/site, when built)",
    )
    p.add_argument(
        "--replay-url",
        metavar="TEMPLATE",
        help="HTML links to replay, e.g. http://127.0.0.1:8080/pilots/{timestamp}/{url}",
    )


def two_snapshots(
    root: Path, old: str | None, new: str | None, target: str | None = None
) -> tuple[Path, Path]:
    """The two snapshots to compare: both named, or (either left out) the latest of
    ``target`` and, when ``old`` is not named, the last healthy one before it."""
    from pilotarchive.archive.snapshot import list_snapshots, resolve_snapshot

    if old and new:
        return resolve_snapshot(root, old), resolve_snapshot(root, new)
    listed = [s for s in list_snapshots(root, damaged=True) if s.damaged or s.target == target]
    for info in listed:
        if info.damaged:
            print(f"pilotarchive: skipping damaged snapshot {info.id}: {info.damaged}",
                  file=sys.stderr)  # fmt: skip
    snapshots = [s.path for s in listed if not s.damaged]
    # Too few snapshots is the archive's state, not a wrong command: exit 1, as every
    # command that reads an archive without snapshots ("run `pilotarchive crawl`").
    if not snapshots:
        raise SnapshotError(f"no snapshots under {root / 'snapshots'}; run `pilotarchive crawl`")
    if old:  # one given: compare it with the latest
        return resolve_snapshot(root, old), snapshots[-1]
    if len(snapshots) < 2:
        of = f" of target {target}" if target is not None else ""
        raise SnapshotError(
            f"diff needs two snapshots{of}; {root / 'snapshots'} has 1: crawl again, then diff"
        )
    # The latest against the last healthy one before it, of the same target: against a
    # degraded snapshot every record the extractor lost would come back as "added".
    latest = next(s for s in reversed(listed) if not s.damaged)
    for info in reversed(listed):
        if info.damaged or info.id >= latest.id or info.target != latest.target:
            continue
        if (info.manifest.get("health") or {}).get("verdict") != "degraded":
            return info.path, latest.path
    return snapshots[-2], snapshots[-1]


def run(args: argparse.Namespace) -> int:
    from pilotarchive.archive.snapshot import check_readable, refuse_inside_snapshots, write_atomic
    from pilotarchive.diff.compare import diff_paths
    from pilotarchive.diff.render import render_html, render_json, render_text
    from pilotarchive.records.validate import errors_for

    if args.replay_url:
        check_replay_template(args.replay_url)
    if args.file:
        refuse_inside_snapshots(args.file, "--file", args.output)
    target = None if args.old and args.new else choose_target(args.output, args.target)
    old, new = two_snapshots(args.output, args.old, args.new, target)
    targets = []
    for path in (old, new):  # a record file changed since its commit is named, not diffed
        targets.append(check_readable(path).get("target"))  # (export, site, validate refuse it)
    if targets[0] != targets[1]:
        # Asked for by id, two targets' snapshots are compared all the same: said, since
        # their "changes" are the difference of two sites (or page families), not news.
        named = [t if t is not None else UNTARGETED for t in targets]
        print(
            f"pilotarchive: note: {old.name} is a snapshot of target {named[0]}, "
            f"{new.name} of target {named[1]}: compared all the same",
            file=sys.stderr,
        )
    diff = diff_paths(old, new)
    problems = errors_for(diff, "diff")
    if problems:
        raise PilotarchiveError(
            "the diff does not match schemas/diff.schema.json (a bug): "
            + "; ".join(f"{e['pointer']}: {e['message']}" for e in problems)
        )
    text = {"text": render_text, "json": render_json}.get(args.format)
    if text:
        out = text(diff)
    else:
        from pilotarchive.controls import xml_safe
        from pilotarchive.export.site import archive_links

        base = args.file.parent if args.file else Path.cwd()
        # Without the control characters an old record may hold, as the site's pages.
        hrefs = archive_links(args.site or args.output / "site", base)
        out = xml_safe(render_html(diff, args.replay_url, hrefs))
    if args.file:
        write_atomic(args.file, out.encode("utf-8"))
        print(f"{args.file}: {diff['health']['verdict']}, {len(diff['changes'])} changes")
    else:
        sys.stdout.write(out)
    return 1 if args.exit_code and diff["changes"] else 0


def check_replay_template(template: str) -> None:
    """``--replay-url`` knows ``{timestamp}`` and ``{url}`` only; say so before diffing."""
    import string

    try:
        names = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as exc:
        raise UsageError(f"--replay-url {template!r}: {exc}") from None
    unknown = names - {"timestamp", "url"}
    if unknown:
        raise UsageError(
            f"--replay-url {template!r}: unknown field(s) {', '.join(sorted(unknown))}; "
            "use {timestamp} and {url}"
        )
