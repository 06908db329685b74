"""Cancel without execution (PENDING becomes CANCELLED) and faults aimed at cancels."""

import requests

from tests.emulator.helpers import body_for, create, jobs_url


def cancel(emu, job_id: str) -> requests.Response:
    return requests.post(f"{jobs_url(emu)}/{job_id}:cancel", timeout=10)


def add_fault(emu, fault: dict) -> requests.Response:
    return requests.post(f"{emu.url}/emulator/faults", json=fault, timeout=10)


def test_cancel_of_a_pending_job_without_execution_is_cancelled_at_once(recorder, specs):
    create(recorder, "run-pending", body_for(specs["tiny"], a=1))
    assert cancel(recorder, "run-pending").json() == {}
    job = requests.get(f"{jobs_url(recorder)}/run-pending", timeout=10).json()
    assert job["state"] == "PIPELINE_STATE_CANCELLED"
    assert job["error"] == {"code": 1, "message": "CANCELED"}
    assert job["createTime"] <= job["endTime"]
    listed = requests.get(
        jobs_url(recorder), params={"filter": 'state="PIPELINE_STATE_CANCELLED"'}, timeout=10
    ).json()["pipelineJobs"]
    assert [j["name"].rsplit("/", 1)[-1] for j in listed] == ["run-pending"]


def test_cancel_of_an_unknown_job_is_not_found(recorder):
    response = cancel(recorder, "no-such-run")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"


def test_cancel_faults_answer_cancels_and_leave_creates_alone(recorder, specs):
    assert add_fault(recorder, {"kind": "status", "status": 503, "count": 1, "on": "cancel"}).ok
    assert create(recorder, "run-1", body_for(specs["tiny"], a=1)).status_code == 200
    first, second = cancel(recorder, "run-1"), cancel(recorder, "run-1")
    assert (first.status_code, second.status_code) == (503, 200)
    assert first.json()["error"]["status"] == "UNAVAILABLE"
    job = requests.get(f"{jobs_url(recorder)}/run-1", timeout=10).json()
    assert job["state"] == "PIPELINE_STATE_CANCELLED"


def test_clearing_faults_drops_cancel_faults_too(recorder, specs):
    assert add_fault(recorder, {"kind": "status", "status": 503, "count": 1, "on": "cancel"}).ok
    assert requests.delete(f"{recorder.url}/emulator/faults", timeout=10).ok
    assert create(recorder, "run-1", body_for(specs["tiny"], a=1)).status_code == 200
    assert cancel(recorder, "run-1").status_code == 200


def test_fault_target_must_be_create_cancel_or_list(recorder):
    response = add_fault(recorder, {"kind": "status", "status": 503, "on": "get"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "fault 'on' must be 'create', 'cancel' or 'list', got 'get'"
    )
