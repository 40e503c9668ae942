"""Who is writing an unfinished snapshot, and when it may be taken for abandoned.

A crawl writes its snapshot under ``snapshots/.tmp-<id>-<pid>/`` and a later crawl removes
what killed runs left there. Output folders may be shared between machines, so a pid says
nothing: the pid of another host's crawl is dead or someone else's here. A leftover folder
is removed only when its owner is provably gone:

* the writer holds an ``flock`` on ``OWNER.json`` in the folder from its first moment to
  its rename (the kernel gives it back when the writer dies, even by SIGKILL), and the file
  names its host and the kernel's boot id;
* on the same host and boot, a lock that can be taken proves the writer gone;
* otherwise (another host, whose lock this host may not see on a network file system, or
  this host before a reboot) the writer's heartbeat decides: it touches the file every
  :data:`BEAT` seconds, and a folder whose heartbeat has not moved for
  :data:`STALE_AFTER` seconds is abandoned (and its lock, where visible, must be free too);
* a folder of an earlier release, without ``OWNER.json``, is abandoned once nothing in it
  has changed for :data:`STALE_AFTER` seconds.
"""

import contextlib
import fcntl
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

OWNER = "OWNER.json"
BEAT = 30.0  # seconds between two heartbeats of a writer
STALE_AFTER = 600.0  # seconds without a heartbeat after which another host's folder is stale


def boot_id() -> str:
    """The kernel's id of this boot: a pid or a lock from before a reboot means nothing."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return ""


def _me() -> dict[str, Any]:
    return {"host": socket.gethostname(), "boot_id": boot_id(), "pid": os.getpid()}


class Ownership:
    """Held by the process that writes an unfinished snapshot, until it is renamed or gone."""

    def __init__(self, folder: Path, *, beat: float = BEAT) -> None:
        self.path = Path(folder) / OWNER
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise
        body = json.dumps({**_me(), "since": time.time()}).encode("utf-8")
        os.ftruncate(fd, 0)
        os.pwrite(fd, body, 0)
        self._fd: int | None = fd
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(beat,), daemon=True,
                                        name="pilotarchive-heartbeat")  # fmt: skip
        self._thread.start()

    def _beat(self, every: float) -> None:
        while not self._stop.wait(every):
            fd = self._fd
            if fd is None:
                return
            with contextlib.suppress(OSError):  # a full or gone disk: the crawl says so
                os.utime(fd)

    def release(self, *, remove: bool = False) -> None:
        """Stop beating and give the lock back; ``remove``: the file goes first (before the
        folder is renamed into a snapshot, which must not carry it)."""
        self._stop.set()
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if remove:
            self.path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _lock_free(path: Path) -> bool:
    """Whether no process (that this host can see) holds the owner's lock."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def _quiet_for(folder: Path, now: float) -> float:
    """Seconds since anything in ``folder`` (a few levels deep) last changed."""
    newest = 0.0
    for root, dirs, files in os.walk(folder):
        depth = Path(root).relative_to(folder).parts
        if len(depth) >= 3:
            dirs.clear()
        for name in [".", *files]:
            with contextlib.suppress(OSError):
                newest = max(newest, os.stat(os.path.join(root, name)).st_mtime)
    return now - newest


def abandoned(folder: Path, *, now: float | None = None) -> bool:
    """True only when the writer of the unfinished snapshot ``folder`` is provably gone."""
    now = time.time() if now is None else now
    path = folder / OWNER
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(info, dict):
            raise ValueError("not an object")
    except (OSError, ValueError):
        return _quiet_for(folder, now) >= STALE_AFTER  # an earlier release's folder
    me = _me()
    if me["boot_id"] and info.get("host") == me["host"] and info.get("boot_id") == me["boot_id"]:
        return _lock_free(path)  # this machine's kernel knows
    try:
        quiet = now - path.stat().st_mtime
    except OSError:
        return False
    return quiet >= STALE_AFTER and _lock_free(path)
