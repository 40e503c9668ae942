"""What several commands share: the output-folder option, ``-s KEY=VALUE``, the crawl report."""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DEFAULT_START = "http://www.tem.fi/seutukaupunkipilotit"


def add_output(parser: argparse.ArgumentParser) -> None:
    """``--output/-o DIR``: the output folder, with the same meaning in every command."""
    parser.add_argument(
        "--output",
        "-o",
        default="output",
        type=Path,
        metavar="DIR",
        help="output folder holding snapshots/ (default: output)",
    )


def add_file(parser: argparse.ArgumentParser, what: str, *, required: bool = False) -> None:
    """``--file FILE``: the one file a command writes, the same flag everywhere."""
    parser.add_argument(
        "--file",
        dest="file",
        type=Path,
        metavar="FILE",
        required=required,
        help=what,
    )


def setting(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value


def add_settings(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-s",
        "--set",
        action="append",
        type=setting,
        default=[],
        metavar="KEY=VALUE",
        help="override a Scrapy or PILOTARCHIVE_* setting, e.g. -s DOWNLOAD_TIMEOUT=10",
    )


def add_verbose(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="Scrapy's log at INFO level, progress lines"
    )


def crawl_and_report(overrides: dict[str, Any], verbose: bool) -> int:
    """Run one crawl, summarise it, and print the snapshot's path as the last line."""
    from pilotarchive.crawl import run_crawl

    overrides = {"LOG_LEVEL": "INFO" if verbose else "WARNING", **overrides}
    result = run_crawl(overrides, tracebacks=verbose)
    if result.cleaned:
        print(
            f"removed unfinished snapshot(s) left by a killed run: {result.cleaned}",
            file=sys.stderr,
        )
    print_summary(result.snapshot)
    print(result.snapshot)
    return 0


def print_summary(path: Path) -> None:
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
    verdict = health_lines(path)
    if verdict:
        print(verdict)


def health_lines(path: Path) -> str | None:
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
