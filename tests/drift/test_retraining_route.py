"""End to end: drift found, alert published, pushed to on_drift_alert, retraining run launched.

Real parts throughout: the drift check's CLI and Google's PublisherClient, Google's Pub/Sub
emulator pushing to the Eventarc adapter (which posts the messagePublished CloudEvent),
functions-framework's own server running functions/main.py, and the project's Vertex AI emulator
recording the launch.
"""

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from local.eventarc_push import EventarcPushAdapter
from local.function_server import launch_function_server
from local.pubsub_topology import TriggerDelivery
from local.vertex_emulator import start_emulator
from pipelines.drift.cli import ExitCode, main
from tests.functions.helpers import VertexStandIn, drift_route, write_config
from tests.pubsub_fixtures import unique_id

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def vertex(tmp_path):
    """The Vertex AI emulator, recording launches without executing them."""
    emulator = start_emulator(tmp_path / "vertex", port=0, execute=False)
    try:
        yield VertexStandIn(emulator)
    finally:
        emulator.stop()


@pytest.fixture
def on_drift_alert(vertex, tmp_path):
    """functions-framework serving on_drift_alert with a retraining route for house-prices."""
    route = drift_route(
        name="prices-drift",
        match={"model": "*house-prices*"},
        min_deviation=0.3,
        cooldown="6h",
        labels={"team": "pricing"},
    )
    config = write_config(tmp_path, [route])
    server = launch_function_server(
        "on_drift_alert", {"TRIGGERS_CONFIG": str(config), "VERTEX_AI_EMULATOR_HOST": vertex.host}
    )
    try:
        yield server.wait_ready()
    finally:
        server.stop()


@pytest.fixture
def adapter(pubsub, on_drift_alert):
    """A fresh drift topic whose push subscription reaches on_drift_alert through the adapter."""
    delivery = TriggerDelivery("test-project", unique_id("drift-alerts"))
    with EventarcPushAdapter(delivery.topic, on_drift_alert.url) as running:
        delivery.create(pubsub, running.url)
        yield running


def check_and_publish(data_dir, batch, model, topic):
    """Run the drift check with --publish; return its exit code and report."""
    out = io.StringIO()
    code = main(
        ["check", "--baseline", str(data_dir / "baseline.json"), str(data_dir / batch),
         "--model", model, "--publish", topic],
        stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    return code, json.loads(out.getvalue())


def answers(adapter, message_id, attempts=600):
    """Wait (bounded by attempts) until the function answered the push; return its statuses."""
    for _ in range(attempts):
        if statuses := adapter.statuses(message_id):
            return statuses
        time.sleep(0.1)
    raise AssertionError(f"message {message_id} was never pushed")


def test_drift_launches_the_retraining_route(on_drift_alert, vertex, adapter, data_dir, model):
    code, report = check_and_publish(data_dir, "sqft_shift.csv", model, adapter.topic)

    assert code == ExitCode.OK
    message_id = report["published"]["message_id"]
    assert answers(adapter, message_id) == [200]
    entry = on_drift_alert.log_for(message_id)
    assert entry["decision"] == "launched", entry
    assert entry["route"] == "prices-drift"
    [create] = vertex.create_requests()
    assert create["job_id"] == entry["job"]
    body = create["body"]
    assert body["labels"]["trigger-route"] == "prices-drift"
    assert body["labels"]["trigger-kind"] == "drift"
    assert body["labels"]["team"] == "pricing"
    sqft = report["features"][0]
    note = body["runtimeConfig"]["parameterValues"]["note"]
    assert note == f"RAW_FEATURE_DRIFT sqft {sqft['distance']!r} {model}"


def test_no_drift_publishes_nothing_and_launches_nothing(vertex, adapter, data_dir, model):
    code, report = check_and_publish(data_dir, "same.csv", model, adapter.topic)
    assert (code, report["drifted"], report["published"]) == (ExitCode.OK, False, None)
    assert adapter.forwarded == []
    assert vertex.create_requests() == []


def test_the_drift_program_publishes_through_the_emulator_to_the_function(
    pubsub_emulator, on_drift_alert, vertex, adapter, data_dir, model
):
    """The demo's wiring: `python -m pipelines.drift` as its own process, to the emulator."""
    check = subprocess.run(
        [sys.executable, "-m", "pipelines.drift", "check", "--baseline",
         str(data_dir / "baseline.json"), str(data_dir / "neighborhood_shift.csv"),
         "--model", model, "--publish", adapter.topic],
        cwd=ROOT, env={**os.environ, "PUBSUB_EMULATOR_HOST": pubsub_emulator.host},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert check.returncode == ExitCode.OK, check.stderr
    message_id = json.loads(check.stdout)["published"]["message_id"]
    assert answers(adapter, message_id) == [200]
    assert on_drift_alert.log_for(message_id)["decision"] == "launched"
    [create] = vertex.create_requests()
    assert create["body"]["runtimeConfig"]["parameterValues"]["note"].startswith(
        "RAW_FEATURE_DRIFT neighborhood "
    )
