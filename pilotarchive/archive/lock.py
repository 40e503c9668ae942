"""Exclusive locks on the output folder and on a target, that a killed process gives back.

Two crawls into one folder must never lose a snapshot: each crawl fetches on its own, but
the short phase that names a snapshot, judges it against the last healthy one, renames it
into place and updates the digest index is done under ``output/.lock``, one crawl at a
time (a second crawl waits). Scheduled runs of one target take ``output/locks/<target>.lock``
for their whole length, and a second run of that target stops at once.

The locks are ``fcntl.flock`` locks: the kernel releases them when the holder dies, even by
SIGKILL, so a stale lock file never blocks anyone. The file holds who took it (pid, host,
command, time) for the message that names the holder.
"""

import fcntl
import json
import logging
import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from pilotarchive.archive.names import target_name_problem
from pilotarchive.exceptions import LockHeld, UsageError

OUTPUT_LOCK = ".lock"
ANNOUNCE_AFTER = 1.0  # seconds of waiting for a lock before it is said what is waited for
logger = logging.getLogger(__name__)


def _holder() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": " ".join(sys.argv[:4])[:200],
        "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def describe_holder(path: Path) -> str:
    """Who holds the lock, as the lock file says."""
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another process"
    return (
        f"pid {info.get('pid')} on {info.get('host')} ({info.get('command')}, "
        f"since {info.get('since')})"
    )


class FileLock:
    """``with FileLock(path, wait=...)``: exclusive, released on exit or on death."""

    def __init__(self, path: Path, *, wait: float | None = 0.0, what: str = "") -> None:
        """``wait``: seconds to wait for the lock (None: forever, 0: not at all)."""
        self.path = Path(path)
        self.wait = wait
        self.what = what or str(self.path)
        self._fd: int | None = None
        self.waited = 0.0

    def acquire(self) -> "FileLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        start = time.monotonic()
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                elapsed = time.monotonic() - start
                if not announced and elapsed >= ANNOUNCE_AFTER and self.wait != 0:
                    # Said once: a command that seems to hang says what it waits for.
                    limit = (
                        "as long as it takes" if self.wait is None else f"up to {self.wait:.0f} s"
                    )
                    logger.warning(
                        "waiting for %s, locked by %s (%s)",
                        self.what,
                        describe_holder(self.path),
                        limit,
                    )
                    announced = True
                if self.wait is not None and elapsed >= self.wait:
                    holder = describe_holder(self.path)
                    os.close(fd)
                    raise LockHeld(
                        f"{self.what} is locked by {holder}"
                        + (f"; waited {elapsed:.0f} s" if self.wait else "")
                        + f" (lock file {self.path})",
                        holder=holder,
                    ) from None
                time.sleep(0.05)
        self.waited = time.monotonic() - start
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_holder()).encode("utf-8"), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "FileLock":
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def output_lock(output: Path, *, wait: float | None = None) -> FileLock:
    """The lock for the writing phase of a crawl into ``output``."""
    return FileLock(Path(output) / OUTPUT_LOCK, wait=wait, what=f"the output folder {output}")


def target_lock(output: Path, target: str) -> FileLock:
    """The lock a run of ``target`` holds from start to end; a second run stops at once."""
    if problem := target_name_problem(target):  # the name becomes a path
        raise UsageError(problem)
    return FileLock(Path(output) / "locks" / f"{target}.lock", wait=0, what=f"target {target!r}")
