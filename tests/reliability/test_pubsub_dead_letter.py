"""Dead letters: Google's Pub/Sub emulator enforces the dead-letter policy of a push subscription.

on_drift_alert cannot reach Vertex AI, so every delivery raises (HTTP 500 through the Eventarc
adapter); after maxDeliveryAttempts pushes the emulator forwards the alert to the dead-letter
topic, where the keeping pull subscription holds it with Pub/Sub's dead-letter attributes.
"""

import json

import pytest

from local.eventarc_push import EventarcPushAdapter
from local.function_server import launch_function_server
from local.pubsub_emulator import free_port
from local.pubsub_rest import RetryPolicy
from local.pubsub_topology import TriggerDelivery
from local.send_alert import canonical_alert
from pipelines.drift.publish import publish_alert
from tests.functions.helpers import drift_route, write_config
from tests.pubsub_fixtures import unique_id

MODEL = "projects/test-project/locations/us-central1/models/house-prices"
ATTEMPTS = 5  # Pub/Sub's minimum maxDeliveryAttempts


@pytest.fixture
def failing_on_drift_alert(tmp_path):
    """on_drift_alert with Vertex AI unreachable: each event fails after a short retry budget."""
    config = write_config(tmp_path, [drift_route(name="prices-drift")])
    env = {"TRIGGERS_CONFIG": str(config), "VERTEX_AI_EMULATOR_HOST": f"127.0.0.1:{free_port()}"}
    server = launch_function_server("on_drift_alert", env)
    try:
        yield server.wait_ready()
    finally:
        server.stop()


def test_an_alert_failing_every_push_is_dead_lettered(pubsub, failing_on_drift_alert):
    delivery = TriggerDelivery(
        "test-project", unique_id("drift-alerts"), max_delivery_attempts=ATTEMPTS,
        retry=RetryPolicy(minimum_backoff=0.1, maximum_backoff=0.5),
    )  # fmt: skip
    alert = canonical_alert(MODEL, {"sqft": 0.5}, 0.3)
    with EventarcPushAdapter(delivery.topic, failing_on_drift_alert.url) as adapter:
        delivery.create(pubsub, adapter.url)
        message_id = publish_alert(delivery.topic, alert, timeout=30)
        [dead] = pubsub.wait_for_messages(delivery.dead_letter_subscription, attempts=1800)

    assert json.loads(dead.data) == alert
    attributes = dict(dead.attributes)
    assert attributes.pop("CloudPubSubDeadLetterSourceTopicPublishTime").endswith("Z")
    assert attributes == {
        "model": MODEL,
        "objective": "RAW_FEATURE_DRIFT",
        "CloudPubSubDeadLetterSourceDeliveryCount": str(ATTEMPTS),
        "CloudPubSubDeadLetterSourceSubscription": delivery.push_subscription.rsplit("/", 1)[1],
        "CloudPubSubDeadLetterSourceSubscriptionProject": "test-project",
    }
    assert dead.message_id != message_id  # a new message on the dead-letter topic
    assert adapter.statuses(message_id) == [500] * ATTEMPTS
    failing_on_drift_alert.wait_for_records(ATTEMPTS)  # the log pipe may lag the answers
    decisions = [entry["decision"] for entry in failing_on_drift_alert.entries_for(message_id)]
    assert decisions == ["failed"] * ATTEMPTS
