"""WARC 1.1 conformance and integrity checks, record by record.

warcio 1.8's command line has ``check`` (digests) but no ``test`` (required fields), so
both are done here, and every problem names the file, the record's position, offset, type
and id, so an archivist can go straight to it.
"""

import re
from pathlib import Path
from typing import Any

from warcio.exceptions import ArchiveLoadFailed
from warcio.timeutils import iso_date_to_datetime

from pilotarchive.archive.read import QuietArchiveIterator

REQUIRED = ("WARC-Record-ID", "Content-Length", "WARC-Date", "WARC-Type")
REQUIRED_BY_TYPE = {
    "warcinfo": ("Content-Type",),
    "response": ("WARC-Target-URI", "Content-Type", "WARC-Block-Digest", "WARC-Payload-Digest"),
    "request": ("WARC-Target-URI", "Content-Type", "WARC-Concurrent-To", "WARC-Block-Digest"),
    "revisit": (
        "WARC-Target-URI",
        "WARC-Profile",
        "WARC-Refers-To-Target-URI",
        "WARC-Refers-To-Date",
        "WARC-Payload-Digest",
    ),
}
PROFILES = {
    "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
    "http://netpreserve.org/warc/1.1/revisit/server-not-modified",
}
_RECORD_ID = re.compile(
    r"^<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}>$"
)


def check_warc(path: Path, label: str) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Problems found, and every record by id (type, offset, target URI) for cross-checks."""
    problems: list[str] = []
    records: dict[str, dict[str, Any]] = {}
    concurrent: list[tuple[str, str]] = []
    iterator: QuietArchiveIterator | None = None
    try:
        with path.open("rb") as fh:
            iterator = QuietArchiveIterator(fh, check_digests=True)
            for n, record in enumerate(iterator):
                headers = record.rec_headers
                kind = headers.get_header("WARC-Type") or "?"
                ident = headers.get_header("WARC-Record-ID") or "?"
                # Read the record through (this runs the digest checks), then ask where it
                # was: asking first would read it to the end unchecked.
                while record.content_stream().read(1 << 16):
                    pass
                offset = iterator.get_record_offset()
                where = f"{label} record {n} at offset {offset} ({kind} {ident})"
                if headers.protocol != "WARC/1.1":
                    problems.append(f"{where}: version {headers.protocol}, not WARC/1.1")
                if n == 0 and kind != "warcinfo":
                    problems.append(f"{where}: the first record is not a warcinfo record")
                for name in (*REQUIRED, *REQUIRED_BY_TYPE.get(kind, ())):
                    if not headers.get_header(name):
                        problems.append(f"{where}: missing {name}")
                if ident != "?" and not _RECORD_ID.match(ident):
                    problems.append(f"{where}: WARC-Record-ID is not <urn:uuid:...>")
                if ident in records:
                    problems.append(f"{where}: WARC-Record-ID used twice")
                for name in ("WARC-Date", "WARC-Refers-To-Date"):
                    value = headers.get_header(name)
                    if value and not _is_date(value):
                        problems.append(f"{where}: {name} {value!r} is not a W3C ISO date")
                if kind == "revisit" and headers.get_header("WARC-Profile") not in PROFILES:
                    problems.append(f"{where}: unknown WARC-Profile")
                if record.digest_checker.passed is False:
                    problems += [f"{where}: {p}" for p in record.digest_checker.problems]
                if to := headers.get_header("WARC-Concurrent-To"):
                    concurrent.append((where, to))
                records[ident] = {
                    "type": kind,
                    "offset": offset,
                    "target_uri": headers.get_header("WARC-Target-URI"),
                }
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
        problems.append(f"{label}: not readable as WARC after {len(records)} record(s): {exc}")
    if iterator is not None and (errors := iterator.err_count):
        problems.append(f"{label}: {errors} record(s) not followed by a blank line (a length "
                        "that is wrong, or bytes damaged)")  # fmt: skip
    for where, to in concurrent:
        if to not in records:
            problems.append(f"{where}: WARC-Concurrent-To {to} is not in this file")
    return problems, records


def _is_date(value: str) -> bool:
    try:
        iso_date_to_datetime(value)
    except ValueError:
        return False
    return bool(re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$", value))
