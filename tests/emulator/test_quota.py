"""The create quota: N creates a minute per region, then 429 RESOURCE_EXHAUSTED like Google."""

import json
from pathlib import Path

import pytest
import requests
from google.api_core import exceptions
from google.protobuf import json_format
from google.rpc import error_details_pb2

from local.vertex_emulator import QuotaSettings, start_emulator
from local.vertex_emulator.quota import CreateQuota, parse_quota
from tests.emulator.helpers import PARENT, body_for, create

DATA = Path(__file__).resolve().parent / "data"
DETAIL_TYPES = {
    "type.googleapis.com/google.rpc.ErrorInfo": error_details_pb2.ErrorInfo,
    "type.googleapis.com/google.rpc.Help": error_details_pb2.Help,
    "type.googleapis.com/google.rpc.RetryInfo": error_details_pb2.RetryInfo,
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def limited(tmp_path):
    """An emulator allowing 3 creates per minute per region."""
    with start_emulator(tmp_path / "state", execute=False, quota=QuotaSettings(3)) as emu:
        yield emu


def test_off_by_default(recorder, specs):
    statuses = {create(recorder, f"run-{n}", body_for(specs["tiny"], a=1)).status_code
                for n in range(70)}  # fmt: skip
    assert statuses == {200}


def test_over_the_quota_creates_answer_429_and_create_nothing(limited, specs):
    statuses = [
        create(limited, f"run-{n}", body_for(specs["tiny"], a=1)).status_code for n in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]
    listed = requests.get(f"{limited.url}/v1/{PARENT}/pipelineJobs", timeout=10).json()
    assert len(listed["pipelineJobs"]) == 3
    # Every attempt is in the request log, the refused ones with their status.
    assert [r["status"] for r in limited.service.store.requests()] == statuses


def test_the_answer_has_google_shape_and_real_rpc_details(limited, specs):
    for n in range(3):
        create(limited, f"run-{n}", body_for(specs["tiny"], a=1))
    response = create(limited, "run-over", body_for(specs["tiny"], a=1))
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert error["message"].startswith("Quota exceeded for quota metric")
    assert "of service 'aiplatform.googleapis.com'" in error["message"]
    for detail in error["details"]:  # each one is the google.rpc message its @type names
        fields = {k: v for k, v in detail.items() if k != "@type"}
        json_format.ParseDict(fields, DETAIL_TYPES[detail["@type"]]())
    info = next(d for d in error["details"] if d["@type"].endswith("ErrorInfo"))
    example = json.loads((DATA / "rate_limit_exceeded_error_info.json").read_text())
    assert (info["reason"], info["domain"]) == (example["reason"], example["domain"])
    assert set(example["metadata"]) <= set(info["metadata"])
    assert info["metadata"]["quota_limit_value"] == "3"
    assert info["metadata"]["quota_location"] == "us-central1"
    assert info["metadata"]["consumer"] == "projects/test-project"
    assert not any(d["@type"].endswith("RetryInfo") for d in error["details"])  # as Google


def test_google_api_core_reads_it_as_resource_exhausted(limited, specs):
    for n in range(3):
        create(limited, f"run-{n}", body_for(specs["tiny"], a=1))
    response = create(limited, "run-over", body_for(specs["tiny"], a=1))
    error = exceptions.from_http_response(response)
    assert isinstance(error, exceptions.TooManyRequests)
    assert error.reason == "RATE_LIMIT_EXCEEDED"
    assert error.domain == "googleapis.com"


def test_the_quota_is_per_region(limited, specs):
    other = f"{limited.url}/v1/projects/test-project/locations/europe-west4/pipelineJobs"
    for n in range(3):
        assert create(limited, f"run-{n}", body_for(specs["tiny"], a=1)).status_code == 200
    response = requests.post(
        other, params={"pipelineJobId": "run-eu"}, json=body_for(specs["tiny"], a=1), timeout=10
    )
    assert response.status_code == 200


def test_a_refused_create_does_not_use_quota_and_the_window_slides():
    clock = FakeClock()
    quota = CreateQuota(QuotaSettings(2, retry_info=True), clock)
    quota.admit(PARENT)
    clock.now += 30
    quota.admit(PARENT)
    with pytest.raises(Exception) as refused:
        quota.admit(PARENT)
    retry = refused.value.details[-1]
    assert retry == {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "30s"}
    clock.now += 30  # the first create leaves the window
    quota.admit(PARENT)
    with pytest.raises(Exception, match="Quota exceeded"):
        quota.admit(PARENT)


def test_a_shorter_window_scales_the_minute_down():
    clock = FakeClock()
    quota = CreateQuota(QuotaSettings(1, retry_info=True, window_seconds=2.0), clock)
    quota.admit(PARENT)
    clock.now += 0.5
    with pytest.raises(Exception) as refused:
        quota.admit(PARENT)
    assert refused.value.details[-1]["retryDelay"] == "1.5s"
    clock.now += 1.5
    quota.admit(PARENT)


def test_quota_is_set_and_cleared_over_http(recorder, specs):
    url = f"{recorder.url}/emulator/quota"
    assert requests.post(url, json={"creates_per_minute": 1}, timeout=10).ok
    assert requests.get(url, timeout=10).json() == {
        "creates_per_minute": 1,
        "retry_info": False,
        "window_seconds": 60.0,
    }
    assert create(recorder, "run-1", body_for(specs["tiny"], a=1)).status_code == 200
    assert create(recorder, "run-2", body_for(specs["tiny"], a=1)).status_code == 429
    assert requests.post(f"{recorder.url}/emulator/reset", timeout=10).ok  # usage forgotten
    assert create(recorder, "run-3", body_for(specs["tiny"], a=1)).status_code == 200
    assert requests.delete(url, timeout=10).ok
    assert requests.get(url, timeout=10).json() == {}
    assert create(recorder, "run-4", body_for(specs["tiny"], a=1)).status_code == 200


POSITIVE = "quota creates_per_minute must be a positive integer, got"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"creates_per_minute": 0}, f"{POSITIVE} 0"),
        ({"creates_per_minute": True}, f"{POSITIVE} True"),
        (
            {"creates_per_minute": 5, "retry_info": "yes"},
            "quota retry_info must be true or false, got 'yes'",
        ),
        ({"creates_per_minute": 5, "burst": 2}, "quota: unknown field 'burst'"),
        (
            {"creates_per_minute": 5, "window_seconds": 0},
            "quota window_seconds must be a positive number, got 0",
        ),
        ([60], "quota must be a JSON object"),
    ],
)
def test_bad_quota_settings_are_rejected_with_a_message(body, message):
    with pytest.raises(Exception) as refused:
        parse_quota(body)
    assert refused.value.message == message
    assert refused.value.code == 400
