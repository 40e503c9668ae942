"""The CDXJ index of a snapshot's WARC, written with webrecorder's own indexer.

One line per response, revisit and request record, sorted (SURT key, timestamp), with the
WARC file named relative to the snapshot's ``archive/`` folder, as pywb and WACZ expect.
"""

import os
from pathlib import Path

SORT_BUFFER = 8 << 20  # characters of CDXJ lines sorted in memory at once


def write_cdxj(warcs: list[Path], out: Path) -> Path:
    """One index over the snapshot's WARC files (one per worker of a split crawl).

    cdxj_indexer is imported here, not at the top: through pyamf and pkg_resources it costs
    a tenth of a second that only the end of a crawl needs.
    """
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
