"""Shared fixtures: the replica served on 127.0.0.1 by each test that needs it.

Crawls run in a subprocess (see helpers.py) because Twisted's reactor runs once per
process; everything else calls ``pilotarchive.cli.main`` directly.
"""

from collections.abc import Iterator

import pytest

from pilotarchive.replica.server import ReplicaServer


@pytest.fixture
def replica() -> Iterator[ReplicaServer]:
    """A fresh replica per test, so faults and version changes never leak."""
    with ReplicaServer(port=0) as server:
        yield server
