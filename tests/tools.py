"""External programs the tests start: pywb, in a virtual environment of its own.

pywb pins redis 2.10.6 (through fakeredis 0.16), which scrapy-redis (redis 4 and later)
cannot share an environment with, and pywb is a program the tests run, not a library
pilotarchive imports. So it lives in ``.venv-pywb`` beside the project's ``.venv``, made
on first use (about 40 s) and reused after; ``PILOTARCHIVE_PYWB_BIN`` points elsewhere.
"""

import os
import subprocess
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYWB_VENV = ROOT / ".venv-pywb"
PYWB_REQUIREMENT = "pywb>=2.8"


@cache
def pywb_bin() -> Path:
    """The folder holding pywb's ``wb-manager`` and ``wayback``."""
    if given := os.environ.get("PILOTARCHIVE_PYWB_BIN"):
        return Path(given)
    bin_dir = PYWB_VENV / "bin"
    if not (bin_dir / "wayback").exists():
        subprocess.run([sys.executable, "-m", "venv", str(PYWB_VENV)], check=True)
        subprocess.run(
            [bin_dir / "python", "-m", "pip", "install", "--quiet", PYWB_REQUIREMENT],
            check=True,
        )
    return bin_dir
