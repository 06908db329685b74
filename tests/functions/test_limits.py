"""max_running defers (429, INFO) until a run finishes; max_runs_per_day skips; both by labels."""

import time
import uuid

import pytest
import requests

from tests.functions.helpers import (
    FunctionServer,
    StartedServers,
    VertexStandIn,
    drift_route,
    load_json,
    object_route,
    pubsub_event,
    storage_event,
    write_config,
)


@pytest.fixture(scope="module")
def objects(servers: StartedServers, tmp_path_factory: pytest.TempPathFactory) -> FunctionServer:
    routes = [
        object_route(name="capped", prefix="capped/", max_running=1),
        object_route(name="budget", prefix="budget/", max_runs_per_day=2),
    ]
    config = write_config(tmp_path_factory.mktemp("limits"), routes)
    return servers.start("on_object_finalized", config)


@pytest.fixture(scope="module")
def drift(servers: StartedServers, tmp_path_factory: pytest.TempPathFactory) -> FunctionServer:
    routes = [drift_route(cooldown="1h", max_runs_per_day=1)]
    config = write_config(tmp_path_factory.mktemp("drift-limits"), routes)
    return servers.start("on_drift_alert", config)


def new_object(prefix: str) -> object:
    return storage_event(f"{prefix}{uuid.uuid4().hex[:8]}.csv")


def latest(server: FunctionServer, event_id: str, count: int) -> dict:
    """Return the decision of the event's ``count``-th delivery once its line has arrived."""
    deadline = time.monotonic() + 10
    while len(server.entries_for(event_id)) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return server.entries_for(event_id)[count - 1]


def cancel(vertex: VertexStandIn, job: str) -> None:
    requests.post(f"{vertex.jobs_url}/{job}:cancel", timeout=10).raise_for_status()


def test_max_running_defers_with_429_at_info_then_launches_once_a_run_finishes(
    objects: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    first, second = new_object("capped/"), new_object("capped/")
    assert objects.send(first).status_code == 200
    running = objects.log_for(first["id"])["job"]
    response = objects.send(second)
    assert response.status_code == 429  # Eventarc redelivers it with its own backoff
    entry = objects.log_for(second["id"])
    assert (entry["decision"], entry["severity"]) == ("deferred", "INFO")
    assert entry["reason"] == (
        f"max_running 1 reached: 1 run(s) of route 'capped' not finished, e.g. {running}; "
        "answering 429 so it is redelivered later"
    )
    assert not any("Traceback" in line for line in objects.stderr_lines)  # not an error
    # A redelivery of the running object's own event is no new run: its 409 says so.
    assert objects.send(first).status_code == 200
    assert latest(objects, first["id"], 2)["decision"] == "duplicate"
    cancel(clean_vertex, running)  # the run finishes (cancelled is finished)
    assert objects.send(second).status_code == 200
    assert latest(objects, second["id"], 2)["decision"] == "launched"
    assert len(clean_vertex.jobs('labels.trigger-route="capped"')) == 2


def test_max_runs_per_day_skips_with_the_daily_budget_reason(
    objects: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    events = [new_object("budget/") for _ in range(3)]
    decisions = []
    for event in events:
        assert objects.send(event).status_code == 200
        decisions.append(objects.log_for(event["id"]))
    assert [d["decision"] for d in decisions] == ["launched", "launched", "skipped"]
    assert decisions[2]["reason"] == (
        "daily budget reached: 2 run(s) of route 'budget' created in the last 24 h "
        "(max_runs_per_day 2)"
    )
    assert objects.send(events[0]).status_code == 200  # a redelivery within budget's count
    assert latest(objects, events[0]["id"], 2)["decision"] == "duplicate"
    assert len(clean_vertex.jobs('labels.trigger-route="budget"')) == 2


def test_a_drift_route_over_its_budget_skips_and_settles_nothing(
    drift: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    entries = []
    for model in ("a", "b"):
        alert = load_json("drift/canonical.json")
        alert["model"] = f"projects/p/locations/l/models/house-prices-{model}-{uuid.uuid4().hex}"
        event = pubsub_event(alert)
        assert drift.send(event).status_code == 200
        entries.append(drift.log_for(event["id"]))
    assert [e["decision"] for e in entries] == ["launched", "skipped"]
    assert entries[1]["reason"].startswith("daily budget reached: 1 run(s) of route 'drift'")
    assert len(clean_vertex.jobs()) == 1
