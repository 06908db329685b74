"""on_drift_alert over HTTP for every alert form Google sends: real server, Vertex emulator."""

import uuid
from typing import Any

import pytest

from tests.functions.helpers import (
    FunctionServer,
    StartedServers,
    VertexStandIn,
    drift_route,
    load_json,
    pubsub_event,
    write_config,
)

MODES = ["binary", "structured"]
# (sample, route it must launch on): every accepted form, as Google's examples and protos shape it.
FORMS = [
    ("canonical", "anything-else"),
    ("anomaly_log_entry", "monitoring"),
    ("anomaly_log_payload", "monitoring"),
    ("stats_anomalies_log_entry", "monitoring"),
    ("stats_anomalies", "anything-else"),  # alone it names no job
    ("v2_anomaly_log_entry", "monitoring"),
    ("incident_open", "incidents"),
]


@pytest.fixture(scope="module")
def server(servers: StartedServers, tmp_path_factory: pytest.TempPathFactory) -> FunctionServer:
    """Incidents labelled for retraining; anything from a monitoring job; everything else."""
    note = "{form}|{policy}|{observed_value}|{incident_id}|{features}|{max_deviation}|{model}"
    routes = [
        drift_route(
            name="incidents",
            policy_labels={"retrain": "house-*"},
            min_deviation=0.5,
            parameters={"data_uri": "gs://d/latest.csv", "generation": 0, "note": note},
        ),
        drift_route(name="monitoring", match={"monitoring_job": "projects/*"}),
        drift_route(name="anything-else", match={"form": "[!i]*"}),  # not incidents
    ]
    return servers.start("on_drift_alert", write_config(tmp_path_factory.mktemp("forms"), routes))


def sample(name: str) -> dict[str, Any]:
    alert = load_json(f"drift/{name}.json")
    if name.startswith("incident"):  # the label the README tells a policy's owner to set
        alert["incident"].setdefault("policy_user_labels", {})["retrain"] = "house-prices"
    return alert


def deliver(server: FunctionServer, alert: Any, mode: str = "binary", **event: Any) -> dict:
    message_id = event.pop("message_id", f"m-{uuid.uuid4().hex[:12]}")
    cloud_event = pubsub_event(alert, message_id=message_id, **event)
    cloud_event["id"] = f"{message_id}-{uuid.uuid4().hex[:6]}"  # each delivery its own CE id
    response = server.send(cloud_event, mode)
    assert response.status_code == 200, response.text
    return server.log_for(cloud_event["id"])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "route"), FORMS)
def test_every_form_launches_once(
    server: FunctionServer, clean_vertex: VertexStandIn, name: str, route: str, mode: str
) -> None:
    entry = deliver(server, sample(name), mode)
    assert (entry["decision"], entry["route"]) == ("launched", route), entry
    [job] = clean_vertex.jobs()
    assert job["name"].endswith(entry["job"])
    assert job["labels"]["trigger-route"] == route


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["incident_closed_docs", "incident_closed_forwarding"])
def test_closed_incident_is_skipped(
    server: FunctionServer, clean_vertex: VertexStandIn, name: str, mode: str
) -> None:
    entry = deliver(server, sample(name), mode)
    assert (entry["decision"], entry["reason"]) == ("skipped", "incident closed")
    assert clean_vertex.create_requests() == []


def test_incident_fields_reach_the_parameters(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    entry = deliver(server, sample("incident_open"))
    note = clean_vertex.job(entry["job"])["runtimeConfig"]["parameterValues"]["note"]
    assert note == "incident|Monitor-Project-Cluster|0.835|0.opqiw61fsv7p||0.835|"
    assert entry["source"].startswith("Monitor-Project-Cluster|gce_instance|")


def test_redelivered_and_renotified_incident_gives_one_run(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    """Pub/Sub redelivers (same message id); Cloud Monitoring re-notifies (a new message)."""
    incident = sample("incident_open")
    first = deliver(server, incident, message_id="incident-1")
    redelivered = deliver(server, incident, message_id="incident-1")
    renotified = deliver(server, incident, message_id="incident-1-again", mode="structured")
    assert [first["decision"], redelivered["decision"], renotified["decision"]] == [
        "launched",
        "duplicate",
        "duplicate",
    ]
    assert first["job"] == redelivered["job"] == renotified["job"]
    assert len(clean_vertex.jobs()) == 1


def test_incident_below_min_deviation_is_skipped(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    incident = sample("incident_open")
    incident["incident"]["observed_value"] = "0.2"
    entry = deliver(server, incident)
    assert (entry["decision"], entry["route"]) == ("skipped", "incidents")
    assert entry["reason"] == "max deviation 0.2 is below min_deviation 0.5"
    assert clean_vertex.create_requests() == []


def test_incident_without_observed_value_cannot_meet_min_deviation(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    incident = sample("incident_open")
    del incident["incident"]["observed_value"]
    entry = deliver(server, incident)
    assert entry["decision"] == "skipped"
    assert entry["reason"] == "the alert gives no deviation to compare with min_deviation 0.5"


def test_incident_without_the_policy_label_matches_no_route(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    incident = load_json("drift/incident_open.json")  # as Google sends it: no retrain label
    entry = deliver(server, incident)
    assert entry["decision"] == "skipped"
    assert entry["reason"].startswith("no drift route matches source 'Monitor-Project-Cluster|")
    assert clean_vertex.create_requests() == []


@pytest.mark.parametrize(
    ("alert", "reason"),
    [
        ({"version": "1.2"}, "not a drift alert: no accepted form matches (tried Cloud "
         "Monitoring incident: no 'incident';"),
        ({"version": "1.2", "incident": {"incident_id": "1", "state": 7}},
         "drift alert field 'incident.state' must be a non-empty string, got 7"),
        ({"version": "1.2", "incident": {"incident_id": "1", "state": "open",
                                          "observed_value": "NaN"}},
         "drift alert field 'incident.observed_value' must be a finite number, got 'NaN'"),
        ({"version": "1.2", "incident": {"incident_id": "1", "state": "open",
                                          "resource": {"labels": "endpoint=1"}}},
         "drift alert field 'incident.resource.labels' must be an object, got 'endpoint=1'"),
    ],
)  # fmt: skip
def test_malformed_incidents_are_acknowledged_with_a_reason(
    server: FunctionServer, clean_vertex: VertexStandIn, alert: dict, reason: str
) -> None:
    entry = deliver(server, alert)
    assert entry["decision"] == "rejected"
    assert entry["reason"].startswith(reason)
    assert clean_vertex.create_requests() == []
