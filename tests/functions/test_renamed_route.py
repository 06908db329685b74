"""Renaming a route: with `renamed_from`, the runs it launched under its former name stay its own.

Job ids hash the route's name and the runs are listed by the `trigger-route` label, so a route
renamed without `renamed_from` relaunches everything in its sweep lookback (reproduced below: 3
objects, 6 runs). With it, the ids of the former name, the limits, the cooldown, the sweeper and
`on_run_state` all see the route's earlier runs. In-process, through `serve` and `sweep`, against
the Vertex AI emulator and gcp-storage-emulator.
"""

import uuid
from pathlib import Path
from typing import Any

import pytest
from vertex_trigger.decisions import Decision, Outcome
from vertex_trigger.errors import ConfigError
from vertex_trigger.launch.services import Services
from vertex_trigger.startup import Environment, build_services
from vertex_trigger.triggers.drift import handle_drift_event
from vertex_trigger.triggers.objects import handle_object_event
from vertex_trigger.triggers.serving import serve
from vertex_trigger.triggers.sweep import sweep

from tests.functions.helpers import (
    StorageStandIn,
    VertexStandIn,
    drift_route,
    load_json,
    object_route,
    pubsub_event,
    storage_event,
    write_config,
)

NAMES = ("incoming/a.csv", "incoming/b.csv", "incoming/c.csv")


def services_for(
    tmp: Path, routes: list[dict[str, Any]], vertex: VertexStandIn, gcs: StorageStandIn
) -> Services:
    folder = tmp / uuid.uuid4().hex[:8]
    folder.mkdir()
    env = Environment(write_config(folder, routes), vertex_emulator_host=vertex.host,
                      storage_emulator_host=gcs.url)  # fmt: skip
    return build_services(env)


def arrival(bucket: str, name: str = "arrival", **more: Any) -> dict[str, Any]:
    # gcp-storage-emulator's generations pass 2**53: the size stands in (as in test_sweeper).
    return object_route(name=name, bucket=bucket, sweep_lookback="1h",
                        parameters={"data_uri": "{uri}", "generation": "{size}", "note": "{name}"},
                        **more)  # fmt: skip


def swept(services: Services) -> dict[str, Any]:
    lines: list[Outcome] = []
    return sweep(services, log=lines.append, report=lambda summary: None)


def deliver(services: Services, handler: Any, event: Any) -> Outcome:
    return serve(handler, event, services, log=lambda outcome: None)


def uploaded(gcs: StorageStandIn) -> tuple[str, dict[str, str]]:
    bucket = f"rename-{uuid.uuid4().hex[:10]}"
    return bucket, {name: gcs.upload(bucket, name, b"x,y\n1,2\n") for name in NAMES}


def test_a_rename_without_renamed_from_relaunches_the_lookback(
    tmp_path: Path, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    bucket, _ = uploaded(gcs)
    assert swept(services_for(tmp_path, [arrival(bucket)], clean_vertex, gcs))["launched"] == 3
    renamed = services_for(tmp_path, [arrival(bucket, "landing")], clean_vertex, gcs)
    assert swept(renamed)["launched"] == 3  # the reproduction: 3 objects, 6 runs
    assert len(clean_vertex.jobs()) == 6


def test_renamed_from_keeps_ids_limits_and_the_sweeper_on_the_former_runs(
    tmp_path: Path, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    bucket, generations = uploaded(gcs)
    before = services_for(tmp_path, [arrival(bucket)], clean_vertex, gcs)
    assert swept(before)["launched"] == 3
    former = {run["name"].rsplit("/", 1)[1] for run in clean_vertex.jobs()}
    route = arrival(bucket, "landing", renamed_from=["arrival"], max_runs_per_day=4)
    after = services_for(tmp_path, [route], clean_vertex, gcs)

    summary = swept(after)
    late = deliver(after, handle_object_event, storage_event(  # redelivered across the rename
        "incoming/a.csv", bucket=bucket, generation=generations["incoming/a.csv"], size="8"))
    gcs.upload(bucket, "incoming/d.csv", b"x,y\n1,2\n")
    new = deliver(after, handle_object_event, storage_event("incoming/d.csv", bucket=bucket,
                                                            size="8"))  # fmt: skip
    over = deliver(after, handle_object_event, storage_event("incoming/e.csv", bucket=bucket,
                                                             size="8"))  # fmt: skip

    assert (summary["launched"], summary["duplicate"]) == (0, 3)
    assert (late.decision, late.reason) == (
        Decision.DUPLICATE, "launched under the route's former name: already launched")
    assert late.job in former
    assert new.decision is Decision.LAUNCHED and new.job.startswith("landing-")
    # The daily budget counts the runs under both names: 3 as arrival, 1 as landing.
    assert (over.decision, over.reason) == (Decision.SKIPPED, (
        "daily budget reached: 4 run(s) of route 'landing' created in the last 24 h "
        "(max_runs_per_day 4)"))  # fmt: skip
    assert len(clean_vertex.jobs()) == 4
    # on_run_state reports a run labelled with the former name under the route it became.
    assert after.config.route_named("arrival").name == "landing"


def test_a_renamed_drift_route_keeps_its_cooldown(
    tmp_path: Path, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    alert = load_json("drift/canonical.json")
    before = services_for(tmp_path, [drift_route(cooldown="6h")], clean_vertex, gcs)
    first = deliver(before, handle_drift_event, pubsub_event(alert))
    renamed = drift_route(name="retrain", cooldown="6h", renamed_from=["drift"])
    after = services_for(tmp_path, [renamed], clean_vertex, gcs)

    again = deliver(after, handle_drift_event, pubsub_event(alert))

    assert first.decision is Decision.LAUNCHED
    assert again.decision is Decision.SKIPPED
    assert again.reason.startswith(f"cooling down: run {first.job} was created at ")
    assert len(clean_vertex.jobs()) == 1


@pytest.mark.parametrize(
    ("routes", "problem"),
    [
        ([object_route(renamed_from=["arrival"])],
         "route 'arrival': key 'renamed_from': 'arrival' is the route's own name"),
        ([object_route(), object_route(name="landing", prefix="x/", renamed_from=["arrival"])],
         "route 'landing': key 'renamed_from': 'arrival' is the name of a route"),
        ([object_route(renamed_from=["old"]),
          object_route(name="b", prefix="x/", renamed_from=["old"])],
         "route 'b': key 'renamed_from': 'old' is a former name of route 'arrival' too"),
        ([object_route(renamed_from=["Old Name"])],
         "route 'arrival': key 'renamed_from': expected names matching ^[a-z][a-z0-9-]{0,39}$, "
         "got 'Old Name'"),
    ],
)  # fmt: skip
def test_renamed_from_names_former_names_only(
    tmp_path: Path, routes: list[dict[str, Any]], problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        build_services(Environment(write_config(tmp_path, routes), vertex_emulator_host="x:1"))
    assert str(caught.value).endswith(problem)


def test_on_run_state_reports_a_former_names_run_as_the_route_it_became(
    tmp_path: Path, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    from vertex_trigger.triggers.run_state import handle_run_state_event

    from tests.functions.helpers import run_state_entry

    before = services_for(tmp_path, [object_route()], clean_vertex, gcs)
    launched = deliver(before, handle_object_event, storage_event("incoming/x.csv"))
    clean_vertex.end_run(launched.job, "PIPELINE_STATE_SUCCEEDED")
    after = services_for(tmp_path, [object_route(name="landing", renamed_from=["arrival"])],
                         clean_vertex, gcs)  # fmt: skip

    line = deliver(after, handle_run_state_event, pubsub_event(run_state_entry(launched.job)))

    assert (line.decision, line.route, line.job) == (Decision.REPORTED, "landing", launched.job)
