"""``max_duration``: the sweeper's watchdog cancels a run live too long, and its slot frees.

The Vertex emulator's scaled clock (local/vertex_emulator/clock.py) makes a run live a few tenths of
a second read as live for hours, against the functions' own clock: nothing here waits six hours.
"""

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kfp import compiler
from vertex_trigger.decisions import Outcome
from vertex_trigger.startup import Environment, build_services
from vertex_trigger.triggers.sweep import sweep

from local.vertex_emulator import start_emulator
from local.vertex_emulator_client import VertexEmulatorClient
from tests.emulator.helpers import sleepy_pipeline
from tests.functions.helpers import (
    FunctionServer,
    StartedServers,
    VertexStandIn,
    object_route,
    pubsub_event,
    run_state_entry,
    storage_event,
    write_config,
)

# Ten hours a second: a run that has been live 0.7 real seconds reads as live seven hours.
SCALE = 36_000
CANCELLED = "PIPELINE_STATE_CANCELLED"


@pytest.fixture
def scaled(clean_vertex: VertexStandIn) -> Iterator[VertexStandIn]:
    clean_vertex.set_clock_scale(SCALE)
    try:
        yield clean_vertex
    finally:
        clean_vertex.set_clock_scale(1)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    routes = [object_route(name="capped", max_running=1, max_duration="6h")]
    return write_config(tmp_path_factory.mktemp("watchdog"), routes)


@pytest.fixture(scope="module")
def launcher(servers: StartedServers, config: Path) -> FunctionServer:
    return servers.start("on_object_finalized", config)


@pytest.fixture(scope="module")
def reporter(servers: StartedServers, config: Path) -> FunctionServer:
    return servers.start("on_run_state", config)


def swept(config: Path, vertex: VertexEmulatorClient) -> tuple[dict[str, Any], list[Outcome]]:
    """Sweep in this process as the sweep function does, collecting its log lines."""
    services = build_services(Environment(config, vertex_emulator_host=vertex.host))
    lines: list[Outcome] = []
    return sweep(services, log=lines.append, report=lambda summary: None), lines


def test_a_hung_run_is_cancelled_by_the_watchdog_and_its_max_running_slot_frees(
    config: Path, launcher: FunctionServer, reporter: FunctionServer, scaled: VertexStandIn
) -> None:
    hung = storage_event("incoming/hung.csv")
    assert launcher.send(hung).status_code == 200
    job = launcher.log_for(hung["id"])["job"]  # PENDING for ever: the emulator runs nothing
    waiting = storage_event("incoming/next.csv")
    assert launcher.send(waiting).status_code == 429  # max_running 1: deferred
    time.sleep(0.7)  # seven hours, as the emulator reports them

    summary, [line] = swept(config, scaled)

    assert summary["cancelled"] == 1
    assert summary["routes"] == {"capped": {"cancelled": 1}}
    assert (line.decision, line.job, line.route) == ("cancelled", job, "capped")
    assert line.log_entry()["severity"] == "WARNING"
    assert line.reason.startswith("watchdog: live for ")
    assert line.reason.endswith(", longer than max_duration 6h00m: cancelled")
    assert scaled.job(job)["state"] == CANCELLED
    # The slot is free: the deferred event, redelivered, launches.
    assert launcher.send(waiting).status_code == 200
    assert launcher.nth_entry_for(waiting["id"], 2)["decision"] == "launched"
    # The cancelled run's outcome says who cancelled it, and after how long.
    nudged = pubsub_event(run_state_entry(job))
    assert reporter.send(nudged).status_code == 200
    reported = reporter.log_for(nudged["id"])["reason"]
    assert reported.startswith("CANCELLED; cancelled by the watchdog after ")
    assert reported.endswith(" live (max_duration 6h00m)")


def test_a_run_younger_than_max_duration_is_left_alone(
    config: Path, launcher: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    event = storage_event("incoming/young.csv")
    assert launcher.send(event).status_code == 200
    summary, lines = swept(config, clean_vertex)
    assert (summary["cancelled"], lines) == (0, [])
    assert clean_vertex.jobs()[0]["state"] == "PIPELINE_STATE_PENDING"


def test_a_cancel_refused_because_the_run_ended_is_noted(
    config: Path, launcher: FunctionServer, scaled: VertexStandIn
) -> None:
    event = storage_event("incoming/ending.csv")
    assert launcher.send(event).status_code == 200
    time.sleep(0.7)
    scaled.fault(kind="status", status=400, count=1, on="cancel", message="already ended")
    summary, [line] = swept(config, scaled)
    assert summary["skipped"] == 1
    assert line.reason.endswith(
        ", longer than max_duration 6h00m; could not cancel: HTTP 400 INVALID_ARGUMENT already "
        "ended"
    )


def task_states(run: dict[str, Any]) -> dict[str, str]:
    details = (run.get("jobDetail") or {}).get("taskDetails") or []
    return {task["taskName"]: task["state"] for task in details}


def test_the_watchdog_stops_a_kfp_local_run_mid_run(
    servers: StartedServers, tmp_path: Path
) -> None:
    """On an executing emulator the cancelled run's kfp.local process is killed: CANCELLED."""
    template = tmp_path / "sleepy.yaml"
    compiler.Compiler().compile(sleepy_pipeline, str(template))
    config = write_config(tmp_path, [object_route(
        name="sleepy", template=str(template), max_duration="1h",
        parameters={"seconds": 600.0})])  # fmt: skip
    with start_emulator(tmp_path / "vertex", execute=True, clock_scale=3600) as emulator:
        vertex = VertexEmulatorClient(emulator.url, "test-project")
        launcher = servers.start("on_object_finalized", config, VERTEX_AI_EMULATOR_HOST=vertex.host)
        event = storage_event("incoming/slow.csv")
        assert launcher.send(event).status_code == 200
        job = launcher.log_for(event["id"])["job"]
        run = vertex.get_run(job)
        for _ in range(600):  # until the task runs (kfp.local starts in a few seconds)
            if task_states(run).get("nap") == "RUNNING":
                break
            time.sleep(0.2)
            run = vertex.get_run(job)
        started = datetime.now(UTC)
        while datetime.now(UTC) - started < timedelta(seconds=1.1):  # an hour, reported
            time.sleep(0.1)
        summary, [line] = swept(config, vertex)
        for _ in range(100):
            run = vertex.get_run(job)
            if run["state"] == CANCELLED:
                break
            time.sleep(0.2)

    assert line.decision == "cancelled"
    assert summary["cancelled"] == 1
    assert run["state"] == CANCELLED
    assert task_states(run)["nap"] == "CANCELLED"  # stopped mid-run, not left to finish


def test_later_sweeps_launch_a_retry_once_after_has_passed(
    servers: StartedServers, clean_vertex: VertexStandIn, tmp_path: Path
) -> None:
    config = write_config(tmp_path, [object_route(
        name="later", retry_failed={"attempts": 2, "after": "10m"})])  # fmt: skip
    launcher = servers.start("on_object_finalized", config)
    event = storage_event("incoming/flaky.csv")
    assert launcher.send(event).status_code == 200
    job = launcher.log_for(event["id"])["job"]
    clean_vertex.end_run(job, "PIPELINE_STATE_FAILED", "preempted")
    services = build_services(Environment(config, vertex_emulator_host=clean_vertex.host))

    def sweep_at(minutes: int) -> tuple[dict[str, Any], list[Outcome]]:
        now = datetime.now(UTC) + timedelta(minutes=minutes)
        lines: list[Outcome] = []
        at = dataclasses.replace(services, now=lambda: now)
        return sweep(at, log=lines.append, report=lambda summary: None), lines

    early, nothing = sweep_at(5)
    due, [line] = sweep_at(11)
    again, more = sweep_at(12)

    assert (early["launched"], nothing) == (0, [])
    assert due["routes"] == {"later": {"launched": 1}}
    assert (line.job, line.decision) == (f"{job}-attempt-2", "launched")
    assert line.reason == f"retry of {job} (attempt 1 of 2 failed): launched by the sweeper"
    assert (again["launched"], more) == (0, [])
    assert clean_vertex.job(f"{job}-attempt-2")["labels"]["trigger-retry-of"] == job
