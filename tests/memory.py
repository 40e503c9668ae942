"""Peak memory of this process, for tests that bound it in a child process.

``getrusage``'s ``ru_maxrss`` is no good there: Linux carries the parent's high-water mark
into a child across fork and exec, so a child of a large pytest process reports pytest's
size (a bound of 200 MB failed at 228 MB in the full suite, passing alone). ``VmHWM`` in
``/proc/self/status`` is the high-water mark of this process's own memory since its exec.
"""

import resource
from pathlib import Path


def peak_rss() -> int:
    """Bytes: the most resident memory this process has had."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
