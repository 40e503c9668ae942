"""The rules that keep a site crawl's per-page and per-crawl costs down (docs/benchmarks.md,
"Where a crawled page's time goes"): each test fails when its rule is switched off."""

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pilotarchive.archive.snapshot import list_snapshots
from pilotarchive.identity import assign as assign_module
from pilotarchive.identity import register
from pilotarchive.identity.assign import _dominant, _solver, linear_sum_assignment
from pilotarchive.replica.server import ReplicaServer
from pilotarchive.spiders.ministry import fingerprint
from tests.helpers import crawl

FIXTURES = Path(__file__).parent / "fixtures" / "archives"


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
    solver = _solver()  # loaded on its own unless scipy.optimize came first
    import scipy.optimize

    assert scipy.optimize.linear_sum_assignment is solver
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


def _matrices(count: int, seed: int) -> list[list[list[float]]]:
    """Score matrices as identity builds them: zeros where no candidate pair is, scores in
    (0, 1], and many ties (small integer steps tie often, as weighted means do)."""
    rng = np.random.default_rng(seed)
    out = []
    for n in range(count):
        shape = (int(rng.integers(1, 9)), int(rng.integers(1, 9)))
        if n % 2:
            values = rng.integers(0, 4, size=shape) / 3
        else:
            values = np.round(rng.random(shape), 4) * (rng.random(shape) < 0.6)
        values[:, 0] += values.sum(axis=1) == 0  # every row of a component has a candidate
        values[0, :] += values.sum(axis=0) == 0  # and every column
        out.append(values.tolist())
    return out


def test_a_dominant_pairing_is_the_solvers() -> None:
    """Wherever the shortcut answers, scipy gives the very same pairs, in the same order;
    it declines every matrix with a tie in some row's (or column's) best."""
    answered = declined = 0
    for matrix in _matrices(4000, 17):
        pairs = _dominant(matrix)
        rows, cols = linear_sum_assignment(np.array(matrix), maximize=True)
        theirs = [(int(r), int(c)) for r, c in zip(rows, cols, strict=True)]
        if pairs is None:
            declined += 1
            continue
        answered += 1
        assert pairs == theirs, matrix
    assert answered > 1000 and declined > 1000, (answered, declined)
    assert _dominant([[1.0, 0.5], [0.5, 1.0]]) == [(0, 0), (1, 1)]
    assert _dominant([[1.0, 1.0], [0.5, 0.2]]) is None  # row 0 ties
    # Row 0 ties between two columns no other row wants: two pairings score the same,
    # which the proof does not cover; the solver decides (as it always did).
    assert _dominant([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]) is None
    assert _dominant([[1.0, 0.2], [0.9, 0.1]]) is None  # both rows want column 0
    assert _dominant([[0.1], [0.9], [0.3]]) == [(1, 0)]  # more rows than columns


def _registers(source: Path, tmp: Path) -> dict[str, bytes]:
    shutil.copytree(source, tmp, ignore=shutil.ignore_patterns("identity"))
    for target in sorted({s.target for s in list_snapshots(tmp)}, key=str):
        register.ensure_register(tmp, target, rebuild=True)
    root = tmp / "identity"
    return {str(f.relative_to(root)): f.read_bytes() for f in sorted(root.rglob("*.json"))}


@pytest.mark.parametrize(
    "source", ["history", *sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())]
)
def test_registers_are_the_same_without_the_shortcut(
    source: str, archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replica's history (coordinators change, pilots are renumbered, twins in three
    languages) and each older release's archive: assignment file for assignment file the
    same whether the solver decides every component or only those with competing scores."""
    folder = archive if source == "history" else FIXTURES / source
    fast = _registers(folder, tmp_path / "fast")
    monkeypatch.setattr(assign_module, "_dominant", lambda matrix: None)
    assert _registers(folder, tmp_path / "solver") == fast
    assert len(fast) >= 2


def test_the_page_family_crawl_does_not_import_numpy(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    """The daily job: the first crawl of the page family (twins in three languages and two
    renderings) and the next (matched against the register). Their pairings are beyond
    doubt, so neither pays numpy's import (0.1 s of a 1.2 s run)."""
    out = tmp_path / "out"
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['pilotarchive', 'crawl', {replica.url + '/seutukaupunkipilotit'!r}, "
        f"'--output', {str(out)!r}, '--fast-loopback']\n"
        "try:\n"
        "    runpy.run_module('pilotarchive', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "print('numpy imported:', 'numpy' in sys.modules, file=sys.stderr)\n"
    )
    for n in (1, 2):
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-2000:]
        assert run.stderr.strip().splitlines()[-1] == "numpy imported: False", run.stderr[-2000:]
        assert len(list_snapshots(out)) == n
    assert (out / "identity").is_dir()
    crawl(replica, out)  # the crawl a test makes: its archive checked as every other
