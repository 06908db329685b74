"""The whole local loop, real parts only: bucket folder -> on_object_finalized -> Vertex emulator
-> kfp.local; drift alert -> Pub/Sub emulator -> Eventarc adapter -> on_drift_alert -> Vertex
emulator; a redelivered event -> no new run; a run's end -> the Vertex emulator's state log entry
-> Pub/Sub emulator -> Eventarc adapter -> on_run_state -> the outcomes topic.
"""

import json
import time
from datetime import UTC, datetime

import pytest
import requests
import yaml
from kfp import compiler, dsl

from local.cloud_event_http import post_binary
from local.eventarc_push import forwarded_in_log
from local.object_events import StoredObject, finalized_event
from local.outcome_feed import OutcomeFeed
from local.processes import ProcessGroup
from local.pubsub_rest import PubsubRest
from local.send_alert import canonical_alert
from local.stack import StackSettings, start_stack
from pipelines.drift.publish import publish_alert

CSV = "sqft,price\n1200,250000\n1500,310000\n900,180000\n"
FINAL = {"PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED", "PIPELINE_STATE_CANCELLED"}


@dsl.component(base_image="python:3.11")
def count_rows(data_uri: str, reason: str) -> int:
    """Read the CSV through Cloud Storage (the emulator) and count its data rows."""
    from google.cloud import storage  # lightweight components import inside

    bucket, _, name = data_uri.removeprefix("gs://").partition("/")
    text = storage.Client().bucket(bucket).blob(name).download_as_text()
    print(f"{reason}: {data_uri}")
    return len(text.splitlines()) - 1


@dsl.pipeline(name="count-rows")
def count_rows_pipeline(data_uri: str, reason: str = ""):
    """One task that reads the data it was launched for."""
    count_rows(data_uri=data_uri, reason=reason)


def write_config(folder, template, outcomes_topic: str) -> None:
    routes = [
        {"name": "arrival", "event": "object_finalized", "bucket": "local-data",
         "prefix": "incoming/", "suffix": ".csv", "template": str(template),
         "parameters": {"data_uri": "{uri}", "reason": "new {name}"}},
        {"name": "drift", "event": "drift_alert", "match": {"model": "*house-prices*"},
         "template": str(template),
         "parameters": {"data_uri": "gs://local-data/training/latest.csv",
                        "reason": "{objective}"}},
    ]  # fmt: skip
    config = {"project": "local-project", "region": "us-central1",
              "pipeline_root": "gs://local-pipelines/runs", "outcomes_topic": outcomes_topic,
              "routes": routes}  # fmt: skip
    (folder / "triggers.yaml").write_text(yaml.safe_dump(config))


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stack")
    template = folder / "count_rows.yaml"
    compiler.Compiler().compile(count_rows_pipeline, str(template))
    settings = StackSettings(root=folder, triggers_config=folder / "triggers.yaml")
    write_config(folder, template, settings.outcomes.topic)
    group = ProcessGroup(folder / "logs")
    try:
        yield settings, start_stack(group, settings)
    finally:
        group.stop()


def runs_of(endpoints, settings, route: str) -> list[dict]:
    url = f"{endpoints.vertex_url}/v1/{settings.parent}/pipelineJobs"
    params = {"filter": f'labels.trigger-route="{route}"'}
    return requests.get(url, params=params, timeout=10).json().get("pipelineJobs", [])


def wait_for_finished_run(endpoints, settings, route: str) -> dict:
    """Poll (bounded by attempts) until the route has a finished run."""
    for _ in range(900):
        runs = runs_of(endpoints, settings, route)
        if runs and runs[0]["state"] in FINAL:
            return runs[0]
        time.sleep(0.2)
    raise AssertionError(f"no finished run for route {route}: {runs}")


def decisions(endpoints, function: str) -> list[dict]:
    lines = (endpoints.logs / f"{function}.log").read_text().splitlines()
    return [json.loads(line) for line in lines if line.startswith("{") and '"decision"' in line]


def rows_counted(run: dict) -> int:
    [task] = [t for t in run["jobDetail"]["taskDetails"] if "parentTaskId" in t]
    return task["execution"]["metadata"]["output:Output"]


def test_a_dropped_file_runs_the_pipeline_once_even_when_redelivered(stack):
    settings, endpoints = stack
    incoming = settings.buckets / "local-data" / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    (incoming / "prices.csv").write_text(CSV)
    run = wait_for_finished_run(endpoints, settings, "arrival")
    assert run["state"] == "PIPELINE_STATE_SUCCEEDED", run.get("error")
    assert run["labels"]["trigger-kind"] == "object"
    params = run["runtimeConfig"]["parameterValues"]
    assert params == {
        "data_uri": "gs://local-data/incoming/prices.csv",
        "reason": "new incoming/prices.csv",
    }
    assert rows_counted(run) == 3

    # Eventarc redelivers the same event (same object generation): no second run.
    [launched] = [
        d for d in decisions(endpoints, "on_object_finalized") if d["decision"] == "launched"
    ]
    generation = int(launched["source"].rsplit("#", 1)[1])  # gs://bucket/name#generation
    again = StoredObject(
        "local-data", "incoming/prices.csv", generation, CSV.encode(), datetime.now(UTC)
    )
    response = post_binary(endpoints.object_function_url, finalized_event(again))
    assert response.status_code == 200
    assert decisions(endpoints, "on_object_finalized")[-1]["decision"] == "duplicate"
    assert len(runs_of(endpoints, settings, "arrival")) == 1


def test_a_drift_alert_runs_the_retraining_pipeline(stack, monkeypatch):
    settings, endpoints = stack
    training = settings.buckets / "local-data" / "training"
    training.mkdir(parents=True, exist_ok=True)
    (training / "latest.csv").write_text(CSV + "1000,200000\n")
    _wait_for_decision(endpoints, "on_object_finalized", "skipped")  # mirrored, outside incoming/
    alert = canonical_alert("projects/local-project/models/house-prices", {"sqft": 0.5}, 0.3)
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", endpoints.pubsub_host)
    message_id = publish_alert(settings.topic, alert, timeout=30)
    run = wait_for_finished_run(endpoints, settings, "drift")
    pushed = forwarded_in_log(endpoints.logs / "eventarc-push.log", message_id)
    assert (pushed.subscription, pushed.attempt, pushed.status) == (
        settings.pubsub.push_subscription, 1, 200)  # fmt: skip
    assert run["state"] == "PIPELINE_STATE_SUCCEEDED", run.get("error")
    assert run["labels"]["trigger-kind"] == "drift"
    assert run["runtimeConfig"]["parameterValues"]["reason"] == "RAW_FEATURE_DRIFT"
    assert rows_counted(run) == 4


def _wait_for_decision(endpoints, function: str, decision: str) -> None:
    for _ in range(300):
        if any(d["decision"] == decision for d in decisions(endpoints, function)):
            return
        time.sleep(0.1)
    raise AssertionError(f"{function} never logged a {decision} decision")


def test_the_drift_topic_is_wired_as_terraform_wires_it(stack):
    settings, endpoints = stack
    pubsub = PubsubRest(endpoints.pubsub_host)
    push = pubsub.get_subscription(settings.pubsub.push_subscription)
    assert push["topic"] == settings.topic
    assert push["pushConfig"] == {"pushEndpoint": endpoints.push_adapter_url}
    assert push["deadLetterPolicy"] == {
        "deadLetterTopic": settings.pubsub.dead_letter_topic,
        "maxDeliveryAttempts": 15,  # terraform/variables.tf's default
    }
    keep = pubsub.get_subscription(settings.pubsub.dead_letter_subscription)
    assert (keep["topic"], keep["pushConfig"]) == (settings.pubsub.dead_letter_topic, {})


def test_a_run_end_is_reported_on_the_outcomes_topic_naming_its_file(stack):
    settings, endpoints = stack
    incoming = settings.buckets / "local-data" / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    (incoming / "reported.csv").write_text(CSV)
    launched = _wait_for_launch(endpoints, "gs://local-data/incoming/reported.csv")
    feed = OutcomeFeed(PubsubRest(endpoints.pubsub_host), settings.outcomes.subscription,
                       say=lambda _: None)  # fmt: skip
    outcome = feed.wait_for(launched["job"], timeout=240)
    assert outcome["state"] == "SUCCEEDED"
    assert (outcome["route"], outcome["trigger_kind"]) == ("arrival", "object")
    assert outcome["source"] == launched["source"]  # gs://local-data/incoming/reported.csv#GEN
    assert outcome["event_id"] == launched["event_id"]
    assert outcome["outcome_id"] == f"{launched['job']}/SUCCEEDED"
    # Every state change was a nudge; only the end was published.
    reports = [d for d in decisions(endpoints, "on_run_state") if d.get("job") == launched["job"]]
    assert [d["decision"] for d in reports][-1] == "reported"
    assert {d["reason"] for d in reports if d["decision"] == "skipped"} <= {
        "state PENDING is not an end state", "state RUNNING is not an end state"}  # fmt: skip


def _wait_for_launch(endpoints, source_prefix: str) -> dict:
    for _ in range(600):
        for entry in decisions(endpoints, "on_object_finalized"):
            if entry["decision"] == "launched" and entry["source"].startswith(source_prefix):
                return entry
        time.sleep(0.1)
    raise AssertionError(f"on_object_finalized never launched {source_prefix}")


def test_the_run_states_topic_is_wired_like_the_drift_topic(stack):
    settings, endpoints = stack
    push = PubsubRest(endpoints.pubsub_host).get_subscription(
        settings.run_states.push_subscription
    )
    assert push["topic"] == settings.run_states.topic == "projects/local-project/topics/run-states"
    assert push["pushConfig"] == {"pushEndpoint": endpoints.run_state_adapter_url}
    assert push["deadLetterPolicy"]["deadLetterTopic"] == settings.run_states.dead_letter_topic
