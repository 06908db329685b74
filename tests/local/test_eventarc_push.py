"""The Eventarc push adapter between Google's Pub/Sub emulator and a CloudEvent function.

The emulator pushes; the adapter wraps the push as Eventarc does and answers with the function's
status; a non-2xx makes the emulator redeliver. The receiving function is a loopback server that
parses each request with the `cloudevents` package.
"""

import base64
import json
import sys
import time
from pathlib import Path

import jsonschema
import pytest
import requests

from local.eventarc_push import EventarcPushAdapter, forwarded_in_log
from local.processes import ProcessGroup, wait_for_line
from local.pubsub_rest import RetryPolicy
from local.pubsub_topology import TriggerDelivery
from tests.local.receiver import CloudEventReceiver
from tests.pubsub_fixtures import unique_id
from triggers_cli.eventarc import message_published_event

SAMPLES = Path("/work/shared/samples/cloudevents")
ROOT = Path(__file__).resolve().parents[2]
FAST = RetryPolicy(minimum_backoff=0.1, maximum_backoff=0.5)


@pytest.fixture
def receiver():
    with CloudEventReceiver() as server:
        yield server


@pytest.fixture
def delivery(pubsub):
    """A fresh drift topic whose push subscription will go to the adapter (created by `wire`)."""
    return TriggerDelivery("test-project", unique_id("drift-alerts"), retry=FAST)


@pytest.fixture
def adapter(pubsub, delivery, receiver):
    """The adapter for that topic, forwarding to the receiver; topics and subscriptions made."""
    with EventarcPushAdapter(delivery.topic, receiver.url) as running:
        delivery.create(pubsub, running.url)
        yield running


def test_a_push_becomes_the_cloudevent_eventarc_delivers(pubsub, delivery, adapter, receiver):
    alert = {"model": "projects/p/models/house-prices", "objective": "RAW_FEATURE_DRIFT"}
    message_id = pubsub.publish(delivery.topic, json.dumps(alert).encode(), {"model": "m"})
    [event] = receiver.wait_for_events(1)

    sample = json.loads((SAMPLES / "MessagePublishedData.json").read_text())
    assert set(event.get_attributes()) == set(sample) - {"data"}
    assert event["type"] == sample["type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert event["source"] == f"//pubsub.googleapis.com/{delivery.topic}"
    assert event["id"] == message_id
    assert event["datacontenttype"] == "application/json"
    assert receiver.headers[0]["ce-id"] == message_id  # binary mode, as Eventarc sends
    data = event.get_data()
    schema = json.loads((SAMPLES / "MessagePublishedData.schema.json").read_text())
    jsonschema.validate(data, schema)
    assert data["subscription"] == delivery.push_subscription
    message = data["message"]
    assert message["messageId"] == message["message_id"] == message_id
    assert message["publishTime"] == message["publish_time"] == event["time"]
    assert message["attributes"] == {"model": "m"}
    assert json.loads(base64.b64decode(message["data"])) == alert
    assert adapter.statuses(message_id) == [204]


def test_a_non_2xx_answer_is_redelivered_by_the_emulator(pubsub, delivery, adapter, receiver):
    receiver.answers = [500, 503]
    message_id = pubsub.publish(delivery.topic, b'{"model": "m"}')
    events = receiver.wait_for_events(3)
    assert [event["id"] for event in events] == [message_id] * 3
    assert adapter.statuses(message_id) == [500, 503, 204]
    assert [f.attempt for f in adapter.forwarded] == [1, 2, 3]
    assert pubsub.pull(delivery.dead_letter_subscription) == []


def test_an_unreachable_function_is_a_502_so_the_emulator_retries(delivery):
    with EventarcPushAdapter(delivery.topic, "http://127.0.0.1:9/", timeout=5) as adapter:
        message = {"data": "", "messageId": "7", "publishTime": "2026-01-01T00:00:00Z"}
        push = {"subscription": "projects/p/subscriptions/s", "message": message}
        response = requests.post(adapter.url, json=push, timeout=30)
    assert response.status_code == 502
    assert adapter.statuses("7") == [0]


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"message": {"data": ""}}'])
def test_a_request_that_is_not_a_push_is_refused(delivery, receiver, body):
    with EventarcPushAdapter(delivery.topic, receiver.url) as adapter:
        response = requests.post(adapter.url, data=body, timeout=30)
    assert response.status_code == 400
    assert receiver.events == []


def test_message_id_and_publish_time_are_read_in_either_spelling():
    push = {"subscription": "s", "message": {"message_id": "9", "publish_time": "T"}}
    event = message_published_event(push, "projects/p/topics/t")
    assert (event["id"], event["time"]) == ("9", "T")
    assert event["source"] == "//pubsub.googleapis.com/projects/p/topics/t"


def test_the_adapter_runs_as_a_program_and_logs_each_push(pubsub, delivery, receiver, tmp_path):
    group = ProcessGroup(tmp_path)
    command = [sys.executable, "-m", "local.eventarc_push", "--topic", delivery.topic,
               "--target", receiver.url]  # fmt: skip
    try:
        service = group.start("eventarc-push", command, {}, cwd=ROOT)
        url = wait_for_line(service, r"^eventarc push adapter listening on (http://\S+)").group(1)
        delivery.create(pubsub, url)
        message_id = pubsub.publish(delivery.topic, b"{}")
        receiver.wait_for_events(1)
        for _ in range(100):
            if (forwarded := forwarded_in_log(service.log_path, message_id)) is not None:
                break
            time.sleep(0.1)
    finally:
        group.stop()
    assert forwarded.subscription == delivery.push_subscription
    assert (forwarded.attempt, forwarded.status) == (1, 204)
