"""Run state changes: the state control of a recording emulator, and their log entries."""

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from local.vertex_emulator import start_emulator
from local.vertex_emulator.state_log import StateLogPublisher, log_entry
from tests.emulator.helpers import PARENT, body_for, create, jobs_url
from tests.pubsub_fixtures import TopicTap

ENTRY_SAMPLE = Path(__file__).parents[1] / "functions" / "data" / "run_state"


class StateChanges:
    """A state observer that keeps what it is told (the emulator's hook, without Pub/Sub)."""

    def __init__(self) -> None:
        self.jobs: list[dict[str, Any]] = []

    def __call__(self, job: dict[str, Any]) -> None:
        self.jobs.append(job)

    def stop(self) -> None:
        pass


def end(emu, job_id: str, state: str, message: str = "") -> requests.Response:
    body = {"name": f"{PARENT}/pipelineJobs/{job_id}", "state": state, "message": message}
    return requests.post(f"{emu.url}/emulator/state", json=body, timeout=10)


def test_state_control_ends_a_recorded_run_as_vertex_records_it(recorder, specs):
    create(recorder, "run-failed", body_for(specs["tiny"], a=1))
    create(recorder, "run-ok", body_for(specs["tiny"], a=1))
    assert end(recorder, "run-failed", "PIPELINE_STATE_FAILED", "no column price").ok
    assert end(recorder, "run-ok", "PIPELINE_STATE_SUCCEEDED").ok
    failed = requests.get(f"{jobs_url(recorder)}/run-failed", timeout=10).json()
    assert failed["state"] == "PIPELINE_STATE_FAILED"
    assert failed["error"] == {"code": 9, "message": "no column price"}
    assert failed["createTime"] <= failed["endTime"]
    ok = requests.get(f"{jobs_url(recorder)}/run-ok", timeout=10).json()
    assert (ok["state"], "error" in ok) == ("PIPELINE_STATE_SUCCEEDED", False)


def test_state_control_refuses_ended_runs_unknown_states_and_executing_emulators(
    recorder, runner, specs
):
    create(recorder, "run-1", body_for(specs["tiny"], a=1))
    assert end(recorder, "run-1", "PIPELINE_STATE_CANCELLED").ok
    again = end(recorder, "run-1", "PIPELINE_STATE_FAILED")
    assert again.status_code == 400
    assert "has ended already (PIPELINE_STATE_CANCELLED)" in again.json()["error"]["message"]
    create(recorder, "run-2", body_for(specs["tiny"], a=1))
    running = end(recorder, "run-2", "PIPELINE_STATE_RUNNING")
    assert running.status_code == 400
    assert "state must be one of PIPELINE_STATE_CANCELLED" in running.json()["error"]["message"]
    assert end(recorder, "no-such-run", "PIPELINE_STATE_FAILED").status_code == 404
    create(runner, "run-3", body_for(specs["sleepy"], seconds=0.1))
    refused = end(runner, "run-3", "PIPELINE_STATE_FAILED")
    assert "their states are the runs'" in refused.json()["error"]["message"]


def test_every_state_change_is_observed_once_in_order(tmp_path, specs):
    changes = StateChanges()
    with start_emulator(tmp_path / "state", execute=False, state_log=changes) as emu:
        create(emu, "run-1", body_for(specs["tiny"], a=1))
        create(emu, "run-1", body_for(specs["tiny"], a=1))  # 409: no change
        assert end(emu, "run-1", "PIPELINE_STATE_FAILED", "boom").ok
    states = [(job["name"].rsplit("/", 1)[-1], job["state"]) for job in changes.jobs]
    assert states == [("run-1", "PIPELINE_STATE_PENDING"), ("run-1", "PIPELINE_STATE_FAILED")]
    assert "pipelineSpec" not in changes.jobs[0]  # an outline: specs can be megabytes


def test_log_entry_has_the_shape_of_the_documented_sample():
    sample = json.loads((ENTRY_SAMPLE / "pipeline_job_event.json").read_text())
    job = {
        "name": "projects/local-project/locations/us-central1/pipelineJobs/prices-arrival-0123",
        "state": "PIPELINE_STATE_RUNNING",
        "displayName": "gs://local-data/incoming/prices-0001.csv#1",
    }
    entry = log_entry(job)
    assert _shape(entry) == _shape(sample)
    assert entry["resource"] == {
        "type": "aiplatform.googleapis.com/PipelineJob",
        "labels": {
            "pipeline_job_id": "prices-arrival-0123",
            "location": "us-central1",
            "resource_container": "local-project",
        },
    }
    assert entry["jsonPayload"]["state"] == "PIPELINE_STATE_RUNNING"
    assert entry["logName"] == (
        "projects/local-project/logs/aiplatform.googleapis.com%2Fpipeline_job_events"
    )


def test_publisher_refuses_a_topic_that_is_not_a_topic_name():
    with pytest.raises(ValueError, match="projects/PROJECT/topics/TOPIC, got 'drift-alerts'"):
        StateLogPublisher("drift-alerts", "127.0.0.1:1")


def _shape(value: Any) -> Any:
    """Keys all the way down (values differ between runs), minus the entry labels' keys."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items() if key != "labels"} | (
            {"labels": "..."} if "labels" in value else {}
        )
    return type(value).__name__


def test_state_changes_are_published_to_the_topic_on_the_pubsub_emulator(
    tmp_path, specs, pubsub_topic: TopicTap, pubsub_emulator
):
    state_log = StateLogPublisher(pubsub_topic.topic, pubsub_emulator.host)
    with start_emulator(tmp_path / "state", execute=False, state_log=state_log) as emu:
        create(emu, "run-1", body_for(specs["tiny"], a=1))
        assert end(emu, "run-1", "PIPELINE_STATE_SUCCEEDED").ok
    entries = [json.loads(message.data) for message in pubsub_topic.messages(2)]
    assert [e["jsonPayload"]["state"] for e in entries] == [
        "PIPELINE_STATE_PENDING",
        "PIPELINE_STATE_SUCCEEDED",
    ]
    assert {e["resource"]["labels"]["pipeline_job_id"] for e in entries} == {"run-1"}
    assert {e["logName"] for e in entries} == {
        "projects/test-project/logs/aiplatform.googleapis.com%2Fpipeline_job_events"
    }


def test_a_topic_that_does_not_exist_loses_the_entry_not_the_run(tmp_path, specs, pubsub_emulator):
    state_log = StateLogPublisher("projects/test-project/topics/missing", pubsub_emulator.host)
    with start_emulator(tmp_path / "state", execute=False, state_log=state_log) as emu:
        assert create(emu, "run-1", body_for(specs["tiny"], a=1)).status_code == 200
        assert end(emu, "run-1", "PIPELINE_STATE_FAILED").ok
        job = requests.get(f"{jobs_url(emu)}/run-1", timeout=10).json()
    assert job["state"] == "PIPELINE_STATE_FAILED"
