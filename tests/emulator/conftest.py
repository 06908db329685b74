"""Fixtures: compiled tiny pipelines and emulators bound to ephemeral ports."""

from __future__ import annotations

from pathlib import Path

import pytest
from kfp import compiler

from local.vertex_emulator import start_emulator
from tests.emulator.helpers import (
    branchy_pipeline,
    compile_spec,
    container_pipeline,
    failing_pipeline,
    sleepy_pipeline,
    tiny_pipeline,
)


@pytest.fixture(scope="session")
def specs(tmp_path_factory) -> dict[str, dict]:
    """Compiled pipeline specs by name (compiled once per session)."""
    folder = tmp_path_factory.mktemp("compiled")
    pipelines = (
        tiny_pipeline,
        failing_pipeline,
        sleepy_pipeline,
        container_pipeline,
        branchy_pipeline,
    )
    return {p.name: compile_spec(p, folder) for p in pipelines}


@pytest.fixture(scope="session")
def tiny_yaml(tmp_path_factory) -> Path:
    """The tiny pipeline compiled to a YAML file."""
    path = tmp_path_factory.mktemp("yaml") / "tiny.yaml"
    compiler.Compiler().compile(tiny_pipeline, str(path))
    return path


@pytest.fixture
def recorder(tmp_path):
    """An emulator that records jobs without executing them."""
    with start_emulator(tmp_path / "state", execute=False) as emu:
        yield emu


@pytest.fixture
def runner(tmp_path):
    """An emulator that executes jobs with kfp.local."""
    with start_emulator(tmp_path / "state", execute=True) as emu:
        yield emu
