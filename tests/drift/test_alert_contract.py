"""The alert the drift check publishes is what on_drift_alert's parser reads as canonical, after
Google's Pub/Sub emulator pushed it through the Eventarc adapter as a messagePublished CloudEvent.
"""

import io
import json

from vertex_trigger.events.cloud_events import envelope_of
from vertex_trigger.events.drift_alerts.alert import AlertForm, FeatureDeviation
from vertex_trigger.events.drift_alerts.parsing import parse_drift_alert
from vertex_trigger.events.pubsub import MESSAGE_PUBLISHED, parse_message

from local.eventarc_push import EventarcPushAdapter
from local.pubsub_topology import TriggerDelivery
from pipelines.drift.cli import ExitCode, main
from tests.local.receiver import CloudEventReceiver
from tests.pubsub_fixtures import unique_id

ENDPOINT = "projects/test-project/locations/us-central1/endpoints/42"


def test_published_alert_parses_in_on_drift_alert(pubsub, data_dir, model):
    delivery = TriggerDelivery("test-project", unique_id("drift-alerts"))
    with (
        CloudEventReceiver() as function,
        EventarcPushAdapter(delivery.topic, function.url) as adapter,
    ):
        delivery.create(pubsub, adapter.url)
        out = io.StringIO()
        code = main(
            ["check", "--baseline", str(data_dir / "baseline.json"),
             str(data_dir / "sqft_shift.csv"), "--model", model, "--endpoint", ENDPOINT,
             "--publish", delivery.topic],
            stdout=out, stderr=io.StringIO(),
        )  # fmt: skip
        [event] = function.wait_for_events(1)
    assert code == ExitCode.OK
    report = json.loads(out.getvalue())

    envelope = envelope_of(event, MESSAGE_PUBLISHED)
    delivered = parse_message(envelope)
    alert = parse_drift_alert(delivered.data)

    assert envelope.event_type == MESSAGE_PUBLISHED
    assert delivered.message_id == report["published"]["message_id"] == event["id"]
    assert alert.form is AlertForm.CANONICAL
    assert (alert.model, alert.endpoint, alert.objective) == (model, ENDPOINT, "RAW_FEATURE_DRIFT")
    sqft = report["features"][0]
    assert alert.features == (FeatureDeviation("sqft", sqft["distance"], 0.3),)
    assert alert.max_deviation == sqft["distance"]
