"""What a target may be called: one rule, read wherever a name comes from.

A target's name becomes a path (``locks/<name>.lock``, ``identity/<name>/``), so it is
read from the command line, the configuration, Redis and every snapshot's manifest with
the same rule: a name that could climb out of the output folder (``../x``, ``/etc``) or
hide in it (``.x``) is refused where it enters, never turned into a path.
"""

import re

TARGET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def is_target_name(name: object) -> bool:
    return isinstance(name, str) and TARGET_NAME.fullmatch(name) is not None and ".." not in name


def target_name_problem(name: object) -> str | None:
    """Why ``name`` is no target name, or None."""
    if is_target_name(name):
        return None
    shown = repr(name)[:80]
    return (
        f"{shown} is no target name (a letter or digit, then up to 63 letters, digits, "
        "'.', '_' or '-', and no '..')"
    )
