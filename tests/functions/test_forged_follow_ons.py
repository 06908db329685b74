"""A forged run's end launches nothing: no run_ended route's run, no retry, event or sweep.

on_run_state launches follow-on runs when a run ends (chains, retries of failed runs) before it
reports the end. A run that claims one of our routes (copied labels, a copied `trigger-auth`) but
that the service did not make is skipped before any of that; the sweeper, which recovers lost
links and retries later, lists only runs the service made. The real run beside each forged one
shows the same end does launch when the run is ours.
"""

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.functions.helpers import (
    TRAINED,
    FunctionServer,
    StartedServers,
    VertexStandIn,
    chained_routes,
    object_route,
    pubsub_event,
    run_state_entry,
    storage_event,
    write_config,
)

KEY = "a-test-run-key-from-secret-manager"
NOT_OURS = "not a run the trigger service made: its trigger-auth label does not verify"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    routes = [
        *chained_routes(),  # train (objects), score after its successes (sweep_lookback 1h)
        object_route(name="retried", prefix="retried/", retry_failed={"attempts": 3}),
        object_route(name="later", prefix="later/",
                     retry_failed={"attempts": 2, "after": "1s"}),  # the sweeper retries it
    ]  # fmt: skip
    return write_config(tmp_path_factory.mktemp("forged-follow-ons"), routes)


@pytest.fixture(scope="module")
def launcher(servers: StartedServers, config: Path) -> FunctionServer:
    return servers.start("on_object_finalized", config, TRIGGER_RUN_KEY=KEY)


@pytest.fixture(scope="module")
def reporter(servers: StartedServers, config: Path) -> FunctionServer:
    return servers.start("on_run_state", config, TRIGGER_RUN_KEY=KEY)


@pytest.fixture(scope="module")
def sweeper(servers: StartedServers, config: Path) -> FunctionServer:
    return servers.start("sweep", config, signature="http", TRIGGER_RUN_KEY=KEY)


def launch(launcher: FunctionServer, name: str) -> str:
    event = storage_event(name)
    assert launcher.send(event).status_code == 200
    line = launcher.log_for(event["id"])
    assert line["decision"] == "launched", line
    return str(line["job"])


def forge_like(vertex: VertexStandIn, real_job: str) -> str:
    """Create a run outside the service with every label of a real run, trigger-auth included."""
    forged = f"forged-{uuid.uuid4().hex[:12]}"
    vertex.create_raw(forged, labels=dict(vertex.job(real_job)["labels"]))
    return forged


def end_lines(reporter: FunctionServer, job: str) -> list[dict[str, Any]]:
    """Deliver the run's log entry as Eventarc does; return every line of that event."""
    event = pubsub_event(run_state_entry(job))
    assert reporter.send(event).status_code == 200
    reporter.log_for(event["id"])  # the event's own line is the last one written
    return reporter.entries_for(event["id"])


def test_a_forged_succeeded_upstream_launches_no_run_ended_route(
    launcher: FunctionServer,
    reporter: FunctionServer,
    sweeper: FunctionServer,
    clean_vertex: VertexStandIn,
) -> None:
    real = launch(launcher, "incoming/real.csv")
    forged = forge_like(clean_vertex, real)
    clean_vertex.end_run(forged, "PIPELINE_STATE_SUCCEEDED", tasks=TRAINED)

    lines = end_lines(reporter, forged)

    assert [(line["decision"], line["reason"]) for line in lines] == [("skipped", NOT_OURS)]
    assert clean_vertex.jobs(f'labels.trigger-upstream="{forged}"') == []
    # The sweeper's lost links list the upstream route's runs: the forged one is not among them.
    summary = requests.post(sweeper.url, timeout=60).json()
    assert summary["routes"].get("score", {}).get("launched", 0) == 0
    assert clean_vertex.jobs(f'labels.trigger-upstream="{forged}"') == []
    # The same end of the service's own run launches score.
    clean_vertex.end_run(real, "PIPELINE_STATE_SUCCEEDED", tasks=TRAINED)
    score = end_lines(reporter, real)[0]
    assert (score["decision"], score["route"]) == ("launched", "score")
    assert len(clean_vertex.jobs(f'labels.trigger-upstream="{real}"')) == 1


def test_a_forged_failed_run_of_a_retry_failed_route_is_not_retried(
    launcher: FunctionServer,
    reporter: FunctionServer,
    sweeper: FunctionServer,
    clean_vertex: VertexStandIn,
) -> None:
    real = launch(launcher, "retried/real.csv")
    forged = forge_like(clean_vertex, real)
    clean_vertex.end_run(forged, "PIPELINE_STATE_FAILED", "out of memory")

    lines = end_lines(reporter, forged)

    assert [(line["decision"], line["reason"]) for line in lines] == [("skipped", NOT_OURS)]
    assert clean_vertex.jobs(f'labels.trigger-retry-of="{forged}"') == []
    # The service's own failure is retried at once.
    clean_vertex.end_run(real, "PIPELINE_STATE_FAILED", "out of memory")
    [line] = end_lines(reporter, real)
    assert line["reason"].endswith(f"; attempt 1 of 3: retried as {real}-attempt-2")


def test_the_sweeper_retries_no_forged_failure(
    launcher: FunctionServer, sweeper: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    real = launch(launcher, "later/real.csv")
    forged = forge_like(clean_vertex, real)
    clean_vertex.end_run(forged, "PIPELINE_STATE_FAILED", "out of memory")
    clean_vertex.end_run(real, "PIPELINE_STATE_FAILED", "out of memory")
    time.sleep(1.5)  # retry_failed.after: 1s

    summary = requests.post(sweeper.url, timeout=60).json()

    assert summary["routes"]["later"] == {"launched": 1}
    assert [run["name"].rsplit("/", 1)[1] for run in clean_vertex.jobs(
        'labels.trigger-retry-of:*')] == [f"{real}-attempt-2"]  # fmt: skip
