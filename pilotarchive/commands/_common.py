"""What several commands share: the output-folder option, ``-s KEY=VALUE``, the crawl report."""

import argparse
import contextlib
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


UNTARGETED = "untargeted"  # how snapshots made without a target (before 0.x) are named


def target_name_arg(value: str) -> str:
    """A ``--target`` that could not name a target is a usage error before anything reads
    or writes a path made from it (``--target ../x``, ``--target /etc``)."""
    from pilotarchive.archive.names import target_name_problem

    if problem := target_name_problem(value):
        raise argparse.ArgumentTypeError(problem)
    return value


def add_target(p: argparse.ArgumentParser) -> None:
    """``--target NAME``: which target's snapshots a command reads, the same everywhere."""
    p.add_argument(
        "--target",
        metavar="NAME",
        type=target_name_arg,
        help="the snapshots of this target only (needed when the output folder holds "
        f"several; snapshots made without a target are '{UNTARGETED}')",
    )


def target_from_url(url: str) -> str:
    """The target a crawl or backfill without ``--target`` files its snapshots under: its
    start URL's host (``www.tem.fi``, ``127.0.0.1``), so every snapshot belongs to a target
    and two sites crawled into one folder never mix. The port is left out: a site is its
    host, and the replica served on another port is still the same site.

    The name keeps to what a target name may hold (letters, digits, ``.``, ``_``, ``-``,
    at most 64): an internationalised host is written in its ASCII (``xn--``) form, and
    anything else becomes ``-``.
    """
    import re
    from urllib.parse import urlsplit

    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".")
    except ValueError:  # "http://[::1/": the crawl's own check names the URL (exit 2)
        host = ""
    with contextlib.suppress(UnicodeError):  # a label idna refuses: kept, then sanitised
        host = host.encode("idna").decode("ascii")
    if ":" in host:  # an IPv6 address: a run of colons (::) becomes one dash
        host = "ipv6-" + re.sub(r":+", "-", host)
    name = re.sub(r"[^a-z0-9._-]+", "-", host.lower()).strip("-._")[:64].rstrip("-._")
    return name or "crawl"


def choose_target(output: Path, given: str | None) -> str | None:
    """The target whose snapshots a command reads: the one given, or the only one in the
    folder. Several and none given, or one given that is not there, is a usage error that
    lists the targets there and how to pick one. Snapshots made without a target (before
    every crawl had one) are one more target, ``untargeted``. None when the folder holds no
    snapshots (the command says so in its own words)."""
    from pilotarchive.archive.snapshot import list_snapshots
    from pilotarchive.exceptions import UsageError

    counts: dict[str | None, int] = {}
    for info in list_snapshots(output):
        counts[info.target] = counts.get(info.target, 0) + 1
    names = {name: n for name, n in counts.items() if name is not None}
    if given is not None:
        if given in names:
            return given
        if given == UNTARGETED and None in counts:
            return None
        if not counts:
            return given
        raise UsageError(
            f"--target {given[:80]!r}: {output} holds no snapshots of it; "
            f"its targets: {_listed(counts)}"
        )
    if len(counts) <= 1:
        return next(iter(counts), None)
    example = sorted(names)[0] if names else UNTARGETED
    raise UsageError(
        f"{output} holds the snapshots of several targets, whose histories do not mix: "
        f"{_listed(counts)}; choose one with --target NAME, e.g. --target {example}"
    )


def latest_or_named(output: Path, ref: str | None, target: str | None) -> Path:
    """A snapshot named by id or path, or (none named) the latest of ``target``, or with
    no target the latest of all: one snapshot needs no choice of history."""
    from pilotarchive.archive.snapshot import list_snapshots, resolve_snapshot, snapshot_dir
    from pilotarchive.exceptions import SnapshotError

    if ref is not None or target is None:
        return resolve_snapshot(output, ref)
    chosen = choose_target(output, target)
    snapshots = [s for s in list_snapshots(output) if s.target == chosen]
    if not snapshots:
        raise SnapshotError(f"no snapshots under {snapshot_dir(output)}; run `pilotarchive crawl`")
    return snapshots[-1].path


def _listed(counts: "dict[str | None, int]") -> str:
    return ", ".join(
        f"{name if name is not None else UNTARGETED} ({n} snapshot{'s' * (n != 1)})"
        for name, n in sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
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
        f"snapshot {manifest['snapshot_id']} of target {manifest.get('target') or UNTARGETED}: "
        f"{manifest['fetched']} responses, "
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
    missing: list[tuple[str, str, str, int]] = []  # pages that answered 4xx or 5xx
    text_urls: set[str] = set()  # the text versions the pages name
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
                for key in ("text_version_url", "guessed_text_version_url"):
                    if page.get(key):
                        text_urls.add(page[key])
                if page["status"] >= 400:  # said as what was asked for, not as a page
                    missing.append((lang, page["final_url"], page["url"], page["status"]))
                    lines.append((lang, page["final_url"], ""))
                    continue
                lines.append((lang, page["final_url"], (
                    f"  {lang} {kind:4} {page['status']} updated {page['updated'] or '-':10} "
                    f"pilots {page.get('pilot_count', 0)} contacts "
                    f"{page.get('contact_count', 0)}  {page['title'] or ''}"
                    + ("  (not modified)" if page.get("unchanged") else "")
                )))  # fmt: skip
    if len(lines) <= PAGE_LINES:
        for lang, final_url, asked, status in missing:
            # A 404 page is no text version of anything; what the crawl asked for was.
            what = "text version" if {asked, final_url} & text_urls else "page"
            said = "not found" if status in (404, 410) else "answered"
            lines.remove((lang, final_url, ""))
            lines.append((lang, final_url, f"  {lang} {what}: {said} ({status})  {asked}"))
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
