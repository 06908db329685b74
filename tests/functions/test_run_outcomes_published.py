"""on_run_state publishing to a real topic on Google's Pub/Sub emulator: one message per run end."""

import json
from typing import Any

import pytest

from local.pubsub_emulator import PubsubEmulator
from local.pubsub_rest import PulledMessage
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
from tests.pubsub_fixtures import TopicTap

END_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")


@pytest.fixture(scope="module")
def outcomes(pubsub_emulator: PubsubEmulator) -> TopicTap:
    """The outcomes topic, with a tap that sees every message published to it."""
    return TopicTap.create(pubsub_emulator.rest(), "test-project", "run-outcomes")


@pytest.fixture(scope="module")
def launcher(servers: StartedServers, tmp_path_factory: pytest.TempPathFactory) -> FunctionServer:
    config = write_config(tmp_path_factory.mktemp("launch"), [object_route()])
    return servers.start("on_object_finalized", config)


@pytest.fixture(scope="module")
def reporter(
    servers: StartedServers,
    tmp_path_factory: pytest.TempPathFactory,
    pubsub_emulator: PubsubEmulator,
    outcomes: TopicTap,
) -> FunctionServer:
    folder = tmp_path_factory.mktemp("report")
    config = write_config(folder, [object_route()], outcomes_topic=outcomes.topic)
    return servers.start("on_run_state", config, PUBSUB_EMULATOR_HOST=pubsub_emulator.host)


@pytest.fixture
def tap(outcomes: TopicTap) -> TopicTap:
    """The outcomes tap with nothing left over from an earlier test."""
    outcomes.rest.acknowledge(outcomes.subscription, [m.ack_id for m in outcomes.pending()])
    return outcomes


def launch(launcher: FunctionServer, name: str) -> tuple[str, str]:
    """Launch a run through on_object_finalized; return its job id and event id."""
    event = storage_event(name)
    assert launcher.send(event).status_code == 200
    entry = launcher.log_for(event["id"])
    assert entry["decision"] == "launched", entry
    return entry["job"], event["id"]


def nudge(reporter: FunctionServer, job: str) -> dict[str, Any]:
    """Deliver the run's log entry to on_run_state; return its log line."""
    event = pubsub_event(run_state_entry(job))
    response = reporter.send(event)
    assert response.status_code == 200, response.text
    return reporter.log_for(event["id"])


def body(message: PulledMessage) -> dict[str, Any]:
    return json.loads(message.data)


def test_one_message_per_end_state_with_every_field(
    launcher: FunctionServer, reporter: FunctionServer, clean_vertex: VertexStandIn, tap: TopicTap
) -> None:
    runs = {}
    for state in END_STATES:
        job, event_id = launch(launcher, f"incoming/{state.lower()}.csv")
        clean_vertex.end_run(job, f"PIPELINE_STATE_{state}", "column 'price' is missing")
        runs[job] = (state, event_id)
        line = nudge(reporter, job)
        assert line["decision"] == "reported"
        assert line["reason"].startswith(f"{state}; published message ")
        assert line["reason"].endswith(f" to {tap.topic}")
    messages = tap.messages(3)
    assert len(messages) == 3
    for message in messages:
        sent = body(message)
        state, event_id = runs[sent["job"]]
        run = clean_vertex.job(sent["job"])
        assert message.attributes == {"route": "arrival", "state": state}
        assert sent == {
            "outcome_id": f"{sent['job']}/{state}",
            "job": sent["job"],
            "state": state,
            "route": "arrival",
            "trigger_kind": "object",
            "source": f"gs://data/incoming/{state.lower()}.csv#1700000000000001",
            "event_id": event_id,
            "create_time": run["createTime"],
            "end_time": run["endTime"],
            "error": "column 'price' is missing" if state == "FAILED" else None,
            "console_url": (
                "https://console.cloud.google.com/vertex-ai/locations/us-central1/pipelines/"
                f"runs/{sent['job']}?project=test-project"
            ),
            "upstream": None,  # a run_ended route's run: the job id of the run that launched it
            "note": None,  # the route neither retries, replaces nor watches its runs
        }
    assert tap.pending() == []


def test_a_repeated_log_entry_gives_the_same_outcome_id(
    launcher: FunctionServer, reporter: FunctionServer, clean_vertex: VertexStandIn, tap: TopicTap
) -> None:
    job, _ = launch(launcher, "incoming/twice.csv")
    clean_vertex.end_run(job, "PIPELINE_STATE_SUCCEEDED")
    nudge(reporter, job)
    nudge(reporter, job)
    first, second = tap.messages(2)
    assert first.message_id != second.message_id  # two publishes...
    assert body(first) == body(second)  # ...of one outcome
    assert body(first)["outcome_id"] == f"{job}/SUCCEEDED"


def test_non_terminal_states_and_foreign_runs_publish_nothing(
    launcher: FunctionServer, reporter: FunctionServer, clean_vertex: VertexStandIn, tap: TopicTap
) -> None:
    pending, _ = launch(launcher, "incoming/still-pending.csv")
    clean_vertex.create_raw("not-ours", labels={"team": "pricing"})
    clean_vertex.end_run("not-ours", "PIPELINE_STATE_FAILED", "someone else's failure")
    clean_vertex.create_raw("gone-route", labels={"trigger-route": "retired", "trigger-kind": "x"})
    clean_vertex.end_run("gone-route", "PIPELINE_STATE_SUCCEEDED")
    for job in (pending, "not-ours", "gone-route"):
        assert nudge(reporter, job)["decision"] == "skipped"  # logged after any publish
    assert tap.pending() == []


def test_a_topic_that_does_not_exist_is_a_deployment_problem_and_raised(
    servers: StartedServers,
    tmp_path_factory: pytest.TempPathFactory,
    pubsub_emulator: PubsubEmulator,
    launcher: FunctionServer,
    clean_vertex: VertexStandIn,
) -> None:
    missing = "projects/test-project/topics/no-such-topic"
    config = write_config(tmp_path_factory.mktemp("missing"), [object_route()],
                          outcomes_topic=missing)  # fmt: skip
    server = servers.start("on_run_state", config, PUBSUB_EMULATOR_HOST=pubsub_emulator.host)
    job, _ = launch(launcher, "incoming/nowhere.csv")
    clean_vertex.end_run(job, "PIPELINE_STATE_SUCCEEDED")
    event = pubsub_event(run_state_entry(job))
    assert server.send(event).status_code == 500  # Eventarc redelivers while an operator fixes it
    line = server.log_for(event["id"])
    assert line["decision"] == "failed"
    assert line["reason"].startswith(
        f"deployment problem: Pub/Sub refused to publish to {missing}: HTTP 404"
    )
