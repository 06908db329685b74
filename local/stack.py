"""The local stack: storage and Vertex AI emulators, the four functions, Pub/Sub, local bucket.

Pub/Sub is Google's emulator; the pushes to on_drift_alert and on_run_state go through
`local.eventarc_push`, the stand-in for Eventarc's triggers (see `local.pubsub_topology` for the
topics and subscriptions). The Vertex AI emulator publishes each run state change's log entry to
the run-states topic, as a Vertex AI log sink does; on_run_state publishes run ends to the
outcomes topic.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import requests

from local.function_server import (
    FUNCTIONS_DIR,
    LISTENING,
    SERVER_ENV,
    functions_framework_command,
)
from local.processes import REPO, ProcessGroup, wait_for_line
from local.pubsub_emulator import PubsubEmulator, launch_pubsub_emulator
from local.pubsub_topology import OutcomesTopic, TriggerDelivery
from local.routes import read_routes
from local.storage_emulator_process import STORAGE_EMULATOR_COMMAND
from local.vertex_emulator_process import vertex_emulator_command

PYTHON = sys.executable


@dataclass(frozen=True)
class StackSettings:
    """Where the stack keeps its files, which routes it runs and which project it pretends to be.

    ``project`` names the Pub/Sub wiring (the drift and run-states topics); runs are created in
    the routes file's own project and region (``vertex_project``, ``vertex_region``).
    """

    root: Path
    project: str = "local-project"
    topic_id: str = "drift-alerts"
    triggers_config: Path = FUNCTIONS_DIR / "triggers.yaml"
    # Where `vertex-triggers pause` keeps route pauses (functions/triggers.yaml's `state`).
    state_bucket: str = "local-state"
    vertex_project: str = "local-project"
    vertex_region: str = "us-central1"
    outcomes_topic: str | None = "projects/local-project/topics/run-outcomes"
    # Folders made under `buckets` (BUCKET/PREFIX-FOLDER of each object route), to drop files in.
    watched_folders: tuple[str, ...] = ()
    isolated: bool = False  # each component in its own venv with its declared packages

    @classmethod
    def for_routes(cls, root: Path, path: Path, *, isolated: bool = False) -> StackSettings:
        """Return settings for running the routes file at ``path`` (read as an instance does)."""
        config = read_routes(path)
        return cls(
            root=root,
            triggers_config=path.resolve(),
            vertex_project=config.project,
            vertex_region=config.region,
            outcomes_topic=config.outcomes_topic,
            watched_folders=tuple(
                sorted(
                    {
                        f"{r.bucket}/{r.prefix.rpartition('/')[0]}".rstrip("/")
                        for r in config.routes
                        if r.bucket
                    }
                )
            ),
            isolated=isolated,
        )

    @property
    def buckets(self) -> Path:
        """Folder holding one folder per bucket."""
        return self.root / "buckets"

    @property
    def pubsub(self) -> TriggerDelivery:
        """The drift alerts' topics and subscriptions."""
        return TriggerDelivery(self.project, self.topic_id)

    @property
    def topic(self) -> str:
        """The drift alert topic."""
        return self.pubsub.topic

    @property
    def run_states(self) -> TriggerDelivery:
        """on_run_state's trigger: the topic the run state log entries go to."""
        return TriggerDelivery(self.project, "run-states", function="on-run-state")

    @property
    def outcomes(self) -> OutcomesTopic | None:
        """The routes' `outcomes_topic` and its watch (None when they publish no outcomes)."""
        if not self.outcomes_topic:
            return None
        _, project, _, topic_id = self.outcomes_topic.split("/")
        return OutcomesTopic(project, topic_id)

    @property
    def parent(self) -> str:
        """The Vertex AI parent of every run (the routes file's project and region)."""
        return f"projects/{self.vertex_project}/locations/{self.vertex_region}"


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
    run_state_function_url: str = ""
    run_state_adapter_url: str = ""
    sweep_url: str = ""  # POST runs the sweeper (Cloud Scheduler's call in production)

    @property
    def vertex_host(self) -> str:
        """host:port for VERTEX_AI_EMULATOR_HOST."""
        return self.vertex_url.removeprefix("http://")


def start_stack(group: ProcessGroup, settings: StackSettings) -> StackEndpoints:
    """Start every service in dependency order; return their addresses."""
    launch = launch_pubsub_emulator(group, settings.root / "pubsub")  # Java starts meanwhile
    storage_url = _start_storage(group)
    _create_bucket(storage_url, settings.state_bucket, settings.project)
    pubsub = launch.ready()  # the Vertex emulator publishes state entries to it
    vertex_url = _start_vertex(group, settings, storage_url, pubsub)
    function_env = {
        "TRIGGERS_CONFIG": str(settings.triggers_config),
        "GOOGLE_CLOUD_PROJECT": settings.project,
        "VERTEX_AI_EMULATOR_HOST": vertex_url.removeprefix("http://"),
        "STORAGE_EMULATOR_HOST": storage_url,
        "PUBSUB_EMULATOR_HOST": pubsub.host,
    }
    object_url = _start_function(group, "on_object_finalized", function_env)
    drift_url = _start_function(group, "on_drift_alert", function_env)
    run_state_url = _start_function(group, "on_run_state", function_env)
    sweep_url = _start_function(group, "sweep", function_env, signature="http")
    drift_adapter = _start_trigger(group, settings.pubsub, pubsub, drift_url, "eventarc-push")
    states_adapter = _start_trigger(
        group, settings.run_states, pubsub, run_state_url, "eventarc-push-run-states"
    )
    if settings.outcomes is not None:
        settings.outcomes.create(pubsub.rest())
    _start_bucket(group, settings, object_url, storage_url)
    return StackEndpoints(
        storage_url, vertex_url, object_url, drift_url, pubsub.host, drift_adapter,
        group.log_dir, run_state_url, states_adapter, sweep_url,
    )  # fmt: skip


def _start_storage(group: ProcessGroup) -> str:
    """Start gcp-storage-emulator in memory (the bucket folders are the durable copy)."""
    service = group.start("storage-emulator", STORAGE_EMULATOR_COMMAND, {}, cwd=REPO)
    return wait_for_line(service, r"listening on (http://\S+)").group(1)


def _create_bucket(storage_url: str, bucket: str, project: str) -> None:
    """Create an empty bucket on the storage emulator (the state bucket has no folder to mirror)."""
    response = requests.post(f"{storage_url}/storage/v1/b", params={"project": project},
                             json={"name": bucket}, timeout=30)  # fmt: skip
    response.raise_for_status()


def _start_vertex(
    group: ProcessGroup, settings: StackSettings, storage_url: str, pubsub: PubsubEmulator
) -> str:
    """Start our Vertex AI emulator from the repo root, so relative registry paths agree.

    It publishes every run state change to the run-states topic, as Vertex AI's log sink does.
    """
    command = [*vertex_emulator_command(settings.root / "vertex", isolated=settings.isolated),
               "--state-topic", settings.run_states.topic]  # fmt: skip
    env = {"STORAGE_EMULATOR_HOST": storage_url, "PUBSUB_EMULATOR_HOST": pubsub.host}
    service = group.start("vertex-emulator", command, env, cwd=REPO)
    return wait_for_line(service, r"listening on (http://\S+)").group(1)


def _start_function(
    group: ProcessGroup, target: str, env: dict[str, str], signature: str = "cloudevent"
) -> str:
    """Start functions-framework's own server for one entry point; gunicorn logs its port."""
    command = functions_framework_command(target, signature)
    service = group.start(target, command, {**env, **SERVER_ENV}, cwd=FUNCTIONS_DIR)
    return wait_for_line(service, LISTENING.pattern).group(1) + "/"


def _start_trigger(
    group: ProcessGroup,
    delivery: TriggerDelivery,
    pubsub: PubsubEmulator,
    function_url: str,
    name: str,
) -> str:
    """Start an Eventarc push adapter for a function, then its topic and subscriptions."""
    command = [PYTHON, "-m", "local.eventarc_push", "--topic", delivery.topic,
               "--target", function_url, "--port", "0"]  # fmt: skip
    service = group.start(name, command, {}, cwd=REPO)
    adapter_url = wait_for_line(service, r"listening on (http://\S+)").group(1)
    delivery.create(pubsub.rest(), adapter_url)
    return adapter_url


def _start_bucket(
    group: ProcessGroup, settings: StackSettings, object_url: str, storage_url: str
) -> None:
    """Start the local bucket watcher, posting finalize events to on_object_finalized."""
    settings.buckets.mkdir(parents=True, exist_ok=True)
    for folder in settings.watched_folders:
        (settings.buckets / folder).mkdir(parents=True, exist_ok=True)
    command = [PYTHON, "-m", "local.bucket", "--root", str(settings.buckets),
               "--target", object_url, "--storage-emulator", storage_url,
               "--project", settings.project, "--poll", "0.3"]  # fmt: skip
    service = group.start("local-bucket", command, {}, cwd=REPO)
    wait_for_line(service, r"^watching ")
