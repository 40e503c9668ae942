"""Change alerts through a real SMTP server on 127.0.0.1, as subscribers receive them.

Each test serves the replica, runs `pilotarchive run` in a subprocess (the crawl is real),
and reads what aiosmtpd received with the standard library's ``email`` package.
"""

import dataclasses
import email
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.policy import default
from email.utils import getaddresses, parsedate_to_datetime
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pilotarchive.alerts.clean import one_line
from pilotarchive.alerts.compose import when
from pilotarchive.alerts.outbox import Outbox
from pilotarchive.alerts.state import read_state
from pilotarchive.diff.compare import diff_paths
from pilotarchive.diff.render import show
from pilotarchive.replica.server import ReplicaServer
from pilotarchive.schedule.config import load_config
from pilotarchive.schedule.run import queue_digests
from tests.alerting import MAINTAINERS, html_text, outbox, pa, runs, sent, write_config
from tests.mailserver import PASSWORD, USER, MailServer, free_port, make_certificate

START = "/seutukaupunkipilotit"
IMMEDIATE = {
    "researcher@example.org": "fi",
    "forskare@example.org": "sv",
    "analyst@example.org": "en",
}
SECTION = {"fi": "(fi) ==", "sv": "(sv) ==", "en": "(en) =="}


@pytest.fixture
def mailserver() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


def _snapshots(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / "output" / "snapshots").iterdir() if p.name[0] != ".")


def _parts(msg: email.message.EmailMessage) -> tuple[str, str]:
    plain, rich = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and rich is not None
    return plain.get_content(), rich.get_content()


def _expected(diff: dict) -> list[str]:
    """Every piece of every change a reader must find: labels, fields, old and new values."""
    out = []
    for c in diff["changes"]:
        out.append(c["label"])
        for f in c["fields"]:
            if f["field"] == "text" or (c["kind"] == "appeared" and f["field"] == "status"):
                continue
            out += [show(f["old"]), show(f["new"])]
        for items in (c.get("records") or {}).values():
            out += items
    return out


def _change_step(replica: ReplicaServer, folder: Path, password: str | None = None) -> None:
    """First run on 2014-11-19 (nothing to compare: no alert), then the site changes."""
    replica.set_version("2014-11-19")
    first = pa("run", cwd=folder, password=password)
    assert first.returncode == 0, first.stderr
    assert "first snapshot" in first.stdout
    replica.set_version("2015-06")


def _check_change_alerts(received: list, folder: Path) -> None:
    old, new = _snapshots(folder)[-2:]
    diff = diff_paths(old, new)
    assert len(diff["changes"]) == 18
    assert len(received) == len(IMMEDIATE)  # one per immediate subscriber; the digest waits
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(IMMEDIATE)
    for r in received:
        msg = r.message
        to = [addr for _, addr in getaddresses(msg.get_all("To"))]
        assert to == r.rcpt_tos and len(to) == 1, "one recipient per message, never a list"
        assert msg.get_content_type() == "multipart/alternative"
        assert str(msg["Subject"]) == (
            "18 changes: "
            + {
                "fi": "Pilotit seutukaupunkien kehittämiseen",
                "sv": "Pilotprojekt för utveckling av regionstäder",
                "en": "Pilots for developing regional towns",
            }[IMMEDIATE[to[0]]]
        )
        assert msg["From"] == "pilotarchive <pilotarchive@example.org>"
        assert parsedate_to_datetime(msg["Date"]).tzinfo is not None
        assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith("@example.org>")
        assert msg["List-Id"] == "pilotarchive pilots <pilots.pilotarchive.example.org>"
        assert msg["List-Unsubscribe"].strip() == (
            f"<https://example.org/unsubscribe?email={to[0].replace('@', '%40')}&list=pilots>"
        )
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["Auto-Submitted"] == "auto-generated"
        assert msg["Content-Language"] == IMMEDIATE[to[0]]
        text, markup = _parts(msg)
        shown = html_text(markup)
        for piece in _expected(diff):
            assert piece in text, f"{piece!r} missing from the text part to {to[0]}"
            assert piece in shown, f"{piece!r} missing from the HTML part to {to[0]}"
        # Links: the live page and the archived copy, in both parts.
        live = diff["changes"][0]["archive"]["new"]["url"]
        assert live in text and f'href="{live.replace("&", "&amp;")}"' in markup
        warc = diff["changes"][0]["archive"]["new"]["original"]["filename"]
        assert warc in text and warc in markup
        # Nothing a mail client would fetch or run, and nothing that needs CSS.
        lowered = markup.lower()
        assert "<img" not in lowered and "<script" not in lowered and "<style" not in lowered
        assert "style=" not in lowered and "<link" not in lowered
        # The subscriber's language first, then the others.
        lang = IMMEDIATE[to[0]]
        order = sorted(SECTION, key=lambda code: text.index(SECTION[code]))
        assert order[0] == lang, (to[0], order)
        assert "Totals" in text or "Yhteensä" in text or "Totalt" in text


def test_change_alert_plain_smtp(replica: ReplicaServer, mailserver: MailServer, tmp_path: Path):
    write_config(tmp_path, replica.url + START, mailserver.port)
    _change_step(replica, tmp_path)
    assert mailserver.received == []  # the first run of a target sends no change alert
    second = pa("run", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("\n") == 1  # one line per target
    assert "18 change(s)" in second.stdout and "3 sent" in second.stdout
    _check_change_alerts(mailserver.received, tmp_path)
    third = pa("run", cwd=tmp_path)  # unchanged: nothing sent
    assert third.returncode == 0 and "no changes" in third.stdout
    assert len(mailserver.received) == 3
    log = runs(tmp_path)
    assert [r["outcome"] for r in log] == ["first", "changed", "unchanged"]
    assert log[1]["mails"] == {"queued": 3, "sent": 3, "waiting": 0, "digest_later": 1}
    assert log[1]["counts"]["changes"] == 18 and log[1]["health"] == "healthy"
    assert all(r["start"] <= r["end"] and r["error"] is None for r in log)


def test_change_alert_starttls_with_login(replica: ReplicaServer, tmp_path: Path):
    cert, key = make_certificate(tmp_path)
    server = MailServer(tls_files=(cert, key)).start()
    try:
        write_config(
            tmp_path,
            replica.url + START,
            server.port,
            security="starttls",
            username=USER,
            ca_file=cert,
        )
        # No password in the environment: refused at start-up, naming the variable and line.
        missing = pa("run", cwd=tmp_path)
        assert missing.returncode == 2
        assert "pilotarchive.toml:8: smtp.password_env" in missing.stderr
        assert "PILOTARCHIVE_SMTP_PASSWORD is not set" in missing.stderr
        assert len(missing.stderr.strip().splitlines()) == 1
        _change_step(replica, tmp_path, password=PASSWORD)
        # A wrong password: the run says so, exits 1, the messages wait in the outbox.
        wrong = pa("run", cwd=tmp_path, password="wrong")
        assert wrong.returncode == 1
        assert "refused the login of 'alerts'" in wrong.stderr
        assert len(outbox(tmp_path)) == 3 and server.received == []
        delivered = pa("outbox", "send", cwd=tmp_path, password=PASSWORD)
        assert delivered.returncode == 0, delivered.stderr
        assert all(r.tls and r.authenticated for r in server.received)
        _check_change_alerts(server.received, tmp_path)
    finally:
        server.stop()


def test_smtp_down_keeps_the_message_and_delivers_it_once(replica: ReplicaServer, tmp_path: Path):
    port = free_port()
    server = MailServer(port)  # not started: the server is down
    write_config(tmp_path, replica.url + START, port)
    _change_step(replica, tmp_path)
    down = pa("run", cwd=tmp_path)
    assert down.returncode == 1
    assert "connection refused" in down.stderr and "outbox" in down.stderr
    assert len(down.stderr.strip().splitlines()) == 1
    assert len(outbox(tmp_path)) == 3 and sent(tmp_path) == []
    listing = pa("outbox", cwd=tmp_path)
    assert "3 message(s) waiting" in listing.stdout
    assert runs(tmp_path)[-1]["outcome"] == "mail_failed"
    server.start()
    try:
        # Retried by the next run: delivered, and the change is not mailed again.
        again = pa("run", cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert "no changes" in again.stdout and "3 sent" in again.stdout
        assert sorted(r.rcpt_tos[0] for r in server.received) == sorted(IMMEDIATE)
        assert outbox(tmp_path) == [] and len(sent(tmp_path)) == 3
        more = pa("run", cwd=tmp_path)
        assert more.returncode == 0
        assert pa("outbox", "send", cwd=tmp_path).returncode == 0
        assert len(server.received) == 3, "delivered exactly once"
    finally:
        server.stop()


def test_broken_layout_tells_maintainers_only(
    replica: ReplicaServer, mailserver: MailServer, tmp_path: Path
):
    write_config(tmp_path, replica.url + START, mailserver.port)
    _change_step(replica, tmp_path)
    replica.set_version("2014-11-19-empty")
    broken = pa("run", cwd=tmp_path)
    assert broken.returncode == 3, broken.stderr
    assert "DEGRADED" in broken.stdout
    assert sorted(r.rcpt_tos[0] for r in mailserver.received) == sorted(MAINTAINERS)
    for r in mailserver.received:
        msg = r.message
        assert "the crawler needs attention" in msg["Subject"]
        assert "List-Unsubscribe" not in msg
        text, _ = _parts(msg)
        assert "extraction_failed" in text and "Last healthy snapshot: " in text
        assert _snapshots(tmp_path)[0].name in text  # the last healthy one, named
    # Back to a healthy version: subscribers get the real changes (against 2014-11-19), once.
    replica.set_version("2015-06")
    healthy = pa("run", cwd=tmp_path)
    assert healthy.returncode == 0, healthy.stderr
    subscribers = mailserver.received[len(MAINTAINERS) :]
    assert sorted(r.rcpt_tos[0] for r in subscribers) == sorted(IMMEDIATE)
    first, _broken, last = _snapshots(tmp_path)
    for r in subscribers:
        assert f"change/pilots/{first.name}/{last.name}/" in r.message["X-Pilotarchive-Key"]
        assert r.message["Subject"].startswith("18 changes: ")
    assert pa("run", cwd=tmp_path).returncode == 0
    assert len(mailserver.received) == len(MAINTAINERS) + len(IMMEDIATE)


def test_dry_run_writes_the_outbox_and_sends_nothing(
    replica: ReplicaServer, mailserver: MailServer, tmp_path: Path
):
    write_config(tmp_path, replica.url + START, mailserver.port)
    _change_step(replica, tmp_path)
    dry = pa("run", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "3 written to the outbox (dry run: none sent)" in dry.stdout
    assert mailserver.received == [] and len(outbox(tmp_path)) == 3
    for path in outbox(tmp_path):  # what would be sent, readable as it is
        msg = email.message_from_bytes(path.read_bytes(), policy=default)
        assert msg["Subject"] == "18 changes: " + one_line(msg["Subject"][12:])
    assert pa("outbox", "send", cwd=tmp_path).returncode == 0
    assert len(mailserver.received) == 3 and outbox(tmp_path) == []


def test_weekly_digest_has_every_change_set_in_order(
    replica: ReplicaServer, mailserver: MailServer, tmp_path: Path
):
    write_config(tmp_path, replica.url + START, mailserver.port)
    replica.set_version("2014-06")
    assert pa("run", cwd=tmp_path).returncode == 0
    for version in ("2014-11-19", "2015-06"):
        replica.set_version(version)
        assert pa("run", cwd=tmp_path).returncode == 0
    weekly = [r for r in mailserver.received if r.rcpt_tos == ["weekly@example.org"]]
    assert weekly == []  # the week has not ended
    # A week later (the clock injected): one digest with both change sets, oldest first.
    config = load_config(tmp_path / "pilotarchive.toml")
    config = dataclasses.replace(config, output=tmp_path / "output")
    target = config.targets[0]
    box = Outbox(config.output)
    state = read_state(config.output, "pilots")
    later = datetime.now(UTC) + timedelta(days=8)
    assert queue_digests(config, target, box, state, later, UTC) == 1
    assert queue_digests(config, target, box, read_state(config.output, "pilots"), later, UTC) == 0
    assert pa("outbox", "send", cwd=tmp_path).returncode == 0
    weekly = [r for r in mailserver.received if r.rcpt_tos == ["weekly@example.org"]]
    assert len(weekly) == 1
    msg = weekly[0].message
    assert "(week " in msg["Subject"]
    text, markup = _parts(msg)
    snaps = _snapshots(tmp_path)
    first_set, second_set = diff_paths(snaps[0], snaps[1]), diff_paths(snaps[1], snaps[2])
    assert msg["Subject"].startswith(
        f"{len(first_set['changes']) + len(second_set['changes'])} changes: "
    )
    for piece in _expected(first_set) + _expected(second_set):
        assert piece in text and piece in html_text(markup)
    headings = [
        f"Crawl of {when(b.name)}, compared with {when(a.name)}"
        for a, b in (snaps[0:2], snaps[1:3])
    ]
    assert text.index(headings[0]) < text.index(headings[1])  # oldest first


class _TitleProxy:
    """The replica behind a proxy that writes a hostile title into its pages: CR/LF raw, as
    character references and percent-encoded, U+2028 as a reference and as a JSON escape."""

    TITLE = "Pilotit seutukaupunkien kehittämiseen"
    EVIL = (
        "Pilotit seutukaupunkien kehittämiseen&#13;&#10;Bcc: victim@example.org"
        "%0d%0aX-Injected: yes&#8232;\\u2028 loppu\r\nTo: all@example.org"
    )

    def __init__(self, upstream: ReplicaServer) -> None:
        self.upstream = upstream
        self.evil = False
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                host, port = "127.0.0.1", int(proxy.upstream.url.rsplit(":", 1)[1])
                conn = HTTPConnection(host, port, timeout=10)
                conn.request("GET", self.path)  # no conditional headers, no gzip
                answer = conn.getresponse()
                body = answer.read()
                if proxy.evil:
                    for charset in ("utf-8", "iso-8859-1"):
                        body = body.replace(proxy.TITLE.encode(charset), proxy.EVIL.encode(charset))
                self.send_response(answer.status)
                for name in ("Content-Type", "Location"):
                    if answer.getheader(name):
                        self.send_header(name, answer.getheader(name))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_subject_is_one_clean_line(replica: ReplicaServer, mailserver: MailServer, tmp_path: Path):
    proxy = _TitleProxy(replica)
    try:
        write_config(
            tmp_path,
            proxy.url + START,
            mailserver.port,
            subscribers=(("researcher@example.org", "fi", "none"),),
        )
        assert pa("run", cwd=tmp_path).returncode == 0
        proxy.evil = True
        result = pa("run", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    finally:
        proxy.close()
    (received,) = mailserver.received
    raw = received.data.replace(b"\r\n", b"\n")
    head = raw.split(b"\n\n", 1)[0]
    unfolded = head.replace(b"\n ", b" ").replace(b"\n\t", b" ")
    assert sum(line.lower().startswith(b"subject:") for line in unfolded.split(b"\n")) == 1
    msg = received.message
    assert msg.get_all("Bcc") is None and msg.get_all("X-Injected") is None
    assert msg.get_all("To") == ["researcher@example.org"]
    subject = str(msg["Subject"])
    assert subject.startswith("1 change: Pilotit seutukaupunkien kehittämiseen") or (
        subject.startswith(tuple(f"{n} changes: Pilotit" for n in range(2, 10)))
    ), subject
    for bad in ("\r", "\n", "\u2028", "%0d", "%0a", "&#13;", "&#10;", "&#8232;", "\\u2028"):
        assert bad not in subject.lower(), (bad, subject)
    assert "Bcc: victim@example.org X-Injected: yes loppu To: all@example.org" in subject


@pytest.mark.parametrize(
    ("title", "clean"),
    [
        ("Pilotit\r\nBcc: x@y", "Pilotit Bcc: x@y"),
        ("Pilotit%0d%0aBcc: x", "Pilotit Bcc: x"),
        ("Pilotit%0D%0ABcc: x", "Pilotit Bcc: x"),
        ("Pilotit&#13;&#10;Bcc", "Pilotit Bcc"),
        ("Pilotit&#x0d;&#x0a;Bcc", "Pilotit Bcc"),
        ("Pilotit\u2028Bcc\u2029x", "Pilotit Bcc x"),
        ("Pilotit\\u2028Bcc", "Pilotit Bcc"),
        ("Pilotit%250d%250aBcc", "Pilotit Bcc"),
        ("Pilotit%0d%E4", "Pilotit %E4"),
        ("a\u200bb\x85c\x00d", "a b c d"),
        ("kehittämiseen 100% varma", "kehittämiseen 100% varma"),
        ("", ""),
    ],
    ids=[
        "crlf",
        "percent",
        "percent-upper",
        "entities",
        "hex-entities",
        "u2028-raw",
        "u2028-escaped",
        "double-percent",
        "not-utf8",
        "format-and-c1",
        "plain-percent",
        "empty",
    ],
)
def test_one_line(title: str, clean: str) -> None:
    assert one_line(title) == clean


def test_slow_server_timeout_keeps_messages(replica: ReplicaServer, tmp_path: Path):
    """A server that accepts the connection and never answers: a timeout, said in one line."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    try:
        write_config(tmp_path, replica.url + START, listener.getsockname()[1], timeout=1)
        _change_step(replica, tmp_path)
        result = pa("run", cwd=tmp_path)
        assert result.returncode == 1
        assert "did not answer within 1 s" in result.stderr
        assert len(outbox(tmp_path)) == 3
    finally:
        listener.close()


def test_failed_crawl_tells_maintainers_only(mailserver: MailServer, tmp_path: Path):
    nothing_there = f"http://127.0.0.1:{free_port()}{START}"  # connection refused
    write_config(tmp_path, nothing_there, mailserver.port)
    result = pa("run", cwd=tmp_path)
    assert result.returncode == 1
    assert "crawl FAILED (subscribers not told)" in result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(r.rcpt_tos[0] for r in mailserver.received) == sorted(MAINTAINERS)
    text, _ = _parts(mailserver.received[0].message)
    assert "wrote no snapshot" in text and "Last healthy snapshot: none yet." in text
    assert runs(tmp_path)[-1]["outcome"] == "crawl_failed"


def test_implicit_tls(tmp_path: Path):
    """security = "tls" (SMTPS): the certificate verified against ca_file, then delivered."""
    import ssl

    from aiosmtpd.controller import Controller

    from pilotarchive.alerts.compose import Trouble, health_alert, health_key
    from pilotarchive.alerts.send import send_waiting
    from pilotarchive.schedule.config import Config, SmtpConfig, Target
    from tests.mailserver import _Handler

    cert, key = make_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    handler, port = _Handler(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=context)
    controller.start()
    try:
        smtp = SmtpConfig(port=port, security="tls", ca_file=cert, timeout=5)
        config = dataclasses.replace(Config(), smtp=smtp, output=tmp_path / "output")
        trouble = Trouble("failed", "20261130T060000.000000Z", "test")
        target = Target("pilots")
        box = Outbox(config.output)
        msg = health_alert(config, target, "ops@example.org", trouble, datetime.now(UTC))
        assert box.put(health_key("pilots", trouble, "ops@example.org"), msg)
        report = send_waiting(smtp, box, box.pending())
        assert report.ok and len(report.sent) == 1
        (received,) = handler.received
        assert received.rcpt_tos == ["ops@example.org"]  # over TLS: a plain client fails
        # Without the CA the certificate does not verify: said, and the message kept.
        assert box.put(health_key("pilots", trouble, "x@example.org"), msg)
        untrusted = dataclasses.replace(smtp, ca_file=None)
        report = send_waiting(untrusted, box, box.pending())
        assert not report.ok and "certificate does not verify" in (report.error or "")
        assert len(box.pending()) == 1
        # A plain client gets no SMTP banner from a TLS port: the message keeps waiting.
        plain = dataclasses.replace(smtp, security="none", timeout=1)
        assert not send_waiting(plain, box, box.pending()).ok
        assert len(box.pending()) == 1 and len(handler.received) == 1
    finally:
        controller.stop()
