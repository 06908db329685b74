"""Fixtures: the functions' tests' emulators and servers, and the CLI run in this process."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.functions.conftest import clean_vertex, gcs, servers, vertex  # noqa: F401
from triggers_cli.main import main


@dataclass(frozen=True)
class Ran:
    """One run of ``vertex-triggers``: exit code and output."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys, monkeypatch) -> Callable[..., Ran]:
    """Run ``vertex-triggers ARGS`` in this process with the given environment variables."""

    def run(*args: str | Path, **env: str) -> Ran:
        for name in ("TRIGGERS_CONFIG", "VERTEX_AI_EMULATOR_HOST", "STORAGE_EMULATOR_HOST"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        code = main([str(arg) for arg in args])
        out, err = capsys.readouterr()
        return Ran(code, out, err)

    return run
