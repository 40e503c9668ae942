"""WACZ 1.1.1 packages of snapshots, made by webrecorder's own ``wacz`` package.

A package holds the snapshots' WARC files, plus those of the earlier snapshots their
revisit records point into (a revisit without its original replays nothing), a CDXJ index,
``pages/pages.jsonl`` (the HTML pages fetched, with url, ts and title) and
``datapackage.json`` with the hash of every file. It is written under a temporary name and
renamed into place when complete.
"""

import io
import json
import os
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from wacz.main import main as wacz_main

from pilotarchive.archive.snapshot import resolve_snapshot
from pilotarchive.exceptions import SnapshotError

PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}


@dataclass(frozen=True)
class WaczResult:
    path: Path
    snapshots: list[str]  # asked for, then dependencies
    warcs: list[Path]
    pages: int


def _manifest(path: Path) -> dict:
    try:
        return json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"{path}: cannot read manifest.json ({exc})") from exc


def _closure(snapshots: list[Path]) -> list[Path]:
    """The snapshots asked for and every earlier one their revisits depend on."""
    root = snapshots[0].parent
    out: list[Path] = []
    todo = list(snapshots)
    while todo:
        path = todo.pop(0)
        if path in out:
            continue
        out.append(path)
        for dep in _manifest(path).get("archive", {}).get("depends_on", []):
            dep_path = root / dep
            if not dep_path.is_dir():
                raise SnapshotError(
                    f"{path.name} depends on snapshot {dep}, which is gone; "
                    "its revisit records cannot be replayed"
                )
            todo.append(dep_path)
    return out


def _pages(snapshots: list[Path]) -> list[dict]:
    pages = []
    for path in snapshots:
        with (path / "records" / "pages.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                page = json.loads(line)
                html = (page.get("content_type") or "").startswith("text/html")
                if page.get("status") == 200 and html and page.get("warc_date"):
                    pages.append(
                        {
                            "id": f"{path.name}-{page['id']}",
                            "url": page["final_url"],
                            "ts": page["warc_date"],
                            "title": page.get("title") or "",
                        }
                    )
    return sorted(pages, key=lambda p: (p["ts"], p["url"]))


def build_wacz(snapshots: list[Path], output: Path, *, title: str | None = None) -> WaczResult:
    if not snapshots:
        raise SnapshotError("no snapshot to package")
    wanted = _closure(snapshots)
    warcs = [w for s in wanted for w in sorted((s / "archive").glob("*.warc.gz"))]
    if not warcs:
        raise SnapshotError("these snapshots hold no WARC files (made before archiving began?)")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".tmp-{output.name}.{os.getpid()}")
    pages_file = output.with_name(f".tmp-pages-{os.getpid()}.jsonl")
    pages = _pages(wanted)
    pages_file.write_text(
        "\n".join(json.dumps(x, ensure_ascii=False) for x in [PAGES_HEADER, *pages]) + "\n",
        encoding="utf-8",
    )
    args = [
        "create",
        "-o",
        str(tmp),
        "-p",
        str(pages_file),
        "--copy-pages",
        "--hash-type",
        "sha256",
        "--title",
        title or f"pilotarchive {wanted[0].name}",
        *map(str, warcs),
    ]
    log = io.StringIO()
    try:
        with redirect_stdout(log):
            status = wacz_main(args)
        if status:
            raise SnapshotError(f"wacz could not package the snapshots: {log.getvalue().strip()}")
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
        pages_file.unlink(missing_ok=True)
    return WaczResult(output, [p.name for p in wanted], warcs, len(pages))


def validate_wacz(path: Path) -> tuple[bool, str]:
    """``wacz validate``, with its report."""
    log = io.StringIO()
    with redirect_stdout(log):
        status = wacz_main(["validate", "-f", str(path)])
    return status == 0, log.getvalue().strip()


def snapshot_paths(output: Path, refs: list[str]) -> list[Path]:
    """Snapshot ids or paths, or the latest snapshot when none is named."""
    return (
        [resolve_snapshot(output, ref) for ref in refs]
        if refs
        else [resolve_snapshot(output, None)]
    )
