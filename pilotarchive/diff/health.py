"""Is the new snapshot healthy? Judged from its own counts against the previous one.

A diff is only as good as the crawl behind it. A page that gave pilots and now gives none
while answering 200 has not lost its pilots: the extractor lost the page (a redesign, an
empty content block). Such findings make the snapshot "degraded", and the diff reports
them instead of mass removals. A page that now says it has fewer pilots, or answers 404, is
a real change and is reported as one.
"""

from pathlib import Path
from typing import Any

from pilotarchive.diff.load import SnapshotView
from pilotarchive.records.ids import page_id

PAGES_KEPT = 0.7  # fewer than this share of the pages answering 200: pages are missing


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


def judge(old: SnapshotView, new: SnapshotView) -> dict[str, Any]:
    findings = []
    for pid, now in sorted(new.pages.items()):
        before = old.pages.get(pid)
        if before is None or before.get("status") != 200 or now.get("status") != 200:
            continue
        if pilots_lost(before, now):
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
    failed = {page_id(f["url"]) for f in new.manifest.get("failures", []) if f.get("url")}
    ok_before = [pid for pid, p in old.pages.items() if p.get("status") == 200]
    lost = [
        pid
        for pid in ok_before
        if pid in failed or (pid in new.pages and new.pages[pid].get("status") != 200)
    ]
    ok_now = sum(1 for p in new.pages.values() if p.get("status") == 200)
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
                "old": len(old.entries.get("pilot", {})),
                "new": len(new.entries.get("pilot", {})),
            },
            "contacts": {
                "old": len(old.entries.get("contact", {})),
                "new": len(new.entries.get("contact", {})),
            },
        },
        "findings": findings,
    }


def judge_new(output: Path, folder: Path, manifest: dict[str, Any]) -> dict[str, Any] | None:
    """A new snapshot's health, before it is committed: against the last healthy one."""
    from pilotarchive.archive.snapshot import list_snapshots
    from pilotarchive.diff.load import load_snapshot

    earlier = list_snapshots(output)
    baseline = next(
        (s for s in reversed(earlier)
         if (s.manifest.get("health") or {}).get("verdict") != "degraded"),
        None,
    )  # fmt: skip
    if baseline is None:
        return None
    health = judge(load_snapshot(baseline.path), load_snapshot(folder, manifest))
    return {**health, "baseline": baseline.id}


def health_series(paths: list) -> list[tuple[str, dict[str, Any] | None, str | None]]:
    """Each snapshot's health, judged against the last healthy one before it.

    Judging against the immediate predecessor alone would call the second of two broken
    crawls healthy; the last healthy snapshot is the baseline instead.
    """
    from pilotarchive.diff.load import load_snapshot

    out: list[tuple[str, dict[str, Any] | None, str | None]] = []
    baseline: SnapshotView | None = None
    for path in paths:
        current = load_snapshot(path)
        stored = current.manifest.get("health")
        if stored:  # judged when it was made
            out.append((current.id, stored, stored.get("baseline")))
            if stored["verdict"] == "healthy":
                baseline = current
            continue
        if baseline is None:
            out.append((current.id, None, None))
            baseline = current
            continue
        health = judge(baseline, current)
        out.append((current.id, health, baseline.id))
        if health["verdict"] == "healthy":
            baseline = current
    return out
