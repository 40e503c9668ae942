"""Which folders pilotarchive may replace: only those it wrote itself, told by a marker.

``export`` and ``site`` replace or prune what is in their ``--to`` folder. A folder is
taken for theirs only when it holds ``.pilotarchive.json`` naming the tool, the kind of
output and a format version, written by the same command, and nothing it did not write;
a file such as ``CITATION.cff`` or ``index.html`` proves nothing (a research repository
has both). Folders written before the marker existed are recognised only when every entry
is a name the command itself writes, so nothing of anyone else's can be lost.
"""

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pilotarchive.exceptions import UsageError

MARKER = ".pilotarchive.json"
TOOL = "pilotarchive"
FORMAT = 1


def absolute(to: Path) -> Path:
    """``--to .``, ``--to ds/`` and ``--to ../x`` as the folder they name: ``Path('.')`` has
    no name to put a temporary folder beside, and ``..`` would be renamed through."""
    return Path(os.path.abspath(to))


def marker_bytes(kind: str, files: Iterable[str], **more: Any) -> bytes:
    body = {"tool": TOOL, "output": kind, "format": FORMAT, "files": sorted(files), **more}
    return (json.dumps(body, indent=2) + "\n").encode("utf-8")


def _read_marker(folder: Path) -> dict[str, Any] | None:
    try:
        found = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


# A folder's target not told (a command that reads every target, or a marker written
# before markers named one): no target check.
UNTOLD = object()


def check_ours(
    to: Path,
    kind: str,
    known: Iterable[str],
    *,
    what: str,
    proof: tuple[str, bytes],
    target: Any = UNTOLD,
) -> None:
    """Refuse ``to`` unless it is missing, empty, or a ``kind`` folder pilotarchive wrote
    that holds nothing else. ``known``: the entries the command may write there; ``proof``:
    the file and the bytes near its start that mark a folder written before the marker.

    ``target``: the target whose output goes there. A folder whose marker names another
    target is refused: the default folder is the same for every target of an archive
    (``OUTPUT/site``), and the site of one target silently replaced another's."""
    known = set(known)
    if to.exists() and not to.is_dir():
        raise UsageError(f"{to} is a file; --to names the {what} folder")
    if not to.is_dir():
        return
    try:
        entries = {p.name for p in to.iterdir()}
    except OSError as exc:
        raise UsageError(f"{to} cannot be read ({exc.strerror}); give another --to") from exc
    if not entries:
        return
    marker = _read_marker(to)
    if marker is not None:
        if marker.get("tool") != TOOL or marker.get("output") != kind:
            raise UsageError(
                f"{to} holds another kind of output ({marker.get('output')!r}), not a {what}; "
                "give another --to"
            )
        if not isinstance(marker.get("format"), int) or marker["format"] > FORMAT:
            raise UsageError(
                f"{to} was written by a newer pilotarchive (format {marker.get('format')!r}); "
                "give another --to or upgrade"
            )
        listed = marker.get("files")
        allowed = set(known) | {MARKER}
        if isinstance(listed, list):
            allowed |= {str(name) for name in listed}
        foreign = sorted(entries - allowed)
        if foreign:
            raise UsageError(
                f"{to} holds files pilotarchive did not write ({', '.join(foreign[:3])}); "
                "move them or give another --to"
            )
        held = marker_target(marker)
        if target is not UNTOLD and held is not UNTOLD and held != target:
            mine = f"{to.name}-{target}" if isinstance(target, str) else f"{to.name}-untargeted"
            raise UsageError(
                f"{to} holds the {what} of target {_named(held)}; the {what} of "
                f"{_named(target)} would replace it: give it a folder of its own, e.g. "
                f"--to {to.parent / mine}"
            )
        return
    if _legacy(entries, to, known, *proof):
        return
    raise UsageError(
        f"{to} is not empty and is not a {what} pilotarchive wrote (no {MARKER}); "
        "give another --to or an empty folder"
    )


def marker_target(marker: dict[str, Any] | None) -> Any:
    """The target a marker says its folder holds the output of (None: snapshots made
    without a target), or UNTOLD."""
    if marker is None or "target" not in marker:
        return UNTOLD
    held = marker["target"]
    return held if held is None or isinstance(held, str) else UNTOLD


def folder_target(folder: Path) -> Any:
    """:func:`marker_target` of the marker in ``folder``."""
    return marker_target(_read_marker(folder))


def _named(target: Any) -> str:
    return repr(target[:80]) if isinstance(target, str) else "untargeted"


def _legacy(entries: set[str], to: Path, known: set[str], proof: str, token: bytes) -> bool:
    """A folder written before the marker: every entry a name the command writes, and the
    file ``proof`` carrying ``token`` near its start."""
    if not entries <= known:
        return False
    try:
        with (to / proof).open("rb") as fh:
            return token in fh.read(4000)
    except OSError:
        return False
