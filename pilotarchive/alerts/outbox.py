"""The outbox: every message is a file before it is sent, and moves to ``sent/`` after.

``output/outbox/<name>.eml`` is written atomically (write-then-rename) before any attempt to
send; it moves to ``output/sent/`` only once the SMTP server accepted it. A crash, a server
that is down or a refused login leaves it where it is, and the next run (or ``pilotarchive
outbox send``) delivers it: nothing is lost.

The name is a key of the message (kind, target, snapshots, recipient), so the same change
set is never queued twice for one recipient: a message whose name is already in the outbox
or in ``sent/`` is not written again, across restarts and retries.

The one window left is between the server's "250 OK" and the rename (microseconds; a
power cut there sends the message again on the next run). The Message-ID is derived from
the key, so such a duplicate carries the same Message-ID as the first and mail systems
that suppress duplicates drop it.
"""

import hashlib
import os
import re
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import parseaddr
from pathlib import Path

from pilotarchive.archive.lock import FileLock
from pilotarchive.archive.snapshot import os_error, write_atomic

SEND_LOCK_WAIT = 600.0  # seconds a sender waits for another sender to finish
_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


def message_name(key: str) -> str:
    """The file name of a message: readable parts of its key and a hash of all of it."""
    parts = [_UNSAFE.sub("_", p)[:80] for p in key.split("/")]
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return "~".join([*parts, digest]) + ".eml"


@dataclass(frozen=True)
class Waiting:
    """A message in the outbox."""

    path: Path
    key: str
    recipient: str
    sender: str
    subject: str
    target: str

    @property
    def name(self) -> str:
        return self.path.name


class Outbox:
    def __init__(self, output: Path) -> None:
        self.output = Path(output)
        self.waiting = self.output / "outbox"
        self.sent = self.output / "sent"

    def known(self, key: str) -> bool:
        """Written already: waiting, or sent."""
        name = message_name(key)
        return (self.waiting / name).exists() or (self.sent / name).exists()

    def put(self, key: str, msg: EmailMessage) -> bool:
        """Write the message unless its key is known; True when it was written now."""
        if self.known(key):
            return False
        try:
            self.waiting.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(exc, self.waiting) from exc
        write_atomic(self.waiting / message_name(key), msg.as_bytes(policy=SMTP))
        return True

    def pending(self, target: str | None = None) -> list[Waiting]:
        """Messages waiting to be sent (of ``target``), oldest first."""
        if not self.waiting.is_dir():
            return []
        out = []
        files = [p for p in self.waiting.glob("*.eml") if not p.name.startswith(".")]
        for path in sorted(files, key=lambda p: (p.stat().st_mtime, p.name)):
            item = read_waiting(path)
            if item is not None and (target is None or item.target == target):
                out.append(item)
        return out

    def mark_sent(self, item: Waiting) -> None:
        """Move a message the server accepted to ``sent/`` (a rename: never half there)."""
        try:
            self.sent.mkdir(parents=True, exist_ok=True)
            os.replace(item.path, self.sent / item.path.name)
            fd = os.open(self.sent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise os_error(exc, self.sent / item.path.name) from exc

    def send_lock(self) -> FileLock:
        """Held while sending, so two processes never send the same waiting message."""
        return FileLock(self.waiting / ".send.lock", wait=SEND_LOCK_WAIT, what="the outbox")


def read_waiting(path: Path) -> Waiting | None:
    """A waiting message's envelope, read from its headers; None when it vanished (sent by
    another process a moment ago)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    msg = message_from_bytes(data, policy=SMTP)
    key = str(msg.get("X-Pilotarchive-Key", ""))
    return Waiting(
        path=path,
        key=key,
        recipient=parseaddr(str(msg.get("To", "")))[1],
        sender=parseaddr(str(msg.get("From", "")))[1],
        subject=str(msg.get("Subject", "")),
        target=key.split("/")[1] if key.count("/") >= 2 else "",
    )
