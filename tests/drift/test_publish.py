"""`check --publish`: the alert goes to Google's Pub/Sub emulator through google-cloud-pubsub."""

import io
import json
from datetime import datetime

import pytest

from local.pubsub_emulator import free_port
from pipelines.drift.cli import ExitCode, main
from pipelines.drift.publish import publish_alert


def check(data_dir, batch, *options):
    out, err = io.StringIO(), io.StringIO()
    args = ["check", "--baseline", str(data_dir / "baseline.json"), str(data_dir / batch)]
    code = main([*args, *options], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_drift_publishes_one_canonical_alert_with_model_and_objective_attributes(
    pubsub_topic, data_dir, model
):
    topic = pubsub_topic.topic
    code, out, err = check(
        data_dir, "sqft_shift.csv", "--model", model, "--publish", topic,
        "--endpoint", "projects/demo-project/locations/us-central1/endpoints/42",
    )  # fmt: skip

    assert code == ExitCode.OK, err
    report = json.loads(out)
    [message] = pubsub_topic.messages()
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
    assert report["published"] == {"topic": topic, "message_id": message.message_id}
    assert err.splitlines()[-1] == f"alert published to {topic} (message {message.message_id})"


def test_no_drift_publishes_nothing(pubsub_topic, data_dir, model):
    code, out, _ = check(data_dir, "same.csv", "--model", model, "--publish", pubsub_topic.topic)
    assert code == ExitCode.OK
    assert json.loads(out)["published"] is None
    assert pubsub_topic.pending() == []


def test_an_unknown_topic_is_a_permanent_error_and_the_verdict_is_still_reported(
    pubsub, data_dir, model
):
    topic = "projects/demo-project/topics/missing"
    code, out, err = check(data_dir, "sqft_shift.csv", "--model", model, "--publish", topic)
    assert code == ExitCode.BAD_INPUT
    assert json.loads(out)["drifted"] is True
    # The emulator's wording; Pub/Sub itself says "404 Resource not found (resource=missing)."
    assert err.splitlines()[-1] == "drift check: error: 404 Topic not found"


def test_an_unreachable_pubsub_is_retried_then_reported_as_transient(
    monkeypatch, data_dir, model
):
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{free_port()}")  # nothing listens
    code, out, err = check(
        data_dir, "sqft_shift.csv", "--model", model,
        "--publish", "projects/demo-project/topics/drift-alerts", "--publish-timeout", "1",
    )  # fmt: skip
    assert code == ExitCode.TRANSIENT == 3
    assert json.loads(out)["published"] is None
    assert "drift check: transient error: Timeout of 1.0s exceeded, last exception: 503 " in err


def test_a_malformed_topic_is_refused_before_connecting():
    with pytest.raises(ValueError, match="topics/: not a Pub/Sub topic name"):
        publish_alert("topics/", {"model": "m", "objective": "RAW_FEATURE_DRIFT"})
