"""run_ended routes through functions-framework: a run's end launches the next run, exactly once.

The Vertex AI emulator records runs without executing them; a test ends an upstream run with its
task outputs (the state control) and delivers the run's log entry to on_run_state as Eventarc
does, then reads what was created.
"""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from vertex_trigger.launch.run_key import LOCAL_RUN_KEY, RunKey

from tests.functions.helpers import (
    CHAIN_DOWNSTREAM,
    CHAIN_UPSTREAM,
    MODEL_URI,
    SOURCE,
    TRAINED,
    Certificate,
    FunctionServer,
    StartedServers,
    VertexStandIn,
    WebhookReceiver,
    chained_routes,
    pubsub_event,
    run_state_entry,
    storage_event,
    write_config,
)

HOOK = "SCORE_WEBHOOK_URL"


@pytest.fixture(scope="module")
def webhook(certificate: Certificate) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(certificate)
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_config(tmp_path_factory.mktemp("chains"), chained_routes(HOOK))


@pytest.fixture(scope="module")
def launcher(servers: StartedServers, config: Path) -> FunctionServer:
    return servers.start("on_object_finalized", config)


@pytest.fixture(scope="module")
def reporter(servers: StartedServers, config: Path, webhook: WebhookReceiver) -> FunctionServer:
    return servers.start("on_run_state", config, **{HOOK: webhook.url}, **webhook.trust_env())


@pytest.fixture(scope="module")
def sweeper(servers: StartedServers, config: Path) -> FunctionServer:
    return servers.start("sweep", config, signature="http")


def launch(launcher: FunctionServer, name: str = "incoming/prices.csv") -> str:
    """Launch the upstream through on_object_finalized; return its job id."""
    event = storage_event(name)
    assert launcher.send(event).status_code == 200
    line = launcher.log_for(event["id"])
    assert line["decision"] == "launched", line
    return line["job"]


def lines_for(server: FunctionServer, event_id: str, count: int) -> list[dict[str, Any]]:
    """Wait for ``count`` log lines of one event (the chain lines, then the event's own)."""
    for _ in range(500):
        lines = server.entries_for(event_id)
        if len(lines) >= count:
            return lines
        time.sleep(0.02)
    raise AssertionError(f"{len(server.entries_for(event_id))} lines for {event_id}")


def nudge(reporter: FunctionServer, job: str, count: int, message_id: str | None = None,
          expect: int = 200) -> list[dict[str, Any]]:  # fmt: skip
    """Deliver the run's log entry as Eventarc does; return its lines (chains first)."""
    event = pubsub_event(run_state_entry(job), message_id=message_id)
    response = reporter.send(event)
    assert response.status_code == expect, response.text
    return lines_for(reporter, event["id"], count)


def runs_after(vertex: VertexStandIn, job: str) -> list[dict[str, Any]]:
    return vertex.jobs(f'labels.trigger-upstream="{job}"')


def test_a_succeeded_run_launches_one_downstream_run_whatever_repeats_its_end(
    launcher: FunctionServer,
    reporter: FunctionServer,
    sweeper: FunctionServer,
    clean_vertex: VertexStandIn,
) -> None:
    """Vertex logs an end more than once and Eventarc redelivers; the sweeper looks too: one run."""
    upstream = launch(launcher)
    clean_vertex.end_run(upstream, "PIPELINE_STATE_SUCCEEDED", tasks=TRAINED)
    first = nudge(reporter, upstream, 3, message_id="entry-1")
    score, cleanup, event_line = first
    assert (score["decision"], score["route"], score["source"]) == ("launched", "score", SOURCE)
    assert score["reason"] == f"upstream run {upstream} ended SUCCEEDED"
    assert (cleanup["decision"], cleanup["route"]) == ("skipped", "cleanup")
    assert cleanup["reason"] == (
        f"upstream run {upstream} ended SUCCEEDED; route 'cleanup' runs after CANCELLED, "
        "FAILED only"
    )
    assert (event_line["decision"], event_line["job"]) == ("reported", upstream)
    assert event_line["reason"] == (
        f"SUCCEEDED; followed by route 'score' launched {score['job']}; route 'cleanup' skipped "
        f"{cleanup['job']}"
    )
    second = nudge(reporter, upstream, 3, message_id="entry-2")  # another entry for the end
    redelivered = nudge(reporter, upstream, 6, message_id="entry-1")  # Eventarc again
    assert second[0]["decision"] == redelivered[3]["decision"] == "duplicate"
    assert second[0]["job"] == redelivered[3]["job"] == score["job"]
    summary = requests.post(sweeper.url, timeout=60).json()
    assert summary["routes"]["score"] == {"duplicate": 1}
    assert summary["launched"] == 0
    [run] = runs_after(clean_vertex, upstream)
    assert run["name"].endswith(f"/pipelineJobs/{score['job']}")
    creates = [r for r in clean_vertex.create_requests() if r["job_id"] == score["job"]]
    assert [r["status"] for r in creates] == [200, 409, 409]


def test_outputs_placeholders_and_labels_reach_the_downstream_body(
    launcher: FunctionServer, reporter: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    """An output artifact's URI and an output parameter's value, the artifact itself, lineage."""
    upstream = launch(launcher)
    ended = clean_vertex.end_run(upstream, "PIPELINE_STATE_SUCCEEDED", tasks=TRAINED)
    [score, _, _] = nudge(reporter, upstream, 3, message_id="body-1")
    [body] = [r["body"] for r in clean_vertex.create_requests() if r["job_id"] == score["job"]]
    values = body["runtimeConfig"]["parameterValues"]
    assert values["model_uri"] == MODEL_URI
    assert (values["rmse"], values["rows"]) == (1.5, 400)
    upstream_labels = clean_vertex.job(upstream)["labels"]
    assert values["reason"] == (
        f"after {upstream} (train SUCCEEDED, chain-upstream) for {SOURCE} "
        f"[{upstream_labels['trigger-event']}] ended {ended['endTime']}"
    )
    [train] = [t for t in ended["jobDetail"]["taskDetails"] if t["taskName"] == "train"]
    artifact = train["outputs"]["model"]["artifacts"][0]["name"]
    assert body["runtimeConfig"]["inputArtifacts"] == {
        "model": {"artifactId": artifact.rsplit("/", 1)[-1]}
    }
    assert body["displayName"] == SOURCE  # the chain's first source
    assert body["labels"] == {
        "team": "pricing",
        "trigger-route": "score",
        "trigger-kind": "run",
        "trigger-source": upstream_labels["trigger-source"],  # the chain's, carried along
        "trigger-event": "body-1",
        "trigger-upstream": upstream,
        # Its own job id's HMAC under the run key (the emulator's public one here).
        "trigger-auth": RunKey.from_text(LOCAL_RUN_KEY).label(score["job"]),
    }


def test_a_failed_run_launches_only_the_routes_that_list_failed(
    launcher: FunctionServer, reporter: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    upstream = launch(launcher)
    clean_vertex.end_run(upstream, "PIPELINE_STATE_FAILED", "column 'price' is missing")
    score, cleanup, event_line = nudge(reporter, upstream, 3)
    assert (score["decision"], score["reason"]) == (
        "skipped", f"upstream run {upstream} ended FAILED; route 'score' runs after SUCCEEDED only"
    )
    assert cleanup["decision"] == "launched"
    assert event_line["decision"] == "reported"
    [run] = runs_after(clean_vertex, upstream)
    assert run["labels"]["trigger-route"] == "cleanup"
    assert run["runtimeConfig"]["parameterValues"]["reason"] == f"{upstream} FAILED"


def test_the_downstream_runs_end_is_reported_naming_its_upstream_and_first_source(
    launcher: FunctionServer,
    reporter: FunctionServer,
    clean_vertex: VertexStandIn,
    webhook: WebhookReceiver,
) -> None:
    webhook.clear()
    upstream = launch(launcher)
    clean_vertex.end_run(upstream, "PIPELINE_STATE_SUCCEEDED", tasks=TRAINED)
    [score, _, _] = nudge(reporter, upstream, 3, message_id="report-1")
    clean_vertex.end_run(score["job"], "PIPELINE_STATE_SUCCEEDED")
    [line] = nudge(reporter, score["job"], 1)
    assert (line["decision"], line["route"], line["source"]) == ("reported", "score", SOURCE)
    [body] = webhook.bodies
    assert body["text"].startswith(
        f"run {score['job']} SUCCEEDED for {SOURCE} (event report-1) after run {upstream}\n"
    )


def test_a_missing_output_rejects_that_route_and_the_end_is_still_reported(
    launcher: FunctionServer, reporter: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    """The task did not run (its condition, say): retrying cannot help; nothing is launched."""
    upstream = launch(launcher)
    clean_vertex.end_run(upstream, "PIPELINE_STATE_SUCCEEDED")  # no task details but the root
    score, _, event_line = nudge(reporter, upstream, 3)
    assert score["decision"] == "rejected"
    assert score["severity"] == "WARNING"
    assert score["reason"].startswith(
        f"{{tasks.train.outputs.artifacts.model.uri}}: upstream run {upstream} has no task 'train'"
    )
    assert event_line["decision"] == "reported"
    assert runs_after(clean_vertex, upstream) == []


def test_max_running_defers_the_end_and_names_the_downstream(
    launcher: FunctionServer, reporter: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    """A capped route answers 429: Eventarc redelivers the end until a run finishes."""
    first, second = launch(launcher, "incoming/a.csv"), launch(launcher, "incoming/b.csv")
    for upstream in (first, second):
        clean_vertex.end_run(upstream, "PIPELINE_STATE_SUCCEEDED", tasks=TRAINED)
    [launched, _, _] = nudge(reporter, first, 3)
    [deferred] = nudge(reporter, second, 1, expect=429)  # the event's one line, at the route
    assert (deferred["decision"], deferred["route"]) == ("deferred", "score")
    assert deferred["reason"].startswith(
        f"max_running 1 reached: 1 run(s) of route 'score' not finished, e.g. {launched['job']}"
    )
    assert runs_after(clean_vertex, second) == []


def test_the_sweeper_launches_a_lost_link_once(
    launcher: FunctionServer,
    reporter: FunctionServer,
    sweeper: FunctionServer,
    clean_vertex: VertexStandIn,
) -> None:
    """The end's log entry never arrived (a sink outage): the sweeper finds the ended upstream."""
    upstream = launch(launcher)
    clean_vertex.end_run(upstream, "PIPELINE_STATE_SUCCEEDED", tasks=TRAINED)
    failed = launch(launcher, "incoming/failed.csv")
    clean_vertex.end_run(failed, "PIPELINE_STATE_FAILED")
    seen = len(sweeper.log_records())
    first = requests.post(sweeper.url, timeout=60).json()
    assert first["routes"]["score"] == {"launched": 1}  # the FAILED upstream is not listed
    assert "cleanup" not in first["routes"]  # no sweep_lookback: the sweeper leaves it alone
    assert runs_after(clean_vertex, failed) == []
    [run] = runs_after(clean_vertex, upstream)
    assert run["labels"]["trigger-route"] == "score"
    assert run["labels"]["trigger-event"].startswith("sweep-")
    assert run["runtimeConfig"]["parameterValues"]["model_uri"] == MODEL_URI
    lines = [r for r in sweeper.log_records()[seen:] if r.get("route") == "score"]
    assert [(r["decision"], r["reason"]) for r in lines] == [
        ("launched", "no run for it: launched by the sweeper")
    ]
    again = requests.post(sweeper.url, timeout=60).json()
    assert again["routes"]["score"] == {"duplicate": 1}
    assert again["launched"] == 0
    # The end's entry arriving late meets the same job id.
    [score, _, _] = nudge(reporter, upstream, 3)
    assert score["decision"] == "duplicate"


# --- pipeline: a chain after runs no route of ours created -------------------------------------


@pytest.fixture(scope="module")
def pipeline_reporter(
    servers: StartedServers, tmp_path_factory: pytest.TempPathFactory
) -> FunctionServer:
    route = {
        "name": "after-notebook",
        "event": "run_ended",
        "after": {"pipeline": "chain-upstream", "template": str(CHAIN_UPSTREAM)},
        "template": str(CHAIN_DOWNSTREAM),
        "parameters": {
            "model_uri": "{tasks.train.outputs.artifacts.model.uri}",
            "reason": "{upstream_route}|{upstream_source}|{upstream_event_id}",
        },
    }
    config = write_config(tmp_path_factory.mktemp("pipeline-chain"), [route])
    return servers.start("on_run_state", config)


def test_a_pipeline_chain_follows_a_run_no_route_created(
    pipeline_reporter: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    """A run from a notebook or a Vertex schedule: no trigger labels, only its pipeline's name."""
    spec = yaml.safe_load(CHAIN_UPSTREAM.read_text())
    body = {"displayName": "from a notebook", "pipelineSpec": spec,
            "runtimeConfig": {"parameterValues": {"data_uri": "gs://x/y.csv"}}}  # fmt: skip
    params = {"pipelineJobId": "notebook-run-1"}
    requests.post(clean_vertex.jobs_url, params=params, json=body, timeout=10).raise_for_status()
    clean_vertex.end_run("notebook-run-1", "PIPELINE_STATE_SUCCEEDED", tasks=TRAINED)
    chained, event_line = nudge(pipeline_reporter, "notebook-run-1", 2)
    name = "projects/test-project/locations/us-central1/pipelineJobs/notebook-run-1"
    assert (chained["decision"], chained["route"], chained["source"]) == (
        "launched", "after-notebook", name
    )
    assert event_line["reason"] == (
        "not a run of this configuration's routes; followed by route 'after-notebook' launched "
        f"{chained['job']}"
    )
    [run] = runs_after(clean_vertex, "notebook-run-1")
    values = run["runtimeConfig"]["parameterValues"]
    assert values == {"model_uri": MODEL_URI, "reason": f"|{name}|"}
    assert run["displayName"] == name
    assert run["labels"]["trigger-kind"] == "run"
