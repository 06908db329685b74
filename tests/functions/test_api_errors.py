"""Google API error answers classified by what fixes them, and one time budget per event."""

import http.client
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from vertex_trigger.errors import DeploymentError, RejectedEvent, TransientError
from vertex_trigger.google.api_calls import ApiCalls, spending
from vertex_trigger.google.api_errors import Fix, fix_for, read_error
from vertex_trigger.google.http import HttpClient, Response
from vertex_trigger.google.retries import Budget, Retrier, RetryPolicy
from vertex_trigger.google.storage import Storage
from vertex_trigger.google.vertex import CreateOutcome, VertexPipelineJobs

from local.vertex_emulator.errors import STATUS_NAMES
from tests.functions.helpers import ERRORS, LoopbackServer, VertexStandIn, google_error
from tests.functions.launcher_helpers import FakeClock, valid_body

CREATED = CreateOutcome.CREATED
POLICY = RetryPolicy(initial_delay=1.0, max_delay=4.0, deadline=60.0, request_timeout=5.0)


def launcher(vertex: VertexStandIn, clock: FakeClock, policy: RetryPolicy = POLICY) -> Any:
    return VertexPipelineJobs(
        HttpClient(), vertex.url, "test-project", "us-central1",
        ApiCalls(Retrier(policy, sleep=clock.sleep, clock=lambda: clock.now, jitter=lambda: 1.0)),
    )  # fmt: skip


def test_409_aborted_is_retried_and_only_already_exists_is_a_duplicate(
    clean_vertex: VertexStandIn,
) -> None:
    clock = FakeClock()
    jobs = launcher(clean_vertex, clock)
    clean_vertex.fault(kind="status", status=409, error_status="ABORTED", count=2)
    assert jobs.create("aborted-1", valid_body()).outcome is CreateOutcome.CREATED
    assert clock.sleeps == [1.0, 2.0]
    assert jobs.create("aborted-1", valid_body()).outcome is CreateOutcome.ALREADY_EXISTS
    clean_vertex.fault(kind="status", status=409, error_status="FAILED_PRECONDITION")
    with pytest.raises(RejectedEvent, match="HTTP 409 FAILED_PRECONDITION"):
        jobs.create("aborted-2", valid_body())


@pytest.mark.parametrize(
    "fault",
    [
        google_error("permission_denied.json"),
        {"kind": "status", "status": 401, "message": "Request had invalid authentication."},
        {"kind": "status", "status": 404, "message": "Location us-central9 is not found."},
        google_error("kms_key_unusable.json"),
        {**google_error("kms_key_unusable.json"), "error_status": "INVALID_ARGUMENT"},
        google_error("org_policy_cmek.json"),
        google_error("act_as_denied.json"),
        google_error("pipeline_root_denied.json"),
        {**google_error("pipeline_root_denied.json"), "error_status": "INVALID_ARGUMENT"},
        google_error("metadata_store_denied.json"),
        {
            **google_error("metadata_store_denied.json"),
            "status": 400,
            "error_status": "FAILED_PRECONDITION",
        },
        google_error("project_invalid.json"),
        google_error("network_not_peered.json"),
    ],
    ids=[
        "403",
        "401",
        "404",
        "kms-key",
        "kms-key-invalid-argument",
        "org-policy-cmek",
        "act-as",
        "pipeline-root",
        "pipeline-root-invalid-argument",
        "metadata-store",
        "metadata-store-as-400",
        "project-error-info",
        "network",
    ],
)
def test_an_answer_about_the_deployment_is_a_deployment_error(
    clean_vertex: VertexStandIn, fault: dict[str, Any]
) -> None:
    clean_vertex.fault(**fault)
    with pytest.raises(DeploymentError) as caught:
        launcher(clean_vertex, FakeClock()).create("deploy-1", valid_body())
    status = fault.get("error_status") or STATUS_NAMES[fault["status"]]
    assert str(caught.value).startswith(
        f"Vertex AI refused to create deploy-1: HTTP {fault['status']} {status} "
    )
    assert fault["message"][:40] in str(caught.value)


def test_a_quota_answer_is_retried_then_raised_as_transient(clean_vertex: VertexStandIn) -> None:
    clock = FakeClock()
    clean_vertex.fault(**google_error("quota_exceeded.json"), count=1000)
    with pytest.raises(TransientError) as caught:
        launcher(clean_vertex, clock).create("quota-3", valid_body())
    assert clock.sleeps  # retried inside the request first
    assert "HTTP 429 RESOURCE_EXHAUSTED The following quota metrics exceed" in str(caught.value)


def test_a_list_or_cancel_denied_is_a_deployment_error_too(clean_vertex: VertexStandIn) -> None:
    jobs = launcher(clean_vertex, FakeClock())
    clean_vertex.fault(**google_error("permission_denied.json"), on="list")
    with pytest.raises(DeploymentError, match="refused to list pipeline jobs: HTTP 403"):
        jobs.list('labels.a="b"')
    jobs.create("cancel-denied", valid_body())
    clean_vertex.fault(**google_error("permission_denied.json"), on="cancel")
    with pytest.raises(DeploymentError, match="refused to cancel cancel-denied: HTTP 403"):
        jobs.cancel("cancel-denied")


def test_an_answer_about_the_request_itself_is_rejected(clean_vertex: VertexStandIn) -> None:
    jobs = launcher(clean_vertex, FakeClock())
    body = valid_body()
    body["runtimeConfig"]["parameterValues"]["generation"] = "not a number"
    with pytest.raises(RejectedEvent, match="HTTP 400 INVALID_ARGUMENT runtimeConfig"):
        jobs.create("content-1", body)


def test_a_429_retry_info_delay_is_honoured_within_the_budget(clean_vertex: VertexStandIn) -> None:
    """google.rpc.RetryInfo "53s" (a real answer): wait at least that long, then create."""
    clock = FakeClock()
    clean_vertex.fault(**google_error("resource_exhausted_retry_info.json"))
    result = launcher(clean_vertex, clock).create("quota-1", valid_body())
    assert result.outcome is CreateOutcome.CREATED
    assert clock.sleeps == [53.0]


def test_a_retry_delay_past_the_budget_fails_at_once(clean_vertex: VertexStandIn) -> None:
    clock = FakeClock()
    clean_vertex.fault(**google_error("resource_exhausted_retry_info.json"))
    tight = RetryPolicy(initial_delay=1.0, max_delay=4.0, deadline=45.0, request_timeout=5.0)
    with pytest.raises(TransientError) as caught:
        launcher(clean_vertex, clock, tight).create("quota-2", valid_body())
    assert clock.sleeps == []  # no use waiting: the retry could not happen inside the budget
    assert "HTTP 429 RESOURCE_EXHAUSTED You exceeded your current quota" in str(caught.value)
    assert str(caught.value).endswith(
        "the service asked to wait 53s, more than the budget has left"
    )


def http_date(seconds_from_now: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds_from_now), usegmt=True)


def test_a_retry_after_header_is_honoured(clean_vertex: VertexStandIn) -> None:
    """RFC 9110 Retry-After: delay-seconds, or an HTTP-date (past: the backoff applies)."""
    clock = FakeClock()
    jobs = launcher(clean_vertex, clock)
    clean_vertex.fault(kind="status", status=503, retry_after="12")
    assert jobs.create("later-1", valid_body()).outcome is CREATED
    clean_vertex.fault(kind="status", status=503, retry_after=http_date(-3600))
    assert jobs.create("later-2", valid_body()).outcome is CREATED
    assert clock.sleeps == [12.0, 1.0]
    clean_vertex.fault(kind="status", status=503, retry_after=http_date(3600))
    with pytest.raises(TransientError) as caught:
        jobs.create("later-3", valid_body())
    assert clock.sleeps == [12.0, 1.0]
    assert "more than the budget has left" in str(caught.value)


def test_every_call_of_an_event_draws_on_one_budget(clean_vertex: VertexStandIn) -> None:
    """create, then cancel: the cancel gets what the create left, not a budget of its own."""
    clock = FakeClock()
    policy = RetryPolicy(initial_delay=1.0, max_delay=4.0, deadline=20.0, request_timeout=5.0)
    jobs = launcher(clean_vertex, clock, policy)
    with spending(Budget(policy, clock=lambda: clock.now)):
        clean_vertex.fault(kind="status", status=503, count=3)
        jobs.create("shared-1", valid_body())
        assert clock.sleeps == [1.0, 2.0, 4.0]  # 7 s of the 20 s spent
        clean_vertex.fault(kind="status", status=503, count=1000, on="cancel")
        with pytest.raises(TransientError, match="Vertex AI POST failed 5 time"):
            jobs.cancel("shared-1")
    # The cancel stops with 2 s left (a tenth of the budget); on a fresh budget it would have
    # slept 1, 2, 4, 4, 4.
    assert clock.sleeps == [1.0, 2.0, 4.0, 1.0, 2.0, 4.0, 4.0]
    assert sum(clock.sleeps) <= policy.deadline


def test_a_call_after_the_budget_is_spent_is_not_attempted(clean_vertex: VertexStandIn) -> None:
    clock = FakeClock()
    budget = Budget(POLICY, clock=lambda: clock.now)
    clock.now += POLICY.deadline
    with spending(budget), pytest.raises(TransientError) as caught:
        launcher(clean_vertex, clock).list('labels.a="b"')
    assert str(caught.value) == (
        "Vertex AI GET not attempted: the 60s budget for this event's Google API calls is spent"
    )


def answer(status: int, body: bytes, content_type: str = "application/json") -> Response:
    headers = http.client.HTTPMessage()
    headers["Content-Type"] = content_type
    return Response(status, headers, body)


def recorded(name: str, status: int | None = None) -> Response:
    """The recorded answer ``name`` (its own HTTP code unless ``status`` is given)."""
    body = (ERRORS / name).read_bytes()
    if name.endswith(".txt"):
        return answer(status or 400, body, "text/plain; charset=utf-8")
    return answer(status or json.loads(body)["error"]["code"], body)


# Every recorded answer, and what makes the same request succeed (README.md beside them: sources).
RECORDED = [
    ("permission_denied.json", None, Fix.DEPLOYMENT),
    ("kms_key_unusable.json", None, Fix.DEPLOYMENT),
    ("org_policy_cmek.json", None, Fix.DEPLOYMENT),
    ("resource_exhausted_retry_info.json", None, Fix.RETRY),
    ("act_as_denied.json", None, Fix.DEPLOYMENT),
    ("pipeline_root_denied.json", None, Fix.DEPLOYMENT),
    ("metadata_store_denied.json", None, Fix.DEPLOYMENT),
    ("metadata_store_denied.json", 400, Fix.DEPLOYMENT),
    ("project_invalid.json", None, Fix.DEPLOYMENT),
    ("quota_exceeded.json", None, Fix.RETRY),
    ("network_not_peered.json", None, Fix.DEPLOYMENT),
    ("storage_requester_pays.json", None, Fix.DEPLOYMENT),
    ("storage_org_policy.json", None, Fix.DEPLOYMENT),
    ("storage_service_account_missing.json", None, Fix.DEPLOYMENT),
    ("storage_customer_key.txt", None, Fix.NOTHING),
]


@pytest.mark.parametrize(("name", "status", "fix"), RECORDED)
def test_each_recorded_answer_is_classified_by_what_fixes_it(
    name: str, status: int | None, fix: Fix
) -> None:
    assert fix_for(read_error(recorded(name, status))) is fix


def test_every_recorded_answer_is_classified_and_documented() -> None:
    files = {p.name for p in ERRORS.iterdir() if p.suffix in {".json", ".txt"}}
    assert files == {name for name, _, _ in RECORDED}
    readme = (ERRORS / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in files)


@pytest.mark.parametrize(
    "message",
    [
        "Invalid value at 'pipeline_job.runtime_config.parameter_values[1].value' "
        '(type.googleapis.com/google.protobuf.Value), "gs://b/o.csv"',
        "Invalid JSON payload received. Unknown name \"colour\" at 'pipeline_job': "
        "Cannot find field.",
        "The target object is encrypted by a customer-supplied encryption key.",
    ],
)
def test_a_400_naming_only_the_request_is_the_events(message: str) -> None:
    body = json.dumps({"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}})
    assert fix_for(read_error(answer(400, body.encode()))) is Fix.NOTHING


def test_error_info_names_the_deployment_only_in_its_domains() -> None:
    def with_info(domain: str, reason: str) -> Response:
        detail = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "domain": domain,
                  "reason": reason}  # fmt: skip
        error = {"code": 400, "message": "Bad request.", "details": [detail]}
        return answer(400, json.dumps({"error": error}).encode())

    assert read_error(with_info("googleapis.com", "API_KEY_INVALID")).reasons == (
        ("googleapis.com", "API_KEY_INVALID"),
    )
    assert fix_for(read_error(with_info("googleapis.com", "API_KEY_INVALID"))) is Fix.DEPLOYMENT
    assert fix_for(read_error(with_info("aiplatform.googleapis.com", "IAM_PERMISSION_DENIED"))) is (
        Fix.DEPLOYMENT
    )
    assert fix_for(read_error(with_info("aiplatform.googleapis.com", "BAD_PARAMETER"))) is (
        Fix.NOTHING
    )


@pytest.mark.parametrize(
    ("name", "call", "raised"),
    [
        ("storage_requester_pays.json", "list", DeploymentError),
        ("storage_org_policy.json", "list", DeploymentError),
        ("storage_customer_key.txt", "read", RejectedEvent),
    ],
)
def test_cloud_storage_answers_over_http_raise_what_fixes_them(
    name: str, call: str, raised: type[Exception]
) -> None:
    """Through the request path, against a loopback server answering the recorded body."""
    response = recorded(name)
    content_type = response.headers["Content-Type"]
    server = LoopbackServer(lambda received: (response.status, response.body),
                            headers={"Content-Type": content_type})  # fmt: skip
    try:
        calls = ApiCalls(Retrier(POLICY, sleep=lambda s: None, jitter=lambda: 1.0))
        storage = Storage(HttpClient(), server.url, calls)
        with pytest.raises(raised) as caught:
            if call == "list":
                list(storage.list("data", "exports/"))
            else:
                storage.read("data", "exports/manifest.json", 1, limit=1024)
    finally:
        server.stop()
    assert str(caught.value).startswith(f"Cloud Storage refused to {call} gs://data/exports/")
    assert f"HTTP {response.status}" in str(caught.value)
