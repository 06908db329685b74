"""The alert sender publishes to the Pub/Sub emulator with google-cloud-pubsub."""

import json

import pytest

from local.send_alert import AlertInputError, canonical_alert, main, read_alert_file

MODEL = "projects/p/models/house-prices"


def test_a_canonical_alert_is_published_with_model_and_objective(pubsub_topic, capsys):
    code = main(["--topic", pubsub_topic.topic, "--model", MODEL, "--feature", "sqft=0.5",
                 "--feature", "bedrooms=0.1", "--threshold", "0.2"])  # fmt: skip
    assert code == 0
    [message] = pubsub_topic.messages()
    alert = json.loads(message.data)
    assert message.attributes == {"model": MODEL, "objective": "RAW_FEATURE_DRIFT"}
    assert [f["name"] for f in alert["features"]] == ["sqft", "bedrooms"]
    assert alert["features"][0] == {"name": "sqft", "deviation": 0.5, "threshold": 0.2}
    assert capsys.readouterr().out == (
        f"alert published to {pubsub_topic.topic} on the Pub/Sub emulator at "
        f"{pubsub_topic.rest.host}: message {message.message_id}\n"
    )


def test_a_file_in_any_form_is_published_as_it_is(pubsub_topic, tmp_path):
    entry = {
        "logName": "projects/p/logs/aiplatform.googleapis.com%2Fmodel_monitoring_anomaly",
        "jsonPayload": {"deployedModelId": "1"},
    }
    path = tmp_path / "alert.json"
    path.write_text(json.dumps(entry))
    assert main(["--topic", pubsub_topic.topic, "--file", str(path)]) == 0
    [message] = pubsub_topic.messages()
    assert json.loads(message.data) == entry
    assert message.attributes == {}


def test_the_emulator_can_be_given_as_an_option(pubsub_emulator, pubsub_topic, monkeypatch):
    monkeypatch.delenv("PUBSUB_EMULATOR_HOST")
    args = ["--emulator", pubsub_emulator.host, "--topic", pubsub_topic.topic]
    assert main([*args, "--model", MODEL, "--feature", "sqft=0.5"]) == 0
    assert len(pubsub_topic.messages()) == 1


def test_an_unknown_topic_exits_1_naming_it(pubsub, capsys):
    topic = "projects/test-project/topics/never-created"
    assert main(["--topic", topic, "--model", MODEL, "--feature", "sqft=0.5"]) == 1
    assert capsys.readouterr().err.startswith(
        f"send_alert: publishing to {topic} failed: 404 Topic not found"
    )


def test_without_an_emulator_it_refuses_to_publish(monkeypatch, capsys):
    monkeypatch.delenv("PUBSUB_EMULATOR_HOST", raising=False)
    assert main(["--model", MODEL, "--feature", "sqft=0.5"]) == 2
    assert capsys.readouterr().err == (
        "send_alert: no Pub/Sub emulator: set PUBSUB_EMULATOR_HOST (`make up` prints it) "
        "or give --emulator\n"
    )


def test_canonical_alert_shape():
    alert = canonical_alert(MODEL, {"sqft": 0.41}, 0.3)
    assert list(alert) == ["model", "endpoint", "objective", "detected_at", "features"]
    assert alert["features"] == [{"name": "sqft", "deviation": 0.41, "threshold": 0.3}]
    assert alert["detected_at"].endswith("Z")


def test_a_file_that_is_not_a_json_object_is_named(tmp_path):
    path = tmp_path / "alert.json"
    path.write_text("[1, 2]")
    with pytest.raises(
        AlertInputError, match=r"alert.json: the alert must be a JSON object, got list"
    ):
        read_alert_file(path)


def test_cli_bad_input_exits_2_with_a_message(pubsub, capsys):
    assert main(["--model", "m"]) == 2
    assert "--model needs at least one --feature NAME=DEVIATION" in capsys.readouterr().err


def published_alert(pubsub_topic):
    """Parse the one message on the topic as on_drift_alert does."""
    from vertex_trigger.events.drift_alerts.parsing import parse_drift_alert

    [message] = pubsub_topic.messages()
    return parse_drift_alert(message.data)


@pytest.mark.parametrize(
    ("form", "flags", "parsed_as", "in_log_entry"),
    [
        ("canonical", ["--model", "projects/p/models/house-prices"], "canonical", False),
        ("incident", ["--label", "retrain=house-prices"], "incident", False),
        ("log-entry", [], "monitoring_v1_anomalies", True),
        ("stats-anomalies", [], "monitoring_v1_stats", True),
        ("v2", [], "monitoring_v2", True),
    ],
)
def test_each_form_the_function_accepts_is_built(
    pubsub_topic, form, flags, parsed_as, in_log_entry
):
    argv = ["--topic", pubsub_topic.topic, "--form", form, "--feature", "sqft=0.5", *flags]
    assert main([*argv, "--feature", "bedrooms=0.1"]) == 0
    alert = published_alert(pubsub_topic)
    assert (alert.form.value, alert.in_log_entry) == (parsed_as, in_log_entry)
    assert alert.max_deviation == 0.5
    assert alert.model_key  # every built form identifies its subject for the cooldown


def test_incident_state_label_and_observed_value(pubsub_topic):
    argv = ["--topic", pubsub_topic.topic, "--form", "incident", "--observed", "0.7", "--state",
            "closed", "--label", "retrain=house-prices", "--policy", "drift on prices",
            "--endpoint", "projects/p/locations/us-central1/endpoints/42"]  # fmt: skip
    assert main(argv) == 0
    alert = published_alert(pubsub_topic)
    assert alert.closed
    assert alert.max_deviation == 0.7
    assert alert.endpoint == "projects/p/locations/us-central1/endpoints/42"
    assert dict(alert.policy_labels) == {"retrain": "house-prices"}
    assert alert.match_fields()["policy"] == "drift on prices"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--form", "stats-anomalies"], "--form stats-anomalies needs at least one --feature"),
        (["--feature", "sqft=0.5"], "--form canonical needs --model"),
    ],
)
def test_built_forms_say_what_is_missing(pubsub, argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err
