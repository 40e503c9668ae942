"""The outbox: every message is a file before it is sent, and moves to ``sent/`` after.

``output/outbox/<name>.eml`` is written atomically (write-then-rename) before any attempt to
send; it moves to ``output/sent/`` only once the SMTP server accepted it. A crash, a server
that is down or a refused login leaves it where it is, and the next run (or ``pilotarchive
outbox send``) delivers it: nothing is lost.

The name is a key of the message (kind, target, snapshots, recipient), so the same change
set is never queued twice for one recipient: a message whose name is already in the outbox
or in ``sent/`` is not written again, across restarts and retries.

A message the server refuses (a recipient it does not know, an internationalised address
without SMTPUTF8, an address that is not plain) never holds up the others: its failure is
recorded beside it (``<name>.attempts.json``: how many attempts, when, why), it waits for
the next send, and after :data:`MAX_ATTEMPTS` failures it moves to ``output/undeliverable/``
with that record, where ``outbox list`` shows it and ``outbox retry`` puts it back.

The one window left is between the server's "250 OK" and the rename (microseconds; a
power cut there sends the message again on the next run). The Message-ID is derived from
the key, so such a duplicate carries the same Message-ID as the first and mail systems
that suppress duplicates drop it.
"""

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import SMTP, SMTPUTF8
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from pilotarchive.archive.lock import FileLock
from pilotarchive.archive.snapshot import iso, os_error, write_atomic

SEND_LOCK_WAIT = 600.0  # seconds a sender waits for another sender to finish
MAX_ATTEMPTS = 5  # failed sends of one message before it is moved to undeliverable/
KEEP_FAILURES = 10  # the last failures kept in a message's attempts record
ATTEMPTS_SUFFIX = ".attempts.json"
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
    attempts: int = 0  # failed sends so far
    last_failure: str = ""  # why the last one failed

    @property
    def name(self) -> str:
        return self.path.name


def attempts_file(message: Path) -> Path:
    """The record of a message's failed sends, beside it (not a ``*.eml``: never sent)."""
    return message.with_name(message.name + ATTEMPTS_SUFFIX)


def read_attempts(message: Path) -> dict[str, Any]:
    """``{"attempts": n, "failures": [{"at", "reason"}, ...]}``; empty when never failed (or
    the record is unreadable: then the message is simply tried again)."""
    try:
        data = json.loads(attempts_file(message).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"attempts": 0, "failures": []}
    if not isinstance(data, dict) or not isinstance(data.get("attempts"), int):
        return {"attempts": 0, "failures": []}
    return data


def needs_smtputf8(msg: EmailMessage) -> bool:
    """An address in From or To is not ASCII: the message must go with SMTPUTF8, its headers
    in UTF-8 (the ASCII form, RFC 2047 words inside an address, is no address at all)."""
    for name in ("From", "To"):
        header = msg.get(name)
        for address in getattr(header, "addresses", ()):
            if not address.addr_spec.isascii():
                return True
    return False


class Outbox:
    def __init__(self, output: Path) -> None:
        self.output = Path(output)
        self.waiting = self.output / "outbox"
        self.sent = self.output / "sent"
        self.undeliverable = self.output / "undeliverable"

    def known(self, key: str) -> bool:
        """Written already: waiting, sent, or given up on."""
        name = message_name(key)
        return any((box / name).exists() for box in (self.waiting, self.sent, self.undeliverable))

    def put(self, key: str, msg: EmailMessage) -> bool:
        """Write the message unless its key is known; True when it was written now."""
        if self.known(key):
            return False
        try:
            self.waiting.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(exc, self.waiting) from exc
        policy = SMTPUTF8 if needs_smtputf8(msg) else SMTP
        write_atomic(self.waiting / message_name(key), msg.as_bytes(policy=policy))
        return True

    def pending(self, target: str | None = None) -> list[Waiting]:
        """Messages waiting to be sent (of ``target``), oldest first."""
        return self._listed(self.waiting, target)

    def given_up(self, target: str | None = None) -> list[Waiting]:
        """Messages moved to ``undeliverable/`` after :data:`MAX_ATTEMPTS` failures."""
        return self._listed(self.undeliverable, target)

    def _listed(self, folder: Path, target: str | None) -> list[Waiting]:
        if not folder.is_dir():
            return []
        out = []
        files = [p for p in folder.glob("*.eml") if not p.name.startswith(".")]
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
        attempts_file(item.path).unlink(missing_ok=True)

    def record_failure(
        self, item: Waiting, reason: str, now: Callable[[], datetime] | None = None
    ) -> bool:
        """Count a failed send of ``item`` with its reason; after :data:`MAX_ATTEMPTS` move it
        (and its record) to ``undeliverable/``. True when it was moved now."""
        record = read_attempts(item.path)
        at = iso((now or _utc_now)())
        failures = [*record.get("failures", []), {"at": at, "reason": reason}]
        record = {"attempts": record["attempts"] + 1, "failures": failures[-KEEP_FAILURES:]}
        record_path = attempts_file(item.path)
        write_atomic(record_path, json.dumps(record, ensure_ascii=False, indent=1).encode())
        if record["attempts"] < MAX_ATTEMPTS:
            return False
        try:
            self.undeliverable.mkdir(parents=True, exist_ok=True)
            os.replace(record_path, self.undeliverable / record_path.name)
            os.replace(item.path, self.undeliverable / item.path.name)
        except OSError as exc:
            raise os_error(exc, self.undeliverable / item.path.name) from exc
        return True

    def retry(self, target: str | None = None) -> list[Waiting]:
        """Put the messages given up on back in the outbox, their attempts forgotten."""
        back = self.given_up(target)
        for item in back:
            try:
                self.waiting.mkdir(parents=True, exist_ok=True)
                os.replace(item.path, self.waiting / item.path.name)
                attempts_file(item.path).unlink(missing_ok=True)
            except OSError as exc:
                raise os_error(exc, self.waiting / item.path.name) from exc
        return back

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
    record = read_attempts(path)
    failures = record.get("failures") or [{}]
    return Waiting(
        path=path,
        key=key,
        # The To header whole, not parseaddr's pick from it ("a@b:c" is not "a@b"): the
        # sender checks it is one plain address before it becomes an envelope.
        recipient=raw_header(msg, "To"),
        sender=parseaddr(str(msg.get("From", "")))[1],
        subject=str(msg.get("Subject", "")),
        target=key.split("/")[1] if key.count("/") >= 2 else "",
        attempts=record["attempts"],
        last_failure=str(failures[-1].get("reason", "")) if isinstance(failures[-1], dict) else "",
    )


def raw_header(msg: Message, name: str) -> str:
    """A header's text as written in the file (all of them, joined, if there are several),
    unfolded and in UTF-8: the parsed value would be a mail parser's repair of it."""
    values = [value for key, value in msg.raw_items() if key.lower() == name.lower()]
    text = ", ".join(str(v) for v in values)
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return re.sub(r"\r?\n(?=[ \t])", "", text).strip()


def _utc_now() -> datetime:
    return datetime.now(UTC)
