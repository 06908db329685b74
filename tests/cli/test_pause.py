"""``pause`` and ``resume``: a paused route skips; --catch-up launches each missed object once.

--skip-missed launches none of them, now or by the sweeper, which leaves a paused route alone.

The pause record lives in gcp-storage-emulator; the events go through functions-framework's server
for on_object_finalized; the sweep runs in this process as the sweep function runs it.
"""

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from vertex_trigger.decisions import Outcome
from vertex_trigger.launch.identity import job_id
from vertex_trigger.startup import Environment, build_services
from vertex_trigger.triggers.sweep import sweep

from tests.functions.helpers import (
    FunctionServer,
    StartedServers,
    StorageStandIn,
    VertexStandIn,
    drift_route,
    object_route,
    storage_event,
    write_config,
)

# gcp-storage-emulator's generations pass 2**53, beyond an integer input: the size stands in.
PARAMETERS = {"data_uri": "{uri}", "generation": "{size}", "note": "{name}"}


@pytest.fixture
def bucket(gcs: StorageStandIn) -> str:
    return f"paused-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def config(tmp_path: Path, bucket: str, gcs: StorageStandIn) -> Path:
    state = f"state-{uuid.uuid4().hex[:8]}"
    gcs.upload(state, "README", b"pauses of the test's routes live here")  # the bucket exists
    routes = [
        object_route(bucket=bucket, parameters=PARAMETERS, sweep_lookback="1h"),
        drift_route(),
    ]
    return write_config(tmp_path, routes, state=f"gs://{state}/triggers", pause_check="1s")


@pytest.fixture
def function(servers: StartedServers, config: Path, gcs: StorageStandIn) -> Iterator[Any]:
    server = servers.start("on_object_finalized", config, STORAGE_EMULATOR_HOST=gcs.url)
    yield server
    server.stop()


def ctl(cli, config: Path, gcs: StorageStandIn, vertex: VertexStandIn, *args: str) -> Any:
    ran = cli(*args, "--config", config, "--json",
              STORAGE_EMULATOR_HOST=gcs.url, VERTEX_AI_EMULATOR_HOST=vertex.host)  # fmt: skip
    assert ran.code == 0, ran.err
    return ran.json()


def arrive(function: FunctionServer, gcs: StorageStandIn, bucket: str, name: str) -> dict:
    """Write an object and deliver its finalize event; return the function's decision line."""
    generation = gcs.upload(bucket, name, b"1,2\n")
    event = storage_event(name, bucket=bucket, generation=generation, size="4")
    assert function.send(event).status_code == 200
    return {**function.log_for(event["id"]), "generation": generation}


def swept(config: Path, gcs: StorageStandIn, vertex: VertexStandIn) -> tuple[dict, list[Outcome]]:
    env = Environment(config, vertex_emulator_host=vertex.host, storage_emulator_host=gcs.url)
    lines: list[Outcome] = []
    return sweep(build_services(env), log=lines.append, report=lambda s: None), lines


def test_a_paused_route_skips_and_resume_catch_up_launches_each_missed_object_once(
    cli, config, function, gcs, clean_vertex, bucket
) -> None:
    before = arrive(function, gcs, bucket, "incoming/before.csv")
    paused = ctl(cli, config, gcs, clean_vertex, "pause", "arrival", "--reason", "migration",
                 "--by", "oncall@example.com")  # fmt: skip
    time.sleep(1.1)  # pause_check: the instance read "not paused" for the first event
    missed = [arrive(function, gcs, bucket, f"incoming/missed-{n}.csv") for n in range(2)]
    sweep_while_paused, [sweep_line] = swept(config, gcs, clean_vertex)

    assert before["decision"] == "launched"
    record = paused["record"]
    assert (record["paused"], record["by"], record["reason"]) == (True, "oncall@example.com",
                                                                  "migration")  # fmt: skip
    for line in missed:
        assert line["decision"] == "skipped"
        assert line["reason"] == f"route paused by oncall@example.com at {record['at']}: migration"
    assert sweep_while_paused["routes"]["arrival"] == {"skipped": 1}  # nothing launched
    assert sweep_line.reason.endswith("; the sweeper leaves it alone until it is resumed")
    assert len(clean_vertex.jobs()) == 1

    resumed = ctl(cli, config, gcs, clean_vertex, "resume", "arrival", "--catch-up",
                  "--by", "oncall@example.com", "--rate", "600/s")  # fmt: skip

    assert resumed["record"]["paused"] is False
    assert resumed["record"]["missed"] == "catch_up"
    assert resumed["caught_up"] == {"launched": 2, "duplicate": 1}
    launched = {row["job"] for row in resumed["candidates"] if row["decision"] == "launched"}
    expected = {job_id("arrival", bucket, f"incoming/missed-{n}.csv", missed[n]["generation"])
                for n in range(2)}  # fmt: skip
    assert launched == expected  # under the ids their events would have used
    again = ctl(cli, config, gcs, clean_vertex, "resume", "arrival", "--catch-up")
    assert again["caught_up"] == {"duplicate": 3}  # once each: nothing launches twice
    after, _ = swept(config, gcs, clean_vertex)
    assert after["launched"] == 0
    assert len(clean_vertex.create_requests()) == 3
    assert arrive(function, gcs, bucket, "incoming/after.csv")["decision"] == "launched"


def test_resume_skip_missed_launches_none_of_them_now_or_by_the_sweeper(
    cli, config, function, gcs, clean_vertex, bucket
) -> None:
    ctl(cli, config, gcs, clean_vertex, "pause", "arrival", "--reason", "bad upstream data")
    missed = [arrive(function, gcs, bucket, f"incoming/bad-{n}.csv") for n in range(2)]
    resumed = ctl(cli, config, gcs, clean_vertex, "resume", "arrival", "--skip-missed")
    lost = gcs.upload(bucket, "incoming/lost-event.csv", b"1,2\n")  # its event never comes
    summary, [line] = swept(config, gcs, clean_vertex)

    assert [m["decision"] for m in missed] == ["skipped", "skipped"]
    assert resumed["record"]["missed"] == "skip_missed"
    [window] = resumed["record"]["skip_windows"]
    assert (window["start"], window["end"]) == (resumed["record"]["at"],
                                                resumed["record"]["resumed_at"])  # fmt: skip
    assert resumed["caught_up"] == {}
    # The sweeper leaves the skipped objects alone and launches only the one after the resume.
    assert summary["routes"]["arrival"] == {"launched": 1}
    assert line.job == job_id("arrival", bucket, "incoming/lost-event.csv", lost)
    assert len(clean_vertex.jobs()) == 1


def test_status_shows_paused_routes(cli, config, function, gcs, clean_vertex, bucket) -> None:
    arrive(function, gcs, bucket, "incoming/x.csv")
    ctl(cli, config, gcs, clean_vertex, "pause", "arrival", "--reason", "incident 42",
        "--by", "ops")  # fmt: skip
    human = cli("status", "--config", config, STORAGE_EMULATOR_HOST=gcs.url,
                VERTEX_AI_EMULATOR_HOST=clean_vertex.host)  # fmt: skip
    rows = ctl(cli, config, gcs, clean_vertex, "status")

    header, _, paused = human.out.splitlines()[:3]
    assert header.split() == ["paused", "route", "by", "at", "reason"]
    assert paused.split()[:2] == ["arrival", "ops"]
    assert paused.endswith("incident 42")
    [row] = rows
    assert row["route_paused"].startswith("route paused by ops at ")


def test_pausing_twice_keeps_the_first_pause_and_resuming_a_running_route_does_nothing(
    cli, config, gcs, clean_vertex, bucket
) -> None:
    gcs.upload(bucket, "elsewhere/a.txt", b"no route")  # the route's bucket exists
    first = ctl(cli, config, gcs, clean_vertex, "pause", "arrival", "--reason", "one", "--by", "a")
    second = ctl(cli, config, gcs, clean_vertex, "pause", "arrival", "--reason", "two", "--by", "b")
    assert second["record"] == first["record"]
    assert second["message"].startswith("arrival is already paused by a at ")
    ctl(cli, config, gcs, clean_vertex, "resume", "arrival")
    nothing = ctl(cli, config, gcs, clean_vertex, "resume", "arrival", "--skip-missed")
    assert nothing["message"] == "arrival is not paused: nothing to resume"


def test_a_drift_route_pauses_too_and_has_nothing_to_catch_up(
    cli, config, gcs, clean_vertex
) -> None:
    ctl(cli, config, gcs, clean_vertex, "pause", "drift", "--reason", "retraining frozen")
    ran = cli("resume", "drift", "--catch-up", "--config", config,
              STORAGE_EMULATOR_HOST=gcs.url, VERTEX_AI_EMULATOR_HOST=clean_vertex.host)  # fmt: skip
    assert ran.code == 0, ran.err
    assert "a drift route keeps no alerts: nothing to catch up" in ran.out


def test_without_a_state_location_pause_says_what_to_set(cli, tmp_path, clean_vertex) -> None:
    config = write_config(tmp_path, [object_route()])
    ran = cli("pause", "arrival", "--reason", "x", "--config", config)
    assert ran.code == 2
    assert ran.err.strip() == (
        f"{config}: no `state` location: set `state: gs://BUCKET/PREFIX` (where pauses live, "
        "docs/configuration.md) and deploy it once"
    )


def test_a_state_bucket_that_is_not_there_is_named(cli, tmp_path, gcs, clean_vertex) -> None:
    missing = f"no-such-{uuid.uuid4().hex[:8]}"
    config = write_config(tmp_path, [object_route()], state=f"gs://{missing}/triggers")
    ran = cli("pause", "arrival", "--reason", "x", "--config", config,
              STORAGE_EMULATOR_HOST=gcs.url)  # fmt: skip
    assert ran.code == 1
    assert ran.err.startswith(
        f"cannot pause arrival: Cloud Storage refused to write gs://{missing}/triggers/pauses/"
        "arrival.json: HTTP 404"
    )
