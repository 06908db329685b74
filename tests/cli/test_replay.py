"""``replay`` on Google's Pub/Sub emulator: dead letters go through the functions' handlers.

A message whose handler ends it (launched, duplicate, skipped, rejected, reported) is
acknowledged; one that fails again stays in the subscription for the next replay.
"""

import json
import time

import pytest
from vertex_trigger.launch.identity import job_id
from vertex_trigger.launch.run_key import LOCAL_RUN_KEY, RunKey

from local.eventarc_push import EventarcPushAdapter
from local.function_server import launch_function_server
from local.pubsub_emulator import free_port
from local.pubsub_rest import RetryPolicy
from local.pubsub_topology import TriggerDelivery
from local.send_alert import canonical_alert
from pipelines.drift.publish import publish_alert
from tests.functions.helpers import (
    drift_route,
    google_error,
    object_route,
    run_state_entry,
    write_config,
)
from tests.pubsub_fixtures import TopicTap, unique_id

MODEL = "projects/test-project/locations/us-central1/models/house-prices"
ALERT = canonical_alert(MODEL, {"sqft": 0.5}, 0.3)


def dead_letter_attributes(function: str, publish_time: str = "2026-11-26T12:00:00.123Z"):
    """The attributes Pub/Sub adds on forwarding (as tests/reliability sees the emulator add)."""
    return {
        "CloudPubSubDeadLetterSourceDeliveryCount": "15",
        "CloudPubSubDeadLetterSourceSubscription": f"topic-{function}",
        "CloudPubSubDeadLetterSourceSubscriptionProject": "test-project",
        "CloudPubSubDeadLetterSourceTopicPublishTime": publish_time,
    }


@pytest.fixture
def dead(pubsub):
    """A dead-letter topic and its keeping subscription."""
    return TopicTap.create(pubsub, "test-project", "dead")


@pytest.fixture
def outcomes_topic():
    return f"projects/test-project/topics/{unique_id('outcomes')}"  # not created yet


@pytest.fixture
def config(tmp_path, outcomes_topic):
    return write_config(tmp_path, [object_route(), drift_route()], outcomes_topic=outcomes_topic)


def replay(cli, config, vertex, dead, *options):
    return cli("replay", "--subscription", dead.subscription, "--config", config, "--json",
               "--wait", "1", *options, VERTEX_AI_EMULATOR_HOST=vertex.host)  # fmt: skip


def test_a_message_that_fails_again_stays_and_one_that_succeeds_is_acknowledged(
    pubsub, dead, config, outcomes_topic, clean_vertex, cli
):
    alert_id = pubsub.publish(dead.topic, json.dumps(ALERT).encode(),
                              dead_letter_attributes("on-drift-alert"))  # fmt: skip
    # A run the service made: its trigger-auth under the emulator's local key.
    auth = RunKey.from_text(LOCAL_RUN_KEY).label("drift-0123")
    clean_vertex.create_raw("drift-0123", {"trigger-route": "drift", "trigger-kind": "drift",
                                           "trigger-auth": auth})  # fmt: skip
    clean_vertex.end_run("drift-0123", "PIPELINE_STATE_SUCCEEDED")
    entry = json.dumps(run_state_entry("drift-0123", resource_container="test-project"))
    state_id = pubsub.publish(dead.topic, entry.encode(), dead_letter_attributes("on-run-state"))

    first = replay(cli, config, clean_vertex, dead)  # the outcomes topic is missing: 404

    assert first.code == 1
    by_id = {m["message"]: m for m in first.json()["messages"]}
    assert set(by_id) == {alert_id, state_id}
    launched = by_id[alert_id]
    assert (launched["function"], launched["decision"], launched["acknowledged"]) == (
        "on_drift_alert", "launched", "yes")  # fmt: skip
    assert launched["job"] == job_id("drift", MODEL, alert_id)
    assert [j["name"].rsplit("/", 1)[1] for j in clean_vertex.jobs()
            if j["labels"].get("trigger-route") == "drift"].count(launched["job"]) == 1  # fmt: skip
    failed = by_id[state_id]
    assert (failed["function"], failed["decision"], failed["acknowledged"]) == (
        "on_run_state", "failed", "no")  # fmt: skip
    refused = f"deployment problem: Pub/Sub refused to publish to {outcomes_topic}"
    assert failed["reason"].startswith(refused)
    assert first.json()["left"] == 1

    watch = outcomes_topic.replace("/topics/", "/subscriptions/")
    outcomes = TopicTap(pubsub, outcomes_topic, watch)
    pubsub.create_topic(outcomes.topic)  # the operator fixes the deployment
    pubsub.create_subscription(outcomes.subscription, outcomes.topic)
    second = replay(cli, config, clean_vertex, dead)

    assert second.code == 0
    [again] = second.json()["messages"]  # only the one left behind came back
    assert (again["message"], again["decision"], again["acknowledged"]) == (
        state_id, "reported", "yes")  # fmt: skip
    [outcome] = outcomes.messages()
    assert json.loads(outcome.data)["job"] == "drift-0123"
    assert pubsub.pull(dead.subscription) == []  # nothing left


@pytest.mark.parametrize("error", ["act_as_denied.json", "pipeline_root_denied.json"])
def test_a_deployment_problem_vertex_words_as_400_is_not_acknowledged(
    pubsub, dead, config, clean_vertex, cli, error
):
    """Vertex's 400 for a missing actAs grant or pipeline-root access: the message stays."""
    alert_id = pubsub.publish(dead.topic, json.dumps(ALERT).encode(),
                              dead_letter_attributes("on-drift-alert"))  # fmt: skip
    clean_vertex.fault(**google_error(error))

    first = replay(cli, config, clean_vertex, dead)

    assert first.code == 1
    [message] = first.json()["messages"]
    assert (message["message"], message["decision"], message["acknowledged"]) == (
        alert_id, "failed", "no")  # fmt: skip
    assert message["reason"].startswith(
        f"deployment problem: Vertex AI refused to create {message['job']}: HTTP 400 "
    )
    # The operator grants the role (the fault is used up): the next replay launches it.
    second = replay(cli, config, clean_vertex, dead)
    assert [(m["message"], m["decision"], m["acknowledged"])
            for m in second.json()["messages"]] == [(alert_id, "launched", "yes")]  # fmt: skip
    assert pubsub.pull(dead.subscription) == []


def test_dry_run_decides_but_creates_and_acknowledges_nothing(
    pubsub, dead, config, clean_vertex, cli
):
    alert_id = pubsub.publish(dead.topic, json.dumps(ALERT).encode(),
                              dead_letter_attributes("on-drift-alert"))  # fmt: skip

    dry = replay(cli, config, clean_vertex, dead, "--dry-run")

    assert dry.code == 0
    [message] = dry.json()["messages"]
    assert (message["decision"], message["acknowledged"]) == ("would_launch", "no")
    assert message["job"] == job_id("drift", MODEL, alert_id)
    assert clean_vertex.create_requests() == []
    real = replay(cli, config, clean_vertex, dead)  # still there
    assert [m["decision"] for m in real.json()["messages"]] == ["launched"]


def test_a_message_of_unknown_origin_is_left_unless_function_names_it(
    pubsub, dead, config, clean_vertex, cli
):
    pubsub.publish(dead.topic, json.dumps(ALERT).encode(), {"model": MODEL})

    unknown = replay(cli, config, clean_vertex, dead)
    named = replay(cli, config, clean_vertex, dead, "--function", "on_drift_alert")

    [left] = unknown.json()["messages"]
    assert (left["decision"], left["acknowledged"]) == ("left", "no")
    assert "cannot tell which function it dead-lettered from" in left["reason"]
    assert [m["decision"] for m in named.json()["messages"]] == ["launched"]


def test_the_table_and_max(pubsub, dead, config, clean_vertex, cli):
    for feature in ("sqft", "bedrooms", "age"):
        alert = canonical_alert(f"{MODEL}-{feature}", {feature: 0.5}, 0.3)
        pubsub.publish(dead.topic, json.dumps(alert).encode(),
                       dead_letter_attributes("on-drift-alert"))  # fmt: skip

    ran = cli("replay", "--subscription", dead.subscription, "--config", config, "--max", "2",
              "--wait", "1", VERTEX_AI_EMULATOR_HOST=clean_vertex.host)  # fmt: skip

    assert ran.code == 0
    lines = ran.out.splitlines()
    assert sum(line.endswith(": launched") for line in lines) == 2
    assert lines[-1] == f"2 acknowledged, 0 left in {dead.subscription}"
    rest = replay(cli, config, clean_vertex, dead)
    assert len(rest.json()["messages"]) == 1


def test_an_alert_dead_lettered_by_the_emulator_launches_once_vertex_answers(
    pubsub, clean_vertex, tmp_path, cli
):
    config = write_config(tmp_path, [drift_route(name="prices-drift")])
    unreachable = {"TRIGGERS_CONFIG": str(config),
                   "VERTEX_AI_EMULATOR_HOST": f"127.0.0.1:{free_port()}"}  # fmt: skip
    fast = RetryPolicy(minimum_backoff=0.1, maximum_backoff=0.5)
    delivery = TriggerDelivery("test-project", unique_id("drift-alerts"), max_delivery_attempts=5,
                               retry=fast)  # fmt: skip
    with launch_function_server("on_drift_alert", unreachable) as failing:
        failing.wait_ready()
        with EventarcPushAdapter(delivery.topic, failing.url) as adapter:
            delivery.create(pubsub, adapter.url)
            original = publish_alert(delivery.topic, ALERT, timeout=30)
            for _ in range(600):  # bounded by attempts: every push fails, then Pub/Sub forwards
                if len(adapter.statuses(original)) == 5:
                    break
                time.sleep(0.1)
    assert adapter.statuses(original) == [500] * 5

    # The pull waits for Pub/Sub's forward to the dead-letter topic, which follows the last push.
    ran = cli("replay", "--subscription", delivery.dead_letter_subscription, "--config", config,
              "--json", "--wait", "30", "--max", "1",
              VERTEX_AI_EMULATOR_HOST=clean_vertex.host)  # fmt: skip

    assert ran.code == 0, ran.out
    [message] = ran.json()["messages"]
    assert (message["function"], message["decision"]) == ("on_drift_alert", "launched")
    assert [r["job_id"] for r in clean_vertex.create_requests()] == [message["job"]]
