"""Sending what waits in the outbox over SMTP (none, STARTTLS or implicit TLS, optional login).

One connection for all waiting messages; each message moves to ``sent/`` right after the
server accepted it, so a failure half-way leaves exactly the unsent ones waiting. Every
failure is said in one line (server down, refused, timeout, bad login, a certificate that
does not verify) and raised as :class:`SendFailed` after what could be sent was sent.
"""

import smtplib
import socket
import ssl
from dataclasses import dataclass, field

from pilotarchive.alerts.outbox import Outbox, Waiting, read_waiting
from pilotarchive.exceptions import SendFailed
from pilotarchive.schedule.config import SmtpConfig


@dataclass
class SendReport:
    sent: list[Waiting] = field(default_factory=list)
    failed: list[tuple[Waiting, str]] = field(default_factory=list)
    error: str | None = None  # why sending stopped (the server, not one message)

    @property
    def ok(self) -> bool:
        return not self.failed and self.error is None


def _tls_context(smtp: SmtpConfig) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if smtp.ca_file is not None:
        context.load_verify_locations(cafile=str(smtp.ca_file))
    return context


def _reason(exc: BaseException, smtp: SmtpConfig) -> str:
    where = f"the SMTP server {smtp.host}:{smtp.port}"
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
    if isinstance(exc, (TimeoutError, socket.timeout)) or "timed out" in str(exc):
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


def connect(smtp: SmtpConfig) -> smtplib.SMTP:
    """A connection, secured and logged in as configured; raises what smtplib raises."""
    client: smtplib.SMTP
    if smtp.security == "tls":
        client = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=smtp.timeout, context=_tls_context(smtp)
        )
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
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
    return client


def send_waiting(smtp: SmtpConfig, outbox: Outbox, items: list[Waiting]) -> SendReport:
    """Send ``items`` (under the outbox's send lock); what fails stays waiting."""
    report = SendReport()
    if not items:
        return report
    with outbox.send_lock():
        # Another sender may have sent some while we waited for the lock.
        current = [found for item in items if (found := read_waiting(item.path)) is not None]
        if not current:
            return report
        try:
            client = connect(smtp)
        except (smtplib.SMTPException, OSError) as exc:
            report.error = _reason(exc, smtp)
            report.failed = [(item, report.error) for item in current]
            return report
        try:
            for n, item in enumerate(current):
                try:
                    data = item.path.read_bytes()
                    client.sendmail(item.sender, [item.recipient], data)
                except smtplib.SMTPRecipientsRefused as exc:
                    code, text = next(iter(exc.recipients.values()))
                    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
                    report.failed.append((item, f"{item.recipient} refused ({code} {said})"))
                    continue
                except smtplib.SMTPResponseException as exc:
                    report.failed.append((item, _reason(exc, smtp)))
                    continue
                except (smtplib.SMTPException, OSError) as exc:
                    report.error = _reason(exc, smtp)
                    report.failed += [(rest, report.error) for rest in current[n:]]
                    break
                outbox.mark_sent(item)
                report.sent.append(item)
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
    return report


def raise_for(report: SendReport, outbox: Outbox) -> None:
    """:class:`SendFailed` when anything stayed in the outbox, saying why and what next."""
    if report.ok:
        return
    reason = report.error or report.failed[0][1]
    raise SendFailed(
        f"{len(report.failed)} message(s) not sent: {reason}; they wait in {outbox.waiting} "
        "and the next run or `pilotarchive outbox send` delivers them"
    )
