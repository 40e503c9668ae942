"""Leaving a list: the unsubscribe links of a message, and the record of who left.

Every alert carries ``List-Unsubscribe`` (RFC 2369) with a ``mailto:`` (to ``[mail]
unsubscribe`` when it is one, else to the sender, with a subject that names the list and
the address). With ``[mail] one_click = true`` and a ``site_url``, it also carries an HTTPS
link to ``pilotarchive serve``'s ``unsubscribe`` endpoint on the published site, with
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058): a mail client's
"Unsubscribe" button POSTs to it and the address is off the list, no login, no page to
read. The link carries a token, an HMAC of the list and the address under a secret kept
in the output folder, so nobody can unsubscribe somebody else by guessing URLs.

Who left is kept in ``output/alerts/unsubscribed.json`` (written atomically), which
``run`` reads before it writes any message. A subscriber still in the configuration but
in this file gets nothing; the maintainers' messages are not affected.
"""

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from urllib.parse import quote, urlencode

from pilotarchive.archive.lock import FileLock
from pilotarchive.archive.snapshot import write_atomic
from pilotarchive.exceptions import UnsubscribeRecordDamaged

FOLDER = "alerts"
SECRET_FILE = ".unsubscribe-secret"
RECORD_FILE = "unsubscribed.json"
PATH = "unsubscribe"


def _secret(output: Path) -> bytes:
    """The output folder's secret, made on first use (readable by the owner only)."""
    folder = Path(output) / FOLDER
    file = folder / SECRET_FILE
    try:
        return bytes.fromhex(file.read_text(encoding="ascii").strip())
    except (FileNotFoundError, ValueError):
        pass
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(folder / ".secret.lock", wait=30, what="the unsubscribe secret"):
        try:
            return bytes.fromhex(file.read_text(encoding="ascii").strip())
        except (FileNotFoundError, ValueError):
            value = secrets.token_bytes(32)
            write_atomic(file, value.hex().encode("ascii") + b"\n")
            os.chmod(file, 0o600)
            return value


def token(output: Path, target: str, email: str) -> str:
    message = f"{target}\n{email.lower()}".encode()
    return hmac.new(_secret(output), message, hashlib.sha256).hexdigest()[:32]


def one_click_url(site_url: str, output: Path, target: str, email: str) -> str:
    query = urlencode({"list": target, "email": email, "token": token(output, target, email)})
    return f"{site_url}{PATH}?{query}"


def mailto_url(base: str, sender: str, target: str, email: str) -> str:
    """``mailto:`` to ``base`` (``[mail] unsubscribe``) when it is one, else to the sender,
    with a subject naming the list and the address."""
    address = base if base.startswith("mailto:") else f"mailto:{sender}"
    address = address.replace("{email}", email).replace("{target}", target)
    if "?" not in address:
        address += "?subject=" + quote(f"unsubscribe {target} {email}")
    return address


def _record(output: Path) -> Path:
    return Path(output) / FOLDER / RECORD_FILE


def unsubscribed(output: Path) -> dict[str, list[str]]:
    """List name -> the addresses (lower case) that left it.

    A damaged record raises :class:`UnsubscribeRecordDamaged` rather than reading as
    empty: an empty answer would mail the people who left, and ``leave`` would overwrite
    the record and lose them for good.
    """
    file = _record(output)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise UnsubscribeRecordDamaged(
            f"{file}: cannot be read ({exc}); it records who left the alert lists, so no "
            "alert is mailed and nobody can leave until it is restored or repaired"
        ) from None
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and all(isinstance(a, str) for a in v) for v in data.values()
    ):
        raise UnsubscribeRecordDamaged(
            f"{file}: not a mapping of list names to lists of addresses; it records who "
            "left the alert lists, so no alert is mailed and nobody can leave until it is "
            "restored or repaired"
        )
    return {str(k): list(v) for k, v in data.items()}


def has_left(output: Path, target: str, email: str) -> bool:
    return email.lower() in unsubscribed(output).get(target, [])


def leave(output: Path, target: str, email: str, given: str) -> bool:
    """Take ``email`` off ``target``'s list when ``given`` is its token; False otherwise."""
    if not hmac.compare_digest(given.encode(), token(output, target, email).encode()):
        return False
    folder = Path(output) / FOLDER
    with FileLock(folder / ".unsubscribe.lock", wait=30, what="the unsubscribe record"):
        data = unsubscribed(output)
        gone = set(data.get(target, []))
        gone.add(email.lower())
        data[target] = sorted(gone)
        text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        write_atomic(_record(output), text.encode("utf-8"))
    return True
