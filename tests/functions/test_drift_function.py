"""on_drift_alert over HTTP: canonical and v1 alerts, guards, a cooldown kept by Vertex itself."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from vertex_trigger.launch.identity import job_id, short_hash

from tests.functions.helpers import (
    FunctionServer,
    StartedServers,
    VertexStandIn,
    drift_route,
    load_json,
    pubsub_event,
    write_config,
)

MONITORING_JOB = "*/modelDeploymentMonitoringJobs/*"


@pytest.fixture(scope="module")
def server(servers: StartedServers, tmp_path_factory: pytest.TempPathFactory) -> FunctionServer:
    """One on_drift_alert server: a cooled-down canonical route and a Model Monitoring route."""
    routes = [
        drift_route(
            name="retrain",
            match={"model": "*/models/house-prices*"},
            min_deviation=0.3,
            cooldown="1h",
            labels={"team": "pricing"},
        ),
        drift_route(name="monitoring", match={"monitoring_job": MONITORING_JOB}),
        drift_route(
            name="strict",
            match={"model": "*/models/strict-*"},
            cooldown="1h",
            cooldown_counts="live",
        ),
        # A 1 s cooldown: a run becomes older than one cooldown within a test.
        drift_route(name="late", match={"model": "*/models/late-*"}, cooldown="1s"),
        drift_route(
            name="by-deployed-model",
            match={"model": "*/models/by-id-*"},
            parameters={"data_uri": "gs://data/latest.csv", "generation": "{deployed_model_id}"},
        ),
    ]
    config = write_config(tmp_path_factory.mktemp("drift"), routes)
    return servers.start("on_drift_alert", config)


def canonical(model_suffix: str | None = None, **changes: Any) -> dict[str, Any]:
    """The canonical alert for a model nobody else in this module uses."""
    alert = load_json("drift/canonical.json")
    alert["model"] = (
        f"projects/p/locations/l/models/house-prices-{model_suffix or uuid.uuid4().hex[:8]}"
    )
    return {**alert, **changes}


def deliver(server: FunctionServer, event: Any, mode: str = "binary") -> dict[str, Any]:
    response = server.send(event, mode)
    assert response.status_code == 200, response.text
    return server.log_for(event["id"])


@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_canonical_alert_launches_a_retraining(
    server: FunctionServer, clean_vertex: VertexStandIn, mode: str
) -> None:
    alert = canonical()
    entry = deliver(server, pubsub_event(alert), mode)
    assert entry["decision"] == "launched"
    assert entry["route"] == "retrain"
    assert entry["source"] == alert["model"]
    job = clean_vertex.job(entry["job"])
    assert job["runtimeConfig"]["parameterValues"]["note"] == (
        f"RAW_FEATURE_DRIFT sqft,bedrooms 0.41 {alert['model']}"
    )
    assert job["labels"]["trigger-kind"] == "drift"
    assert job["labels"]["trigger-route"] == "retrain"
    assert job["labels"]["team"] == "pricing"
    assert job["labels"]["trigger-source"] == short_hash(alert["model"])


@pytest.mark.parametrize(
    "sample", ["drift/anomaly_log_entry.json", "drift/anomaly_log_payload.json"]
)
def test_model_monitoring_forms_launch(
    server: FunctionServer, clean_vertex: VertexStandIn, sample: str
) -> None:
    entry = deliver(server, pubsub_event(load_json(sample)))
    assert entry["decision"] == "launched"
    assert entry["route"] == "monitoring"
    values = clean_vertex.job(entry["job"])["runtimeConfig"]["parameterValues"]
    assert values["note"].startswith("RAW_FEATURE_SKEW sqft,year_built 0.52")


def test_snake_case_message_id_is_accepted(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    """Only `message_id` names the message: its redelivery (a new event id) is a duplicate."""
    payload = load_json("drift/anomaly_log_payload.json")  # the route without a cooldown
    event = pubsub_event(payload, message_id="m-snake", id_key="message_id")
    entry = deliver(server, event)
    assert entry["decision"] == "launched"
    again = pubsub_event(payload, message_id="m-snake", id_key="message_id")
    again["id"] = "m-snake-redelivered"
    second = deliver(server, again)
    assert (second["decision"], second["job"]) == ("duplicate", entry["job"])
    assert len(clean_vertex.jobs()) == 1


def test_redelivered_alert_is_a_duplicate(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    event = pubsub_event(load_json("drift/anomaly_log_payload.json"), message_id="m-redelivered")
    first = deliver(server, event)
    again = pubsub_event(load_json("drift/anomaly_log_payload.json"), message_id="m-redelivered")
    again["id"] = "m-redelivered-2"
    second = deliver(server, again)
    assert (first["decision"], second["decision"]) == ("launched", "duplicate")
    assert len(clean_vertex.jobs()) == 1


def test_below_min_deviation_is_skipped(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    alert = canonical(features=[{"name": "sqft", "deviation": 0.2, "threshold": 0.3}])
    entry = deliver(server, pubsub_event(alert))
    assert entry["decision"] == "skipped"
    assert entry["route"] == "retrain"
    assert entry["reason"] == "max deviation 0.2 is below min_deviation 0.3"
    assert clean_vertex.create_requests() == []


def test_model_outside_every_match_is_skipped(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    entry = deliver(server, pubsub_event({**canonical(), "model": "projects/p/models/churn"}))
    assert entry["decision"] == "skipped"
    assert entry["reason"] == "no drift route matches model 'projects/p/models/churn'"
    assert clean_vertex.create_requests() == []


@pytest.mark.parametrize(
    ("payload", "raw", "reason"),
    [
        ("", "%%%", "pubsub message 'data' is not valid base64"),
        ("", "dGVzdCBtZXNzYWdlIDM=", "drift alert is not JSON"),  # the real sample's text
        ({"features": []}, None, "drift alert field 'model' must be a non-empty string, got None"),
        ({"model": "m", "features": {"sqft": 1}}, None,
         "drift alert field 'features' must be a list, got {'sqft': 1}"),
        ({"model": "m", "features": [{"name": "a", "deviation": "high"}]}, None,
         "drift alert field 'features[0].deviation' must be a finite number, got 'high'"),
    ],
)  # fmt: skip
def test_malformed_alerts_are_acknowledged_with_a_reason(
    server: FunctionServer, clean_vertex: VertexStandIn, payload: Any, raw: str | None, reason: str
) -> None:
    entry = deliver(server, pubsub_event(payload, raw_data=raw))
    assert entry["decision"] == "rejected"
    assert entry["reason"] == reason
    assert clean_vertex.create_requests() == []


def test_real_sample_delivery_is_rejected_not_retried(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    """The catalogue's MessagePublishedData sample, as is: its text is not a drift alert."""
    from cloudevents.http import CloudEvent

    sample = load_json("MessagePublishedData.json")
    data = sample.pop("data")
    entry = deliver(server, CloudEvent(sample, data))
    assert (entry["decision"], entry["reason"]) == ("rejected", "drift alert is not JSON")
    assert entry["event_id"] == "3103425958877813"


def test_concurrent_alerts_under_cooldown_give_one_run(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    alert = canonical()
    events = [pubsub_event(alert, message_id=f"burst-{i}-{uuid.uuid4().hex[:6]}") for i in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(server.send, events))
    assert {r.status_code for r in responses} == {200}
    decisions = sorted(server.log_for(e["id"])["decision"] for e in events)
    assert decisions.count("launched") == 1
    assert set(decisions) <= {"launched", "duplicate", "skipped"}
    assert len(clean_vertex.jobs()) == 1


def test_alert_in_a_later_window_is_still_cooling_down(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    alert = canonical()
    first = deliver(server, pubsub_event(alert, event_time="2026-11-26T12:59:59Z"))
    later = deliver(server, pubsub_event(alert, event_time="2026-11-26T13:00:01Z"))
    assert first["decision"] == "launched"
    assert later["decision"] == "skipped"
    assert later["reason"].startswith(f"cooling down: run {first['job']} was created at")
    assert len(clean_vertex.jobs()) == 1


def test_cooldown_is_per_model(server: FunctionServer, clean_vertex: VertexStandIn) -> None:
    first = deliver(server, pubsub_event(canonical()))
    second = deliver(server, pubsub_event(canonical()))
    assert first["decision"] == second["decision"] == "launched"
    assert len(clean_vertex.jobs()) == 2


def test_other_event_types_are_skipped(server: FunctionServer, clean_vertex: VertexStandIn) -> None:
    event = pubsub_event(canonical())
    event["type"] = "google.cloud.pubsub.topic.v1.somethingElse"
    entry = deliver(server, event)
    assert entry["decision"] == "skipped"
    assert entry["reason"] == (
        "event type 'google.cloud.pubsub.topic.v1.somethingElse' is not "
        "google.cloud.pubsub.topic.v1.messagePublished"
    )
    assert clean_vertex.create_requests() == []


FAILED = "PIPELINE_STATE_FAILED"
BEFORE_HOUR, AFTER_HOUR = "2026-11-26T12:59:59Z", "2026-11-26T13:00:01Z"


def test_a_failed_run_does_not_hold_back_the_next_alert_by_default(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    """cooldown_counts: succeeded_or_running (the default): a failed retrain retrains again."""
    alert = canonical()
    first = deliver(server, pubsub_event(alert, event_time=BEFORE_HOUR))
    clean_vertex.end_run(first["job"], FAILED)
    same_window = deliver(server, pubsub_event(alert, event_time=BEFORE_HOUR))
    later_window = deliver(server, pubsub_event(alert, event_time=AFTER_HOUR))
    assert (first["decision"], same_window["decision"]) == ("launched", "launched")
    assert same_window["job"] != first["job"]  # the window's next id: the failed run keeps its own
    assert later_window["decision"] == "skipped"  # the new run (still pending) counts
    assert later_window["reason"].startswith(
        f"cooling down: run {same_window['job']} was created at "
    )
    assert "and is PENDING, within cooldown 3600s (succeeded_or_running runs count)" in (
        later_window["reason"]
    )
    assert len(clean_vertex.jobs()) == 2


def late_alert_model() -> dict[str, Any]:
    return canonical(model=f"projects/p/locations/l/models/late-{uuid.uuid4().hex[:8]}")


# 2026-11-26T12:00:00.500Z, in the 1 s window that began at 12:00:00 (epoch-aligned).
LATE_MOMENT = "2026-11-26T12:00:00.500Z"
LATE_WINDOW = int(datetime(2026, 11, 26, 12, 0, 0, 500000, tzinfo=UTC).timestamp())
# Older than one cooldown even through the list filter's whole seconds (it rounds the bound down).
LATE_BY = 2.5


def test_a_late_alert_after_its_windows_failed_run_takes_the_next_id(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    """A redelivery or a dead-letter replay can come long after its window: the window's FAILED
    run must still be seen, or its id is reused, 409, and the retrain is lost as a duplicate."""
    alert = late_alert_model()
    first = deliver(server, pubsub_event(alert, event_time=LATE_MOMENT))
    assert (first["decision"], first["route"]) == ("launched", "late")
    clean_vertex.end_run(first["job"], FAILED)
    time.sleep(LATE_BY)  # the failed run is now older than one cooldown
    late = deliver(server, pubsub_event(alert, event_time=LATE_MOMENT))
    assert late["decision"] == "launched", late["reason"]
    # The window's second id: what the same alert gets when it comes in time.
    assert first["job"] == job_id("late", alert["model"], f"window-{LATE_WINDOW}")
    assert late["job"] == job_id("late", alert["model"], f"window-{LATE_WINDOW}-retry-1")
    assert len(clean_vertex.jobs()) == 2


def test_a_late_alert_whose_window_has_a_counted_run_is_a_duplicate(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    """Listing further back must not make a late alert launch the window's run a second time."""
    alert = late_alert_model()
    first = deliver(server, pubsub_event(alert, event_time=LATE_MOMENT))
    clean_vertex.end_run(first["job"], "PIPELINE_STATE_SUCCEEDED")
    time.sleep(LATE_BY)
    late = deliver(server, pubsub_event(alert, event_time=LATE_MOMENT))
    assert (late["decision"], late["job"]) == ("duplicate", first["job"])
    assert len(clean_vertex.jobs()) == 1


def test_with_live_a_failed_run_holds_back_the_cooldown(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    alert = canonical(model_suffix=None, model=f"projects/p/models/strict-{uuid.uuid4().hex[:8]}")
    first = deliver(server, pubsub_event(alert, event_time=BEFORE_HOUR))
    assert (first["decision"], first["route"]) == ("launched", "strict")
    clean_vertex.end_run(first["job"], FAILED)
    same_window = deliver(server, pubsub_event(alert, event_time=BEFORE_HOUR))
    later_window = deliver(server, pubsub_event(alert, event_time=AFTER_HOUR))
    assert (same_window["decision"], same_window["job"]) == ("duplicate", first["job"])
    assert later_window["decision"] == "skipped"
    assert "and is FAILED, within cooldown 3600s (live runs count)" in later_window["reason"]
    assert len(clean_vertex.jobs()) == 1


def test_an_integer_placeholder_out_of_range_is_rejected_naming_the_parameter(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    """A 4,301-digit deployed model id used to answer HTTP 500 (Python's int() limit)."""
    model = f"projects/p/models/by-id-{uuid.uuid4().hex[:8]}"
    for deployed_model_id in ["9" * 4301, str(2**53 + 1)]:
        entry = deliver(
            server, pubsub_event(canonical(model=model, deployed_model_id=deployed_model_id))
        )
        assert entry["decision"] == "rejected"
        assert entry["reason"].startswith("parameter 'generation': value '")
        assert "is not a valid NUMBER_INTEGER (out of range" in entry["reason"]
    launched = deliver(server, pubsub_event(canonical(model=model, deployed_model_id=str(2**53))))
    assert launched["decision"] == "launched"
    assert clean_vertex.job(launched["job"])["runtimeConfig"]["parameterValues"]["generation"] == (
        2**53
    )
