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
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pilotarchive.archive.snapshot import ANY_TARGET
from pilotarchive.diff.load import SnapshotView
from pilotarchive.exceptions import PilotarchiveError
from pilotarchive.extract.notes import (
    PARSE_TRUNCATED,
    RECORDS_CAPPED,
    RULES_FAILED,
    RULES_OVERMATCH,
)
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


class _Unsorted(Exception):
    """A page file not in id order (written by hand, or damaged): judged the slow way."""


def _in_order(items: Iterable[tuple[str, dict[str, Any]]]) -> Iterator[tuple[str, dict]]:
    last = ""
    for pid, page in items:
        if pid < last:
            raise _Unsorted(pid)
        last = pid
        yield pid, page


def _side_by_side(
    old: Iterable[tuple[str, dict]], new: Iterable[tuple[str, dict]]
) -> Iterator[tuple[str, dict | None, dict | None]]:
    """The pages of two snapshots side by side: one pass over each file, both sorted by
    id, so judging two site crawls of 100,000 pages holds two pages at a time."""
    a_iter, b_iter = iter(old), iter(new)
    a, b = next(a_iter, None), next(b_iter, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            assert a is not None
            yield a[0], a[1], None
            a = next(a_iter, None)
        elif a is None or b[0] < a[0]:
            yield b[0], None, b[1]
            b = next(b_iter, None)
        else:
            yield a[0], a[1], b[1]
            a, b = next(a_iter, None), next(b_iter, None)


def judge(old: SnapshotView | None, new: SnapshotView) -> dict[str, Any]:
    """The new snapshot's health; ``old`` is the last healthy one, or None for the first.

    Both snapshots are read page by page, side by side in one pass each, so judging a site
    crawl of 100,000 pages holds a few pages, not the pages.
    """
    old_pages = old.pages.items() if old is not None else ()
    try:
        return _judge(old, new, _side_by_side(_in_order(old_pages), _in_order(new.pages.items())))
    except _Unsorted:
        pairs = _side_by_side(sorted(old_pages), sorted(new.pages.items()))
        return _judge(old, new, pairs)


def _judge(
    old: SnapshotView | None,
    new: SnapshotView,
    pairs: Iterator[tuple[str, dict | None, dict | None]],
) -> dict[str, Any]:
    findings = []
    failed = {page_id(f["url"]) for f in new.manifest.get("failures", []) if f.get("url")}
    ok_now = ok_before = lost = 0
    for pid, before, now in pairs:
        if before is not None and before.get("status") == 200:
            ok_before += 1
            # Answered 200 before, and the new crawl tried and lost it (an error status or a
            # failure in the manifest); a page it did not try (out of its scope) says nothing.
            if pid in failed or (now is not None and now.get("status") != 200):
                lost += 1
        if now is None or now.get("status") != 200:
            continue
        ok_now += 1
        for note in now.get("notes") or ():
            # Far more than a page of this family, a rule that could not be evaluated or
            # that read blocks inside its own blocks, or a page the parser could not read to
            # its end.
            if note.get("kind") in (RECORDS_CAPPED, RULES_FAILED, RULES_OVERMATCH,
                                    PARSE_TRUNCATED):  # fmt: skip
                findings.append(
                    _finding(
                        "extraction_failed",
                        "error",
                        now,
                        note.get("message", ""),
                        record_type="pilot",
                    )
                )
        if finding := _self_check(new, pid, now):
            findings.append(finding)
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
                    f"the page gave {old.records_on(pid)} records before and "
                    f"{new.records_on(pid)} now, while its text is mostly the same",
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
    if ok_before and lost > (1 - PAGES_KEPT) * ok_before:
        findings.append(
            _finding(
                "pages_missing",
                "error",
                None,
                f"{lost} of the {ok_before} pages that answered 200 before were "
                "lost (an error status or a failed fetch)",
                record_type="page",
            )
        )
    degraded = any(f["severity"] == "error" for f in findings)
    return {
        "verdict": "degraded" if degraded else "healthy",
        "counts": {
            "pages_ok": {"old": ok_before, "new": ok_now},
            "pilots": {
                "old": old.total("pilot") if old is not None else 0,
                "new": new.total("pilot"),
            },
            "contacts": {
                "old": old.total("contact") if old is not None else 0,
                "new": new.total("contact"),
            },
        },
        "findings": findings,
    }


def _most_lost(old: SnapshotView, new: SnapshotView, pid: str, before: dict, now: dict) -> bool:
    """Most of the page's records are gone while its text is mostly the same."""
    had, has = old.records_on(pid), new.records_on(pid)
    if had < 2 or has >= had * RECORDS_KEPT:
        return False
    if before.get("content_sha256") == now.get("content_sha256"):
        return True  # the very same bytes read differently: the extractor changed
    similarity = text_similarity(old, new, before, now)
    return similarity is not None and similarity >= TEXT_SAME


def last_healthy(
    output: Path, target: Any = ANY_TARGET, before: str | None = None, detail: bool = False
) -> Any:
    """The newest snapshot judged healthy (of ``target``, older than ``before``) that can be
    read, as a view (counts only, enough to judge by, unless ``detail``); None when there
    is none."""
    from pilotarchive.archive.snapshot import list_snapshots
    from pilotarchive.diff.load import load_snapshot

    for info in reversed(list_snapshots(output, target=target)):
        if before is not None and info.id >= before:
            continue
        if (info.manifest.get("health") or {}).get("verdict") == "degraded":
            continue
        try:
            return load_snapshot(info.path, info.manifest, detail=detail)
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
    health = judge(baseline, load_snapshot(folder, manifest, detail=False))
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
            current = load_snapshot(path, manifest, detail=False)
            if baseline is not None and baseline_view is None:
                baseline_view = load_snapshot(baseline, detail=False)
        except PilotarchiveError:
            out.append((path.name, None, None))  # damaged: listed as such by callers
            continue
        health = judge(baseline_view, current)
        out.append((current.id, health, baseline_view.id if baseline_view else None))
        if health["verdict"] == "healthy":
            baseline, baseline_view = path, current
    return out
