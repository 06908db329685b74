"""``retry_failed``: on_run_state launches a failed run again as ``...-attempt-N``, up to attempts.

The must-show: a run failing once succeeds on its retry (kfp.local, a task fault), and ``attempts``
is honoured (the last failure says so and launches nothing).
"""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kfp import compiler
from vertex_trigger.launch.lineage import (
    attempt_of,
    first_attempt,
    next_attempt,
    original_of,
    rerun_id,
    rerun_number,
)

from local.vertex_emulator import start_emulator
from local.vertex_emulator_client import VertexEmulatorClient
from tests.emulator.helpers import tiny_pipeline
from tests.functions.helpers import (
    Certificate,
    FunctionServer,
    StartedServers,
    VertexStandIn,
    WebhookReceiver,
    object_route,
    pubsub_event,
    run_state_entry,
    storage_event,
    write_config,
)

HOOK = "RETRIED_WEBHOOK_URL"
FAILED = "PIPELINE_STATE_FAILED"
SUCCEEDED = "PIPELINE_STATE_SUCCEEDED"


def test_retry_ids_follow_the_first_attempt_and_reruns_the_original() -> None:
    """Literal ids (never recomputed with the code under test): they name runs across versions."""
    first = "arrival-982eab8f6b8a19626d94"
    assert next_attempt(first) == "arrival-982eab8f6b8a19626d94-attempt-2"
    assert next_attempt("arrival-982eab8f6b8a19626d94-attempt-2") == (
        "arrival-982eab8f6b8a19626d94-attempt-3"
    )
    assert attempt_of(first) == 1
    assert attempt_of("arrival-982eab8f6b8a19626d94-attempt-3") == 3
    assert first_attempt("arrival-982eab8f6b8a19626d94-attempt-3") == first
    rerun = rerun_id(first, 2)
    assert rerun == "arrival-982eab8f6b8a19626d94-rerun-2"
    assert original_of("arrival-982eab8f6b8a19626d94-rerun-2-attempt-2") == first
    assert rerun_number("arrival-982eab8f6b8a19626d94-rerun-2-attempt-2", first) == 2
    assert rerun_number(first, first) == 0


@pytest.fixture(scope="module")
def webhook(certificate: Certificate) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(certificate)
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    routes = [
        object_route(name="retried", prefix="retried/", retry_failed={"attempts": 3},
                     notify={"webhook": f"${{{HOOK}}}", "on": ["FAILED"]}),
        object_route(name="budget", prefix="budget/", retry_failed={"attempts": 2},
                     max_runs_per_day=1),
        object_route(name="later", prefix="later/", retry_failed={"attempts": 2, "after": "10m"}),
        object_route(name="plain", prefix="plain/"),
    ]  # fmt: skip
    return write_config(tmp_path_factory.mktemp("retries"), routes)


@pytest.fixture(scope="module")
def launcher(servers: StartedServers, config: Path) -> FunctionServer:
    return servers.start("on_object_finalized", config)


@pytest.fixture(scope="module")
def reporter(servers: StartedServers, config: Path, webhook: WebhookReceiver) -> FunctionServer:
    return servers.start("on_run_state", config, **{HOOK: webhook.url}, **webhook.trust_env())


def launch(launcher: FunctionServer, name: str) -> str:
    event = storage_event(name)
    assert launcher.send(event).status_code == 200
    entry = launcher.log_for(event["id"])
    assert entry["decision"] == "launched", entry
    return entry["job"]


def nudge(reporter: FunctionServer, job: str) -> dict[str, Any]:
    """Deliver the run's state log entry to on_run_state; return its decision line."""
    event = pubsub_event(run_state_entry(job))
    response = reporter.send(event)
    assert response.status_code == 200, response.text
    return reporter.log_for(event["id"])


def fail(vertex: VertexEmulatorClient, reporter: FunctionServer, job: str) -> dict[str, Any]:
    vertex.end_run(job, FAILED, "ingest: the node was preempted")
    return nudge(reporter, job)


def test_a_failed_run_is_retried_until_attempts_then_the_last_says_so(
    launcher: FunctionServer,
    reporter: FunctionServer,
    clean_vertex: VertexStandIn,
    webhook: WebhookReceiver,
) -> None:
    webhook.clear()
    first = launch(launcher, "retried/prices.csv")
    one = fail(clean_vertex, reporter, first)
    two = fail(clean_vertex, reporter, f"{first}-attempt-2")
    three = fail(clean_vertex, reporter, f"{first}-attempt-3")

    assert one["decision"] == "reported"
    assert one["reason"].endswith(f"; attempt 1 of 3: retried as {first}-attempt-2")
    assert two["reason"].endswith(f"; attempt 2 of 3: retried as {first}-attempt-3")
    assert three["reason"].endswith("; attempt 3 of 3, the last: not retried")
    runs = {job["name"].rsplit("/", 1)[-1]: job for job in clean_vertex.jobs()}
    assert sorted(runs) == [first, f"{first}-attempt-2", f"{first}-attempt-3"]
    original, retry = runs[first], runs[f"{first}-attempt-2"]
    # The same template and parameters, the same trigger, labelled with the run it retries.
    assert retry["pipelineSpec"] == original["pipelineSpec"]
    assert retry["runtimeConfig"] == original["runtimeConfig"]
    assert retry["displayName"] == original["displayName"]
    assert retry["labels"] == {**original["labels"], "trigger-retry-of": first}
    assert runs[f"{first}-attempt-3"]["labels"]["trigger-retry-of"] == f"{first}-attempt-2"
    # The final failure's outcome says it was the last attempt.
    assert webhook.bodies[-1]["text"].splitlines()[1] == "attempt 3 of 3, the last: not retried"


def test_a_redelivered_failure_meets_its_retry_and_launches_nothing_more(
    launcher: FunctionServer, reporter: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    first = launch(launcher, "retried/twice.csv")
    fail(clean_vertex, reporter, first)
    again = nudge(reporter, first)
    assert again["reason"].endswith(
        f"; attempt 1 of 3: retried as {first}-attempt-2 (already launched)"
    )
    assert len(clean_vertex.jobs()) == 2


def test_retries_count_toward_the_daily_budget(
    launcher: FunctionServer, reporter: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    first = launch(launcher, "budget/prices.csv")
    line = fail(clean_vertex, reporter, first)
    assert line["reason"].endswith(
        f"; attempt 1 of 2: retry {first}-attempt-2 not launched: daily budget reached: 1 run(s) "
        "of route 'budget' created in the last 24 h (max_runs_per_day 1)"
    )
    assert len(clean_vertex.jobs()) == 1


def test_after_leaves_the_retry_to_the_sweeper(
    launcher: FunctionServer, reporter: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    first = launch(launcher, "later/prices.csv")
    line = fail(clean_vertex, reporter, first)
    assert line["reason"].endswith(
        f"; attempt 1 of 2: the sweeper retries it as {first}-attempt-2 600s after it failed"
    )
    assert len(clean_vertex.jobs()) == 1


def test_a_route_without_retry_failed_reports_as_before(
    launcher: FunctionServer, reporter: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    first = launch(launcher, "plain/prices.csv")
    line = fail(clean_vertex, reporter, first)
    assert line["reason"] == "FAILED"
    assert len(clean_vertex.jobs()) == 1


@pytest.fixture(scope="module")
def executing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VertexEmulatorClient]:
    """An emulator that runs pipelines with kfp.local."""
    emulator = start_emulator(tmp_path_factory.mktemp("executing"), execute=True)
    try:
        yield VertexEmulatorClient(emulator.url, "test-project")
    finally:
        emulator.stop()


def wait_until_ended(vertex: VertexEmulatorClient, job: str) -> dict[str, Any]:
    for _ in range(900):
        run = vertex.get_run(job)
        if run["state"] in (SUCCEEDED, FAILED, "PIPELINE_STATE_CANCELLED"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"{job} never ended")


def test_a_run_failing_once_succeeds_on_its_retry(
    servers: StartedServers, executing: VertexEmulatorClient, tmp_path: Path
) -> None:
    template = tmp_path / "tiny.yaml"
    compiler.Compiler().compile(tiny_pipeline, str(template))
    route = object_route(name="flaky", template=str(template), retry_failed={"attempts": 2},
                         parameters={"a": 2, "note": "{name}"})  # fmt: skip
    config = write_config(tmp_path, [route])
    host = {"VERTEX_AI_EMULATOR_HOST": executing.host}
    launcher = servers.start("on_object_finalized", config, **host)
    reporter = servers.start("on_run_state", config, **host)
    executing.fail_task("add", count=1, message="RuntimeError: the node was preempted")

    first = launch(launcher, "incoming/prices.csv")
    failed = wait_until_ended(executing, first)
    retried = nudge(reporter, first)
    retry = wait_until_ended(executing, f"{first}-attempt-2")
    succeeded = nudge(reporter, f"{first}-attempt-2")

    assert failed["state"] == FAILED
    assert "add: RuntimeError: the node was preempted" in failed["error"]["message"]
    assert retried["reason"] == f"FAILED; attempt 1 of 2: retried as {first}-attempt-2"
    assert retry["state"] == SUCCEEDED
    assert retry["labels"]["trigger-retry-of"] == first
    assert succeeded["reason"] == "SUCCEEDED; attempt 2 of 2"
    assert [r["name"].rsplit("/", 1)[-1] for r in executing.list_runs()] == [
        f"{first}-attempt-2",
        first,
    ]
