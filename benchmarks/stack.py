"""The local stack the reliability suite runs against: Vertex emulator plus both functions.

Each part is a real server in its own process (the emulator with execute off, the two entry points
under functions-framework's gunicorn), so the senders, the functions and Vertex do not share a GIL.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from local.function_server import FunctionServer, start_function_server
from local.processes import stop_process
from local.vertex_emulator_client import VertexEmulatorClient
from local.vertex_emulator_process import start_vertex_emulator_process

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "tests" / "data" / "reliability" / "triggers.yaml"
PROJECT = "reliability-project"
REGION = "us-central1"
DATA_BUCKET = "reliability-data"


@dataclass
class Emulator(VertexEmulatorClient):
    """A Vertex emulator process and its control endpoints."""

    process: subprocess.Popen[str] | None = None

    def stop(self) -> None:
        """Stop the emulator process (killed if it does not exit within 10 s)."""
        if self.process:
            stop_process(self.process)


def start_emulator_process(state_dir: Path, execute: bool = False) -> Emulator:
    """Start `python -m local.vertex_emulator` on an ephemeral port; wait for its one line."""
    url, process = start_vertex_emulator_process(state_dir, execute)
    return Emulator(url, PROJECT, REGION, process)


def function_env(emulator: Emulator, config: Path = CONFIG) -> dict[str, str]:
    """Environment for the functions: the config file and the emulator's address."""
    return {
        "TRIGGERS_CONFIG": str(config),
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "VERTEX_AI_EMULATOR_HOST": emulator.host,
    }


@dataclass
class Stack:
    """Emulator plus the object and drift functions, all running."""

    emulator: Emulator
    objects: FunctionServer
    drift: FunctionServer

    def log_records(self) -> list[dict]:
        """Return the structured log lines of both functions."""
        return self.objects.log_records() + self.drift.log_records()


@contextmanager
def running_stack(config: Path = CONFIG, threads: int | None = None) -> Iterator[Stack]:
    """Start the emulator (execute off) and both functions; stop them all on exit."""
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="vertex-emu-") as state:
        emulator = start_emulator_process(Path(state))
        stack.callback(emulator.stop)
        env = function_env(emulator, config)
        objects = stack.enter_context(
            start_function_server("on_object_finalized", env, threads=threads)
        )
        drift = stack.enter_context(start_function_server("on_drift_alert", env, threads=threads))
        yield Stack(emulator, objects, drift)


def parameter_values(job: dict) -> dict:
    """Return a run's runtimeConfig.parameterValues (Vertex's JSON form)."""
    return job.get("runtimeConfig", {}).get("parameterValues", {})


def dumps(value: object) -> str:
    """Compact JSON for printing figures."""
    return json.dumps(value, sort_keys=True)


def upload(storage_url: str, bucket: str, name: str, content: bytes) -> str:
    """Create the bucket if needed, upload an object; return its new generation."""
    requests.post(
        f"{storage_url}/storage/v1/b",
        params={"project": PROJECT},
        json={"name": bucket},
        timeout=10,
    )
    response = requests.post(
        f"{storage_url}/upload/storage/v1/b/{bucket}/o",
        params={"uploadType": "media", "name": name},
        data=content,
        headers={"content-type": "application/x-yaml"},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["generation"])
