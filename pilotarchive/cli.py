"""The command line: one entry point, a subcommand per job, errors turned into exit codes.

This is the only module that knows about exit codes: 0 success, 1 a failure (a
:class:`PilotarchiveError`), 2 a usage error. Every message is one line on stderr.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pilotarchive import __version__
from pilotarchive.exceptions import PilotarchiveError, ReplicaError, SnapshotInvalid, UsageError

DEFAULT_START = "http://www.tem.fi/seutukaupunkipilotit"
DEMO_PORT = 8014


def _setting(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value


def _add_output(parser: argparse.ArgumentParser, short: bool = True) -> None:
    flags = ("--output", "-o") if short else ("--output",)
    parser.add_argument(
        *flags,
        default="output",
        type=Path,
        metavar="DIR",
        help="output folder holding snapshots/ (default: output)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pilotarchive",
        description="Crawl, extract, validate and snapshot the TEM regional-town pilots pages.",
    )
    parser.add_argument("--version", action="version", version=f"pilotarchive {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "crawl",
        help="crawl and write a snapshot",
        description="Crawl the start pages (and their language and text "
        "versions, or the whole site) and write a validated snapshot. "
        "Prints the snapshot's path as the last line.",
    )
    p.add_argument(
        "start_urls",
        nargs="*",
        metavar="START_URL",
        help=f"where to start (default: {DEFAULT_START})",
    )
    _add_output(p)
    p.add_argument(
        "--scope",
        choices=("page", "site"),
        default="page",
        help="page: the start pages with their language and text versions; "
        "site: every page of the start URLs' hosts (default: page)",
    )
    p.add_argument("--max-pages", type=int, default=500, help="page budget (default: 500)")
    p.add_argument(
        "--fast-loopback",
        action="store_true",
        help="no politeness delay for 127.0.0.1/localhost (the replica) only",
    )
    p.add_argument(
        "-s",
        "--set",
        action="append",
        type=_setting,
        default=[],
        metavar="KEY=VALUE",
        help="override a Scrapy or PILOTARCHIVE_* setting, e.g. -s DOWNLOAD_TIMEOUT=10",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="Scrapy's log at INFO level")

    p = sub.add_parser(
        "demo",
        help="serve the bundled replica and crawl it (no network)",
        description="Start the replica of the 2014 ministry site on a free "
        "127.0.0.1 port, crawl it from the Finnish pilots page, and summarise "
        "what was found per language.",
    )
    _add_output(p)
    p.add_argument(
        "--site-version",
        default=None,
        help="replica version to serve (see `pilotarchive replica versions`)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="Scrapy's log at INFO level")

    p = sub.add_parser(
        "validate",
        help="re-check a snapshot's records and checksums",
        description="Validate every record against schemas/, every file "
        "against the manifest's sha256; exit 1 listing every problem.",
    )
    p.add_argument("snapshot", nargs="?", help="snapshot id or path (default: the latest)")
    _add_output(p)

    p = sub.add_parser(
        "snapshots",
        help="list snapshots with their counts",
        description="List complete snapshots, oldest first, with record "
        "counts per type and failures.",
    )
    _add_output(p)
    p.add_argument("--json", action="store_true", help="one JSON object per line")

    p = sub.add_parser(
        "wacz",
        help="package snapshots as a WACZ file",
        description="Package snapshots (default: the latest) as WACZ 1.1.1 with webrecorder's "
        "wacz package: their WARCs and those of earlier snapshots their revisits point "
        "into, a CDXJ index, pages.jsonl, datapackage.json; then validate it.",
    )
    p.add_argument("snapshots", nargs="*", metavar="SNAPSHOT", help="snapshot ids or paths")
    p.add_argument(
        "-o",
        "--wacz",
        dest="wacz_output",
        required=True,
        type=Path,
        metavar="FILE.wacz",
        help="the WACZ file to write",
    )
    p.add_argument("--title", help="the package's title")
    _add_output(p, short=False)

    p = sub.add_parser(
        "diff",
        help="what changed between two snapshots",
        description="Compare two snapshots (ids or paths; default: the two latest) field by "
        "field, with the new snapshot's health first: extraction failures are reported as "
        "such, not as removals. Text for a terminal or an e-mail, JSON (schemas/diff.schema"
        ".json), or a self-contained HTML page.",
    )
    p.add_argument("old", nargs="?", help="the older snapshot (default: the second latest)")
    p.add_argument("new", nargs="?", help="the newer snapshot (default: the latest)")
    p.add_argument("--format", "-f", choices=("text", "json", "html"), default="text")
    p.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write to FILE instead of standard output"
    )
    p.add_argument(
        "--root",
        default="output",
        type=Path,
        metavar="DIR",
        help="output folder holding snapshots/ (default: output)",
    )
    p.add_argument(
        "--replay-url",
        metavar="TEMPLATE",
        help="HTML links to replay, e.g. http://127.0.0.1:8080/pilots/{timestamp}/{url}",
    )

    p = sub.add_parser(
        "history",
        help="one entity's timeline over all snapshots",
        description="Print the timeline of a pilot, person or page family over every "
        "snapshot: first seen, each change, last seen. Give an entity id (from a diff) or a "
        "part of a name, theme or title.",
    )
    p.add_argument("entity", metavar="ENTITY_ID|NAME")
    _add_output(p)

    p = sub.add_parser(
        "replica",
        help="the bundled replica of the ministry site",
        description="Serve or describe the replica of the 2014 site.",
    )
    rsub = p.add_subparsers(dest="replica_command", metavar="ACTION")
    r = rsub.add_parser(
        "serve",
        help="serve the replica until interrupted",
        description="Serve the replica on 127.0.0.1. Change the version "
        "while serving: POST /_replica/version?set=V.",
    )
    r.add_argument("--port", type=int, default=8014, help="port (default: 8014; 0 = free)")
    r.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    r.add_argument(
        "--version",
        dest="site_version",
        default=None,
        help="site version to serve (default: 2014-11-19)",
    )
    rsub.add_parser(
        "versions",
        help="list the replica's site versions",
        description="List the dated site versions and how they differ.",
    )
    return parser


def cmd_crawl(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {
        "PILOTARCHIVE_START_URLS": args.start_urls or [DEFAULT_START],
        "PILOTARCHIVE_OUTPUT_DIR": str(args.output),
        "PILOTARCHIVE_SCOPE": args.scope,
        "PILOTARCHIVE_MAX_PAGES": args.max_pages,
        "PILOTARCHIVE_FAST_LOOPBACK": args.fast_loopback,
    }
    overrides.update(dict(args.set))
    return _crawl_and_report(overrides, args.verbose)


def _crawl_and_report(overrides: dict[str, Any], verbose: bool) -> int:
    """Run one crawl, summarise it, and print the snapshot's path as the last line."""
    from pilotarchive.crawl import run_crawl

    overrides = {"LOG_LEVEL": "INFO" if verbose else "WARNING", **overrides}
    result = run_crawl(overrides, tracebacks=verbose)
    if result.cleaned:
        print(
            f"removed unfinished snapshot(s) left by a killed run: {result.cleaned}",
            file=sys.stderr,
        )
    _print_summary(result.snapshot)
    print(result.snapshot)
    return 0


def _print_summary(path: Path) -> None:
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    pages: dict[str, list[dict[str, Any]]] = {}
    with (path / "records" / "pages.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            page = json.loads(line)
            pages.setdefault(page.get("language") or "?", []).append(page)
    counts = manifest["counts"]
    print(
        f"snapshot {manifest['snapshot_id']}: {manifest['fetched']} responses, "
        f"{counts['page']['total']} pages, {counts['pilot']['total']} pilots and projects, "
        f"{counts['contact']['total']} contacts, {manifest['rejected']} rejected, "
        f"{len(manifest['failures'])} failures"
    )
    archive = manifest.get("archive", {})
    if archive.get("warc_files"):
        revisits = archive["revisits"]
        print(
            f"  archive: {', '.join(archive['warc_files'])}: "
            f"{sum(archive['records'].values())} records, "
            f"{archive['payload_bytes']:,} payload bytes stored in full, "
            f"{revisits['not_modified']} not-modified and "
            f"{revisits['identical_payload']} identical-payload revisits"
        )
    for lang in sorted(pages):
        for page in sorted(pages[lang], key=lambda p: p["final_url"]):
            kind = "text" if page["is_text_version"] else "page"
            print(
                f"  {lang} {kind:4} {page['status']} updated {page['updated'] or '-':10} "
                f"pilots {page.get('pilot_count', 0)} contacts {page.get('contact_count', 0)}"
                f"  {page['title'] or ''}" + ("  (not modified)" if page.get("unchanged") else "")
            )
    for failure in manifest["failures"]:
        print(f"  failed: {failure['url']}: {failure['reason']}")
    verdict = _health_against_previous(path)
    if verdict:
        print(verdict)


def _health_against_previous(path: Path) -> str | None:
    """The snapshot's health against the last healthy snapshot before it, in a few lines."""
    from pilotarchive.archive.snapshot import list_snapshots
    from pilotarchive.diff.health import health_series

    paths = [s.path for s in list_snapshots(path.parent.parent) if s.path.name <= path.name]
    if len(paths) < 2:
        return None
    _, health, baseline = health_series(paths)[-1]
    assert health is not None
    lines = [f"  health against {baseline}: {health['verdict']}"]
    lines += [
        f"    {f['severity']}: {f['kind']} [{f['language'] or '-'}] {f['message']}"
        for f in health["findings"]
    ]
    return "\n".join(lines)


def cmd_demo(args: argparse.Namespace) -> int:
    from pilotarchive.replica.content import DEFAULT_VERSION
    from pilotarchive.replica.server import ReplicaServer

    try:  # a fixed port keeps URLs (and so page ids and digests) the same across demos
        replica = ReplicaServer(args.site_version or DEFAULT_VERSION, port=DEMO_PORT)
    except ReplicaError:
        replica = ReplicaServer(args.site_version or DEFAULT_VERSION, port=0)
    with replica:
        print(f"replica of www.tem.fi ({replica.version.id}) serving at {replica.url}")
        overrides = {
            "PILOTARCHIVE_START_URLS": [f"{replica.url}/seutukaupunkipilotit"],
            "PILOTARCHIVE_OUTPUT_DIR": str(args.output),
            "PILOTARCHIVE_FAST_LOOPBACK": True,
        }
        return _crawl_and_report(overrides, args.verbose)


def cmd_validate(args: argparse.Namespace) -> int:
    from pilotarchive.archive.snapshot import check_snapshot, resolve_snapshot

    path = resolve_snapshot(args.output, args.snapshot)
    check_snapshot(path)
    print(f"{path}: valid")
    return 0


def cmd_snapshots(args: argparse.Namespace) -> int:
    from pilotarchive.archive.snapshot import list_snapshots
    from pilotarchive.diff.health import health_series

    snapshots = list_snapshots(args.output)
    if not snapshots:
        print(f"no snapshots under {args.output / 'snapshots'}", file=sys.stderr)
        return 0
    series = health_series([s.path for s in snapshots])
    for info, (_, health, _) in zip(snapshots, series, strict=True):
        m = info.manifest
        verdict = health["verdict"] if health else "-"
        counts = {k: v.get("total", 0) for k, v in m.get("counts", {}).items()}
        if args.json:
            print(
                json.dumps(
                    {
                        "id": info.id,
                        "path": str(info.path),
                        "counts": counts,
                        "failures": len(m.get("failures", [])),
                        "rejected": m.get("rejected", 0),
                        "start_urls": m.get("start_urls"),
                        "health": verdict,
                    },
                    ensure_ascii=False,
                )
            )
            continue
        print(
            f"{info.id}  pages {counts.get('page', 0):3}  pilots {counts.get('pilot', 0):3}  "
            f"contacts {counts.get('contact', 0):3}  failures {len(m.get('failures', [])):2}  "
            f"rejected {m.get('rejected', 0)}  health {verdict:8}  "
            f"{' '.join(m.get('start_urls', []))}"
        )
    return 0


def cmd_replica(args: argparse.Namespace) -> int:
    from pilotarchive.replica.content import DEFAULT_VERSION, VERSIONS
    from pilotarchive.replica.server import ReplicaServer

    if args.replica_command == "versions":
        for version in VERSIONS.values():
            mark = " (default)" if version.id == DEFAULT_VERSION else ""
            print(f"{version.id}{mark}: {version.description}")
        return 0
    if args.replica_command != "serve":
        raise UsageError("say `pilotarchive replica serve` or `pilotarchive replica versions`")
    replica = ReplicaServer(args.site_version or DEFAULT_VERSION, host=args.host, port=args.port)
    print(
        f"replica ({replica.version.id}) at {replica.url}/seutukaupunkipilotit  (Ctrl-C stops)",
        flush=True,
    )
    try:
        replica.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        replica.httpd.server_close()
    return 0


def cmd_wacz(args: argparse.Namespace) -> int:
    from pilotarchive.archive.wacz import build_wacz, snapshot_paths, validate_wacz

    if args.wacz_output.suffix != ".wacz":
        raise UsageError(f"{args.wacz_output}: a WACZ file name ends in .wacz")
    result = build_wacz(
        snapshot_paths(args.output, args.snapshots), args.wacz_output, title=args.title
    )
    ok, report = validate_wacz(result.path)
    print(
        f"{result.path}: {len(result.warcs)} WARC file(s) from snapshot(s) "
        f"{', '.join(result.snapshots)}, {result.pages} pages"
    )
    if not ok:
        raise PilotarchiveError(f"{result.path} was written but does not validate: {report}")
    print(f"{result.path}: valid WACZ ({report.splitlines()[-1]})")
    return 0


def _two_snapshots(root: Path, old: str | None, new: str | None) -> tuple[Path, Path]:
    from pilotarchive.archive.snapshot import list_snapshots, resolve_snapshot

    if old and new:
        return resolve_snapshot(root, old), resolve_snapshot(root, new)
    snapshots = [s.path for s in list_snapshots(root)]
    if old:  # one given: compare it with the latest
        return resolve_snapshot(root, old), snapshots[-1]
    if len(snapshots) < 2:
        raise UsageError(f"diff needs two snapshots; {root / 'snapshots'} has {len(snapshots)}")
    return snapshots[-2], snapshots[-1]


def cmd_diff(args: argparse.Namespace) -> int:
    from pilotarchive.archive.snapshot import write_atomic
    from pilotarchive.diff.compare import diff_paths
    from pilotarchive.diff.render import render_html, render_json, render_text
    from pilotarchive.records.validate import errors_for

    old, new = _two_snapshots(args.root, args.old, args.new)
    diff = diff_paths(old, new)
    problems = errors_for(diff, "diff")
    if problems:
        raise PilotarchiveError(
            "the diff does not match schemas/diff.schema.json (a bug): "
            + "; ".join(f"{e['pointer']}: {e['message']}" for e in problems)
        )
    text = {"text": render_text, "json": render_json}.get(args.format)
    base = args.output.parent if args.output else Path.cwd()
    out = text(diff) if text else render_html(diff, args.replay_url, base)
    if args.output:
        write_atomic(args.output, out.encode("utf-8"))
        print(f"{args.output}: {diff['health']['verdict']}, {len(diff['changes'])} changes")
    else:
        sys.stdout.write(out)
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from pilotarchive.diff.history import find_entities, timeline

    entity = args.entity
    if not any(entity.startswith(p) for p in ("pilot-", "project-", "person-", "page-", "text-")):
        hits = find_entities(args.output, entity)
        if not hits:
            raise UsageError(f"no pilot, person or page matches {entity!r}")
        if len(hits) > 1:
            lines = "\n".join(f"  {eid}  {label}" for eid, label in sorted(hits.items()))
            print(f"{len(hits)} entities match {entity!r}; say which:\n{lines}")
            return 2
        entity = next(iter(hits))
    print(f"history of {entity}")
    for event in timeline(args.output, entity):
        print(f"  {event.snapshot_id}  {event.what}")
        for line in event.details:
            print(f"      {line}")
    return 0


COMMANDS = {
    "crawl": cmd_crawl,
    "demo": cmd_demo,
    "validate": cmd_validate,
    "snapshots": cmd_snapshots,
    "replica": cmd_replica,
    "wacz": cmd_wacz,
    "diff": cmd_diff,
    "history": cmd_history,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if not args.command:
        parser.print_help(sys.stderr)
        return 2
    try:
        return COMMANDS[args.command](args)
    except SnapshotInvalid as exc:
        print(f"pilotarchive: {exc}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except UsageError as exc:
        print(f"pilotarchive: {exc}", file=sys.stderr)
        return 2
    except PilotarchiveError as exc:
        print(f"pilotarchive: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pilotarchive: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`pilotarchive diff | head`): stop quietly, as Unix tools do.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
