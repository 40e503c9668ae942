"""The rules that keep a site crawl's per-page and per-crawl costs down (docs/benchmarks.md,
"Where a crawled page's time goes"): each test fails when its rule is switched off."""

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from pilotarchive.identity.assign import linear_sum_assignment
from pilotarchive.spiders.ministry import fingerprint


def test_the_commit_does_not_import_scipy_optimize() -> None:
    """Entity assignment needs scipy's linear_sum_assignment only; importing it the public
    way runs all of scipy.optimize's __init__ (0.2 s of every crawl's commit)."""
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from pilotarchive.identity.assign import linear_sum_assignment\n"
        "rows, cols = linear_sum_assignment(np.array([[1.0, 2.0], [3.0, 1.0]]), maximize=True)\n"
        "assert [list(rows), list(cols)] == [[0, 1], [1, 0]], (rows, cols)\n"
        "print('scipy.optimize' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("maximize", [True, False], ids=["maximize", "minimize"])
def test_the_solver_is_scipys_own(maximize: bool) -> None:
    """The solver loaded on its own is the very function scipy.optimize exports: the same
    pairings, ties included (small integer scores tie often)."""
    import scipy.optimize  # after pilotarchive.identity.assign (imported above)

    assert scipy.optimize.linear_sum_assignment is linear_sum_assignment
    rng = np.random.default_rng(18)
    for _ in range(200):
        shape = (int(rng.integers(1, 8)), int(rng.integers(1, 8)))
        matrix = rng.integers(0, 3, size=shape).astype(float)
        ours = linear_sum_assignment(matrix, maximize=maximize)
        theirs = scipy.optimize.linear_sum_assignment(matrix, maximize=maximize)
        assert [list(a) for a in ours] == [list(a) for a in theirs]


def _by_definition(body: bytes) -> str:
    """The guess fingerprint as documented: the body's SHA-256 without ASCII whitespace, as
    ``bytes.split`` finds it."""
    return hashlib.sha256(b"".join(body.split())).hexdigest()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<p>same</p>",
        b"  <p>\r\n\tsame </p>\x0b\x0c",
        b"<p>\x1c\x1d\x1e\x1f\x85\xa0 kept: not ASCII whitespace to bytes.split</p>",
        bytes(range(256)),
    ],
    ids=["empty", "plain", "ascii-whitespace", "other-separators", "every-byte"],
)
def test_guess_fingerprint_leaves_out_what_split_leaves_out(body: bytes) -> None:
    assert fingerprint(body) == _by_definition(body)


def test_guess_fingerprint_each_byte_value() -> None:
    for value in range(256):
        body = b"a" + bytes([value]) * 2 + b"b"
        assert fingerprint(body) == _by_definition(body), value
