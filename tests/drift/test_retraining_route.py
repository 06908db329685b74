"""End to end: drift found, alert published, pushed to on_drift_alert, retraining run launched.

Real parts throughout: the drift check's CLI and Google's PublisherClient, the loopback Publish
server pushing an Eventarc-style CloudEvent, functions-framework's own server running
functions/main.py, and the project's Vertex AI emulator recording the launch.
"""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from local.function_server import launch_function_server
from local.pubsub_publish_server import PublishServer
from local.pubsub_push import push_to
from local.vertex_emulator import start_emulator
from pipelines.drift.cli import ExitCode, main
from tests.functions.helpers import VertexStandIn, drift_route, write_config

TOPIC = "projects/test-project/topics/drift-alerts"
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


def check_and_publish(data_dir, batch, model, monkeypatch, function_url):
    """Run the drift check with --publish against a Publish server that pushes to the function."""
    pusher = push_to(function_url)
    with PublishServer(topics=[TOPIC], on_message=pusher) as pubsub:
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub.host)
        out = io.StringIO()
        code = main(
            ["check", "--baseline", str(data_dir / "baseline.json"), str(data_dir / batch),
             "--model", model, "--publish", TOPIC],
            stdout=out, stderr=io.StringIO(),
        )  # fmt: skip
    return code, json.loads(out.getvalue()), pubsub.messages, pusher.statuses


def test_drift_launches_the_retraining_route(on_drift_alert, vertex, monkeypatch, data_dir, model):
    code, report, messages, statuses = check_and_publish(
        data_dir, "sqft_shift.csv", model, monkeypatch, on_drift_alert.url
    )

    assert code == ExitCode.OK
    assert statuses == [200]
    [message] = messages
    entry = on_drift_alert.log_for(message.message_id)
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


def test_no_drift_publishes_nothing_and_launches_nothing(
    on_drift_alert, vertex, monkeypatch, data_dir, model
):
    code, report, messages, statuses = check_and_publish(
        data_dir, "same.csv", model, monkeypatch, on_drift_alert.url
    )
    assert (code, report["drifted"], messages, statuses) == (ExitCode.OK, False, [], [])
    assert vertex.create_requests() == []


def test_publish_server_program_pushes_to_the_function(on_drift_alert, vertex, data_dir, model):
    """The demo's wiring: both programs as processes, PUBSUB_EMULATOR_HOST between them."""
    server = subprocess.Popen(
        [sys.executable, "-m", "local.pubsub_publish_server", "--port", "0", "--topic", TOPIC,
         "--push-url", on_drift_alert.url],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        host = server.stdout.readline().split()[-1]
        check = subprocess.run(
            [sys.executable, "-m", "pipelines.drift", "check", "--baseline",
             str(data_dir / "baseline.json"), str(data_dir / "neighborhood_shift.csv"),
             "--model", model, "--publish", TOPIC],
            cwd=ROOT, env={**os.environ, "PUBSUB_EMULATOR_HOST": host},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        logged = json.loads(server.stdout.readline())
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert check.returncode == ExitCode.OK, check.stderr
    assert json.loads(check.stdout)["published"]["message_id"] == logged["message_id"]
    assert on_drift_alert.log_for(logged["message_id"])["decision"] == "launched"
    [create] = vertex.create_requests()
    assert create["body"]["runtimeConfig"]["parameterValues"]["note"].startswith(
        "RAW_FEATURE_DRIFT neighborhood "
    )
