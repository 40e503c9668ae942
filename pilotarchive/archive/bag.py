"""A target's archive as a BagIt bag (RFC 8493), for a preservation repository.

Made with the Library of Congress ``bagit`` library: ``data/snapshots/<id>/`` holds every
snapshot of the target, copied byte for byte, with ``manifest-sha256.txt`` and
``manifest-sha512.txt`` over them, tag manifests, and a ``bag-info.txt`` naming the
source (the target and its start URLs), the operator and the snapshots' span. A revisit
record replays only with its original, so a snapshot of another target (or an untargeted
crawl) that a revisit points into is bagged too and named in ``bag-info.txt``; a bag is
only made of snapshots that pass ``validate --all`` (a damaged or dangling archive would be
deposited as if whole), and the bag is validated by the library before it replaces
anything. It is built beside ``--to`` and renamed into place; ``--to`` must be missing,
empty, or a bag this command wrote (told by its marker file).
"""

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pilotarchive import __version__
from pilotarchive.archive.depends import archive_dependencies, needed_closure
from pilotarchive.archive.snapshot import (
    list_snapshots,
    os_error,
    refuse_inside_snapshots,
    snapshot_dir,
)
from pilotarchive.exceptions import SnapshotError, SnapshotInvalid, UsageError
from pilotarchive.export.marker import MARKER, absolute, check_ours, marker_bytes

KIND = "bag"
CHECKSUMS = ["sha256", "sha512"]
BAG_FILES = {
    "bagit.txt",
    "bag-info.txt",
    "data",
    *(f"manifest-{c}.txt" for c in CHECKSUMS),
    *(f"tagmanifest-{c}.txt" for c in CHECKSUMS),
}


@dataclass(frozen=True)
class BagResult:
    path: Path
    snapshots: list[str]  # the target's
    dependencies: list[str]  # other targets' snapshots bagged for their originals
    files: int
    bytes: int


def _copy_snapshot(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, copy_function=shutil.copy2)


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())


def write_bag(output: Path, target: str, to: Path, operator: str,
              now: datetime | None = None) -> BagResult:  # fmt: skip
    """Bag every snapshot of ``target`` (and those its revisits need) into ``to``."""
    import bagit

    from pilotarchive.archive.check import audit

    output = Path(output)
    to = absolute(to)
    refuse_inside_snapshots(to, "--to", output)
    check_ours(to, KIND, BAG_FILES, what="bag", proof=(MARKER, b"never: the marker decides"))
    if not operator.strip() or any(ch in operator for ch in "\r\n"):
        raise UsageError("--operator: give who deposits the bag, on one line")
    mine = list_snapshots(output, target=target)
    if not mine:
        known = sorted({str(s.target) for s in list_snapshots(output) if s.target})
        raise UsageError(f"no snapshot of target {target!r} under {snapshot_dir(output)} "
                         f"(targets: {', '.join(known) or 'none'})")  # fmt: skip
    deps = archive_dependencies(output)
    mine_ids = [s.id for s in mine]
    foreign = sorted(set(needed_closure(deps, mine_ids)) - set(mine_ids))
    chosen = [s for s in list_snapshots(output) if s.id in set(mine_ids) | set(foreign)]
    problems = [f"{v.id}: {p}" for v in audit(output, only=[s.path for s in chosen])
                for p in v.problems]  # fmt: skip
    if problems:
        raise SnapshotInvalid(f"{snapshot_dir(output)} (not bagged: the archive is damaged)",
                              problems)  # fmt: skip
    parent = to.parent
    if not parent.is_dir():
        raise UsageError(f"{parent} does not exist; create it or give another --to")
    tmp = parent / f".tmp-{to.name}-{os.getpid()}"
    old = parent / f".old-{to.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    start_urls = sorted({u for s in mine for u in s.manifest.get("start_urls") or []})
    now = now or datetime.now(UTC)
    info = {
        "Source-Organization": operator,
        "External-Description": (
            f"Web archive of {', '.join(start_urls)} (pilotarchive target {target!r}): "
            f"{len(mine)} snapshot(s) from {mine_ids[0]} to {mine_ids[-1]}, each with its "
            "WARC files, CDXJ index, extracted records and manifest"
        ),
        "External-Identifier": f"pilotarchive:{target}:{mine_ids[0]}..{mine_ids[-1]}",
        "Bagging-Date": now.strftime("%Y-%m-%d"),
        "Source-URL": start_urls,
        "Pilotarchive-Target": target,
        "Pilotarchive-Snapshots": mine_ids,
        "Bag-Software-Agent": f"pilotarchive {__version__} (bagit {bagit.VERSION})",
    }
    if foreign:
        info["Pilotarchive-Dependencies"] = foreign
        info["Internal-Sender-Description"] = (
            "Pilotarchive-Dependencies are snapshots of other targets holding originals that "
            "this target's revisit records point at; without them those revisits replay "
            "nothing"
        )
    try:
        tmp.mkdir()
        for snap in chosen:
            _copy_snapshot(snap.path, tmp / "snapshots" / snap.id)
        bag = bagit.make_bag(str(tmp), bag_info=info, checksums=CHECKSUMS)
        (tmp / MARKER).write_bytes(marker_bytes(KIND, BAG_FILES, target=target))
        bag.save()  # the tag manifests cover the marker too
        bagit.Bag(str(tmp)).validate()
        _fsync_tree(tmp)
        if to.exists():
            os.rename(to, old)
        os.rename(tmp, to)
    except bagit.BagError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SnapshotError(f"the bag did not validate, so it was not kept: {exc}") from exc
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not to.exists():
            os.rename(old, to)
        raise os_error(exc, to) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    payload = [p for p in (to / "data").rglob("*") if p.is_file()]
    return BagResult(to, mine_ids, foreign, len(payload), sum(p.stat().st_size for p in payload))
