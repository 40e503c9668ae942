"""The CDXJ index of a snapshot's WARC, written with webrecorder's own indexer.

One line per response, revisit and request record, sorted (SURT key, timestamp), with the
WARC file named relative to the snapshot's ``archive/`` folder, as pywb and WACZ expect.
"""

import importlib
import os
import sys
import types
from pathlib import Path
from typing import Any

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


def write_cdxj(warcs: list[Path], out: Path) -> Path:
    """One index over the snapshot's WARC files (one per worker of a split crawl).

    cdxj_indexer is imported here, not at the top, and without pyamf (see _amf_on_demand).
    """
    _amf_on_demand()
    from cdxj_indexer.main import write_cdx_index

    tmp = out.with_name(f".tmp-{out.name}")
    with tmp.open("w", encoding="utf-8") as fh:
        write_cdx_index(
            fh,
            [str(w) for w in warcs],
            # The indexer sorts in runs on disk past this much text (32 MB by default).
            {
                "sort": True,
                "post_append": True,
                "dir_root": str(warcs[0].parent),
                "max_sort_buff_size": SORT_BUFFER,
            },
        )
    os.replace(tmp, out)
    return out
