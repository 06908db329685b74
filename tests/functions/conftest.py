"""Fixtures: the Vertex emulator and functions-framework servers, started once per module."""

from collections.abc import Iterator

import pytest

from tests.functions.helpers import (
    Certificate,
    StartedServers,
    StorageStandIn,
    VertexStandIn,
    write_certificate,
)


@pytest.fixture(scope="session")
def vertex(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VertexStandIn]:
    """The project's Vertex AI emulator, recording launches without executing them."""
    from local.vertex_emulator import start_emulator  # only tests that need it

    emulator = start_emulator(tmp_path_factory.mktemp("vertex"), port=0, execute=False)
    try:
        yield VertexStandIn(emulator)
    finally:
        emulator.stop()


@pytest.fixture
def clean_vertex(vertex: VertexStandIn) -> VertexStandIn:
    """The emulator with no jobs, requests or faults left by an earlier test."""
    vertex.clean()
    return vertex


@pytest.fixture(scope="module")
def servers(vertex: VertexStandIn) -> Iterator[StartedServers]:
    started = StartedServers(vertex)
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture(scope="session")
def gcs() -> Iterator[StorageStandIn]:
    """gcp-storage-emulator serving the GCS JSON API on loopback."""
    storage = StorageStandIn()
    try:
        yield storage
    finally:
        storage.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1: HTTPS servers on loopback that no one trusts."""
    return write_certificate(tmp_path_factory.mktemp("tls"))
