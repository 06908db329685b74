"""Controls for the run lifecycle: a scaled clock (for the watchdog), task faults (for retries)."""

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from local.vertex_emulator.task_faults import TaskFault, TaskFaults, task_names
from tests.emulator.helpers import body_for, create, jobs_url

FINAL = {"PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED", "PIPELINE_STATE_CANCELLED"}
STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


def moment(stamp: str) -> datetime:
    return datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)


def set_scale(emu, scale) -> requests.Response:
    return requests.post(f"{emu.url}/emulator/clock", json={"scale": scale}, timeout=10)


def wait_for(emu, job_id: str, attempts: int = 600) -> dict:
    for _ in range(attempts):
        job = requests.get(f"{jobs_url(emu)}/{job_id}", timeout=10).json()
        if job.get("state") in FINAL:
            return job
        time.sleep(0.2)
    raise AssertionError(f"{job_id} never ended")


def test_a_scaled_clock_reports_durations_scale_times_longer(recorder, specs):
    assert set_scale(recorder, 3600).json() == {"scale": 3600.0}
    create(recorder, "run-hung", body_for(specs["tiny"], a=1))
    time.sleep(0.25)  # a quarter of a real second: at least a quarter of an hour reported
    job = requests.get(f"{jobs_url(recorder)}/run-hung", timeout=10).json()
    age = datetime.now(UTC) - moment(job["createTime"])
    assert age >= timedelta(minutes=15)
    # Filters see the reported times: the run is older than ten minutes now.
    cutoff = (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    older = requests.get(jobs_url(recorder), params={"filter": f'create_time<"{cutoff}"'},
                         timeout=10).json()  # fmt: skip
    assert [j["name"].rsplit("/", 1)[-1] for j in older["pipelineJobs"]] == ["run-hung"]
    requests.post(f"{jobs_url(recorder)}/run-hung:cancel", timeout=10).raise_for_status()
    ended = requests.get(f"{jobs_url(recorder)}/run-hung", timeout=10).json()
    assert moment(ended["endTime"]) - moment(ended["createTime"]) >= timedelta(minutes=15)


def test_scale_one_reports_times_as_stored(recorder, specs):
    assert requests.get(f"{recorder.url}/emulator/clock", timeout=10).json() == {"scale": 1.0}
    before = datetime.now(UTC)
    create(recorder, "run-1", body_for(specs["tiny"], a=1))
    job = requests.get(f"{jobs_url(recorder)}/run-1", timeout=10).json()
    assert before - timedelta(seconds=1) <= moment(job["createTime"]) <= datetime.now(UTC)


@pytest.mark.parametrize("scale", [0, -1, "fast", None, True])
def test_a_bad_scale_is_refused(recorder, scale):
    response = set_scale(recorder, scale)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        f"clock scale must be a positive number, got {scale!r}"
    )


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ({"count": 1}, "task fault task must be a task name, got None"),
        ({"task": "add", "count": 0}, "task fault count must be a positive integer, got 0"),
        ({"task": "add", "when": "now"}, "task fault: unknown field 'when'"),
    ],
)
def test_a_bad_task_fault_is_refused(recorder, fault, message):
    response = requests.post(f"{recorder.url}/emulator/task-faults", json=fault, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == message


def test_a_task_fault_is_taken_only_by_runs_that_have_the_task(specs):
    faults = TaskFaults()
    faults.add(TaskFault("add", 1, "RuntimeError: preempted"))
    assert sorted(task_names(specs["tiny"])) == ["add", "report"]
    assert faults.take_for(specs["sleepy"]) == {}  # no task `add`: the fault waits
    assert faults.take_for(specs["tiny"]) == {"add": "RuntimeError: preempted"}
    assert faults.take_for(specs["tiny"]) == {}  # used up


def test_a_task_failed_once_fails_its_run_and_the_next_run_succeeds(runner, specs):
    fault = {"task": "add", "count": 1, "message": "RuntimeError: the node was preempted"}
    assert requests.post(f"{runner.url}/emulator/task-faults", json=fault, timeout=10).ok
    create(runner, "run-first", body_for(specs["tiny"], a=1))
    first = wait_for(runner, "run-first")
    create(runner, "run-again", body_for(specs["tiny"], a=1))
    again = wait_for(runner, "run-again")

    assert first["state"] == "PIPELINE_STATE_FAILED"
    assert first["error"]["message"] == (
        "The DAG failed because some tasks failed. The failed tasks are: [add]. "
        "add: RuntimeError: the node was preempted"
    )
    assert again["state"] == "PIPELINE_STATE_SUCCEEDED"
