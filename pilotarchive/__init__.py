"""pilotarchive: crawl, extract, validate and snapshot the TEM regional-town pilots pages."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pilotarchive")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

PROJECT_URL = "https://github.com/pilotarchive/pilotarchive"
