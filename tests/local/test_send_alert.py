"""The alert sender: a Pub/Sub messagePublished CloudEvent carrying the alert as message data."""

import base64
import json

import pytest

from local.send_alert import AlertInputError, canonical_alert, main, read_alert_file, send_alert
from tests.local.receiver import CloudEventReceiver


@pytest.fixture
def receiver():
    with CloudEventReceiver() as server:
        yield server


def alert_in(event) -> dict:
    return json.loads(base64.b64decode(event.data["message"]["data"]))


def test_canonical_alert_is_wrapped_in_message_published(receiver):
    alert = canonical_alert("projects/p/models/house-prices", {"sqft": 0.41}, 0.3)
    response = send_alert(receiver.url, alert, topic="projects/p/topics/drift-alerts")
    assert response.status_code == 204
    [event] = receiver.events
    assert event["type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert event["source"] == "//pubsub.googleapis.com/projects/p/topics/drift-alerts"
    message = event.data["message"]
    assert message["messageId"] == message["message_id"] == event["id"]
    assert message["publishTime"] == message["publish_time"]
    assert alert_in(event) == alert
    assert alert["features"] == [{"name": "sqft", "deviation": 0.41, "threshold": 0.3}]
    assert alert["objective"] == "RAW_FEATURE_DRIFT"


def test_structured_mode(receiver):
    send_alert(receiver.url, {"model": "m"}, structured=True)
    assert receiver.headers[0]["content-type"].startswith("application/cloudevents+json")
    assert alert_in(receiver.events[0]) == {"model": "m"}


def test_cli_sends_a_file_in_any_form(receiver, tmp_path):
    entry = {
        "logName": "projects/p/logs/aiplatform.googleapis.com%2Fmodel_monitoring_anomaly",
        "jsonPayload": {"deployedModelId": "1"},
    }
    path = tmp_path / "alert.json"
    path.write_text(json.dumps(entry))
    assert main(["--target", receiver.url, "--file", str(path)]) == 0
    assert alert_in(receiver.events[0]) == entry


def test_cli_builds_a_canonical_alert(receiver):
    code = main(
        [
            "--target",
            receiver.url,
            "--model",
            "projects/p/models/house-prices",
            "--feature",
            "sqft=0.5",
            "--feature",
            "bedrooms=0.1",
            "--threshold",
            "0.2",
        ]
    )
    assert code == 0
    features = alert_in(receiver.events[0])["features"]
    assert [f["name"] for f in features] == ["sqft", "bedrooms"]


def test_cli_exit_1_when_the_function_refuses(receiver):
    receiver.answers = [500]
    assert main(["--target", receiver.url, "--model", "m", "--feature", "sqft=0.5"]) == 1


def test_a_file_that_is_not_a_json_object_is_named(tmp_path):
    path = tmp_path / "alert.json"
    path.write_text("[1, 2]")
    with pytest.raises(
        AlertInputError, match=r"alert.json: the alert must be a JSON object, got list"
    ):
        read_alert_file(path)


def test_cli_bad_input_exits_2_with_a_message(tmp_path, capsys):
    assert main(["--target", "http://127.0.0.1:9/", "--model", "m"]) == 2
    assert "--model needs at least one --feature NAME=DEVIATION" in capsys.readouterr().err
