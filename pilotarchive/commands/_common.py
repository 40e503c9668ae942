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


def add_target(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--target",
        metavar="NAME",
        help="the snapshots of this target only (needed when the output folder holds several)",
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


def crawl_and_report(
    overrides: dict[str, Any],
    verbose: bool,
    flags: dict[str, str] | None = None,
    split: dict[str, Any] | None = None,
) -> int:
    """Run one crawl, summarise it, and print the snapshot's path as the last line.

    Returns 0, or 3 when the snapshot was written but judged degraded. ``flags`` maps the
    settings the user set by a flag to that flag, so an error names what was typed.
    ``split`` (workers, redis_url, job_name) runs it over several processes.
    """
    from pilotarchive.crawl import run_crawl, run_split_crawl
    from pilotarchive.exceptions import SettingError

    overrides = {
        "LOG_LEVEL": "INFO" if verbose else "WARNING",
        **({"PILOTARCHIVE_PROGRESS": "on"} if verbose else {}),
        **overrides,
    }
    try:
        if split:
            result = run_split_crawl(overrides, tracebacks=verbose, **split)
        else:
            result = run_crawl(overrides, tracebacks=verbose)
    except SettingError as exc:
        flag = (flags or {}).get(exc.setting or "")
        if flag and exc.setting:
            raise SettingError(str(exc).replace(exc.setting, flag), exc.setting) from None
        if exc.setting and exc.setting in overrides and not str(exc).startswith("-s"):
            raise SettingError(f"-s {exc}", exc.setting) from None
        raise
    if result.cleaned:
        print(
            f"removed unfinished snapshot(s) left by a killed run: {result.cleaned}",
            file=sys.stderr,
        )
    print_summary(result.snapshot)
    print(result.snapshot)
    return 3 if result.degraded else 0


PAGE_LINES = 24  # up to this many pages, one line each; beyond, totals per language


def print_summary(path: Path) -> None:
    """What the crawl found: a line per page for a page family, totals for a site.

    The pages file is read line by line, so a crawl of 100,000 pages is summed up in the
    memory of a few lines.
    """
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
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
    lines: list[tuple[str, str, str]] = []
    totals: dict[tuple[str, str], list[int]] = {}
    with (path / "records" / "pages.jsonl").open(encoding="utf-8") as fh:
        for raw in fh:
            page = json.loads(raw)
            lang = page.get("language") or "?"
            kind = "text" if page["is_text_version"] else "page"
            total = totals.setdefault((lang, kind), [0, 0, 0, 0])
            total[0] += 1
            total[1] += page["status"] == 200
            total[2] += page.get("pilot_count", 0)
            total[3] += page.get("contact_count", 0)
            if len(lines) <= PAGE_LINES:
                lines.append((lang, page["final_url"], (
                    f"  {lang} {kind:4} {page['status']} updated {page['updated'] or '-':10} "
                    f"pilots {page.get('pilot_count', 0)} contacts "
                    f"{page.get('contact_count', 0)}  {page['title'] or ''}"
                    + ("  (not modified)" if page.get("unchanged") else "")
                )))  # fmt: skip
    if len(lines) <= PAGE_LINES:
        for _, _, line in sorted(lines):
            print(line)
    else:
        for (lang, kind), (n, ok, pilots, contacts) in sorted(totals.items()):
            print(f"  {lang} {kind:4} {n} pages ({ok} answered 200), {pilots} pilots, "
                  f"{contacts} contacts")  # fmt: skip
    for failure in manifest["failures"]:
        print(f"  failed: {failure['url']}: {failure['reason']}")
    skipped = manifest.get("skipped") or []
    budget = [s for s in skipped if s["reason"].startswith("page budget spent")]
    for item in skipped:
        if item not in budget:
            print(f"  skipped: {item['url']}: {item['reason']}")
    if budget:
        more = max(len(budget), int(manifest.get("left_out") or 0))
        print(
            f"  page budget of {manifest.get('max_pages')} reached: {more} more link(s) not "
            f"followed (a link on several pages counted on each), e.g. {budget[0]['url']} "
            f"(manifest.json lists the first {len(budget)}; raise --max-pages to fetch them)"
        )
    for note in manifest.get("notes") or []:
        print(f"  note: {note}")
    verdict = health_lines(manifest)
    if verdict:
        print(verdict)


def health_lines(manifest: dict[str, Any]) -> str | None:
    """The snapshot's health as judged when it was made, in a few lines."""
    health = manifest.get("health")
    if not health:
        return None
    against = f"against {health['baseline']}" if health.get("baseline") else "on its own"
    lines = [f"  health {against}: {health['verdict'].upper()}"]
    lines += [
        f"    {f['severity']}: {f['kind']} [{f.get('language') or '-'}] {f['message']}"
        for f in health["findings"]
    ]
    return "\n".join(lines)
