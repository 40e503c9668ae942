"""``output/runs.jsonl``: one JSON line per run of a target, appended safely.

Runs of different targets may end at the same moment; each appends its line under an
exclusive ``flock`` of the file, in one ``write`` of a complete line, then fsyncs, so lines
never interleave and a crash leaves at most a missing last line, never a half one that the
next append would glue onto (a torn tail is ended with a newline first).
"""

import fcntl
import json
import os
from pathlib import Path
from typing import Any

from pilotarchive.archive.snapshot import os_error

RUNS_FILE = "runs.jsonl"


def append_run(output: Path, record: dict[str, Any]) -> Path:
    path = Path(output) / RUNS_FILE
    line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = "\n" + line  # a line torn by a crash: end it, do not extend it
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)  # releases the lock
    except OSError as exc:
        raise os_error(exc, path) from exc
    return path


def read_runs(output: Path) -> list[dict[str, Any]]:
    """Every complete line (a torn one is skipped)."""
    path = Path(output) / RUNS_FILE
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out
