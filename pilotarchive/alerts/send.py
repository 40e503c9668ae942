"""Sending what waits in the outbox over SMTP (none, STARTTLS or implicit TLS, optional login).

One connection for all waiting messages; each message moves to ``sent/`` right after the
server accepted it, so a failure half-way leaves exactly the unsent ones waiting. Every
failure is said in one line (server down, refused, timeout, bad login, a certificate that
does not verify) and raised as :class:`SendFailed` after what could be sent was sent.

A message that fails on its own (refused by the server, an address that is not one plain
address, an internationalised address to a server without SMTPUTF8) is recorded in the
outbox with its reason and the others go on; messages that failed before are tried after
the fresh ones, so one that always fails never holds the rest up.

``[smtp] timeout`` bounds each wait for the server (smtplib's socket timeout) and also, as a
wall-clock deadline, each whole exchange: the connection (connect, greeting, EHLO, STARTTLS,
login), each message (MAIL FROM to the answer after its data) and QUIT. A server that
answers slowly but never finishes (a ``250-`` continuation line every two seconds, one byte
at a time) is cut off at the deadline (and :data:`GRACE`): a watchdog shuts the socket
down, which ends whatever read or write is in progress.
"""

import contextlib
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import SMTP
from typing import Any

from pilotarchive.alerts.outbox import MAX_ATTEMPTS, Outbox, Waiting, raw_header, read_waiting
from pilotarchive.exceptions import SendFailed
from pilotarchive.schedule.config import SmtpConfig, address_problem, sender_problem


@dataclass
class SendReport:
    sent: list[Waiting] = field(default_factory=list)
    failed: list[tuple[Waiting, str]] = field(default_factory=list)
    error: str | None = None  # why sending stopped (the server, not one message)
    given_up: list[Waiting] = field(default_factory=list)  # moved to undeliverable/ now

    @property
    def ok(self) -> bool:
        return not self.failed and self.error is None


def _tls_context(smtp: SmtpConfig) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if smtp.ca_file is not None:
        context.load_verify_locations(cafile=str(smtp.ca_file))
    return context


# The watchdog cuts an exchange this long after its deadline, so that a server silent from
# the start is found by the socket timeout first and reported as "did not answer".
GRACE = 1.0


class _Watchdog:
    """A wall-clock deadline for one exchange with the server.

    smtplib's timeout is per socket operation, so a server that keeps sending a little
    (continuation lines, single bytes) is never timed out by it. At the deadline this shuts
    the connection's socket down from a timer thread: the read or write in progress returns
    at once and smtplib raises, which :func:`_reason` reports as the deadline. It holds a
    duplicate of the socket's descriptor, so the one it shuts down is always the
    connection's (TLS wraps it without changing it), never a reused descriptor.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._end = time.monotonic() + seconds
        self._sock: socket.socket | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def attach(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock.dup()

    def remaining(self) -> float:
        return max(0.05, self._end - time.monotonic())

    def arm(self) -> None:
        """Start (or restart) the deadline: ``seconds`` from now, cut :data:`GRACE` later."""
        self.disarm()
        self._end = time.monotonic() + self.seconds
        self._timer = threading.Timer(self.seconds + GRACE, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._sock is not None:
                with contextlib.suppress(OSError):  # closed already
                    self._sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.disarm()
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


def _open_socket(
    host: str, port: int, timeout: float | None, watchdog: _Watchdog, source: Any
) -> socket.socket:
    """smtplib's ``_get_socket``: the connect waits no longer than the deadline leaves, and
    the socket is handed to the watchdog before a byte is read (or a TLS handshake made)."""
    wait = watchdog.remaining() if timeout is None else min(timeout, watchdog.remaining())
    sock = socket.create_connection((host, port), wait, source)
    watchdog.attach(sock)
    return sock


# An EHLO answer is a dozen lines; smtplib keeps every continuation line of a reply, with
# no bound, so a server that floods ``250-`` lines filled gigabytes before the deadline.
MAX_REPLY_LINES = 100
MAX_REPLY_BYTES = 64 * 1024
MAX_LINE: int = getattr(smtplib, "_MAXLINE", 8192)  # smtplib's own bound on one line


class _CappedReplies:
    """smtplib's ``getreply`` with a bound on the lines and bytes of one reply."""

    file: Any
    sock: Any

    def getreply(self) -> tuple[int, bytes]:
        lines: list[bytes] = []
        size = 0
        if self.file is None:
            self.file = self.sock.makefile("rb")
        while True:
            try:
                line = self.file.readline(MAX_LINE + 1)
            except OSError as exc:
                self.close()  # type: ignore[attr-defined]
                raise smtplib.SMTPServerDisconnected(
                    f"Connection unexpectedly closed: {exc}"
                ) from exc
            if not line:
                self.close()  # type: ignore[attr-defined]
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            size += len(line)
            too_long = len(line) > MAX_LINE or size > MAX_REPLY_BYTES
            if too_long or len(lines) >= MAX_REPLY_LINES:
                self.close()  # type: ignore[attr-defined]
                raise smtplib.SMTPResponseException(
                    500,
                    b"reply too long (over %d lines or %d bytes): cut off"
                    % (MAX_REPLY_LINES, MAX_REPLY_BYTES),
                )
            lines.append(line[4:].strip(b" \t\r\n"))
            try:
                code = int(line[:3])
            except ValueError:
                return -1, b"\n".join(lines)
            if line[3:4] != b"-":
                return code, b"\n".join(lines)


class _BoundedSMTP(_CappedReplies, smtplib.SMTP):
    """smtplib's client whose socket the watchdog can shut down."""

    def __init__(self, host: str, port: int, *, timeout: float, watchdog: _Watchdog) -> None:
        self.watchdog = watchdog
        super().__init__(host, port, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float | None) -> socket.socket:
        return _open_socket(host, port, timeout, self.watchdog, self.source_address)


class _BoundedSMTPSSL(_CappedReplies, smtplib.SMTP_SSL):
    """Implicit TLS, the handshake under the watchdog too."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float,
        watchdog: _Watchdog,
        context: ssl.SSLContext,
    ) -> None:
        self.watchdog = watchdog
        super().__init__(host, port, timeout=timeout, context=context)

    def _get_socket(self, host: str, port: int, timeout: float | None) -> socket.socket:
        raw = _open_socket(host, port, timeout, self.watchdog, self.source_address)
        return self.context.wrap_socket(raw, server_hostname=host)


class _Refused(Exception):
    """A message we do not hand to the server (its addresses), with the reason."""


def _reason(exc: BaseException, smtp: SmtpConfig, watchdog: _Watchdog | None = None) -> str:
    where = f"the SMTP server {smtp.host}:{smtp.port}"
    timed_out = isinstance(exc, (TimeoutError, socket.timeout)) or "timed out" in str(exc)
    if watchdog is not None and watchdog.expired and not timed_out:
        return (
            f"{where} did not finish within {smtp.timeout:g} s (it kept the exchange going "
            "without ending it); cut off"
        )
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"{where} refused the login of {smtp.username!r} ({_said(exc)})"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{where} does not offer {exc} (check [smtp] security)"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"{where}: its certificate does not verify ({exc.verify_message}); set [smtp] ca_file"
        )
    if isinstance(exc, ssl.SSLError):
        return f"{where}: TLS failed ({exc.reason or exc}); check [smtp] security and port"
    if timed_out:
        return f"{where} did not answer within {smtp.timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return f"cannot reach {where} (connection refused: is it running?)"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"{where} closed the connection ({exc or 'no reason given'})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{where} refused ({_said(exc)})"
    if isinstance(exc, OSError):
        return f"cannot reach {where} ({exc.strerror or exc})"
    return f"{where}: {exc}"


def _said(exc: smtplib.SMTPResponseException) -> str:
    text = (
        exc.smtp_error.decode("utf-8", "replace")
        if isinstance(exc.smtp_error, bytes)
        else str(exc.smtp_error)
    )
    return f"{exc.smtp_code} {' '.join(text.split())}"


def connect(smtp: SmtpConfig, watchdog: _Watchdog | None = None) -> smtplib.SMTP:
    """A connection, secured and logged in as configured, within ``watchdog``'s deadline
    (armed here; the caller closes it); raises what smtplib raises."""
    watchdog = watchdog or _Watchdog(smtp.timeout)
    watchdog.arm()
    client: smtplib.SMTP
    if smtp.security == "tls":
        client = _BoundedSMTPSSL(
            smtp.host,
            smtp.port,
            timeout=smtp.timeout,
            watchdog=watchdog,
            context=_tls_context(smtp),
        )
    else:
        client = _BoundedSMTP(smtp.host, smtp.port, timeout=smtp.timeout, watchdog=watchdog)
    try:
        client.ehlo()
        if smtp.security == "starttls":
            if not client.has_extn("starttls"):
                raise smtplib.SMTPNotSupportedError("STARTTLS")
            client.starttls(context=_tls_context(smtp))
            client.ehlo()
        if smtp.username:
            client.login(smtp.username, smtp.password)
    except BaseException:
        client.close()
        raise
    finally:
        watchdog.disarm()
    return client


def _check_envelope(item: Waiting, data: bytes) -> None:
    """Raise :class:`_Refused` unless the message's From and To are each one plain address
    (a file written before addresses were checked, or edited by hand, may hold ``a@b:c``,
    which smtplib would deliver to ``a@b``)."""
    headers = BytesHeaderParser(policy=SMTP).parsebytes(data)
    if problem := address_problem(item.recipient):
        raise _Refused(f"To: {problem}")
    sender = raw_header(headers, "From")
    if problem := sender_problem(sender) or address_problem(item.sender):
        raise _Refused(f"From: {problem}")
    if item.sender not in sender:
        raise _Refused(f"From: {sender!r} is not a name and one address")


def _options(item: Waiting, client: smtplib.SMTP) -> list[str]:
    """``["SMTPUTF8"]`` for a message with a non-ASCII address when the server offers it;
    :class:`_Refused` when it does not (smtplib would crash on the address)."""
    if item.recipient.isascii() and item.sender.isascii():
        return []
    if not client.has_extn("smtputf8"):
        raise _Refused(
            f"{item.recipient if not item.recipient.isascii() else item.sender} is an "
            "internationalised address and the server does not offer SMTPUTF8"
        )
    return ["SMTPUTF8"]


class _Session:
    """The connection, opened when a message needs it and again after it was lost."""

    def __init__(self, smtp: SmtpConfig) -> None:
        self.smtp = smtp
        self.watchdog = _Watchdog(smtp.timeout)
        self.client: smtplib.SMTP | None = None
        self.lost = 0  # connections lost in the middle of a message

    def open(self) -> smtplib.SMTP:
        if self.client is None:
            self.close()
            self.watchdog = _Watchdog(self.smtp.timeout)
            self.client = connect(self.smtp, self.watchdog)
        return self.client

    def send(self, item: Waiting) -> None:
        """One message, MAIL FROM to the server's answer, within the deadline."""
        try:
            data = item.path.read_bytes()
        except OSError as exc:
            raise _Refused(f"cannot read it ({exc.strerror or exc})") from exc
        _check_envelope(item, data)
        client = self.open()
        options = _options(item, client)
        self.watchdog.arm()
        try:
            client.sendmail(item.sender, [item.recipient], data, mail_options=options)
        finally:
            self.watchdog.disarm()

    def drop(self) -> None:
        """Forget a connection in an unknown state (the next message opens a new one)."""
        if self.client is not None:
            self.client.close()
            self.client = None

    def close(self) -> None:
        if self.client is not None:
            self.watchdog.arm()
            try:
                self.client.quit()
            except (smtplib.SMTPException, OSError):
                self.client.close()
            self.client = None
        self.watchdog.close()


def send_waiting(
    smtp: SmtpConfig,
    outbox: Outbox,
    items: list[Waiting],
    *,
    now: Callable[[], datetime] | None = None,
) -> SendReport:
    """Send ``items`` (under the outbox's send lock); what fails stays waiting.

    A failure of one message is recorded with it (see :meth:`Outbox.record_failure`) and the
    next is tried; only the server failing (unreachable, refusing the login, cut off at the
    deadline before any message, or lost twice) stops the send, and that counts against no
    message. ``now`` is the clock of the failure records.
    """
    report = SendReport()
    if not items:
        return report
    with outbox.send_lock():
        # Another sender may have sent some while we waited for the lock.
        current = [found for item in items if (found := read_waiting(item.path)) is not None]
        # The fresh ones first: a message that failed before must not hold them up again.
        current.sort(key=lambda item: item.attempts > 0)
        session = _Session(smtp)
        try:
            for n, item in enumerate(current):
                try:
                    session.open()
                except (smtplib.SMTPException, OSError, ValueError) as exc:
                    report.error = _reason(exc, smtp, session.watchdog)
                    report.failed += [(rest, report.error) for rest in current[n:]]
                    break
                try:
                    session.send(item)
                except smtplib.SMTPSenderRefused as exc:
                    # The sender of every message: the server's policy or [mail] sender,
                    # not this message; it counts against none.
                    report.error = f"{_reason(exc, smtp)} for the sender {exc.sender!r}"
                    report.failed += [(rest, report.error) for rest in current[n:]]
                    break
                except Exception as exc:
                    reason, lost = _failure(item, exc, smtp, session.watchdog)
                    report.failed.append((item, reason))
                    if outbox.record_failure(item, reason, now):
                        report.given_up.append(item)
                    if lost:
                        session.drop()
                        session.lost += 1
                        if session.lost >= 2:
                            report.error = reason
                            report.failed += [(rest, reason) for rest in current[n + 1 :]]
                            break
                    continue
                outbox.mark_sent(item)
                report.sent.append(item)
        finally:
            session.close()
    return report


def _failure(
    item: Waiting, exc: Exception, smtp: SmtpConfig, watchdog: _Watchdog
) -> tuple[str, bool]:
    """Why ``item`` was not sent, and whether the connection is lost (or in doubt)."""
    if isinstance(exc, _Refused):
        return f"{item.name}: not sent: {exc}", False
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        said = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        return f"{item.recipient} refused ({code} {' '.join(said.split())})", False
    if isinstance(exc, smtplib.SMTPResponseException) and not watchdog.expired:
        # smtplib sent RSET and the connection goes on, except after 421 (closing).
        return _reason(exc, smtp), exc.smtp_code == 421
    if isinstance(exc, (smtplib.SMTPException, OSError)):
        return _reason(exc, smtp, watchdog), True
    # Not the server's answer (a file that cannot be encoded, a bug of smtplib): this
    # message is set aside, and the connection, in an unknown state, is replaced.
    return f"{item.name}: not sent: {type(exc).__name__}: {exc}", True


def raise_for(report: SendReport, outbox: Outbox) -> None:
    """:class:`SendFailed` when anything stayed in the outbox, saying why and what next."""
    if report.ok:
        return
    reason = report.error or report.failed[0][1]
    waiting = len(report.failed) - len(report.given_up)
    given_up = (
        f"; {len(report.given_up)} given up after {MAX_ATTEMPTS} attempts, in "
        f"{outbox.undeliverable} (`pilotarchive outbox retry` puts them back)"
        if report.given_up
        else ""
    )
    raise SendFailed(
        f"{len(report.failed)} message(s) not sent: {reason}; {waiting} wait in {outbox.waiting} "
        f"and the next run or `pilotarchive outbox send` retries them{given_up}"
    )
