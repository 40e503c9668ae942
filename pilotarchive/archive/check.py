"""WARC 1.1 conformance and integrity checks, record by record.

warcio 1.8's command line has ``check`` (digests) but no ``test`` (required fields), so
both are done here, and every problem names the file, the record's position, offset, type
and id, so an archivist can go straight to it.
"""

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
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
    except (ArchiveLoadFailed, OSError, EOFError, ValueError, zlib.error) as exc:
        found = damaged_members(path, label)
        problems += found or [f"{label}: not readable as WARC after {len(records)} record(s): "
                              f"{_short(exc)}"]  # fmt: skip
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


def _short(exc: BaseException) -> str:
    """An exception's message in one printable line (warcio quotes the damaged bytes)."""
    text = " ".join(str(exc).split())
    text = "".join(ch if ch.isprintable() and ord(ch) < 0x7F else "?" for ch in text)
    return text[:120] + ("..." if len(text) > 120 else "")


GZIP_MAGIC = b"\x1f\x8b\x08"
_HEAD = 4096  # bytes of a record's start kept to name it (its WARC header)


def members(path: Path) -> Iterator[tuple[int, bytes, str | None]]:
    """``(offset, start of the record, why it is damaged or None)`` for every gzip member.

    Each record of a WARC written here is its own gzip member, so a damaged byte spoils one
    member only; its CRC (or its deflate stream) fails, and the walk goes on at the next
    member that starts a WARC record. What of the damaged record's header could still be
    decompressed names it.
    """
    size = path.stat().st_size
    with path.open("rb") as fh:
        pos = 0
        while pos < size:
            fh.seek(pos)
            inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
            head = bytearray()
            consumed = 0
            try:
                while not inflater.eof:
                    # Small pieces until the header is out: a CRC that fails at the
                    # member's end must not take with it what was decompressed before.
                    chunk = fh.read(256 if len(head) < _HEAD else 1 << 16)
                    if not chunk:
                        raise EOFError("the file ends inside this record (truncated)")
                    consumed += len(chunk)
                    out = inflater.decompress(chunk)
                    if len(head) < _HEAD:
                        head += out[: _HEAD - len(head)]
            except (zlib.error, EOFError) as exc:
                yield pos, _salvage(fh, pos), _short(exc)
                found = _next_member(fh, pos + 1, size)
                if found is None:
                    return
                pos = found
                continue
            yield pos, bytes(head), None
            pos += consumed - len(inflater.unused_data)


def _salvage(fh: Any, pos: int) -> bytes:
    """As much of a damaged member's start as decompresses, fed a few bytes at a time (a
    CRC that fails loses the output of the piece it came with)."""
    fh.seek(pos)
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    head = bytearray()
    try:
        while len(head) < _HEAD and not inflater.eof:
            piece = fh.read(8)
            if not piece:
                break
            head += inflater.decompress(piece)
    except zlib.error:
        pass
    return bytes(head[:_HEAD])


def _next_member(fh: Any, start: int, size: int) -> int | None:
    """The offset of the next gzip member that starts a WARC record, after ``start``."""
    pos = start
    while pos < size:
        fh.seek(pos)
        window = fh.read(1 << 20)
        at = window.find(GZIP_MAGIC)
        while at >= 0:
            fh.seek(pos + at)
            try:
                if (
                    zlib.decompressobj(zlib.MAX_WBITS | 16)
                    .decompress(fh.read(512))
                    .startswith(b"WARC/")
                ):
                    return pos + at
            except zlib.error:
                pass
            at = window.find(GZIP_MAGIC, at + 1)
        if len(window) < 1 << 20:
            return None
        pos += len(window) - len(GZIP_MAGIC)
    return None


def head_fields(head: bytes) -> dict[str, str]:
    """The WARC header fields of a record's start; a line cut short is left out."""
    fields: dict[str, str] = {}
    for line in head.split(b"\r\n")[1:-1]:
        if not line:
            break
        name, sep, value = line.decode("latin-1").partition(":")
        if sep:
            fields[name.strip().lower()] = value.strip()
    return fields


def _cdxj_by_offset(warc: Path) -> dict[int, str]:
    """What the snapshot's CDXJ index says lies at each offset of ``warc`` (type and URL)."""
    import json

    index = warc.parent / "index.cdxj"
    out: dict[int, str] = {}
    try:
        lines = index.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            data = json.loads(line.split(" ", 2)[2])
            if data.get("filename") == warc.name:
                out[int(data["offset"])] = f"{data.get('mime')} {data.get('url')}"
        except (IndexError, ValueError, KeyError, TypeError):
            continue
    return out


def damaged_members(path: Path, label: str) -> list[str]:
    """Every damaged record of a WARC, each named by its position, offset, type, id and URI
    (from what of its header survives, else from the CDXJ index)."""
    problems = []
    indexed: dict[int, str] | None = None
    try:
        for n, (offset, head, why) in enumerate(members(path)):
            if why is None:
                continue
            fields = head_fields(head) if head.startswith(b"WARC/") else {}
            if fields.get("warc-record-id"):
                # The index, written when the record was whole, before what a damaged
                # header decompresses to.
                if indexed is None:
                    indexed = _cdxj_by_offset(path)
                uri = indexed.get(offset, "").partition(" ")[2] or fields.get("warc-target-uri")
                what = f"{fields.get('warc-type', '?')} {fields['warc-record-id']}" + (
                    f" {uri}" if uri else ""
                )
            else:
                if indexed is None:
                    indexed = _cdxj_by_offset(path)
                what = (f"{indexed[offset]}, as archive/index.cdxj says" if offset in indexed
                        else "its header is unreadable too")  # fmt: skip
            what = "".join(ch if ch.isprintable() else "?" for ch in what)
            problems.append(f"{label} record {n} at offset {offset} ({what}): damaged ({why})")
    except OSError as exc:
        problems.append(f"{label}: cannot be read ({exc.strerror or exc})")
    return problems


@dataclass
class Verdict:
    """One snapshot's audit: its damage (``problems``) and what an archivist should know."""

    id: str
    target: str | None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def audit(output: Path, only: list[Path] | None = None, target: str | None = None,
          ) -> list[Verdict]:  # fmt: skip
    """Check snapshots whole: records, manifests and checksums, every WARC record's digests
    re-computed (a fixity audit: bit rot shows as a digest or CRC that no longer matches),
    and every revisit resolved to its original record and payload digest.

    ``only``: these snapshots (default: every snapshot of the output folder, or of
    ``target`` when one is given). Revisits
    are resolved against every snapshot of the folder; an original outside the audited
    ones has its own digests re-computed too, since the revisit replays only with it.
    """
    from pilotarchive.archive.depends import archive_dependencies, verify_original
    from pilotarchive.archive.snapshot import (
        ArchiveChecks,
        list_snapshots,
        snapshot_dir,
        validate_snapshot,
    )

    every = list_snapshots(output, damaged=True)
    targets = {info.id: info.target for info in every if not info.damaged}
    if only is not None:
        names = {p.name for p in only}
        chosen = [info for info in every if info.id in names]
    elif target is None:
        chosen = every
    else:
        chosen = [info for info in every if info.damaged or info.target == target]
    audited = {info.id for info in chosen}
    deps = archive_dependencies(output, indexed=True, through=audited)
    checked_outside: dict[str, str | None] = {}
    checks = ArchiveChecks(output)
    verdicts = []
    for info in chosen:
        verdict = Verdict(info.id, info.target)
        verdicts.append(verdict)
        if info.damaged:
            verdict.problems.append(info.damaged)
            continue
        verdict.problems += validate_snapshot(info.path)
        entry = deps.get(info.id)
        if entry is None:
            continue
        verdict.problems += entry.problems()
        for dep in entry.dependencies:
            original = dep.original
            if dep.dangling or original is None or original.snapshot in audited:
                continue
            if original.record_id not in checked_outside:
                checked_outside[original.record_id] = verify_original(
                    snapshot_dir(output), original
                )
            if why := checked_outside[original.record_id]:
                verdict.problems.append(
                    f"archive/{dep.revisit.filename} revisit at offset {dep.revisit.offset} "
                    f"({dep.revisit.record_id}): its original is damaged: {why}"
                )
        for other, count in sorted(entry.needs.items()):
            # The records its revisits stand for may still read, but the WARC holding them
            # is not the one its manifest vouches for: `export` and `site` leave this
            # snapshot out as citing no evidence, and the audit says the same.
            if other != info.id and (why := checks.problem(other)):
                verdict.problems.append(
                    f"{count} revisit(s) stand for records of snapshot {other}, which is no "
                    f"evidence now ({why}); `export` and `site` leave this snapshot out"
                )
            if targets.get(other) != info.target:
                verdict.notes.append(
                    f"{count} revisit(s) point into snapshot {other} of "
                    f"{_target_name(targets.get(other))}, not of this snapshot's "
                    f"{_target_name(info.target)}: deleting that snapshot would break them"
                )
    return verdicts


def _target_name(target: str | None) -> str:
    return f"target {target!r}" if target else "no target (an untargeted crawl)"
