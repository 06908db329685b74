"""The alert the drift check publishes is what on_drift_alert's parser reads as canonical."""

import io
import json

from vertex_trigger.cloud_events import envelope_of
from vertex_trigger.drift_alerts import AlertForm, FeatureDeviation, parse_drift_alert
from vertex_trigger.pubsub_events import MESSAGE_PUBLISHED, parse_message

from local.pubsub_publish_server import PublishServer
from local.pubsub_push import message_published_event
from pipelines.drift.cli import ExitCode, main

TOPIC = "projects/test-project/topics/drift-alerts"
ENDPOINT = "projects/test-project/locations/us-central1/endpoints/42"


def test_published_alert_parses_in_on_drift_alert(monkeypatch, data_dir, model):
    with PublishServer(topics=[TOPIC]) as pubsub:
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub.host)
        out = io.StringIO()
        code = main(
            ["check", "--baseline", str(data_dir / "baseline.json"),
             str(data_dir / "sqft_shift.csv"), "--model", model, "--endpoint", ENDPOINT,
             "--publish", TOPIC],
            stdout=out, stderr=io.StringIO(),
        )  # fmt: skip
    assert code == ExitCode.OK
    report = json.loads(out.getvalue())
    [message] = pubsub.messages

    envelope = envelope_of(message_published_event(message))
    delivered = parse_message(envelope)
    alert = parse_drift_alert(delivered.data)

    assert envelope.event_type == MESSAGE_PUBLISHED
    assert delivered.message_id == message.message_id
    assert alert.form is AlertForm.CANONICAL
    assert (alert.model, alert.endpoint, alert.objective) == (model, ENDPOINT, "RAW_FEATURE_DRIFT")
    sqft = report["features"][0]
    assert alert.features == (FeatureDeviation("sqft", sqft["distance"], 0.3),)
    assert alert.max_deviation == sqft["distance"]
