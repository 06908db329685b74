"""Vertex AI error answers classified by what fixes them, and one time budget per event."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from vertex_trigger.errors import DeploymentError, RejectedEvent, TransientError
from vertex_trigger.google.api_calls import ApiCalls, spending
from vertex_trigger.google.http import HttpClient
from vertex_trigger.google.retries import Budget, Retrier, RetryPolicy
from vertex_trigger.google.vertex import CreateOutcome, VertexPipelineJobs

from local.vertex_emulator.errors import STATUS_NAMES
from tests.functions.helpers import VertexStandIn, google_error
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
    ],
    ids=["403", "401", "404", "kms-key", "kms-key-invalid-argument", "org-policy-cmek"],
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
