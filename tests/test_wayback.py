"""The replica's web archive (``replica serve --archive``): a CDX API and ``id_`` replay
that answer as the Wayback Machine does, so that ``backfill`` can be tried offline.

Capture times are written here by hand (the archive's plan: captures of each replica
version spread over days, as a crawler's); bodies come from the replica's own renderer.
The backfill against it, end to end, is the README's archivist journey
(tests/test_readme.py).
"""

import base64
import hashlib
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.utils import parsedate_to_datetime

import pytest

from pilotarchive.replica.content import VERSIONS
from pilotarchive.replica.server import render
from pilotarchive.replica.wayback import WaybackServer

FI = "http://www.tem.fi/index.phtml?s=4398"
FI_TIMES = ["20140616090001", "20140618090000", "20141120100001", "20150617080001"]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with OPENER.open(url, timeout=10) as answer:
            return answer.status, dict(answer.headers.items()), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


@pytest.fixture(scope="module")
def wayback() -> Iterator[str]:
    with WaybackServer(port=0) as server:
        yield server.url


def cdx(wayback: str, query: str) -> list[list[str]]:
    status, headers, body = get(f"{wayback}/cdx/search/cdx?{query}")
    assert status == 200 and headers["Content-Type"] == "application/json"
    return json.loads(body)


def test_cdx_lists_a_urls_captures_oldest_first(wayback: str) -> None:
    table = cdx(wayback, f"url={FI}&output=json")
    assert table[0] == ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest",
                        "length"]  # fmt: skip
    assert [row[1] for row in table[1:]] == FI_TIMES
    assert {row[0] for row in table[1:]} == {"fi,tem)/index.phtml?s=4398"}
    assert {row[4] for row in table[1:]} == {"200"}


@pytest.mark.parametrize(
    ("query", "times"),
    [
        ("collapse=digest", [FI_TIMES[0], *FI_TIMES[2:]]),  # the repeat of 16 June dropped
        ("from=2015", FI_TIMES[3:]),
        ("to=2014", FI_TIMES[:3]),  # to=2014 takes all of 2014
        ("from=201406&to=20140617", FI_TIMES[:1]),
    ],
    ids=["collapse", "from-year", "to-year", "from-to-days"],
)
def test_cdx_selects_as_the_wayback_machine(wayback: str, query: str, times: list[str]) -> None:
    assert [row[1] for row in cdx(wayback, f"url={FI}&output=json&{query}")[1:]] == times


def test_cdx_matches_by_surt_key_and_chooses_fields(wayback: str) -> None:
    """https, no www. and the query in another order name the same URL."""
    table = cdx(wayback, "url=https://tem.fi/index.phtml?s%3D4398&output=json&fl=timestamp,"
                         "statuscode")  # fmt: skip
    assert table[0] == ["timestamp", "statuscode"] and len(table) == 5
    other = cdx(wayback, "url=http://www.tem.fi/index.phtml?s%3D4398%26l%3Dsv&output=json")
    assert len(other) > 1 and other[1][2] == "http://www.tem.fi/index.phtml?l=sv&s=4398"
    assert cdx(wayback, "url=http://www.tem.fi/nothing&output=json") == [
        ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
    ]


def test_cdx_pages_with_a_resume_key(wayback: str) -> None:
    first = cdx(wayback, f"url={FI}&output=json&limit=3&showResumeKey=true")
    assert [row[1] for row in first[1:4]] == FI_TIMES[:3] and first[4] == []
    rest = cdx(wayback, f"url={FI}&output=json&limit=3&showResumeKey=true&resumeKey="
                        f"{first[5][0]}")  # fmt: skip
    assert [row[1] for row in rest[1:]] == FI_TIMES[3:]


def test_cdx_without_json_answers_plain_lines(wayback: str) -> None:
    status, _, body = get(f"{wayback}/cdx/search/cdx?url={FI}")
    lines = body.decode().splitlines()
    assert status == 200 and len(lines) == 4
    assert lines[0].split()[:3] == ["fi,tem)/index.phtml?s=4398", FI_TIMES[0], FI]


def test_a_gone_page_is_listed_with_its_404(wayback: str) -> None:
    table = cdx(wayback, "url=http://www.tem.fi/text.phtml?l%3Dsv%26s%3D4398&output=json")
    assert [(row[1], row[4]) for row in table[1:]][-1] == ("20150617080005", "404")


def test_id_replay_gives_the_original_bytes_and_head(wayback: str) -> None:
    status, headers, body = get(f"{wayback}/web/{FI_TIMES[2]}id_/{FI}")
    assert status == 200
    assert body == render(VERSIONS["2014-11-19"], "/index.phtml", {"s": "4398"}).body
    assert (
        parsedate_to_datetime(headers["Memento-Datetime"]).strftime("%Y%m%d%H%M%S") == (FI_TIMES[2])
    )
    assert headers["Link"] == f'<{FI}>; rel="original"'
    assert headers["Content-Type"] == "text/html"  # passed through
    assert "X-Archive-Orig-Last-Modified" in headers and "Last-Modified" not in headers
    digest = base64.b32encode(hashlib.sha1(body).digest()).decode()
    listed = {row[1]: row[5] for row in cdx(wayback, f"url={FI}&output=json")[1:]}
    assert listed[FI_TIMES[2]] == digest  # what backfill checks


def test_a_gzipped_capture_stays_gzipped(wayback: str) -> None:
    status, headers, body = get(
        f"{wayback}/web/20141120100003id_/http://www.tem.fi/text.phtml?s=4398"
    )
    assert status == 200 and headers["Content-Encoding"] == "gzip" and body[:2] == b"\x1f\x8b"


def test_replay_of_a_redirect_and_of_a_time_between_captures(wayback: str) -> None:
    status, headers, _ = get(
        f"{wayback}/web/20140616090000id_/http://www.tem.fi/seutukaupunkipilotit"
    )
    assert status == 301 and headers["Location"] == FI
    status, headers, _ = get(f"{wayback}/web/20141121id_/{FI}")  # nearest: 20 November
    assert status == 302 and headers["Location"] == f"/web/{FI_TIMES[2]}id_/{FI}"
    assert get(f"{wayback}/web/2014id_/http://www.tem.fi/nothing")[0] == 404


def test_replica_serve_archive_says_where_it_is(tmp_path) -> None:
    """The command a reader types: the replica and, beside it, the archive."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pilotarchive", "replica", "serve", "--port", "0", "--archive",
         "--archive-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first, second = proc.stdout.readline(), proc.stdout.readline()
        assert first.startswith("replica (2014-11-19, table layout) at http://127.0.0.1:")
        assert second.startswith("web archive of the replica's versions (2014-06, 2014-11-19, "
                                 "2015-06) at http://127.0.0.1:")  # fmt: skip
        api = second.split("CDX API ")[1].split(",")[0]
        deadline = time.monotonic() + 10
        while True:
            try:
                status, _, body = get(f"{api}?url={FI}&output=json")
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert status == 200 and len(json.loads(body)) == 5
    finally:
        proc.terminate()
        proc.wait(timeout=10)
