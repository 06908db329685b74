"""The local stack: storage and Vertex AI emulators, the three functions, Pub/Sub, local bucket.

Pub/Sub is Google's emulator; the push to on_drift_alert goes through `local.eventarc_push`, the
stand-in for Eventarc's trigger (see `local.pubsub_topology` for the topics and subscriptions).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from local.function_server import (
    FUNCTIONS_DIR,
    LISTENING,
    SERVER_ENV,
    functions_framework_command,
)
from local.processes import REPO, ProcessGroup, wait_for_line
from local.pubsub_emulator import EmulatorLaunch, launch_pubsub_emulator
from local.pubsub_topology import DriftDelivery
from local.storage_emulator_process import STORAGE_EMULATOR_COMMAND
from local.vertex_emulator_process import vertex_emulator_command

PYTHON = sys.executable


@dataclass(frozen=True)
class StackSettings:
    """Where the stack keeps its files and which project it pretends to be."""

    root: Path
    project: str = "local-project"
    region: str = "us-central1"
    topic_id: str = "drift-alerts"
    triggers_config: Path = FUNCTIONS_DIR / "triggers.yaml"

    @property
    def buckets(self) -> Path:
        """Folder holding one folder per bucket."""
        return self.root / "buckets"

    @property
    def pubsub(self) -> DriftDelivery:
        """The drift alerts' topics and subscriptions."""
        return DriftDelivery(self.project, self.topic_id)

    @property
    def topic(self) -> str:
        """The drift alert topic."""
        return self.pubsub.topic

    @property
    def parent(self) -> str:
        """The Vertex AI parent of every run."""
        return f"projects/{self.project}/locations/{self.region}"


@dataclass(frozen=True)
class StackEndpoints:
    """How to reach each running service."""

    storage_url: str
    vertex_url: str
    object_function_url: str
    drift_function_url: str
    pubsub_host: str
    push_adapter_url: str
    logs: Path
    sweep_url: str = ""  # POST runs the sweeper (Cloud Scheduler's call in production)

    @property
    def vertex_host(self) -> str:
        """host:port for VERTEX_AI_EMULATOR_HOST."""
        return self.vertex_url.removeprefix("http://")


def start_stack(group: ProcessGroup, settings: StackSettings) -> StackEndpoints:
    """Start every service in dependency order; return their addresses."""
    pubsub = launch_pubsub_emulator(group, settings.root / "pubsub")  # Java starts meanwhile
    storage_url = _start_storage(group)
    vertex_url = _start_vertex(group, settings, storage_url)
    function_env = {
        "TRIGGERS_CONFIG": str(settings.triggers_config),
        "GOOGLE_CLOUD_PROJECT": settings.project,
        "VERTEX_AI_EMULATOR_HOST": vertex_url.removeprefix("http://"),
        "STORAGE_EMULATOR_HOST": storage_url,
    }
    object_url = _start_function(group, "on_object_finalized", function_env)
    drift_url = _start_function(group, "on_drift_alert", function_env)
    sweep_url = _start_function(group, "sweep", function_env, signature="http")
    pubsub_host, adapter_url = _start_pubsub(group, settings, pubsub, drift_url)
    _start_bucket(group, settings, object_url, storage_url)
    return StackEndpoints(
        storage_url, vertex_url, object_url, drift_url, pubsub_host, adapter_url, group.log_dir,
        sweep_url,
    )


def _start_storage(group: ProcessGroup) -> str:
    """Start gcp-storage-emulator in memory (the bucket folders are the durable copy)."""
    service = group.start("storage-emulator", STORAGE_EMULATOR_COMMAND, {}, cwd=REPO)
    return wait_for_line(service, r"listening on (http://\S+)").group(1)


def _start_vertex(group: ProcessGroup, settings: StackSettings, storage_url: str) -> str:
    """Start our Vertex AI emulator from the repo root, so relative registry paths agree."""
    command = vertex_emulator_command(settings.root / "vertex")
    service = group.start(
        "vertex-emulator", command, {"STORAGE_EMULATOR_HOST": storage_url}, cwd=REPO
    )
    return wait_for_line(service, r"listening on (http://\S+)").group(1)


def _start_function(
    group: ProcessGroup, target: str, env: dict[str, str], signature: str = "cloudevent"
) -> str:
    """Start functions-framework's own server for one entry point; gunicorn logs its port."""
    command = functions_framework_command(target, signature)
    service = group.start(target, command, {**env, **SERVER_ENV}, cwd=FUNCTIONS_DIR)
    return wait_for_line(service, LISTENING.pattern).group(1) + "/"


def _start_pubsub(
    group: ProcessGroup, settings: StackSettings, launch: EmulatorLaunch, drift_url: str
) -> tuple[str, str]:
    """Wait for the emulator, start the Eventarc push adapter, create topics and subscriptions."""
    emulator = launch.ready()
    command = [PYTHON, "-m", "local.eventarc_push", "--topic", settings.topic,
               "--target", drift_url, "--port", "0"]  # fmt: skip
    service = group.start("eventarc-push", command, {}, cwd=REPO)
    adapter_url = wait_for_line(service, r"listening on (http://\S+)").group(1)
    settings.pubsub.create(emulator.rest(), adapter_url)
    return emulator.host, adapter_url


def _start_bucket(
    group: ProcessGroup, settings: StackSettings, object_url: str, storage_url: str
) -> None:
    """Start the local bucket watcher, posting finalize events to on_object_finalized."""
    settings.buckets.mkdir(parents=True, exist_ok=True)
    command = [PYTHON, "-m", "local.bucket", "--root", str(settings.buckets),
               "--target", object_url, "--storage-emulator", storage_url,
               "--project", settings.project, "--poll", "0.3"]  # fmt: skip
    service = group.start("local-bucket", command, {}, cwd=REPO)
    wait_for_line(service, r"^watching ")
