"""``build_site``: the archive as a static site of plain HTML and CSS.

Anyone can read it from ``file://`` or any static server: no JavaScript, no external
assets, one stylesheet in the site. Pages:

- ``index.html``: every snapshot with its time, health and counts;
- ``snapshots/<id>/index.html``: a snapshot's pages and records by language;
- ``snapshots/<id>/archive/<page id>.html``: one archived page as it was fetched (its WARC
  record, the text read from it and its HTML source, escaped); the diffs link here;
- ``diffs/<old>_<new>.html``: the HTML diff of each pair of consecutive healthy snapshots;
- ``entities/index.html`` and ``entities/<entity id>.html``: each pilot, person and page
  family with its versions in every language and the changes that made them;
- ``downloads.html``: the dataset files, the WACZ packages and the WARC files with size
  and sha256, linked where they are (relative links, so keep the site beside them, as
  ``output/site`` is, or serve the output folder with ``pilotarchive serve``).

Page content carries its own language (``lang``); the site's labels are English. A page
is written only when its bytes change, and a page depends only on what it shows (a
snapshot page on its snapshot, a diff on its pair), so rebuilding after one more snapshot
adds its pages and rewrites the index pages and the timelines of the entities it changed,
nothing else.

The build streams: the snapshots are read one at a time (their pages written and their
records let go), the diffs and the entities' versions come back from the dataset's row
store one at a time, so a site of a thousand snapshots is built in the memory of one.
Modules: ``site_layout`` (frame, stylesheet, ``<head>`` extras, file names),
``site_pages`` (index, snapshots, archived pages, downloads), ``site_entities`` (the
timelines); this one decides what is written where.
"""

import filecmp
import json
import os
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pilotarchive.archive.snapshot import (
    ANY_TARGET,
    TMP_PREFIX,
    os_error,
    read_manifest,
    refuse_inside_snapshots,
    write_atomic,
)
from pilotarchive.archive.warc import OWN_WARC_NAME
from pilotarchive.controls import xml_safe
from pilotarchive.diff.render import render_html
from pilotarchive.exceptions import PilotarchiveError, UsageError
from pilotarchive.export.feed import with_feed_links, write_feeds
from pilotarchive.export.identity import identity
from pilotarchive.export.marker import (
    MARKER,
    UNTOLD,
    absolute,
    check_ours,
    folder_target,
    marker_bytes,
)
from pilotarchive.export.site_entities import entities_index, entity_labels, entity_page
from pilotarchive.export.site_layout import (
    CSS,
    GENERATOR,
    archive_links,
    archive_page,
    diff_file,
    entity_file,
)
from pilotarchive.export.site_pages import (
    archive_view,
    downloads_page,
    index_page,
    snapshot_page,
)
from pilotarchive.export.temporal import Dataset, Source, build, load

__all__ = ["SITE_ENTRIES", "SiteResult", "archive_links", "archive_page", "build_site"]


@dataclass
class SiteResult:
    path: Path
    written: list[str] = field(default_factory=list)  # new or changed, relative paths
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    dataset: Dataset | None = None
    notes: list[str] = field(default_factory=list)  # said on stderr by the command


def _safe(rel: str, text: str) -> str:
    """A page or feed without control characters: they come from records (an old one, a
    page's own source shown escaped) and HTML and XML parsers refuse them."""
    return xml_safe(text) if rel.endswith((".html", ".atom")) else text


class _Writer:
    """Writes a file only when its bytes change, and remembers every file of the site."""

    def __init__(self, root: Path, result: SiteResult) -> None:
        self.root, self.result = root, result
        self.made: set[str] = set()

    def put(self, rel: str, text: str) -> None:
        self.made.add(rel)
        path = self.root / rel
        data = _safe(rel, with_feed_links(rel, text)).encode("utf-8")
        try:
            if path.is_file() and path.read_bytes() == data:
                self.result.unchanged += 1
                return
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PilotarchiveError(f"cannot write {path}: {exc.strerror}") from exc
        write_atomic(path, data)
        self.result.written.append(rel)

    def put_pieces(self, rel: str, pieces: Iterable[str]) -> None:
        """``put`` for a page made in pieces: written to a temporary file beside it as they
        come, then kept (renamed over the old one) only when its bytes differ."""
        self.made.add(rel)
        path = self.root / rel
        tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as fh:
                for piece in pieces:
                    fh.write(_safe(rel, with_feed_links(rel, piece)).encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
            if path.is_file() and filecmp.cmp(tmp, path, shallow=False):
                tmp.unlink()
                self.result.unchanged += 1
                return
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise os_error(exc, path) from exc
        self.result.written.append(rel)

    def prune(self, written_before: set[str] | None) -> None:
        """Remove pages of the site that are no longer made (a snapshot deleted): only pages
        the last build says it wrote (``written_before``; a site of a release before that
        list: its pages under the three folders), never a file someone else put there."""
        for sub in ("snapshots", "diffs", "entities"):
            for path in sorted((self.root / sub).rglob("*.html")):
                rel = path.relative_to(self.root).as_posix()
                ours = written_before is None or rel in written_before
                if rel not in self.made and ours:
                    path.unlink()
                    self.result.removed.append(rel)
                    self._drop_empty(path.parent)

    def _drop_empty(self, folder: Path) -> None:
        """The folders a removed page leaves empty (a deleted snapshot's ``archive/``), up
        to the site's own top folders: never one that still holds anything."""
        while folder != self.root and folder.parent != self.root:
            try:
                folder.rmdir()  # only an empty folder goes
            except OSError:
                return
            folder = folder.parent


# -- the build -------------------------------------------------------------------------------


# Every entry a site holds at its top: a folder holding only these is a site.
SITE_ENTRIES = frozenset(
    {"index.html", "style.css", "downloads.html", "snapshots", "diffs", "entities", "feeds", MARKER}
)


def _packaged_snapshots(package: Path) -> set[str] | None:
    """The snapshots a WACZ of ``pilotarchive wacz`` packages (its own WARCs, not the
    ``-revisited`` ones that carry other snapshots' originals), or None when it cannot be
    read as one (listed as it is: the downloads page shows its sha256 either way)."""
    try:
        with zipfile.ZipFile(package) as zf:
            resources = json.loads(zf.read("datapackage.json")).get("resources") or []
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    paths = (str(r.get("path", "")) for r in resources if isinstance(r, dict))
    own = {m.group(1) for p in paths
           if p.startswith("archive/") and (m := OWN_WARC_NAME.fullmatch(p[8:]))}  # fmt: skip
    return own or None


def _check_destination(to: Path, target: Any = UNTOLD) -> None:
    """The site prunes its pages in ``to``: only a folder the site itself wrote is used (of
    the same target), and never through a symbolic link inside it (pruning would delete,
    and writing would write, in the folder the link points to)."""
    check_ours(to, "site", SITE_ENTRIES, what="site", proof=("index.html", GENERATOR.encode()),
               target=target)  # fmt: skip
    if to.is_symlink():
        return  # the site folder itself may be a link the user made: it is the site
    for folder, dirs, files in os.walk(to):
        for name in [*dirs, *files]:
            if os.path.islink(os.path.join(folder, name)):
                link = Path(folder, name)
                raise UsageError(
                    f"{link} is a symbolic link inside the site folder; the site is not "
                    "written through links: remove it or give another --to"
                )


def _written_before(root: Path) -> set[str] | None:
    """The pages the last build wrote, as its marker lists them (None: an older site)."""
    try:
        listed = json.loads((root / MARKER).read_text(encoding="utf-8")).get("pages")
    except (OSError, ValueError, AttributeError):
        return None
    return {str(p) for p in listed} if isinstance(listed, list) else None


def _snapshot_pages(out: "_Writer", data: Dataset, known: set[str]) -> None:
    """Each readable snapshot's page and its archived pages, one snapshot at a time."""
    ids = data.ids
    previous: Source | None = None
    for s in data.sources:
        if s.health == "damaged":
            continue
        load(s)
        found: dict[tuple[str, str], tuple[str, str]] = {}
        if s.used and ids is not None:  # the dataset's entities, as its rows name them
            for page in s.pages.values():
                found[("page", page["id"])] = ids.of(s, "page", page)
            for kind in ("pilot", "contact"):
                for record in s.records.get(kind, []):
                    found[(kind, record["id"])] = ids.of(s, kind, record)
            ids.forget(s.id)

        def entity_of(
            kind: str, record: dict[str, Any], s: Source = s, found: dict[Any, Any] = found
        ) -> str:
            held = found.get((kind, record["id"]))
            if held:
                return held[0]
            page = s.pages.get(str(record.get("page_id"))) if kind != "page" else record
            return identity(kind, record, page)[0]

        manifest = read_manifest(s.info.path)  # all of it: the page shows its findings
        html = snapshot_page(s, manifest, previous if s.used else None, known, entity_of)
        out.put(f"snapshots/{s.id}/index.html", html)
        for page in s.pages.values():
            out.put(archive_page(s.id, page["id"]), archive_view(s, page, s.info.path.parent))
        if s.used:
            previous = s
        s.release()


def _entities(data: Dataset) -> Iterator[tuple[str, str]]:
    """Each entity with a version, and its table, table by table in key order."""
    for table in ("pilots", "contacts", "pages"):
        for entity in data.store.entities(table):
            yield table, entity


def build_site(
    output: Path,
    to: Path | None = None,
    *,
    target: Any = ANY_TARGET,
    dataset_dir: Path | None = None,
    wacz: Iterable[Path] | None = None,
    dataset: Dataset | None = None,
) -> SiteResult:
    """Build or update the site in ``to`` (default ``output/site``) from the snapshots under
    ``output``; ``dataset_dir`` (default ``output/dataset``) and ``wacz`` (default: the
    ``*.wacz`` files in ``output``) are listed on the downloads page."""
    output = Path(output)
    root = absolute(Path(to) if to is not None else output / "site")
    refuse_inside_snapshots(root, "--to", output)
    told = UNTOLD if target is ANY_TARGET else target
    _check_destination(root, told)
    data = dataset if dataset is not None else build(output, target)
    dataset_dir = Path(dataset_dir) if dataset_dir is not None else output / "dataset"
    packages = sorted(Path(p) for p in wacz) if wacz is not None else sorted(output.glob("*.wacz"))
    chosen_ids = None if told is UNTOLD or wacz is not None else {s.id for s in data.sources}
    result = SiteResult(root, dataset=data)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(exc, root) from exc  # a place that cannot be written: a failure
    written_before = _written_before(root)
    out = _Writer(root, result)
    # Marked first (a build that dies half-way leaves a folder that is still ours), with
    # the pages the last build wrote, so that they can still be pruned later.
    tops = SITE_ENTRIES - {MARKER}
    named = {} if told is UNTOLD else {"target": told}
    out.put(MARKER, marker_bytes("site", tops, pages=sorted(written_before or ()), **named)
            .decode())  # fmt: skip
    out.put("style.css", CSS)
    from pilotarchive.export.package import source_url

    sources = {s.id: s for s in data.sources}
    by_iso: dict[str, Source] = {}
    for s in data.sources:
        by_iso.setdefault(s.iso, s)
    known = {entity for _, entity in _entities(data)}
    _snapshot_pages(out, data, known)
    for old, new, diff in data.store.diffs():
        rel = diff_file(old, new)
        href = archive_links(root, (root / rel).parent)
        nav = (
            '<p class="meta"><a href="../index.html">Snapshots</a> · '
            '<a href="../entities/index.html">Pilots, persons and pages</a></p>'
        )
        out.put(rel, render_html(diff, None, href, nav=nav))
    groups: dict[str, dict[str, dict[str, str]]] = {}
    store = data.store
    for table, entity in _entities(data):
        labels = entity_labels(table, store.rows_of(table, entity, "from"))
        versions = store.rows_of(table, entity, "from, language")
        changes = store.rows_of("changes", entity)
        page = entity_page(entity, table, labels, versions, changes, sources, by_iso)
        out.put_pieces(entity_file(entity), page)
        groups.setdefault(entity.split("-", 1)[0].replace("text", "page"), {})[entity] = labels
    out.put("entities/index.html", entities_index(groups))
    # Pages made from the whole archive come last: the feeds of changes (their
    # <link rel="alternate"> is in every page's head, see _Writer), downloads, the index.
    target_name = data.sources[0].info.target if data.sources else None
    write_feeds(out.put, output, (((o, n), d) for o, n, d in store.diffs()), target_name)
    if chosen_ids is not None:
        for package in list(packages):
            if (own := _packaged_snapshots(package)) is not None and not own & chosen_ids:
                packages.remove(package)
                result.notes.append(f"{package} packages another target's snapshots: not listed")
    listed: Path | None = dataset_dir
    if told is not UNTOLD and folder_target(dataset_dir) not in (UNTOLD, told):
        result.notes.append(f"{dataset_dir} holds another target's dataset: not listed")
        listed = None  # the downloads page says how to export this target's
    out.put("downloads.html", downloads_page(root, listed, packages, data))
    out.put("index.html", index_page(data, source_url(data)))
    out.prune(written_before)
    pages = sorted(p for p in out.made if "/" in p)
    out.put(MARKER, marker_bytes("site", tops, pages=pages, **named).decode())
    return result
