"""Shared fixtures: the replica served on 127.0.0.1 by each test that needs it.

Crawls run in a subprocess (see helpers.py) because Twisted's reactor runs once per
process; everything else calls ``pilotarchive.cli.main`` directly.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from pilotarchive.replica.server import ReplicaServer
from tests.helpers import crawl
from tests.hostile import HostileServer


@pytest.fixture
def replica() -> Iterator[ReplicaServer]:
    """A fresh replica per test, so faults and version changes never leak."""
    with ReplicaServer(port=0) as server:
        yield server


VERSIONS = ("2014-06", "2014-11-19", "2015-06", "2014-11-19-redesign", "2014-11-19-empty")


@pytest.fixture(scope="session")
def snapshots(tmp_path_factory) -> dict[str, Path]:
    """One snapshot of every replica version, crawled over 127.0.0.1."""
    root = tmp_path_factory.mktemp("versions")
    out = {}
    with ReplicaServer(port=0) as replica:
        for version in VERSIONS:
            replica.set_version(version)
            # The redesign states four pilots and yields none: degraded on its own (exit 3).
            expect = 3 if version == "2014-11-19-redesign" else 0
            out[version] = crawl(replica, root / version, expect=expect).snapshot
    return out


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    """A server that answers what the test says, byte for byte (see tests/hostile.py)."""
    with HostileServer() as server:
        yield server


@pytest.fixture
def canary() -> Iterator[HostileServer]:
    """A second server on another port that a crawl must never reach: the test asserts it
    received nothing."""
    with HostileServer() as server:
        yield server


HISTORY = ("2014-06", "2014-11-19", "2014-11-19-redesign", "2015-06")


@pytest.fixture(scope="session")
def history_replica() -> Iterator[ReplicaServer]:
    """A replica that stays up for the session, so crawls added later by a test (into a copy
    of ``archive``) reach the same URLs as the crawls in it."""
    with ReplicaServer(port=0) as server:
        yield server


@pytest.fixture(scope="session")
def archive(history_replica: ReplicaServer, tmp_path_factory) -> Path:
    """One output folder with a crawl of each version of ``HISTORY`` in turn, as an archive
    grows: conditional requests and revisits, a degraded snapshot (the redesign) between
    two healthy ones. Tests copy it before adding to it."""
    root = tmp_path_factory.mktemp("archive")
    for version in HISTORY:
        history_replica.set_version(version)
        crawl(history_replica, root, expect=3 if version.endswith("redesign") else 0)
    return root
