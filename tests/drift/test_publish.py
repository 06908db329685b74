import base64
import io
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import grpc
import jsonschema
import pytest
from google.api_core.exceptions import InvalidArgument, NotFound
from google.cloud import pubsub_v1

from local.pubsub_publish_server import PublishServer
from local.pubsub_push import MESSAGE_PUBLISHED, message_published_event
from pipelines.drift.cli import ExitCode, main
from pipelines.drift.publish import publish_alert

TOPIC = "projects/demo-project/topics/drift-alerts"
ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path("/work/shared/samples/cloudevents/MessagePublishedData.schema.json")


@pytest.fixture
def pubsub(monkeypatch):
    """The loopback Publish server, with PUBSUB_EMULATOR_HOST pointing the real client at it."""
    with PublishServer(topics=[TOPIC]) as server:
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", server.host)
        yield server


def check(data_dir, batch, *options):
    out, err = io.StringIO(), io.StringIO()
    args = ["check", "--baseline", str(data_dir / "baseline.json"), str(data_dir / batch)]
    code = main([*args, *options], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_drift_publishes_one_canonical_alert_with_model_and_objective_attributes(
    pubsub, data_dir, model
):
    code, out, err = check(
        data_dir, "sqft_shift.csv", "--model", model, "--publish", TOPIC,
        "--endpoint", "projects/demo-project/locations/us-central1/endpoints/42",
    )  # fmt: skip

    assert code == ExitCode.OK, err
    report = json.loads(out)
    [message] = pubsub.messages
    assert message.topic == TOPIC
    assert message.attributes == {"model": model, "objective": "RAW_FEATURE_DRIFT"}
    alert = json.loads(message.data)
    assert alert == report["alert"]
    assert list(alert) == ["model", "endpoint", "objective", "detected_at", "features"]
    assert alert["model"] == model
    assert alert["endpoint"] == "projects/demo-project/locations/us-central1/endpoints/42"
    assert alert["detected_at"] == report["checked_at"]
    assert datetime.fromisoformat(alert["detected_at"]).utcoffset().total_seconds() == 0
    sqft = report["features"][0]
    assert alert["features"] == [{"name": "sqft", "deviation": sqft["distance"], "threshold": 0.3}]
    assert report["published"] == {"topic": TOPIC, "message_id": message.message_id}
    assert err.splitlines()[-1] == f"alert published to {TOPIC} (message {message.message_id})"


def test_no_drift_publishes_nothing(pubsub, data_dir, model):
    code, out, _ = check(data_dir, "same.csv", "--model", model, "--publish", TOPIC)
    assert code == ExitCode.OK
    assert json.loads(out)["published"] is None
    assert pubsub.messages == []


def test_an_unknown_topic_is_a_permanent_error_and_the_verdict_is_still_reported(
    pubsub, data_dir, model
):
    topic = "projects/demo-project/topics/missing"
    code, out, err = check(data_dir, "sqft_shift.csv", "--model", model, "--publish", topic)
    assert code == ExitCode.BAD_INPUT
    assert json.loads(out)["drifted"] is True
    assert err.splitlines()[-1] == f"drift check: error: 404 Topic not found: {topic}"
    assert pubsub.messages == []


def test_transient_failures_are_retried_then_reported_as_transient(pubsub, data_dir, model):
    pubsub.fail_next(grpc.StatusCode.UNAVAILABLE, count=2)
    code, _, _ = check(data_dir, "sqft_shift.csv", "--model", model, "--publish", TOPIC)
    assert code == ExitCode.OK
    assert len(pubsub.messages) == 1

    pubsub.fail_next(grpc.StatusCode.UNAVAILABLE, count=1000)
    code, out, err = check(
        data_dir, "sqft_shift.csv", "--model", model, "--publish", TOPIC,
        "--publish-timeout", "1",
    )  # fmt: skip
    assert code == ExitCode.TRANSIENT == 3
    assert json.loads(out)["published"] is None
    assert "drift check: transient error: " in err
    assert "503 injected UNAVAILABLE" in err
    assert len(pubsub.messages) == 1


def test_a_malformed_topic_is_refused_before_connecting():
    with pytest.raises(ValueError, match="topics/: not a Pub/Sub topic name"):
        publish_alert("topics/", {"model": "m", "objective": "RAW_FEATURE_DRIFT"})


@pytest.mark.parametrize(
    ("topic", "data", "attributes", "message"),
    [
        ("projects/p/topics/x!", b"a", {}, r"Invalid \[topics\] name"),
        (TOPIC, b"", {}, "Message must have data or at least one attribute"),
        (TOPIC, b"a", {"googler": "1"}, "Attribute key 'googler' is reserved"),
        (TOPIC, b"a", {"k": "v" * 1025}, "Attribute 'k' value is too long"),
    ],
)
def test_the_server_refuses_what_pubsub_refuses(pubsub, topic, data, attributes, message):
    publisher = pubsub_v1.PublisherClient()
    with pytest.raises(InvalidArgument, match=message):
        publisher.publish(topic, data, **attributes).result(timeout=30)
    assert pubsub.messages == []


def test_the_server_answers_not_found_for_a_topic_it_does_not_have(pubsub):
    publisher = pubsub_v1.PublisherClient()
    with pytest.raises(NotFound, match="Topic not found: projects/p/topics/other"):
        publisher.publish("projects/p/topics/other", b"a").result(timeout=30)
    assert pubsub.messages == []


def test_the_pushed_event_is_a_message_published_cloudevent(pubsub, model):
    publish_alert(TOPIC, {"model": model, "objective": "RAW_FEATURE_DRIFT"}, timeout=30)
    event = message_published_event(pubsub.messages[0])

    assert event["type"] == MESSAGE_PUBLISHED
    assert event["source"] == f"//pubsub.googleapis.com/{TOPIC}"
    assert event["id"] == pubsub.messages[0].message_id
    data = event.get_data()
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(data, schema)
    assert data["subscription"] == "projects/demo-project/subscriptions/local-push-drift-alerts"
    assert json.loads(base64.b64decode(data["message"]["data"]))["model"] == model
    assert data["message"]["attributes"] == {"model": model, "objective": "RAW_FEATURE_DRIFT"}
    assert data["message"]["messageId"] == data["message"]["message_id"] == event["id"]
    assert data["message"]["publishTime"] == event["time"]
    assert event["time"].endswith("Z")


def test_the_server_runs_as_a_program_and_logs_each_message(monkeypatch, model):
    process = subprocess.Popen(
        [sys.executable, "-m", "local.pubsub_publish_server", "--port", "0", "--topic", TOPIC],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = process.stdout.readline()
        assert first.startswith("pubsub publish server listening on 127.0.0.1:")
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", first.split()[-1])
        alert = {"model": model, "objective": "RAW_FEATURE_DRIFT", "features": []}
        message_id = publish_alert(TOPIC, alert, timeout=30)
        logged = json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert logged == {
        "topic": TOPIC,
        "message_id": message_id,
        "attributes": {"model": model, "objective": "RAW_FEATURE_DRIFT"},
        "data": json.dumps(alert),
    }
