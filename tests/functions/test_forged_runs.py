"""Runs that count are runs the service made: forged runs labelled like ours count for nothing.

Anyone who may create a PipelineJob (the pipeline account, whose steps read untrusted data,
included) can put `trigger-route=R` and every other label of ours on a run, and can copy a real
run's `trigger-auth` value too. Only the HMAC of a run's own job id under the deployment's key
(TRIGGER_RUN_KEY, from Secret Manager) makes a run ours: forged runs neither spend a route's daily
budget, nor hold its `max_running` cap or a drift cooldown, nor get reported or posted.
"""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from vertex_trigger.launch.identity import job_id, short_hash

from tests.functions.helpers import (
    Certificate,
    FunctionServer,
    StartedServers,
    VertexStandIn,
    WebhookReceiver,
    drift_route,
    load_json,
    object_route,
    pubsub_event,
    run_state_entry,
    storage_event,
    write_config,
)

KEY = "a-test-run-key-from-secret-manager"  # what Terraform sets from the run-key secret
HOOK = "BUDGET_WEBHOOK_URL"
FORGED = 50  # the reproduction: 50 forged runs made every real event `skipped`


@pytest.fixture(scope="module")
def webhook(certificate: Certificate) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(certificate)
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Any:
    routes = [
        object_route(name="budget", prefix="budget/", max_runs_per_day=2,
                     notify={"webhook": f"${{{HOOK}}}", "on": ["FAILED"]}),
        object_route(name="capped", prefix="capped/", max_running=1),
        drift_route(cooldown="6h"),
    ]  # fmt: skip
    return write_config(tmp_path_factory.mktemp("forged"), routes)


@pytest.fixture(scope="module")
def objects(servers: StartedServers, config: Any) -> FunctionServer:
    return servers.start("on_object_finalized", config, TRIGGER_RUN_KEY=KEY)


@pytest.fixture(scope="module")
def drift(servers: StartedServers, config: Any) -> FunctionServer:
    return servers.start("on_drift_alert", config, TRIGGER_RUN_KEY=KEY)


@pytest.fixture(scope="module")
def reporter(servers: StartedServers, config: Any, webhook: WebhookReceiver) -> FunctionServer:
    return servers.start("on_run_state", config, TRIGGER_RUN_KEY=KEY, **{HOOK: webhook.url},
                         **webhook.trust_env())  # fmt: skip


def decide(server: FunctionServer, event: Any) -> dict[str, Any]:
    assert server.send(event).status_code == 200
    return server.log_for(event["id"])


def forge(vertex: VertexStandIn, labels: dict[str, str], count: int = 1) -> list[str]:
    """Create runs outside the service, labelled as given (a real run's labels, copied)."""
    jobs = [f"forged-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    for job in jobs:
        vertex.create_raw(job, labels=labels)
    return jobs


def real_run(server: FunctionServer, vertex: VertexStandIn, prefix: str) -> dict[str, Any]:
    line = decide(server, storage_event(f"{prefix}{uuid.uuid4().hex[:8]}.csv"))
    assert line["decision"] == "launched", line
    return vertex.job(line["job"])


def test_forged_runs_spend_no_daily_budget(objects: FunctionServer, clean_vertex) -> None:
    copied = real_run(objects, clean_vertex, "budget/")["labels"]  # the forger reads a real run
    assert len(copied["trigger-auth"]) == 32
    forge(clean_vertex, copied, FORGED)

    second = decide(objects, storage_event("budget/second.csv"))
    third = decide(objects, storage_event("budget/third.csv"))

    assert second["decision"] == "launched"  # before: skipped, "daily budget reached: 51 run(s)"
    assert (third["decision"], third["reason"]) == ("skipped", (
        "daily budget reached: 2 run(s) of route 'budget' created in the last 24 h "
        "(max_runs_per_day 2)"))  # fmt: skip
    assert len(clean_vertex.jobs('labels.trigger-route="budget"')) == FORGED + 2


def test_a_forged_running_run_holds_no_max_running_cap(
    objects: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    forge(clean_vertex, {"trigger-route": "capped", "trigger-kind": "object",
                         "trigger-auth": "0" * 32})  # fmt: skip
    first = decide(objects, storage_event("capped/first.csv"))
    assert first["decision"] == "launched"  # the forged PENDING run does not count
    response = objects.send(second := storage_event("capped/second.csv"))
    assert response.status_code == 429  # the service's own run does
    assert objects.log_for(second["id"])["decision"] == "deferred"


def test_a_forged_run_neither_holds_the_cooldown_nor_wins_its_race(
    drift: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    alert = load_json("drift/canonical.json")
    alert["model"] = f"projects/p/locations/l/models/house-prices-{uuid.uuid4().hex[:8]}"
    # The source label is a hash of the model, which anyone can compute; any auth value will do.
    source = short_hash(alert["model"])
    labels = {"trigger-route": "drift", "trigger-kind": "drift", "trigger-source": source,
              "trigger-auth": "f" * 32}  # fmt: skip
    [forged] = forge(clean_vertex, labels)

    line = decide(drift, pubsub_event(alert))

    # Before: "cooling down: run forged-... was created at ..." and the retrain never ran.
    assert (line["decision"], line.get("reason", "")) == ("launched", "")
    assert clean_vertex.job(line["job"])["state"] != "PIPELINE_STATE_CANCELLED"
    assert clean_vertex.job(forged)["state"] != "PIPELINE_STATE_CANCELLED"  # not ours to settle


def test_a_forged_run_is_never_reported_nor_posted(
    objects: FunctionServer,
    reporter: FunctionServer,
    clean_vertex: VertexStandIn,
    webhook: WebhookReceiver,
) -> None:
    webhook.clear()
    real = real_run(objects, clean_vertex, "budget/")
    [forged] = forge(clean_vertex, real["labels"])
    clean_vertex.end_run(forged, "PIPELINE_STATE_FAILED", "<!channel> click <https://evil>")
    clean_vertex.end_run(real["name"].rsplit("/", 1)[1], "PIPELINE_STATE_FAILED", "out of memory")

    forged_line = decide(reporter, pubsub_event(run_state_entry(forged)))
    real_line = decide(reporter, pubsub_event(run_state_entry(real["name"].rsplit("/", 1)[1])))

    assert (forged_line["decision"], forged_line["reason"]) == (
        "skipped", "not a run the trigger service made: its trigger-auth label does not verify")
    assert real_line["decision"] == "reported"
    assert len(webhook.bodies) == 1 and "out of memory" in webhook.bodies[0]["text"]


def test_an_instance_without_the_key_does_not_start(tmp_path) -> None:
    from vertex_trigger.errors import ConfigError
    from vertex_trigger.startup import Environment, build_services

    path = write_config(tmp_path, [object_route()])
    with pytest.raises(ConfigError, match=r"^TRIGGER_RUN_KEY is not set: it holds the secret"):
        build_services(Environment(path, storage_emulator_host="127.0.0.1:9"))


def test_a_forged_run_squatting_an_events_job_id_makes_it_wait_not_a_duplicate(
    objects: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    """Job ids are derived from public facts: anyone can take one before its event comes."""
    event = storage_event("budget/squatted.csv")
    squatted = job_id("budget", "data", "budget/squatted.csv", "1700000000000001")
    forge_as(clean_vertex, squatted, {"trigger-route": "budget", "trigger-auth": "0" * 32})

    response = objects.send(event)

    line = objects.log_for(event["id"])
    assert response.status_code == 500  # redelivered, then dead-lettered: never acknowledged
    assert (line["decision"], line["job"]) == ("failed", squatted)
    assert line["reason"].startswith(
        f"deployment problem: job id {squatted} is taken by a run the trigger service did not "
        "make (its trigger-auth label does not verify): delete that run")
    clean_vertex.clean()  # the operator deletes it (the emulator has no delete: all go)
    before = len(objects.entries_for(event["id"]))
    assert objects.send(event).status_code == 200
    assert objects.nth_entry_for(event["id"], before + 1)["decision"] == "launched"


def forge_as(vertex: VertexStandIn, job: str, labels: dict[str, str]) -> None:
    vertex.create_raw(job, labels=labels)
