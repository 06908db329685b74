"""Fault injection and the request log (emulator-only /emulator/ endpoints)."""

import time

import pytest
import requests

from tests.emulator.helpers import body_for, create, jobs_url


def add_fault(emu, fault: dict) -> None:
    """Queue a fault."""
    assert requests.post(f"{emu.url}/emulator/faults", json=fault, timeout=10).status_code == 200


def request_log(emu) -> list[dict]:
    """Return the create requests the emulator received."""
    return requests.get(f"{emu.url}/emulator/requests", timeout=10).json()


def test_status_fault_answers_the_next_creates_then_stops(recorder, specs):
    add_fault(recorder, {"kind": "status", "status": 503, "count": 2})
    first = create(recorder, "run-1", body_for(specs["tiny"], a=1))
    second = create(recorder, "run-1", body_for(specs["tiny"], a=1))
    third = create(recorder, "run-1", body_for(specs["tiny"], a=1))
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
    assert first.json()["error"]["status"] == "UNAVAILABLE"
    assert [entry["status"] for entry in request_log(recorder)] == [503, 503, 200]


def test_status_fault_creates_nothing(recorder, specs):
    add_fault(recorder, {"kind": "status", "status": 429, "count": 1})
    response = create(recorder, "run-1", body_for(specs["tiny"], a=1))
    assert response.json()["error"] == {
        "code": 429,
        "message": "Injected fault: the service answered 429.",
        "status": "RESOURCE_EXHAUSTED",
    }
    assert requests.get(f"{jobs_url(recorder)}/run-1", timeout=10).status_code == 404


def test_hang_fault_delays_then_creates_the_job(recorder, specs):
    add_fault(recorder, {"kind": "hang", "seconds": 0.5, "count": 1})
    with pytest.raises(requests.exceptions.Timeout):
        requests.post(
            jobs_url(recorder),
            params={"pipelineJobId": "run-1"},
            json=body_for(specs["tiny"], a=1),
            timeout=0.1,
        )
    # the server accepted the request: once the hang ends the job exists and a retry is a 409
    job = wait_for_job(recorder, "run-1")
    assert job["state"] == "PIPELINE_STATE_PENDING"
    assert create(recorder, "run-1", body_for(specs["tiny"], a=1)).status_code == 409


def wait_for_job(emu, job_id: str) -> dict:
    """Poll until a job exists (bounded by attempts, not by a timing assertion)."""
    for _ in range(100):
        response = requests.get(f"{jobs_url(emu)}/{job_id}", timeout=10)
        if response.status_code == 200:
            return response.json()
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never appeared")


def test_clearing_faults(recorder, specs):
    add_fault(recorder, {"kind": "status", "status": 500, "count": 5})
    assert requests.delete(f"{recorder.url}/emulator/faults", timeout=10).status_code == 200
    assert create(recorder, "run-1", body_for(specs["tiny"], a=1)).status_code == 200


def test_request_log_records_bodies_and_outcomes(recorder, specs):
    body = body_for(specs["tiny"], a=1)
    create(recorder, "run-1", body)
    create(recorder, "run-1", body)
    create(recorder, "Bad_Id", body)
    log = request_log(recorder)
    assert [(e["job_id"], e["status"]) for e in log] == [
        ("run-1", 200),
        ("run-1", 409),
        ("Bad_Id", 400),
    ]
    assert log[0]["body"] == body


def test_reset_forgets_jobs_and_requests(recorder, specs):
    create(recorder, "run-1", body_for(specs["tiny"], a=1))
    assert requests.post(f"{recorder.url}/emulator/reset", timeout=10).status_code == 200
    assert request_log(recorder) == []
    assert requests.get(jobs_url(recorder), timeout=10).json() == {}
    assert create(recorder, "run-1", body_for(specs["tiny"], a=1)).status_code == 200


def test_bad_fault_is_rejected_with_a_message(recorder):
    response = requests.post(
        f"{recorder.url}/emulator/faults", json={"kind": "explode"}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "fault kind 'explode' is not one of status, hang"


def test_status_fault_can_carry_google_error_details_and_a_retry_after_header(recorder, specs):
    """A 409 ABORTED, a 429 with a google.rpc.RetryInfo and a Retry-After, as Google sends them."""
    retry_info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "30s"}
    add_fault(recorder, {"kind": "status", "status": 409, "error_status": "ABORTED"})
    add_fault(
        recorder,
        {"kind": "status", "status": 429, "details": [retry_info], "retry_after": "7"},
    )
    aborted = create(recorder, "run-1", body_for(specs["tiny"], a=1))
    throttled = create(recorder, "run-1", body_for(specs["tiny"], a=1))
    assert aborted.json()["error"]["status"] == "ABORTED"
    assert "details" not in aborted.json()["error"]
    assert throttled.json()["error"]["details"] == [retry_info]
    assert throttled.headers["Retry-After"] == "7"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"error_status": "aborted"}, "fault error_status must be a google.rpc.Code name"),
        ({"details": [{"retryDelay": "1s"}]}, "fault details must be a list of objects with"),
        ({"retry_after": 7}, "fault retry_after must be a header value string"),
    ],
)
def test_bad_error_extras_are_rejected(recorder, extra, message):
    fault = {"kind": "status", "status": 429, **extra}
    response = requests.post(f"{recorder.url}/emulator/faults", json=fault, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(message)


def test_list_fault_answers_the_next_list(recorder, specs):
    add_fault(recorder, {"kind": "status", "status": 403, "count": 1, "on": "list"})
    create(recorder, "run-1", body_for(specs["tiny"], a=1))
    denied = requests.get(jobs_url(recorder), timeout=10)
    assert denied.status_code == 403
    assert denied.json()["error"]["status"] == "PERMISSION_DENIED"
    assert len(requests.get(jobs_url(recorder), timeout=10).json()["pipelineJobs"]) == 1
