"""``overlap``: queue, skip or replace while a run of the same source (or route) is live.

The must-show: two instances replacing each other converge on one live run, the newest.
"""

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest
import requests
from cloudevents.http import CloudEvent

from tests.functions.helpers import (
    FAST_RETRY,
    FunctionServer,
    StartedServers,
    VertexStandIn,
    object_route,
    storage_event,
    write_config,
)

CANCELLED = "PIPELINE_STATE_CANCELLED"
PENDING = "PIPELINE_STATE_PENDING"  # the emulator records runs without executing them
# The first create to reach the emulator waits this long before it is stored, so the other
# instance creates (and settles) first: a deterministic race, asserted on outcomes only.
HANG_SECONDS = 3


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A route per policy; an attempt timeout that outlasts a hung create."""
    routes = [
        object_route(name="skipping", prefix="skip/", overlap={"then": "skip"}),
        object_route(name="queueing", prefix="queue/", overlap={"then": "queue"}),
        object_route(name="replacing", prefix="replace/", overlap={"then": "replace"}),
        object_route(name="one-at-a-time", prefix="route/",
                     overlap={"with": "route", "then": "skip"}),
    ]  # fmt: skip
    retry = {**FAST_RETRY, "deadline": "10s", "request_timeout": "10s"}
    return write_config(tmp_path_factory.mktemp("overlap"), routes, retry=retry)


@pytest.fixture(scope="module")
def instances(servers: StartedServers, config: Any) -> list[FunctionServer]:
    """Two instances of on_object_finalized with the same configuration."""
    return [servers.start("on_object_finalized", config) for _ in range(2)]


def new_name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}.csv"


def event(name: str, generation: int) -> CloudEvent:
    return storage_event(name, generation=str(generation))


def deliver(server: FunctionServer, cloud_event: CloudEvent, status: int = 200) -> dict[str, Any]:
    response = server.send(cloud_event)
    assert response.status_code == status, response.text
    return server.log_for(cloud_event["id"])


def states(vertex: VertexStandIn, route: str) -> dict[str, str]:
    runs = vertex.jobs(f'labels.trigger-route="{route}"')
    return {run["name"].rsplit("/", 1)[-1]: run["state"] for run in runs}


def test_skip_acknowledges_with_the_live_run_and_other_sources_launch(
    instances: list[FunctionServer], clean_vertex: VertexStandIn
) -> None:
    server = instances[0]
    name = new_name("skip/")
    first = deliver(server, event(name, 1))
    newer = deliver(server, event(name, 2))
    other = deliver(server, event(new_name("skip/"), 1))

    assert first["decision"] == "launched"
    assert (newer["decision"], newer["severity"]) == ("skipped", "INFO")
    assert newer["reason"] == (
        f"overlap skip: run {first['job']} of the same source is PENDING"
    )
    assert other["decision"] == "launched"  # another object: another source
    clean_vertex.end_run(first["job"], "PIPELINE_STATE_SUCCEEDED")
    assert deliver(server, event(name, 3))["decision"] == "launched"  # nothing live any more


def test_with_route_any_live_run_of_the_route_holds_the_next_back(
    instances: list[FunctionServer], clean_vertex: VertexStandIn
) -> None:
    first = deliver(instances[0], event(new_name("route/"), 1))
    other = deliver(instances[1], event(new_name("route/"), 1))
    assert other["decision"] == "skipped"
    assert other["reason"] == f"overlap skip: run {first['job']} of the route is PENDING"


def test_queue_defers_with_429_until_the_live_run_ends(
    instances: list[FunctionServer], clean_vertex: VertexStandIn
) -> None:
    server = instances[0]
    name = new_name("queue/")
    first = deliver(server, event(name, 1))
    waiting = event(name, 2)
    deferred = deliver(server, waiting, status=429)  # Eventarc redelivers it later

    assert (deferred["decision"], deferred["severity"]) == ("deferred", "INFO")
    assert deferred["reason"] == (
        f"overlap queue: run {first['job']} of the same source is PENDING; queued until it "
        "ends; answering 429 so it is redelivered later"
    )
    clean_vertex.end_run(first["job"], "PIPELINE_STATE_FAILED", "boom")
    response = server.send(waiting)  # the redelivery
    assert response.status_code == 200
    assert server.nth_entry_for(waiting["id"], 2)["decision"] == "launched"


def test_replace_cancels_the_live_run_and_says_so(
    instances: list[FunctionServer], clean_vertex: VertexStandIn
) -> None:
    name = new_name("replace/")
    old = deliver(instances[0], event(name, 1))
    new = deliver(instances[1], event(name, 2))

    assert new["decision"] == "launched"
    assert new["reason"] == f"overlap replace: cancelled run {old['job']}"
    assert states(clean_vertex, "replacing") == {old["job"]: CANCELLED, new["job"]: PENDING}
    # A redelivery of the old event meets its cancelled run: nothing launches again.
    again = deliver(instances[0], event(name, 1))
    assert again["decision"] == "skipped"
    assert again["reason"] == f"overlap replace: this run {old['job']} was already cancelled"
    assert len(clean_vertex.create_requests()) == 3  # the redelivery's create answered 409


def send_all(pairs: list[tuple[FunctionServer, CloudEvent]]) -> list[requests.Response]:
    with ThreadPoolExecutor(max_workers=len(pairs)) as pool:
        return list(pool.map(lambda pair: pair[0].send(pair[1]), pairs))


def newest(runs: list[dict[str, Any]]) -> str:
    def order(run: dict[str, Any]) -> tuple[datetime, str]:
        return datetime.fromisoformat(run["createTime"]), run["name"]

    return max(runs, key=order)["name"].rsplit("/", 1)[-1]


def test_two_instances_replacing_each_other_converge_on_the_newest_run(
    instances: list[FunctionServer], clean_vertex: VertexStandIn
) -> None:
    """The first create hangs, so the other instance creates and settles first; the hung one is
    created last, is the newest, and its settling cancels the other: one live run, the newest."""
    name = new_name("replace/")
    first, second = event(name, 1), event(name, 2)
    clean_vertex.fault(kind="hang", seconds=HANG_SECONDS, count=1)
    responses = send_all([(instances[0], first), (instances[1], second)])

    assert [r.status_code for r in responses] == [200, 200]
    runs = clean_vertex.jobs('labels.trigger-route="replacing"')
    live = [run["name"].rsplit("/", 1)[-1] for run in runs if run["state"] != CANCELLED]
    assert live == [newest(runs)]
    lines = {line["job"]: line for line in (instances[0].log_for(first["id"]),
                                            instances[1].log_for(second["id"]))}  # fmt: skip
    [loser] = set(lines) - set(live)
    assert lines[live[0]]["reason"] == f"overlap replace: cancelled run {loser}"


def test_concurrent_events_of_one_source_always_leave_exactly_one_live_run(
    instances: list[FunctionServer], vertex: VertexStandIn
) -> None:
    for _ in range(5):
        vertex.clean()
        name = new_name("replace/")
        pairs = [(random.choice(instances), event(name, generation)) for generation in range(1, 5)]
        assert {r.status_code for r in send_all(pairs)} == {200}
        runs = vertex.jobs('labels.trigger-route="replacing"')
        assert len(runs) == 4  # every event launched its own run: nothing launched twice
        live = [run["name"].rsplit("/", 1)[-1] for run in runs if run["state"] != CANCELLED]
        assert live == [newest(runs)], runs


def test_a_cancel_still_failing_is_settled_by_the_redelivery(
    instances: list[FunctionServer], clean_vertex: VertexStandIn
) -> None:
    name = new_name("replace/")
    old = deliver(instances[0], event(name, 1))
    clean_vertex.fault(kind="status", status=503, count=1000, on="cancel")
    newer = event(name, 2)
    failed = deliver(instances[1], newer, status=500)
    assert failed["decision"] == "failed"
    assert failed["reason"].startswith(
        f"could not cancel run {old['job']}, which run {failed['job']} replaces: "
        "Vertex AI POST failed"
    )
    clean_vertex.clear_faults()
    assert instances[1].send(newer).status_code == 200  # Eventarc's redelivery
    settled = instances[1].nth_entry_for(newer["id"], 2)
    assert settled["decision"] == "duplicate"
    assert settled["reason"] == (
        "a run with this job id exists: already launched; "
        f"overlap replace: cancelled run {old['job']}"
    )
    assert states(clean_vertex, "replacing") == {old["job"]: CANCELLED, failed["job"]: PENDING}
