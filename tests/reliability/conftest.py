"""One running stack (Vertex emulator with execute off, both functions) per reliability module."""

import pytest

from benchmarks.stack import running_stack


@pytest.fixture(scope="module")
def stack():
    with running_stack() as running:
        yield running
