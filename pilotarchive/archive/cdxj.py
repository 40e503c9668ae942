"""The CDXJ index of a snapshot's WARC, as webrecorder's own indexer writes it.

One line per response and revisit record, sorted (SURT key, timestamp), with the WARC
file named relative to the snapshot's ``archive/`` folder, as pywb and WACZ expect.

A crawl knows each record's offset, length and fields when it writes it, so it writes the
record's line then (:class:`IndexLines`) and sorts the lines at the commit, instead of
reading the whole WARC back through the indexer (0.35 s of a 2,000-page crawl's commit).
The lines are cdxj_indexer's, field for field and byte for byte: the HTTP head is read
back with warcio's own parser, and any record the fast path does not know how to index as
the indexer would (a POST, a resource record, a URL that is not ASCII) sends the whole
file back to the indexer. Resumed and split crawls use the indexer too, and it stays the
reference the tests compare with.
"""

import importlib
import json
import os
import re
import sys
import types
from collections.abc import Callable
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any, ClassVar, TextIO

from warcio.recordloader import ArcWarcRecordLoader
from warcio.timeutils import iso_date_to_timestamp

from pilotarchive.archive.extsort import sorted_lines

SORT_BUFFER = 8 << 20  # characters of CDXJ lines sorted in memory at once
_AMF = "cdxj_indexer.amf"


def _amf_on_demand() -> None:
    """cdxj_indexer imports pyamf (and through it pkg_resources) for the one thing it does
    with it: reading the body of a Flash AMF POST into the index key. A crawl makes GET
    requests only, and the import is 0.1 s of every crawl; the real module is imported the
    first time an AMF body is met."""
    if _AMF in sys.modules:
        return
    stub = types.ModuleType(_AMF)

    def amf_parse(string: Any) -> Any:
        if sys.modules.get(_AMF) is stub:
            del sys.modules[_AMF]
        return importlib.import_module(_AMF).amf_parse(string)

    stub.amf_parse = amf_parse  # type: ignore[attr-defined]
    sys.modules[_AMF] = stub


def write_cdxj(warcs: list[Path], out: Path, lines: "IndexLines | None" = None) -> Path:
    """One index over the snapshot's WARC files (one per worker of a split crawl).

    ``lines``: the lines written with the one WARC as its records were, used when they are
    exact (then sorted, repeated lines dropped, as the indexer's sorting writer does);
    otherwise, and always for several WARCs, the indexer reads the WARCs. The lines' file
    is removed either way. cdxj_indexer is imported here, not at the top, and without
    pyamf (see _amf_on_demand).
    """
    if lines is not None:
        try:
            if lines.exact and len(warcs) == 1:
                return _sorted_index(lines.path, out)
        finally:
            lines.discard()
    _amf_on_demand()
    tmp = out.with_name(f".tmp-{out.name}")
    with tmp.open("w", encoding="utf-8") as fh:
        _indexer()(
            fh,
            [str(w) for w in warcs],
            sort=True,
            post_append=True,
            dir_root=str(warcs[0].parent),
            # The indexer sorts in runs on disk past this much text (32 MB by default).
            max_sort_buff_size=SORT_BUFFER,
        ).process_all()
    os.replace(tmp, out)
    return out


# What the indexer indexes unless told otherwise, as cdxj_indexer 1.5 ships it (and pywb
# expects): py-wacz appends "warcinfo" to that very class list when it is imported, so in
# a process that made a WACZ first, every later index gained a line for each warcinfo.
_DEFAULT_RECORDS = ["response", "revisit", "resource", "metadata"]


@cache
def _indexer() -> type:
    """cdxj_indexer's CDXJIndexer with its own default records, whatever was imported."""
    from cdxj_indexer.main import CDXJIndexer

    class SnapshotIndexer(CDXJIndexer):  # type: ignore[misc]
        DEFAULT_RECORDS: ClassVar[list[str]] = list(_DEFAULT_RECORDS)

    return SnapshotIndexer


def _sorted_index(source: Path, out: Path) -> Path:
    tmp = out.with_name(f".tmp-{out.name}")
    work = out.with_name(f".tmp-{out.name}-runs")
    last = None
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        for line in sorted_lines([source], work):
            if line != last:  # as the indexer's SortingWriter: one of identical lines
                fh.write(line)
            last = line
    os.replace(tmp, out)
    return out


# The records cdxj_indexer indexes by default, and how it reads their fields.
_INDEXED = ("response", "revisit")
_SKIPPED = ("warcinfo", "request")  # never indexed
_FIELDS_ONLY = ("metadata", "resource")  # not indexed when they hold WARC fields
_MIME_END = re.compile(r"[;\s]")  # CDXJIndexer.RE_SPACE
_SAFE_METHODS = ("GET", "HEAD")  # a POST or PUT gets its body appended to the index key
_HTTP_SCHEMES = ("http:", "https:")


class IndexLines:
    """The CDXJ lines of one WARC's records, written to ``path`` as the records are.

    ``exact`` turns False for good when a record is met that the indexer would index in a
    way this does not reproduce, or when a record's line could not be written: the commit
    then runs the indexer over the WARC instead.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.exact = True
        self._fh: TextIO | None = path.open("w", encoding="utf-8", newline="")
        self._parse = ArcWarcRecordLoader(verify_http=False).http_parser.parse
        self._surt: Callable[[str], str] | None = None

    def add(self, record: Any, method: str, offset: int, length: int, filename: str) -> None:
        """The line of ``record``, just written at ``offset`` (``length`` bytes, its gzip
        member) into ``filename``; ``method`` is its request's."""
        if not self.exact or self._fh is None:
            return
        kind = record.rec_headers.get_header("WARC-Type")
        if kind in _SKIPPED or (
            kind in _FIELDS_ONLY
            and record.rec_headers.get_header("Content-Type") == "application/warc-fields"
        ):
            return  # as CDXJIndexer.filter_record: a 304's head kept beside its revisit
        try:
            line = self._line(record, kind, method, offset, length, filename)
        except Exception:  # anything unexpected: the indexer decides, as it always did
            line = None
        if line is None:
            self.exact = False
            return
        self._fh.write(line)

    def _line(
        self, record: Any, kind: str, method: str, offset: int, length: int, filename: str
    ) -> str | None:
        headers = record.rec_headers
        url = headers.get_header("WARC-Target-URI") or ""
        if kind not in _INDEXED or method.upper() not in _SAFE_METHODS:
            return None
        if not url.isascii() or not url.startswith(_HTTP_SCHEMES) or " " in url or url[:1] == "<":
            return None  # the reader rewrites such URIs; the indexer shows how
        http = None
        buff = record.http_headers.headers_buff if record.http_headers is not None else None
        if buff:  # read back as the indexer reads it: the same parser, the same decoding
            try:
                http = self._parse(BytesIO(buff))
            except EOFError:
                if kind != "revisit":
                    return None
        index: dict[str, str] = {"url": url}
        if kind == "revisit":
            index["mime"] = "warc/revisit"
        elif http and (mime := http.get_header("content-type")) is not None:
            index["mime"] = _MIME_END.split(mime, 1)[0].strip() if mime else mime
        if http:  # a head with neither status line nor headers counts as none there too
            index["status"] = http.get_statuscode()
        digest = headers.get_header("WARC-Payload-Digest")
        if not digest:
            return None
        index["digest"] = digest
        index["length"] = str(length)
        index["offset"] = str(offset)
        index["filename"] = filename
        if self._surt is None:
            import surt  # cdxj_indexer's own key; imported with the first record

            self._surt = surt.surt
        try:
            key = self._surt(url)
        except Exception:
            key = url
        ts = iso_date_to_timestamp(headers.get_header("WARC-Date"))
        return f"{key} {ts} {json.dumps(index)}\n"

    def close(self) -> None:
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:
                self.exact = False
            self._fh = None

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)
