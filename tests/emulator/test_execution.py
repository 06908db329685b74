"""Execution with kfp.local: states, task details, outputs, metrics, failures, cancel, restart."""

import time

import requests

from local.vertex_emulator import start_emulator
from tests.emulator.helpers import PARENT, body_for, create, jobs_url

FINAL = {"PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED", "PIPELINE_STATE_CANCELLED"}


def wait_for(emu, job_id: str, states: set[str], attempts: int = 600) -> dict:
    """Poll a job until it reaches one of `states` (bounded by attempts, never asserted on time)."""
    job: dict = {}
    for _ in range(attempts):
        job = requests.get(f"{jobs_url(emu)}/{job_id}", timeout=10).json()
        if job.get("state") in states:
            return job
        time.sleep(0.2)
    raise AssertionError(f"{job_id} stayed {job.get('state')}")


def tasks_of(job: dict) -> dict[str, dict]:
    """Task details by task name."""
    return {t["taskName"]: t for t in job["jobDetail"]["taskDetails"]}


def test_run_succeeds_with_task_outputs_and_metrics(runner, specs):
    assert create(runner, "run-ok", body_for(specs["tiny"], a=2)).status_code == 200
    job = wait_for(runner, "run-ok", FINAL)
    assert job["state"] == "PIPELINE_STATE_SUCCEEDED"
    assert "error" not in job
    assert job["startTime"] <= job["endTime"]
    tasks = tasks_of(job)
    assert {name: t["state"] for name, t in tasks.items()} == {
        "tiny": "SUCCEEDED",
        "add": "SUCCEEDED",
        "report": "SUCCEEDED",
    }
    assert tasks["add"]["execution"]["metadata"] == {"output:Output": 3.5}
    metrics = tasks["report"]["outputs"]["metrics"]["artifacts"][0]
    assert metrics["schemaTitle"] == "system.Metrics"
    assert metrics["metadata"] == {"total": 3.5}


def test_failed_task_fails_the_run_with_its_error(runner, specs):
    create(runner, "run-bad", body_for(specs["failing"], message="no rows in the CSV"))
    job = wait_for(runner, "run-bad", FINAL)
    assert job["state"] == "PIPELINE_STATE_FAILED"
    assert job["error"]["message"].startswith(
        "The DAG failed because some tasks failed. The failed tasks are: [explode]."
    )
    assert "ValueError: no rows in the CSV" in job["error"]["message"]
    explode = tasks_of(job)["explode"]
    assert explode["state"] == "FAILED"
    assert "ValueError: no rows in the CSV" in explode["error"]["message"]


def test_cancel_a_running_job(runner, specs):
    create(runner, "run-long", body_for(specs["sleepy"], seconds=120.0))
    wait_for(runner, "run-long", {"PIPELINE_STATE_RUNNING"})
    response = requests.post(f"{jobs_url(runner)}/run-long:cancel", timeout=10)
    assert response.status_code == 200
    assert response.json() == {}
    job = wait_for(runner, "run-long", FINAL)
    assert job["state"] == "PIPELINE_STATE_CANCELLED"


def test_cancel_a_finished_job_is_failed_precondition(recorder, specs):
    create(recorder, "run-1", body_for(specs["tiny"], a=1))
    assert requests.post(f"{jobs_url(recorder)}/run-1:cancel", timeout=10).status_code == 200
    response = requests.post(f"{jobs_url(recorder)}/run-1:cancel", timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "FAILED_PRECONDITION"
    assert "in state CANCELLED" in response.json()["error"]["message"]


def test_template_uri_only_job_fails_with_a_reason(runner):
    uri = "https://us-central1-kfp.pkg.dev/p/repo/house-prices/v1"
    create(runner, "run-tpl", {"templateUri": uri})
    job = wait_for(runner, "run-tpl", FINAL)
    assert job["state"] == "PIPELINE_STATE_FAILED"
    assert f"cannot fetch templateUri '{uri}'" in job["error"]["message"]


def test_jobs_survive_a_restart_and_pending_ones_run_after_it(tmp_path, specs):
    state = tmp_path / "state"
    with start_emulator(state, execute=False) as recorder:
        create(recorder, "run-later", body_for(specs["tiny"], a=5))
    with start_emulator(state, execute=True) as runner:
        job = wait_for(runner, "run-later", FINAL)
        assert job["state"] == "PIPELINE_STATE_SUCCEEDED"
        assert create(runner, "run-later", body_for(specs["tiny"], a=5)).status_code == 409
    with start_emulator(state, execute=False) as again:
        job = requests.get(f"{jobs_url(again)}/run-later", timeout=10).json()
        assert job["state"] == "PIPELINE_STATE_SUCCEEDED"
        assert [entry["status"] for entry in again.store.requests()] == [200, 409]


def test_a_condition_that_is_not_met_is_not_triggered(runner, specs):
    create(runner, "run-no", body_for(specs["branchy"], flag="no"))
    job = wait_for(runner, "run-no", FINAL)
    assert job["state"] == "PIPELINE_STATE_SUCCEEDED"
    tasks = tasks_of(job)
    assert tasks["condition-1"]["state"] == "NOT_TRIGGERED"
    assert "add" not in tasks
    assert tasks["choose"]["execution"]["metadata"] == {"output:Output": "no"}


def test_a_condition_that_is_met_groups_its_tasks(runner, specs):
    create(runner, "run-yes", body_for(specs["branchy"], flag="yes"))
    job = wait_for(runner, "run-yes", FINAL)
    tasks = tasks_of(job)
    assert tasks["condition-1"]["state"] == "SUCCEEDED"
    assert tasks["add"]["state"] == "SUCCEEDED"
    assert tasks["add"]["parentTaskId"] == tasks["condition-1"]["taskId"]
    assert tasks["condition-1"]["parentTaskId"] == tasks["branchy"]["taskId"]
    assert len({t["taskId"] for t in tasks.values()}) == len(tasks)


def test_a_run_interrupted_by_a_stop_is_pending_again_after_a_restart(tmp_path, specs):
    state = tmp_path / "state"
    with start_emulator(state, execute=True) as runner:
        create(runner, "run-cut", body_for(specs["sleepy"], seconds=120.0))
        wait_for(runner, "run-cut", {"PIPELINE_STATE_RUNNING"})
    with start_emulator(state, execute=False) as recorder:
        job = requests.get(f"{jobs_url(recorder)}/run-cut", timeout=10).json()
    assert job["state"] == "PIPELINE_STATE_PENDING"
    assert "jobDetail" not in job


def test_jobs_a_killed_emulator_left_running_or_cancelling_are_settled_at_start(tmp_path, specs):
    state = tmp_path / "state"
    with start_emulator(state, execute=False) as first:
        for job_id, left_in in (("run-a", "RUNNING"), ("run-b", "CANCELLING")):
            create(first, job_id, body_for(specs["tiny"], a=1))
            # what a SIGKILLed emulator leaves on disk
            first.store.update(
                f"{PARENT}/pipelineJobs/{job_id}",
                lambda job, s=left_in: job.update(state=f"PIPELINE_STATE_{s}"),
            )
    with start_emulator(state, execute=False) as second:
        states = {j: requests.get(f"{jobs_url(second)}/{j}", timeout=10).json()["state"]
                  for j in ("run-a", "run-b")}  # fmt: skip
    assert states == {"run-a": "PIPELINE_STATE_PENDING", "run-b": "PIPELINE_STATE_CANCELLED"}
