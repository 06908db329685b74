"""The cooldown across a window boundary: racing alerts leave exactly one live run."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from cloudevents.http import CloudEvent

from tests.functions.helpers import (
    FAST_RETRY,
    FunctionServer,
    StartedServers,
    VertexStandIn,
    drift_route,
    load_json,
    pubsub_event,
    write_config,
)

# Epoch-aligned 60 s windows: these two instants are 0.2 s apart but in different windows.
BEFORE_BOUNDARY = "2026-11-26T12:00:59.900Z"
AFTER_BOUNDARY = "2026-11-26T12:01:00.100Z"
CANCELLED = "PIPELINE_STATE_CANCELLED"
PENDING = "PIPELINE_STATE_PENDING"  # the emulator records runs without executing them
# The first create to reach the emulator waits this long before it is stored, so the other
# alert passes its list check and creates first: a deterministic race, asserted on outcomes only.
HANG_SECONDS = 3


@pytest.fixture(scope="module")
def server(servers: StartedServers, tmp_path_factory: pytest.TempPathFactory) -> FunctionServer:
    """on_drift_alert with a 60 s cooldown; an attempt timeout that outlasts the hung create.

    An attempt gets at most half of what is left of the event's budget (connect and read are
    timed apart), so the budget is over twice the hang.
    """
    routes = [drift_route(name="retrain", cooldown="60s")]
    retry = {**FAST_RETRY, "deadline": "10s", "request_timeout": "10s"}
    config = write_config(tmp_path_factory.mktemp("race"), routes, retry=retry)
    return servers.start("on_drift_alert", config)


def alert_for_new_model() -> dict[str, Any]:
    """The canonical alert for a model no other test uses."""
    alert = load_json("drift/canonical.json")
    return {**alert, "model": f"projects/p/locations/l/models/m-{uuid.uuid4().hex[:8]}"}


def send_all(server: FunctionServer, events: list[CloudEvent]) -> list[requests.Response]:
    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        return list(pool.map(server.send, events))


def race(
    server: FunctionServer, vertex: VertexStandIn
) -> tuple[dict[str, Any], list[CloudEvent], list[dict[str, Any]]]:
    """Send two alerts straddling a window boundary while the first create hangs."""
    alert = alert_for_new_model()
    events = [pubsub_event(alert, event_time=t) for t in (BEFORE_BOUNDARY, AFTER_BOUNDARY)]
    vertex.fault(kind="hang", seconds=HANG_SECONDS, count=1)
    send_all(server, events)
    return alert, events, [server.log_for(event["id"]) for event in events]


def redeliver(server: FunctionServer, alert: dict[str, Any], event: CloudEvent) -> dict[str, Any]:
    """Deliver the same Pub/Sub message again (Eventarc gives the delivery a new id)."""
    again = pubsub_event(alert, message_id=event["id"], event_time=event["time"])
    again["id"] = f"{event['id']}-again"
    response = server.send(again)
    assert response.status_code == 200, response.text
    return server.log_for(again["id"])


def states(vertex: VertexStandIn) -> dict[str, str]:
    return {job["name"].rsplit("/", 1)[-1]: job["state"] for job in vertex.jobs()}


def winner_and_loser(entries: list[dict]) -> tuple[dict, dict]:
    by_decision = {entry["decision"]: entry for entry in entries}
    assert sorted(by_decision) == ["launched", "skipped"], entries
    return by_decision["launched"], by_decision["skipped"]


def test_alerts_straddling_a_window_boundary_leave_one_run(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    _, _, entries = race(server, clean_vertex)
    winner, loser = winner_and_loser(entries)
    assert winner["job"] != loser["job"]
    assert states(clean_vertex) == {winner["job"]: PENDING, loser["job"]: CANCELLED}
    assert loser["reason"] == (
        f"cooling down: run {winner['job']} won the race; cancelled this run {loser['job']}"
    )


def test_concurrent_alerts_across_a_boundary_always_leave_exactly_one_live_run(
    server: FunctionServer, vertex: VertexStandIn
) -> None:
    for _ in range(5):
        vertex.clean()
        alert = alert_for_new_model()
        events = [pubsub_event(alert, event_time=t) for t in [BEFORE_BOUNDARY, AFTER_BOUNDARY] * 2]
        assert {response.status_code for response in send_all(server, events)} == {200}
        runs = states(vertex)
        assert [state for state in runs.values() if state != CANCELLED] == [PENDING], runs
        decisions = [server.log_for(event["id"])["decision"] for event in events]
        assert "launched" in decisions
        assert set(decisions) <= {"launched", "duplicate", "skipped"}


def test_a_redelivered_loser_is_skipped_not_launched_again(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    alert, events, entries = race(server, clean_vertex)
    winner, loser = winner_and_loser(entries)
    entry = redeliver(server, alert, next(e for e in events if e["id"] == loser["event_id"]))
    assert entry["decision"] == "skipped"
    assert entry["reason"].startswith(f"cooling down: run {winner['job']} was created at")
    assert states(clean_vertex) == {winner["job"]: PENDING, loser["job"]: CANCELLED}


def test_a_cancel_answering_503_once_is_retried(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    clean_vertex.fault(kind="status", status=503, count=1, on="cancel")
    _, _, entries = race(server, clean_vertex)
    winner, loser = winner_and_loser(entries)
    assert loser["reason"].endswith(f"cancelled this run {loser['job']}")
    assert states(clean_vertex) == {winner["job"]: PENDING, loser["job"]: CANCELLED}


def test_a_cancel_still_failing_is_redelivered_and_the_redelivery_settles(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    clean_vertex.fault(kind="status", status=503, count=1000, on="cancel")
    alert, events, entries = race(server, clean_vertex)
    by_decision = {entry["decision"]: entry for entry in entries}
    assert sorted(by_decision) == ["failed", "launched"], entries
    failed, winner = by_decision["failed"], by_decision["launched"]
    assert failed["reason"].startswith(
        f"could not cancel this run {failed['job']}, which lost the cooldown race to "
        f"{winner['job']}: Vertex AI POST failed"
    )
    assert failed["reason"].endswith("raising so the event is redelivered")
    clean_vertex.clear_faults()
    entry = redeliver(server, alert, next(e for e in events if e["id"] == failed["event_id"]))
    assert entry["decision"] == "skipped"
    assert entry["reason"] == (
        f"cooling down: run {winner['job']} won the race; cancelled this run {failed['job']}"
    )
    assert states(clean_vertex) == {winner["job"]: PENDING, failed["job"]: CANCELLED}


def test_a_redelivered_winner_cancels_a_loser_left_running(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    clean_vertex.fault(kind="status", status=503, count=1000, on="cancel")
    alert, events, entries = race(server, clean_vertex)
    by_decision = {entry["decision"]: entry for entry in entries}
    failed, winner = by_decision["failed"], by_decision["launched"]
    clean_vertex.clear_faults()
    entry = redeliver(server, alert, next(e for e in events if e["id"] == winner["event_id"]))
    assert entry["decision"] == "duplicate"
    assert entry["job"] == winner["job"]
    assert entry["reason"] == (
        "a run with this job id exists: already launched; "
        f"won the race; cancelled run {failed['job']}"
    )
    assert states(clean_vertex) == {winner["job"]: PENDING, failed["job"]: CANCELLED}


def test_a_cancel_refused_with_400_is_noted_not_an_error(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    clean_vertex.fault(kind="status", status=400, count=1, on="cancel", message="finished")
    _, _, entries = race(server, clean_vertex)
    winner, loser = winner_and_loser(entries)
    assert loser["reason"] == (
        f"cooling down: run {winner['job']} won the race; could not cancel this run "
        f"{loser['job']}: HTTP 400 INVALID_ARGUMENT finished"
    )
    assert states(clean_vertex) == {winner["job"]: PENDING, loser["job"]: PENDING}
