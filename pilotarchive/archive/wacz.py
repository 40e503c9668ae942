"""WACZ 1.1.1 packages of snapshots, made by webrecorder's own ``wacz`` package.

A package holds the snapshots' WARC files whole (every record: pages and the stylesheets,
images and scripts captured with them), a CDXJ index, ``pages/pages.jsonl`` and
``datapackage.json`` with the hash of every file. ``pages.jsonl`` is written as Browsertrix
writes it with ``--text``: a header with ``hasText``, then every HTML page of every
snapshot asked for with its id, url, ts (the capture's WARC-Date, so each snapshot's
version opens at its own time), title and the page's visible text, which ReplayWeb.page
searches. A revisit record replays nothing without the original it points at, so
the originals that the snapshots' revisits need are copied, record by record, from the
earlier snapshots' WARCs into one extra WARC per earlier snapshot; the rest of those
snapshots (their other pages) stays out. The package is written under a temporary name,
validated, and only then renamed into place.
"""

import gzip
import io
import json
import os
import zlib
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.exceptions import ArchiveLoadFailed

from pilotarchive.archive.read import QuietArchiveIterator, original_of, read_payload
from pilotarchive.archive.snapshot import RECORD_FILES, os_error, read_manifest, resolve_snapshot
from pilotarchive.exceptions import SnapshotDamaged, SnapshotError, UsageError

PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages", "hasText": True}
_READ_ERRORS = (OSError, EOFError, zlib.error, ArchiveLoadFailed, ValueError, gzip.BadGzipFile)


# Said in every package's datapackage.json ("description"): a file that says it, or a package
# of an earlier release (titled "pilotarchive ..." by default), is one this command may
# replace; any other file under the name asked for is the user's and is never replaced.
MADE_BY = "Packaged by pilotarchive from its snapshots."


def _check_replaceable(output: Path) -> None:
    """Refuse to write over a file that is not a WACZ package pilotarchive wrote (``export``,
    ``site`` and ``bag`` refuse a folder they did not write the same way). A symbolic link
    is replaced itself, never written through."""
    if output.is_symlink() or not output.exists():
        return
    import zipfile

    meta: Any = None
    try:
        with zipfile.ZipFile(output) as package:
            meta = json.loads(package.read("datapackage.json"))
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        pass
    if isinstance(meta, dict) and (
        meta.get("description") == MADE_BY or str(meta.get("title", "")).startswith("pilotarchive ")
    ):
        return
    raise UsageError(
        f"{output} exists and is not a WACZ package pilotarchive wrote, so it is not replaced; "
        "move it away or give another --file"
    )


@dataclass(frozen=True)
class WaczResult:
    path: Path
    snapshots: list[str]  # asked for, then the earlier ones records were taken from
    warcs: list[str]  # as named in the package, revisited originals of earlier ones too
    pages: int
    report: str  # what webrecorder's validator said of it


def _revisit_targets(warc: Path) -> set[str]:
    """The record ids the revisit records of a WARC point at."""
    needed = set()
    try:
        with warc.open("rb") as fh:
            for record in QuietArchiveIterator(fh):
                ref = record.rec_headers.get_header("WARC-Refers-To")
                if record.rec_type == "revisit" and ref:
                    needed.add(ref)
    except _READ_ERRORS as exc:
        raise SnapshotDamaged(f"{warc}: cannot be read ({type(exc).__name__}: {exc})") from exc
    return needed


def _copy_records(warc: Path, wanted: set[str], out: Path) -> set[str]:
    """Copy the warcinfo and the ``wanted`` records of ``warc`` into ``out``, byte for byte
    (each record is its own gzip member); return the ids found."""
    found: set[str] = set()
    try:
        with warc.open("rb") as src, out.open("wb") as dst:
            iterator = QuietArchiveIterator(src)
            spans = []
            for record in iterator:
                ident = record.rec_headers.get_header("WARC-Record-ID")
                keep = record.rec_type == "warcinfo" or ident in wanted
                record.content_stream().read()
                if keep:
                    spans.append((iterator.get_record_offset(), iterator.get_record_length()))
                    if ident in wanted:
                        found.add(ident)
            for offset, length in spans:
                src.seek(offset)
                dst.write(src.read(length))
    except _READ_ERRORS as exc:
        if isinstance(exc, OSError) and exc.filename == str(out):
            raise os_error(exc, out) from exc
        raise SnapshotDamaged(f"{warc}: cannot be read ({type(exc).__name__}: {exc})") from exc
    return found


def page_text(body: bytes, encoding: str | None) -> str:
    """The text a reader sees on a page, in one line: what ReplayWeb.page searches (as
    Browsertrix writes it with ``--text``). Scripts, styles and the head are left out."""
    import lxml.html
    from lxml import etree

    try:
        text = body.decode(encoding or "utf-8", errors="replace")
    except LookupError:  # an encoding Python does not know
        text = body.decode("utf-8", errors="replace")
    try:
        doc = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return ""
    for el in doc.xpath("//script|//style|//noscript|//template|//head"):
        el.drop_tree()
    return " ".join(doc.text_content().split())


def _text_of(root: Path, snapshot: str, page: dict[str, Any]) -> str:
    original = original_of(page, snapshot)
    if original is None:
        return ""
    try:
        body = read_payload(root, original)
    except SnapshotError as exc:  # a damaged original: the package is refused below
        raise SnapshotDamaged(f"{snapshot}: the text of {page.get('final_url')}: {exc}") from exc
    return page_text(body, page.get("encoding"))


def _pages(snapshots: list[Path]) -> list[dict[str, Any]]:
    pages = []
    for path in snapshots:
        file = path / "records" / RECORD_FILES["page"]
        with file.open("rb") as fh:
            for n, line in enumerate(fh, 1):
                try:
                    page = json.loads(line.decode("utf-8"))
                except ValueError as exc:
                    raise SnapshotDamaged(f"{file}:{n}: not a JSON record ({exc})") from exc
                html = (page.get("content_type") or "").startswith("text/html")
                if page.get("status") == 200 and html and page.get("warc_date"):
                    pages.append(
                        {
                            "id": f"{path.name}-{page['id']}",
                            "url": page["final_url"],
                            "ts": page["warc_date"],
                            "title": page.get("title") or "",
                            "text": _text_of(path.parent, path.name, page),
                        }
                    )
    return sorted(pages, key=lambda p: (p["ts"], p["url"]))


def build_wacz(snapshots: list[Path], output: Path, *, title: str | None = None) -> WaczResult:
    if not snapshots:
        raise SnapshotError("no snapshot to package")
    output = Path(output)
    if output.is_dir():
        raise UsageError(f"{output} is a folder; give a file name ending in .wacz")
    if not output.parent.is_dir():
        raise UsageError(f"{output.parent} does not exist; create it or give another --file")
    _check_replaceable(output)
    root = snapshots[0].parent
    warcs = [w for s in snapshots for w in sorted((s / "archive").glob("*.warc.gz"))]
    if not warcs:
        raise SnapshotError("these snapshots hold no WARC files (made before archiving began?)")
    needed: set[str] = set()
    for warc in warcs:
        needed |= _revisit_targets(warc)
    for warc in warcs:  # originals inside the package need no copy
        needed -= _record_ids(warc)
    tmp_files: list[Path] = []
    tmp = output.with_name(f".tmp-{output.name}.{os.getpid()}")
    pages_file = output.with_name(f".tmp-pages-{os.getpid()}.jsonl")
    tmp_files += [tmp, pages_file]
    taken_from: list[str] = []
    try:
        for dep in _dependencies(snapshots, root):
            if not needed:
                break
            for warc in sorted((dep / "archive").glob("*.warc.gz")):
                part = output.with_name(f".tmp-{dep.name}-{warc.name}.{os.getpid()}")
                tmp_files.append(part)
                found = _copy_records(warc, needed, part)
                if found:
                    needed -= found
                    named = part.with_name(
                        f"{warc.name.removesuffix('.warc.gz')}-revisited.warc.gz"
                    )
                    part.rename(named)
                    tmp_files.append(named)
                    warcs.append(named)
                    taken_from.append(dep.name)
        if needed:
            raise SnapshotError(
                f"{len(needed)} revisit record(s) point at originals no snapshot under {root} "
                f"holds (e.g. {sorted(needed)[0]}); they could not be replayed"
            )
        pages = _pages(snapshots)
        pages_file.write_text(
            "\n".join(json.dumps(x, ensure_ascii=False) for x in [PAGES_HEADER, *pages]) + "\n",
            encoding="utf-8",
        )
        args = [
            "create", "-o", str(tmp), "-p", str(pages_file), "--copy-pages",
            "--hash-type", "sha256", "--title", title or f"pilotarchive {snapshots[0].name}",
            "--desc", MADE_BY,
            *map(str, warcs),
        ]  # fmt: skip
        log = io.StringIO()
        try:
            with redirect_stdout(log), redirect_stderr(log):
                status = _wacz(args)
        except _READ_ERRORS as exc:
            raise SnapshotDamaged(f"wacz could not read the WARCs: {exc}") from exc
        if status:
            raise SnapshotError(f"wacz could not package the snapshots: {log.getvalue().strip()}")
        ok, report = validate_wacz(tmp)
        if not ok:
            raise SnapshotError(f"the package does not validate, so it was not kept: {report}")
        os.replace(tmp, output)
    except OSError as exc:
        raise os_error(exc, output) from exc
    finally:
        for path in tmp_files:
            path.unlink(missing_ok=True)
    names = [p.name for p in snapshots] + [d for d in taken_from if d not in snapshots]
    return WaczResult(output, names, [w.name for w in warcs], len(pages), report)


def _wacz(args: list[str]) -> int:
    from wacz.main import main as wacz_main

    try:
        return int(wacz_main(args) or 0)
    except SystemExit as exc:
        return int(exc.code or 0)


def _record_ids(warc: Path) -> set[str]:
    try:
        with warc.open("rb") as fh:
            return {r.rec_headers.get_header("WARC-Record-ID") for r in QuietArchiveIterator(fh)}
    except _READ_ERRORS as exc:
        raise SnapshotDamaged(f"{warc}: cannot be read ({type(exc).__name__}: {exc})") from exc


def _dependencies(snapshots: list[Path], root: Path) -> list[Path]:
    """The other snapshots the given ones' revisits point into, nearest first: resolved from
    the WARCs of every snapshot of the folder (:mod:`depends`), not from what the manifests
    say, which a crawl wrote before anything was pruned or deleted."""
    from pilotarchive.archive.depends import archive_dependencies, needed_closure

    for path in snapshots:
        read_manifest(path)  # a damaged one is named as such, not as missing originals
    deps = archive_dependencies(root.parent)
    names = [p.name for p in snapshots]
    for name in names:
        if name in deps and (dangling := deps[name].dangling):
            raise SnapshotError(
                f"{name}: {len(dangling)} revisit record(s) point at originals that are gone "
                f"or differ (e.g. {dangling[0].problem}); they could not be replayed "
                "(`pilotarchive validate` names them all)"
            )
    out = [root / d for d in needed_closure(deps, names) if d not in names]
    return sorted(out, key=lambda p: p.name, reverse=True)


def validate_wacz(path: Path) -> tuple[bool, str]:
    """``wacz validate``, with its report."""
    log = io.StringIO()
    try:
        with redirect_stdout(log), redirect_stderr(log):
            status = _wacz(["validate", "-f", str(path)])
    except Exception as exc:  # a broken zip makes the validator itself raise
        return False, f"{type(exc).__name__}: {exc}"
    return status == 0, log.getvalue().strip()


def target_paths(output: Path, target: str) -> list[Path]:
    """Every snapshot of ``target``, oldest first."""
    from pilotarchive.archive.snapshot import list_snapshots, snapshot_dir
    from pilotarchive.exceptions import UsageError

    found = [s.path for s in list_snapshots(output, target=target)]
    if not found:
        known = sorted({str(s.target) for s in list_snapshots(output) if s.target})
        raise UsageError(f"no snapshot of target {target!r} under {snapshot_dir(output)} "
                         f"(targets: {', '.join(known) or 'none'})")  # fmt: skip
    return found


def snapshot_paths(output: Path, refs: list[str]) -> list[Path]:
    """Snapshot ids or paths, or the latest snapshot when none is named."""
    return (
        [resolve_snapshot(output, ref) for ref in refs]
        if refs
        else [resolve_snapshot(output, None)]
    )
