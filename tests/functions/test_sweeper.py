"""The sweeper launches what events missed, once, with the event path's job ids; then nothing."""

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from vertex_trigger.decisions import Outcome
from vertex_trigger.launch.identity import job_id
from vertex_trigger.launch.services import Services
from vertex_trigger.startup import Environment, build_services
from vertex_trigger.triggers.objects import handle_object_event
from vertex_trigger.triggers.serving import serve
from vertex_trigger.triggers.sweep import sweep

from tests.functions.helpers import (
    TYPED_TEMPLATE,
    FaultyProxy,
    StartedServers,
    StorageStandIn,
    VertexStandIn,
    object_route,
    storage_event,
    write_config,
)

BATCH_PARAMETERS = {"data_uri": "{batch_uri}", "generation": "{batch_objects}"}


def routes_for(bucket: str) -> list[dict[str, Any]]:
    """A quiet batch route, a marker batch route and a single-object route, all swept."""
    common = {"bucket": bucket, "template": str(TYPED_TEMPLATE), "sweep_lookback": "1h"}
    return [
        object_route(name="drops", prefix="drops/", **common, parameters=BATCH_PARAMETERS,
                     batch={"complete_when": {"quiet": "10m"}}),
        object_route(name="exports", prefix="exports/", **common, parameters=BATCH_PARAMETERS,
                     batch={"complete_when": {"marker": "_SUCCESS"}}),
        # gcp-storage-emulator's generations are nanoseconds, past the 2**53 an integer input
        # takes (Cloud Storage's are microseconds): the object's size stands in.
        object_route(name="arrival", prefix="incoming/", **common,
                     parameters={"data_uri": "{uri}", "generation": "{size}", "note": "{name}"}),
        object_route(name="unswept", prefix="other/", bucket=bucket),
    ]  # fmt: skip


@pytest.fixture
def bucket() -> str:
    return f"sweep-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def services(
    bucket: str, gcs: StorageStandIn, clean_vertex: VertexStandIn, tmp_path: Path
) -> Services:
    config = write_config(tmp_path, routes_for(bucket))
    env = Environment(config, vertex_emulator_host=clean_vertex.host, storage_emulator_host=gcs.url)
    return build_services(env)


def later(services: Services, delta: timedelta) -> Services:
    """The same services with a clock ``delta`` ahead (a quiet period passes without sleeping)."""
    now = datetime.now(UTC) + delta
    return dataclasses.replace(services, now=lambda: now)


def swept(services: Services) -> tuple[dict[str, Any], list[Outcome]]:
    lines: list[Outcome] = []
    return sweep(services, log=lines.append, report=lambda summary: None), lines


def test_a_due_quiet_batch_and_a_missed_object_launch_once_then_nothing(
    services: Services, bucket: str, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    for name in ("drops/d1/a.csv", "drops/d1/b.csv", "incoming/x.csv", "incoming/y.txt"):
        gcs.upload(bucket, name, b"1,2\n")
    generation = gcs.upload(bucket, "incoming/z.csv", b"1,2\n")
    gcs.upload(bucket, "other/ignored.csv", b"1,2\n")  # no sweep_lookback on its route

    early, _ = swept(services)  # the drop is not quiet yet
    assert early["routes"]["drops"] == {"skipped": 1}
    assert early["launched"] == 2  # the two objects whose events never came

    summary, lines = swept(later(services, timedelta(minutes=11)))
    assert summary["launched"] == 1
    assert summary["routes"]["drops"] == {"launched": 1}
    assert summary["routes"]["arrival"] == {"duplicate": 2}
    [line] = lines
    assert line.reason == "no run for it: launched by the sweeper"
    assert line.source == f"gs://{bucket}/drops/d1/"
    [run] = clean_vertex.jobs('labels.trigger-route="drops"')
    assert run["runtimeConfig"]["parameterValues"]["generation"] == 2
    objects = {r["name"].rsplit("/", 1)[-1] for r in clean_vertex.jobs('labels.trigger-kind:*')}
    assert job_id("arrival", bucket, "incoming/z.csv", generation) in objects  # the event's id

    again, lines = swept(later(services, timedelta(minutes=12)))
    assert (again["launched"], again["duplicate"], lines) == (0, 3, [])
    assert len(clean_vertex.jobs()) == 3


def test_a_complete_batch_whose_events_were_lost_launches_and_its_event_finds_it(
    services: Services, bucket: str, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    gcs.upload(bucket, "exports/2026-12-01/part-0.csv", b"1,2\n")
    marker = gcs.upload(bucket, "exports/2026-12-01/_SUCCESS", b"\n")
    gcs.upload(bucket, "exports/2026-12-02/part-0.csv", b"1,2\n")  # no marker yet
    summary, [line] = swept(services)
    assert summary["routes"]["exports"] == {"launched": 1, "skipped": 1}
    # The marker's event, redelivered late, meets the sweeper's run under the same id.
    event = storage_event("exports/2026-12-01/_SUCCESS", bucket=bucket, generation=marker)
    redelivered = serve(handle_object_event, event, services, log=lambda outcome: None)
    assert (redelivered.decision, redelivered.job) == ("duplicate", line.job)


def test_objects_older_than_the_lookback_are_left_alone(
    services: Services, bucket: str, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    gcs.upload(bucket, "incoming/old.csv", b"1,2\n")
    summary, _ = swept(later(services, timedelta(hours=2)))
    assert summary["launched"] == 0
    assert clean_vertex.jobs() == []


def test_a_failing_vertex_stops_the_route_and_leaves_the_rest_for_the_next_sweep(
    services: Services, bucket: str, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    for n in range(3):
        gcs.upload(bucket, f"incoming/{n}.csv", b"1,2\n")
    clean_vertex.fault(kind="status", status=503, rate=1.0)
    summary, [line] = swept(services)
    assert summary["routes"]["arrival"] == {"failed": 1, "left_for_next_sweep": 2}
    assert line.decision == "failed"
    assert line.reason.endswith("; the next sweep tries again")
    clean_vertex.clear_faults()
    assert swept(services)[0]["launched"] == 3


@pytest.mark.parametrize(
    ("rule", "problem"),
    [({"max_duration": "6h"}, "cannot run the watchdog: "),
     ({"retry_failed": {"attempts": 2}}, "cannot sweep the retries: ")],
)  # fmt: skip
def test_a_watchdog_or_retry_sweep_vertex_refuses_is_one_failed_line_not_a_crashed_sweep(
    bucket: str,
    gcs: StorageStandIn,
    clean_vertex: VertexStandIn,
    tmp_path: Path,
    rule: dict[str, Any],
    problem: str,
) -> None:
    route = object_route(bucket=bucket, template=str(TYPED_TEMPLATE), **rule)
    vertex = FaultyProxy(clean_vertex.url)  # lists answer 503 (the emulator's faults: creates)
    vertex.always = 503
    config = write_config(tmp_path, [route])
    env = Environment(config, vertex_emulator_host=vertex.url, storage_emulator_host=gcs.url)
    try:
        summary, [line] = swept(build_services(env))
    finally:
        vertex.stop()
    assert summary["routes"]["arrival"] == {"failed": 1}
    assert (line.decision, line.route) == ("failed", "arrival")
    assert line.reason.startswith(problem)
    assert line.reason.endswith("; the next sweep tries again")


def test_max_running_defers_the_sweep_of_a_route(
    bucket: str, gcs: StorageStandIn, clean_vertex: VertexStandIn, tmp_path: Path
) -> None:
    route = object_route(bucket=bucket, template=str(TYPED_TEMPLATE), sweep_lookback="1h",
                         max_running=1, parameters=routes_for(bucket)[2]["parameters"])  # fmt: skip
    env = Environment(
        write_config(tmp_path, [route]),
        vertex_emulator_host=clean_vertex.host,
        storage_emulator_host=gcs.url,
    )
    for n in range(3):
        gcs.upload(bucket, f"incoming/{n}.csv", b"1,2\n")
    summary, lines = swept(build_services(env))
    assert summary["routes"]["arrival"] == {
        "launched": 1,
        "deferred": 1,
        "left_for_next_sweep": 1,
    }
    assert [line.decision for line in lines] == ["launched", "deferred"]


def test_the_sweep_entry_point_answers_its_summary_over_http(
    servers: StartedServers, bucket: str, gcs: StorageStandIn, tmp_path: Path
) -> None:
    servers.vertex.clean()
    server = servers.start(
        "sweep", write_config(tmp_path, routes_for(bucket)), signature="http",
        STORAGE_EMULATOR_HOST=gcs.url,
    )  # fmt: skip
    try:
        gcs.upload(bucket, "incoming/missed.csv", b"1,2\n")
        assert requests.get(server.url, timeout=60).status_code == 405  # probes sweep nothing
        response = requests.post(server.url, timeout=60)
        assert response.status_code == 200, response.text
        summary = response.json()
        assert summary["launched"] == 1
        assert summary["sweep"].startswith("sweep-")
        assert set(summary["routes"]) == {"drops", "exports", "arrival"}
        line, report = server.wait_for_records(2)[-2:]
        assert (line["decision"], line["route"]) == ("launched", "arrival")
        assert line["event_id"] == summary["sweep"]
        assert report["message"] == f"{summary['sweep']}: launched 1"
        assert (report["severity"], report["sweep"]) == ("INFO", summary)
    finally:
        server.stop()
