"""Mail addresses and SMTP servers that do not play along (issue 16, items 10 and 11).

Against real servers on 127.0.0.1: aiosmtpd with and without SMTPUTF8, and
:class:`~tests.mailserver.DripServer`, which answers but never finishes an answer. The
outbox is filled in-process with real messages (``health_alert``) and sent by the CLI in a
subprocess, as a user or cron would.
"""

import email
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.policy import default
from pathlib import Path

import pytest

from pilotarchive.alerts.compose import Trouble, health_alert, health_key
from pilotarchive.alerts.outbox import MAX_ATTEMPTS, Outbox, attempts_file
from pilotarchive.exceptions import ConfigError
from pilotarchive.replica.server import ReplicaServer
from pilotarchive.schedule.config import Config, Target, parse_config
from tests.alerting import outbox, pa, runs, sent, write_config
from tests.mailserver import DripServer, MailServer

START = "/seutukaupunkipilotit"
NOWHERE = "http://127.0.0.1:9/seutukaupunkipilotit"  # never crawled by `outbox send`
INTERNATIONAL = "jürgen@exämple.org"


@pytest.fixture
def mailserver() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


def _queue(folder: Path, *recipients: str, target: str = "pilots") -> list[Path]:
    """One maintainer's message per recipient in ``folder/output/outbox``, oldest first."""
    box = Outbox(folder / "output")
    config = Config(output=box.output)
    trouble = Trouble("failed", "20261130T060000.000000Z", "test")
    paths = []
    for person in recipients:
        key = health_key(target, trouble, person)
        msg = health_alert(config, Target(target), person, trouble, datetime.now(UTC))
        before = set(outbox(folder))
        assert box.put(key, msg)
        (path,) = set(outbox(folder)) - before
        when = 1_700_000_000 + len(before)
        os.utime(path, (when, when))  # the send order
        paths.append(path)
    return paths


def _attempts(message: Path) -> dict:
    return json.loads(attempts_file(message).read_text(encoding="utf-8"))


# -- item 10: addresses --------------------------------------------------------------------

CONFIG = """\
[smtp]
port = 2525
{smtp}
[mail]
sender = "{sender}"
maintainers = ["ops@example.org"]

[[target]]
name = "pilots"
maintainers = ["{maintainer}"]
subscribers = [{{ email = '{email}' }}]
"""


def _config(
    *,
    email: str = "a@example.org",
    sender: str = "pilotarchive <pilotarchive@example.org>",
    maintainer: str = "ops2@example.org",
    smtp: str = "",
) -> Config:
    text = CONFIG.format(email=email, sender=sender, maintainer=maintainer, smtp=smtp)
    return parse_config(text, Path("pilotarchive.toml"), environ={})


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("email", "a@b:c", "target[0].subscribers[0].email: 'a@b:c' is not one plain address"),
        ("email", "x@y(comment)", "'x@y(comment)' is not one plain address"),
        ("email", "Jürgen <j@example.org>", "'Jürgen <j@example.org>' is not"),
        ("email", '"ab"@example.org', "'\"ab\"@example.org' is not one plain address"),
        ("email", "a@[127.0.0.1]", "'[127.0.0.1]' is not a host name"),
        ("email", "a..b@example.org", "is not one plain address"),
        ("email", "a@example.org.", "is not a host name"),
        ("email", INTERNATIONAL, "set [smtp] smtputf8 = true"),
        ("email", "a@exämple.org", "write the domain as 'xn--exmple-cua.org'"),
        ("maintainer", "ops@y(c)", "target[0].maintainers[0]: 'ops@y(c)' is not one plain"),
        ("sender", "pilotarchive <p@example.org>junk", "mail.sender: "),
        ("sender", "p <p@example.org(c)>", "mail.sender: 'p@example.org(c)' is not one plain"),
        ("sender", "archive, pilots <p@example.org>", "quote a name with"),
        ("sender", "p <pä@example.org>", "set [smtp] smtputf8 = true"),
        ("sender", "=?utf-8?q?a=0D=0ABcc:_x@example.org?= <p@example.org>", "a line break"),
    ],
    ids=[
        "trailing-colon",
        "comment",
        "display-name",
        "quoted-local",
        "domain-literal",
        "double-dot",
        "trailing-dot",
        "international-without-smtputf8",
        "idn-domain-ascii-hint",
        "maintainer-comment",
        "sender-trailing-junk",
        "sender-comment",
        "sender-unquoted-comma",
        "sender-international",
        "sender-encoded-line-break",
    ],
)
def test_config_takes_one_plain_address_only(field: str, value: str, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _config(**{field: value})
    assert said in str(caught.value), str(caught.value)
    assert "\n" not in str(caught.value)


def test_config_takes_plain_and_allowed_international_addresses() -> None:
    config = _config(email="first.last+tag@sub.example.org", maintainer="o'neil@example.fi")
    assert config.targets[0].subscribers[0].email == "first.last+tag@sub.example.org"
    allowed = _config(email=INTERNATIONAL, sender="Jürgen <pä@exämple.org>", smtp="smtputf8 = true")
    assert allowed.smtp.smtputf8 and allowed.targets[0].subscribers[0].email == INTERNATIONAL


def test_a_failing_message_never_blocks_the_others(mailserver: MailServer, tmp_path: Path):
    """The server has no SMTPUTF8; the oldest messages are bad (an internationalised address,
    two that are not plain): each is recorded and kept, the good ones are delivered once,
    and after MAX_ATTEMPTS the bad ones are moved aside, where `outbox retry` finds them."""
    write_config(tmp_path, NOWHERE, mailserver.port)
    bad = _queue(tmp_path, INTERNATIONAL, "a@b:c", "x@y(comment)")
    good = _queue(tmp_path, "ops@example.org", "oncall@example.org")
    first = pa("outbox", "send", cwd=tmp_path)  # no traceback (pa checks)
    assert first.returncode == 1
    assert len(first.stderr.strip().splitlines()) == 1, first.stderr
    assert "does not offer SMTPUTF8" in first.stderr and "3 message(s) not sent" in first.stderr
    assert sorted(r.rcpt_tos[0] for r in mailserver.received) == [
        "oncall@example.org",
        "ops@example.org",
    ], "never a@b or x@y"
    assert outbox(tmp_path) == sorted(bad)
    assert sorted(p.name for p in sent(tmp_path)) == sorted(p.name for p in good)
    assert [_attempts(p)["attempts"] for p in bad] == [1, 1, 1]
    reasons = [_attempts(p)["failures"][0]["reason"] for p in bad]
    assert "jürgen@exämple.org is an internationalised address" in reasons[0]
    assert "To: 'a@b:c' is not one plain address" in reasons[1]
    assert "To: 'x@y(comment)' is not one plain address" in reasons[2]
    listing = pa("outbox", cwd=tmp_path)
    assert "3 message(s) waiting" in listing.stdout and "1 failed attempt" in listing.stdout

    for _ in range(MAX_ATTEMPTS - 1):
        again = pa("outbox", "send", cwd=tmp_path)
        assert again.returncode == 1
    assert "3 given up after 5 attempts" in again.stderr, again.stderr
    assert len(mailserver.received) == 2, "the good ones exactly once"
    assert outbox(tmp_path) == []
    dead = tmp_path / "output" / "undeliverable"
    assert sorted(p.name for p in dead.glob("*.eml")) == sorted(p.name for p in bad)
    assert _attempts(dead / bad[0].name)["attempts"] == MAX_ATTEMPTS
    listing = pa("outbox", cwd=tmp_path)
    assert "3 message(s) undeliverable" in listing.stdout
    assert pa("outbox", "send", cwd=tmp_path).returncode == 0, "nothing waits"
    back = pa("outbox", "retry", cwd=tmp_path)
    assert back.returncode == 0 and "3 message(s) back" in back.stdout
    assert outbox(tmp_path) == sorted(bad) and not attempts_file(bad[0]).exists()


def test_international_address_with_smtputf8(replica: ReplicaServer, tmp_path: Path):
    """`run` with an internationalised subscriber: refused in the file unless allowed, then
    delivered with SMTPUTF8 by a server that offers it, its To header in UTF-8."""
    server = MailServer(smtputf8=True).start()
    try:
        file = write_config(
            tmp_path,
            replica.url + START,
            server.port,
            subscribers=(("analyst@example.org", "en", "none"), (INTERNATIONAL, "fi", "none")),
        )
        refused = pa("run", cwd=tmp_path)
        assert refused.returncode == 2 and "smtputf8 = true" in refused.stderr, refused.stderr
        file.write_text(file.read_text().replace("timeout = 5", "timeout = 5\nsmtputf8 = true"))
        replica.set_version("2014-11-19")
        assert pa("run", cwd=tmp_path).returncode == 0
        replica.set_version("2015-06")
        result = pa("run", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "2 sent" in result.stdout
        (got,) = [r for r in server.received if r.rcpt_tos == [INTERNATIONAL]]
        assert "SMTPUTF8" in got.mail_options
        # In UTF-8, as RFC 6532 has it (RFC 2047 words in an address are no address).
        assert f"\r\nTo: {INTERNATIONAL}\r\n".encode() in got.data
        headers = email.message_from_string(got.data.decode("utf-8"), policy=default)
        assert headers["To"].addresses[0].addr_spec == INTERNATIONAL
        assert outbox(tmp_path) == []
    finally:
        server.stop()


# -- item 11: a server that never finishes -------------------------------------------------

TIMEOUT = 2


@pytest.mark.parametrize("where", ["greeting", "ehlo", "data"])
def test_a_dripping_server_is_cut_off_at_the_timeout(where: str, tmp_path: Path):
    """A server that keeps sending (a byte, a `250-` line) every half second never trips a
    per-read timeout; the whole exchange still ends at the timeout, said in one line, and the
    message waits in the outbox for the next send."""
    server = DripServer(where, every=0.5)
    try:
        write_config(tmp_path, NOWHERE, server.port, timeout=TIMEOUT)
        (message,) = _queue(tmp_path, "ops@example.org")
        started = time.monotonic()
        result = pa("outbox", "send", cwd=tmp_path, timeout=60)
        took = time.monotonic() - started
    finally:
        server.stop()
    assert result.returncode == 1
    assert took < TIMEOUT + 6, f"outbox send took {took:.1f} s"
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"did not finish within {TIMEOUT} s" in result.stderr, result.stderr
    assert outbox(tmp_path) == [message] and sent(tmp_path) == []
    # A server that never lets the conversation start counts against no message; one that
    # took the message and never answered counts against it (it may be the message).
    assert attempts_file(message).exists() == (where == "data")


def test_run_with_a_dripping_server_ends_and_frees_the_target(
    replica: ReplicaServer, tmp_path: Path
):
    """`run` sends what waits after its crawl: cut off too, logged, and the lock freed."""
    server = DripServer("ehlo", every=0.5)
    try:
        write_config(tmp_path, replica.url + START, server.port, timeout=TIMEOUT)
        _queue(tmp_path, "ops@example.org")
        started = time.monotonic()
        result = pa("run", cwd=tmp_path, timeout=90)
        took = time.monotonic() - started
    finally:
        server.stop()
    assert result.returncode == 1
    assert took < 45, f"run took {took:.1f} s (a one-page crawl and a {TIMEOUT} s send)"
    assert f"did not finish within {TIMEOUT} s" in result.stderr
    assert runs(tmp_path)[-1]["outcome"] == "mail_failed"
    assert len(outbox(tmp_path)) == 1


def test_a_recipient_the_server_refuses_is_recorded_and_the_rest_go(tmp_path: Path):
    """The server refuses one recipient (550): recorded with its reason, the others sent."""
    from aiosmtpd.controller import Controller

    from pilotarchive.alerts.send import send_waiting
    from pilotarchive.schedule.config import SmtpConfig
    from tests.mailserver import _Handler, free_port

    class Refusing(_Handler):
        async def handle_RCPT(self, server, session, envelope, address, options) -> str:
            if address == "gone@example.org":
                return "550 5.1.1 no such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    handler, port = Refusing(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        _, gone, _ = _queue(tmp_path, "a@example.org", "gone@example.org", "b@example.org")
        box = Outbox(tmp_path / "output")
        smtp = SmtpConfig(port=port, timeout=5)
        at = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
        report = send_waiting(smtp, box, box.pending(), now=lambda: at)
        assert [item.recipient for item, _ in report.failed] == ["gone@example.org"]
        assert report.error is None
        assert sorted(r.rcpt_tos[0] for r in handler.received) == ["a@example.org", "b@example.org"]
        assert _attempts(gone) == {
            "attempts": 1,
            "failures": [
                {
                    "at": "2026-12-01T06:00:00Z",
                    "reason": "gone@example.org refused (550 5.1.1 no such user)",
                }
            ],
        }
        assert len(list(box.sent.glob("*.eml"))) == 2 and [i.path for i in box.pending()] == [gone]
    finally:
        controller.stop()


def test_a_server_flooding_one_reply_is_cut_off_in_bounded_memory(tmp_path: Path):
    """smtplib keeps every ``250-`` line of a reply: a server sending a megabyte of them at
    a time grew `outbox send` to 4 GB before the deadline. A reply is bounded in lines and
    bytes; the message waits for the next send."""
    import subprocess
    import sys

    server = DripServer("flood", every=0)
    try:
        write_config(tmp_path, NOWHERE, server.port, timeout=30)
        (message,) = _queue(tmp_path, "ops@example.org")
        probe = (
            "import json, sys\n"
            f"sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})\n"
            "from pilotarchive.cli import main\n"
            "from tests.memory import peak_rss\n"
            "code = main(['outbox', 'send'])\n"
            "peak = peak_rss()\n"
            "print(json.dumps([code, peak]), file=sys.stderr)\n"
        )
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                              text=True, timeout=60)  # fmt: skip
        took = time.monotonic() - started
    finally:
        server.stop()
    said, result = proc.stderr.strip().splitlines()[:-1], json.loads(proc.stderr.splitlines()[-1])
    code, peak = result
    assert code == 1 and len(said) == 1 and "reply too long" in said[0], proc.stderr
    assert peak < 200 * 1024 * 1024, f"peak {peak / 2**20:.0f} MB"
    assert took < 20, f"took {took:.1f} s"  # not the 30 s deadline: cut at the bound
    assert outbox(tmp_path) == [message] and sent(tmp_path) == []
