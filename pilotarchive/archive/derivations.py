"""A snapshot's records derived again, beside the earlier derivation, swapped in whole.

The crawl is not the only writer inside ``snapshots/``: ``reextract`` writes there too,
under the same output-folder lock the crawl's commit takes, and as atomically. A snapshot
keeps its id and its WARC bytes; its new derivation is built complete in a temporary
folder ``snapshots/.tmp-<id>-<pid>/`` (owned like a crawl's, so a killed run's leftover
is cleaned the same way):

* ``archive/``: the snapshot's WARC and CDXJ files, hard links to the very same bytes
  (copied only where the file system has no hard links);
* ``derivations/<n>/``: the earlier derivation (its ``manifest.json`` and ``records/``,
  hard links too) and any kept before it;
* ``records/`` and ``manifest.json``: the new derivation.

Then the two folders are exchanged in one step (``renameat2(RENAME_EXCHANGE)`` on Linux):
a reader sees the old snapshot or the new one, never a mixture, and a crash at any point
leaves one of them complete under the snapshot's name. The old folder, now under the
temporary name, is removed; nothing in it is lost (every file is linked in the new one).
"""

import ctypes
import ctypes.util
import errno
import os
import shutil
from pathlib import Path
from typing import Any

from pilotarchive.archive.owner import Ownership
from pilotarchive.archive.snapshot import TMP_PREFIX, fsync_dir, os_error
from pilotarchive.exceptions import SnapshotError

DERIVATIONS = "derivations"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copy2(src, dst)


def _link_tree(src: Path, dst: Path) -> None:
    for path in sorted(src.rglob("*")):
        if path.is_file():
            _link(path, dst / path.relative_to(src))


def number_of(manifest: dict[str, Any]) -> int:
    """Which derivation a manifest describes (1: the crawl's own)."""
    number = (manifest.get("derivation") or {}).get("number")
    return number if isinstance(number, int) and number >= 1 else 1


class Staging:
    """The new derivation of one snapshot, being built; :meth:`swap` puts it in place."""

    def __init__(self, snapshot: Path, manifest: dict[str, Any]) -> None:
        self.snapshot = Path(snapshot)
        self.old_number = number_of(manifest)
        root = self.snapshot.parent
        self.path = root / f"{TMP_PREFIX}{self.snapshot.name}-{os.getpid()}"
        try:
            if self.path.exists():
                shutil.rmtree(self.path)
            self.path.mkdir()
            self.owner = Ownership(self.path)
            (self.path / "records").mkdir()
            if (self.snapshot / "archive").is_dir():
                _link_tree(self.snapshot / "archive", self.path / "archive")
            if (self.snapshot / DERIVATIONS).is_dir():
                _link_tree(self.snapshot / DERIVATIONS, self.path / DERIVATIONS)
            kept = self.path / DERIVATIONS / str(self.old_number)
            if kept.exists():
                raise SnapshotError(
                    f"{self.snapshot}: {DERIVATIONS}/{self.old_number} exists already "
                    "(the manifest's derivation number is wrong)"
                )
            _link(self.snapshot / "manifest.json", kept / "manifest.json")
            if (self.snapshot / "records").is_dir():
                _link_tree(self.snapshot / "records", kept / "records")
        except OSError as exc:
            self.abort()
            raise os_error(exc, self.path) from exc
        except BaseException:
            self.abort()
            raise

    @property
    def earlier(self) -> list[str]:
        folder = self.path / DERIVATIONS
        numbers = sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit())
        return [f"{DERIVATIONS}/{n}" for n in numbers]

    def swap(self) -> None:
        """Exchange the new derivation with the snapshot's folder, then drop the old one."""
        for path in self.path.rglob("*"):
            if path.is_file() and path.name != "OWNER.json":
                with path.open("rb") as fh:
                    os.fsync(fh.fileno())
        # Owned until the last moment: a leftover that still names its (dead) owner is
        # cleaned by the next run at once, one without waits ten minutes.
        self.owner.release(remove=True)
        _exchange(self.path, self.snapshot)
        fsync_dir(self.snapshot.parent)
        shutil.rmtree(self.path, ignore_errors=True)  # the old folder, every file linked

    def abort(self) -> None:
        owner = getattr(self, "owner", None)
        if owner is not None:
            owner.release()
        shutil.rmtree(self.path, ignore_errors=True)


def _exchange(a: Path, b: Path) -> None:
    """Swap two folders' names in one step. Where the kernel cannot (not Linux, or a file
    system without RENAME_EXCHANGE), nothing is done: two renames would leave a moment, and
    after a crash a state, in which the snapshot is under no name a reader looks at."""
    libc_name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(libc_name, use_errno=True) if libc_name else None
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        raise SnapshotError(
            f"{b}: this system cannot exchange two folders in one step (renameat2); "
            "reextract needs Linux"
        )
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        err = ctypes.get_errno()
        if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
            raise SnapshotError(
                f"{b}: the file system cannot exchange two folders in one step "
                f"({os.strerror(err)}); the snapshot is left as it was"
            )
        raise OSError(err, os.strerror(err), str(b))
