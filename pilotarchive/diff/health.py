"""Is the new snapshot healthy? Judged from its own pages, and against the last healthy one.

A diff is only as good as the crawl behind it. A page that gave pilots and now gives none
while answering 200 has not lost its pilots: the extractor lost the page (a redesign, an
empty content block). Such findings make the snapshot "degraded", and the diff reports
them instead of mass removals. A page that now says it has fewer pilots, or answers 404, is
a real change and is reported as one.

Two checks need no earlier snapshot: a page whose own text states how many pilots it has
("käynnistänyt neljä pilottia") while fewer were read was misread, whatever came before;
and a page that lost most of its records while its text is mostly the same was misread too
(its text is read back from the two WARCs to tell).
"""

import difflib
from pathlib import Path
from typing import Any

from pilotarchive.archive.snapshot import ANY_TARGET
from pilotarchive.diff.load import SnapshotView
from pilotarchive.exceptions import PilotarchiveError
from pilotarchive.records.ids import page_id

PAGES_KEPT = 0.7  # fewer than this share of the pages answering 200: pages are missing
RECORDS_KEPT = 0.5  # a page keeping fewer than this share of its records has lost most
TEXT_SAME = 0.8  # text similarity above which a page "is mostly unchanged"


def _stated(page: dict[str, Any]) -> int | None:
    programme = page.get("programme") or {}
    return programme.get("pilot_count")


def _finding(kind: str, severity: str, page: dict | None, message: str, **extra: Any) -> dict:
    return {
        "kind": kind,
        "severity": severity,
        "page_id": page["id"] if page else None,
        "url": page.get("final_url") if page else None,
        "language": page.get("language") if page else None,
        "message": message,
        **extra,
    }


def pilots_lost(old: dict[str, Any], new: dict[str, Any]) -> bool:
    before, now = old.get("pilot_count") or 0, new.get("pilot_count") or 0
    if before == 0 or now >= before:
        return False
    if now == 0:
        return True
    said_before, says_now = _stated(old), _stated(new)
    if said_before is not None and says_now is not None:
        return says_now >= said_before  # the page does not say there are fewer
    return now * 2 <= before


def _records(view: SnapshotView, pid: str) -> int:
    return sum(len(view.by_page.get(kind, {}).get(pid, [])) for kind in ("pilot", "contact"))


def text_similarity(old: SnapshotView, new: SnapshotView, before: dict, now: dict) -> float | None:
    """How alike the two pages' main texts are (0..1), or None when one cannot be read."""
    from pilotarchive.diff.compare import text_lines

    try:
        a = text_lines(old.payload(before), before)
        b = text_lines(new.payload(now), now)
    except PilotarchiveError:
        return None
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _self_check(new: SnapshotView, pid: str, now: dict[str, Any]) -> dict | None:
    """A page that states its number of pilots and gave fewer: the extraction failed."""
    stated = _stated(now)
    if not stated:
        return None
    found = new.pilots_of(pid, "pilot")
    if found >= stated:
        return None
    return _finding(
        "extraction_failed",
        "error",
        now,
        f"the page says it has {stated} pilots and {found} were read, answering 200",
        record_type="pilot",
    )


# What judging needs of a page of the baseline: read in one pass, kept small.
_SUMMARY = ("id", "status", "pilot_count", "contact_count", "programme", "updated_source",
            "content_sha256", "final_url", "language")  # fmt: skip


def _summaries(view: SnapshotView) -> dict[str, dict[str, Any]]:
    return {pid: {k: p.get(k) for k in _SUMMARY} for pid, p in view.pages.items()}


def judge(old: SnapshotView | None, new: SnapshotView) -> dict[str, Any]:
    """The new snapshot's health; ``old`` is the last healthy one, or None for the first.

    Both snapshots are read page by page, in one pass each, so judging a site crawl of
    100,000 pages holds a few fields per page, not the pages.
    """
    findings = []
    earlier = _summaries(old) if old is not None else {}
    failed = {page_id(f["url"]) for f in new.manifest.get("failures", []) if f.get("url")}
    lost_status: set[str] = set()
    ok_now = 0
    for pid, now in new.pages.items():  # in file order, by id; one page at a time
        if now.get("status") != 200:
            lost_status.add(pid)
            continue
        ok_now += 1
        if finding := _self_check(new, pid, now):
            findings.append(finding)
        before = earlier.get(pid)
        if old is None or before is None or before.get("status") != 200:
            continue
        if finding is None and pilots_lost(before, now):
            findings.append(
                _finding(
                    "extraction_failed",
                    "error",
                    now,
                    f"the page gave {before.get('pilot_count')} pilots before and gives "
                    f"{now.get('pilot_count') or 0} now, answering 200"
                    + (f" while it still says {_stated(now)}" if _stated(now) else ""),
                    record_type="pilot",
                )
            )
        elif finding is None and _most_lost(old, new, pid, before, now):
            findings.append(
                _finding(
                    "extraction_failed",
                    "error",
                    now,
                    f"the page gave {_records(old, pid)} records before and {_records(new, pid)} "
                    "now, while its text is mostly the same",
                    record_type="pilot",
                )
            )
        if (before.get("contact_count") or 0) > 0 and not now.get("contact_count"):
            findings.append(
                _finding(
                    "extraction_failed",
                    "error",
                    now,
                    f"the page named {before.get('contact_count')} contacts before and none now, "
                    "answering 200",
                    record_type="contact",
                )
            )
        if before.get("updated_source") == "text" and now.get("updated_source") != "text":
            findings.append(
                _finding(
                    "update_date_not_in_text",
                    "warning",
                    now,
                    "the update date is no longer read from the page's text (now from "
                    f"{now.get('updated_source') or 'nowhere'})",
                    record_type="page",
                )
            )
    # Pages that answered 200 before and that the new crawl tried and lost (an error status or
    # a failure in the manifest); pages it did not try (out of its scope) say nothing.
    ok_before = [pid for pid, p in earlier.items() if p.get("status") == 200]
    lost = [pid for pid in ok_before if pid in failed or pid in lost_status]
    if ok_before and len(lost) > (1 - PAGES_KEPT) * len(ok_before):
        findings.append(
            _finding(
                "pages_missing",
                "error",
                None,
                f"{len(lost)} of the {len(ok_before)} pages that answered 200 before were "
                "lost (an error status or a failed fetch)",
                record_type="page",
            )
        )
    degraded = any(f["severity"] == "error" for f in findings)
    return {
        "verdict": "degraded" if degraded else "healthy",
        "counts": {
            "pages_ok": {"old": len(ok_before), "new": ok_now},
            "pilots": {
                "old": len(old.entries.get("pilot", {})) if old is not None else 0,
                "new": len(new.entries.get("pilot", {})),
            },
            "contacts": {
                "old": len(old.entries.get("contact", {})) if old is not None else 0,
                "new": len(new.entries.get("contact", {})),
            },
        },
        "findings": findings,
    }


def _most_lost(old: SnapshotView, new: SnapshotView, pid: str, before: dict, now: dict) -> bool:
    """Most of the page's records are gone while its text is mostly the same."""
    had, has = _records(old, pid), _records(new, pid)
    if had < 2 or has >= had * RECORDS_KEPT:
        return False
    if before.get("content_sha256") == now.get("content_sha256"):
        return True  # the very same bytes read differently: the extractor changed
    similarity = text_similarity(old, new, old.pages[pid], now)
    return similarity is not None and similarity >= TEXT_SAME


def last_healthy(output: Path, target: Any = ANY_TARGET, before: str | None = None) -> Any:
    """The newest snapshot judged healthy (of ``target``, older than ``before``) that can be
    read, as a view; None when there is none."""
    from pilotarchive.archive.snapshot import list_snapshots
    from pilotarchive.diff.load import load_snapshot

    for info in reversed(list_snapshots(output, target=target)):
        if before is not None and info.id >= before:
            continue
        if (info.manifest.get("health") or {}).get("verdict") == "degraded":
            continue
        try:
            return load_snapshot(info.path, info.manifest)
        except PilotarchiveError:
            continue  # damaged: the one before it is the baseline
    return None


def judge_new(
    output: Path, folder: Path, manifest: dict[str, Any], target: Any = ANY_TARGET
) -> dict[str, Any]:
    """A new snapshot's health, before it is committed: against the last healthy one of its
    target (or on its own, for the first)."""
    from pilotarchive.diff.load import load_snapshot

    baseline = last_healthy(output, target)
    health = judge(baseline, load_snapshot(folder, manifest))
    return {**health, "baseline": baseline.id if baseline is not None else None}


def health_series(paths: list) -> list[tuple[str, dict[str, Any] | None, str | None]]:
    """Each snapshot's health, judged against the last healthy one before it.

    Judging against the immediate predecessor alone would call the second of two broken
    crawls healthy; the last healthy snapshot is the baseline instead. The health a
    manifest stores (judged when the snapshot was made) is taken as it is; records are only
    read for snapshots made before health was stored. A damaged snapshot gets no health.
    """
    from pilotarchive.archive.snapshot import read_manifest
    from pilotarchive.diff.load import load_snapshot

    out: list[tuple[str, dict[str, Any] | None, str | None]] = []
    baseline: Path | None = None
    baseline_view: SnapshotView | None = None
    for path in map(Path, paths):
        try:
            manifest = read_manifest(path)
            stored = manifest.get("health")
            if stored:  # judged when it was made
                out.append((path.name, stored, stored.get("baseline")))
                if stored["verdict"] == "healthy":
                    baseline, baseline_view = path, None
                continue
            current = load_snapshot(path, manifest)
            if baseline is not None and baseline_view is None:
                baseline_view = load_snapshot(baseline)
        except PilotarchiveError:
            out.append((path.name, None, None))  # damaged: listed as such by callers
            continue
        health = judge(baseline_view, current)
        out.append((current.id, health, baseline_view.id if baseline_view else None))
        if health["verdict"] == "healthy":
            baseline, baseline_view = path, current
    return out
