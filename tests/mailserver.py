"""A real SMTP server on 127.0.0.1 for the alert tests (aiosmtpd), plain or STARTTLS + login.

Messages are kept as the server received them (envelope and bytes) and parsed with the
standard library's ``email`` package, as a mail client would. The TLS certificate is made
by the test (``cryptography``), self-signed for 127.0.0.1, and handed to pilotarchive as
``[smtp] ca_file``: verification stays on.

:class:`DripServer` is the hostile one: a plain socket server that answers, but never
finishes an answer (a ``250-`` continuation line, or one byte, every so often).
"""

import datetime
import email
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "alerts", "s3cret-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    authenticated: bool
    tls: bool
    mail_options: list[str] = field(default_factory=list)

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.data, policy=default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.original_content or envelope.content,
                bool(getattr(session, "authenticated", False)),
                session.ssl is not None,
                list(envelope.mail_options),
            )
        )
        return "250 OK"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate and key for 127.0.0.1 and localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class MailServer:
    """``start()``/``stop()`` on a fixed port, so a test can take it down and bring it back."""

    def __init__(
        self,
        port: int | None = None,
        *,
        tls_files: tuple[Path, Path] | None = None,
        smtputf8: bool = False,
    ):
        self.port = port or free_port()
        self.handler = _Handler()
        self.tls_files = tls_files
        self.smtputf8 = smtputf8  # offer SMTPUTF8 (aiosmtpd's Controller would by default)
        self.controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> "MailServer":
        kwargs: dict[str, Any] = {"enable_SMTPUTF8": self.smtputf8}
        if self.tls_files is not None:
            import ssl

            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, self.tls_files))
            kwargs |= {
                "tls_context": context,
                "require_starttls": True,
                "authenticator": _authenticator,
                "auth_require_tls": True,
            }
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=10, **kwargs
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class DripServer:
    """An SMTP server on 127.0.0.1 that never finishes an answer.

    ``where`` is when it starts to drip: ``"greeting"`` (one endless banner, a byte at a
    time), ``"ehlo"`` (``250-`` lines after EHLO), ``"flood"`` (a megabyte of ``250-``
    lines after EHLO, again and again, as fast as they are read) or ``"data"`` (it takes
    the message, then ``250-`` lines instead of the final answer). Before that it answers
    as a plain server. Every connection is served in a thread of its own; ``connections``
    counts them.
    """

    def __init__(self, where: str, every: float = 0.5) -> None:
        self.where, self.every = where, every
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = int(self.listener.getsockname()[1])
        self.connections = 0
        self.stopping = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket, pieces: bytes) -> None:
        """``pieces`` again and again, one every ``every`` seconds, until the client leaves."""
        while not self.stopping.is_set():
            conn.sendall(pieces)
            time.sleep(self.every)

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as lines:
            try:
                if self.where == "greeting":
                    conn.sendall(b"220 ")
                    self._drip(conn, b"x")  # one banner line that never ends
                    return
                conn.sendall(b"220 drip.example ESMTP\r\n")
                in_data = False
                for line in lines:
                    if in_data:
                        if line == b".\r\n":
                            self._drip(conn, b"250-still thinking\r\n")
                            return
                        continue
                    verb = line[:4].upper()
                    if verb in (b"EHLO", b"HELO"):
                        if self.where == "ehlo":
                            conn.sendall(b"250-drip.example\r\n")
                            self._drip(conn, b"250-AND-ANOTHER-THING\r\n")
                            return
                        if self.where == "flood":  # as fast as the client reads
                            conn.sendall(b"250-drip.example\r\n")
                            self._drip(conn, (b"250-" + b"A" * 2000 + b"\r\n") * 500)
                            return
                        conn.sendall(b"250 drip.example\r\n")
                    elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                        conn.sendall(b"250 OK\r\n")
                    elif verb == b"DATA":
                        conn.sendall(b"354 go on\r\n")
                        in_data = True
                    elif verb == b"QUIT":
                        conn.sendall(b"221 bye\r\n")
                        return
                    else:
                        conn.sendall(b"502 no\r\n")
            except OSError:
                return  # the client cut the connection: what it should do

    def stop(self) -> None:
        self.stopping.set()
        self.listener.close()
