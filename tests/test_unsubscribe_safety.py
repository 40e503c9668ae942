"""The one-click unsubscribe against hostile requests and a damaged record of who left.

``serve`` is the real server on 127.0.0.1 and is spoken to over raw sockets, so the
Content-Length header is exactly what a hostile client sends; the damaged record is tried
through ``serve`` and through a real ``pilotarchive run`` (replica and aiosmtpd).
"""

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from pilotarchive.alerts.unsubscribe import token, unsubscribed
from pilotarchive.exceptions import UnsubscribeRecordDamaged
from pilotarchive.export.serve import make_server
from pilotarchive.replica.server import ReplicaServer
from tests.alerting import pa, write_config
from tests.mailserver import MailServer
from tests.test_alerts import START

LIST, WHO = "pilots", "researcher@example.org"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    output = tmp_path / "output"
    (output / "site").mkdir(parents=True)
    server = make_server(output, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield output, int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def _path(output: Path, email: str = WHO) -> str:
    query = {"list": LIST, "email": email, "token": token(output, LIST, email)}
    return "/site/unsubscribe?" + urlencode(query)


def _exchange(port: int, head: str, body: bytes = b"", wait: float = 5) -> tuple[int, bytes]:
    """Send ``head`` (request line and headers, CRLF-separated, no blank line) and ``body``;
    the status and the whole answer, read until the server closes or ``wait`` passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\nConnection: close\r\n\r\n" + body)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except TimeoutError:
            pass
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, answer


def _post(port: int, path: str, length: str | None) -> str:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return "\r\n".join(lines)


@pytest.mark.parametrize(
    "length", ["abc", "-1", "-4096", "1e3", "0x10", "+5", "", "5, 5", "\u00b2"]
)
def test_a_malformed_content_length_is_refused(served: tuple[Path, int], length: str) -> None:
    output, port = served
    # The body is not sent: a server that believed "-1" would wait for the end of it.
    status, answer = _exchange(port, _post(port, _path(output), length))
    assert status == 400, answer[:200]
    assert not (output / "alerts" / "unsubscribed.json").exists()  # nobody left


def test_a_negative_length_does_not_read_an_endless_body(served: tuple[Path, int]) -> None:
    output, port = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall((_post(port, _path(output), "-1") + "\r\n\r\n").encode())
        started = time.monotonic()
        sent = 0
        answer = b""
        sock.setblocking(False)
        # Keep streaming while waiting for the answer: it must come long before 64 MB.
        while sent < 64 * 2**20 and time.monotonic() - started < 10:
            try:
                answer += sock.recv(65536)
            except BlockingIOError:
                pass
            except OSError:
                break  # the server closed on us: fine, the answer is read below
            if answer:
                break
            try:
                sent += sock.send(b"x" * 65536)
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                break
        sock.setblocking(True)
        sock.settimeout(5)
        with contextlib.suppress(OSError):
            answer += sock.recv(65536)
    assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400"), answer[:100]


def test_a_body_over_the_bound_is_refused_unread(served: tuple[Path, int]) -> None:
    output, port = served
    status, _ = _exchange(port, _post(port, _path(output), str(10**12)))
    assert status == 413
    assert not (output / "alerts" / "unsubscribed.json").exists()


@pytest.mark.parametrize("length", [None, "0", "26"])
def test_a_proper_post_still_unsubscribes(served: tuple[Path, int], length: str | None) -> None:
    output, port = served
    body = b"List-Unsubscribe=One-Click" if length == "26" else b""
    status, answer = _exchange(port, _post(port, _path(output), length), body)
    assert status == 200, answer[:200]
    assert unsubscribed(output) == {LIST: [WHO]}


@pytest.mark.parametrize(
    "damage",
    [
        b'{"pilots": ["gone@example.org"',
        b'["gone@example.org"]',
        b'{"pilots": "gone"}',
        b'{"pilots": [1]}',
        b"\xff\xfe{}",
    ],
    ids=["truncated", "a-list", "not-lists", "not-addresses", "not-utf8"],
)
def test_a_damaged_record_is_kept_and_serve_answers_500(
    served: tuple[Path, int], damage: bytes
) -> None:
    output, port = served
    record = output / "alerts" / "unsubscribed.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_bytes(damage)
    status, answer = _exchange(port, _post(port, _path(output), "26"), b"x" * 26)
    assert status == 500, answer[:300]
    assert b"Traceback" not in answer
    assert record.read_bytes() == damage  # who left is not lost
    with pytest.raises(UnsubscribeRecordDamaged, match=r"unsubscribed\.json"):
        unsubscribed(output)


@pytest.fixture
def mailserver() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


def test_run_stops_on_a_damaged_record_and_mails_nobody(
    replica: ReplicaServer, mailserver: MailServer, tmp_path: Path
) -> None:
    write_config(tmp_path, replica.url + START, mailserver.port)
    replica.set_version("2014-06")
    assert pa("run", cwd=tmp_path).returncode == 0
    record = tmp_path / "output" / "alerts" / "unsubscribed.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    damage = b'{"pilots": ["researcher@example.org"'  # cut short by a full disk
    record.write_bytes(damage)
    before = len(mailserver.received)
    replica.set_version("2014-11-19")  # four entities change: every subscriber would hear
    result = pa("run", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "unsubscribed.json" in result.stderr and "Traceback" not in result.stderr
    assert len(mailserver.received) == before
    assert record.read_bytes() == damage
