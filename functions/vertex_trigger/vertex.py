"""Vertex AI v1 REST calls for PipelineJobs, with bounded jittered exponential backoff."""

import enum
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from vertex_trigger.config import RetryPolicy
from vertex_trigger.errors import TRANSIENT_STATUS, RejectedEvent, TransientError

NOT_CANCELLABLE_STATUS = frozenset({400, 404})  # finished already (FAILED_PRECONDITION), gone
MAX_LIST_PAGES = 10  # bounds one event's listing: a cooldown holds a handful of runs


class CreateOutcome(enum.Enum):
    """What a create call established."""

    CREATED = "created"
    ALREADY_EXISTS = "already_exists"


@dataclass(frozen=True)
class CreateResult:
    """The outcome of a create and whether an earlier attempt may have created the job."""

    outcome: CreateOutcome
    after_lost_reply: bool = False  # a timed-out attempt preceded: the 409 is likely our own


@dataclass(frozen=True)
class CancelResult:
    """Whether Vertex accepted a cancel, and why not when it refused."""

    accepted: bool
    refusal: str = ""


class HttpRequester(Protocol):
    """The part of ``requests.Session`` the launcher uses."""

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send one HTTP request."""


class PipelineJobs(Protocol):
    """The launcher interface the handlers depend on."""

    def create(self, job_id: str, body: dict[str, Any]) -> CreateResult:
        """Create a PipelineJob with a caller-chosen id."""

    def list(
        self, filter_: str, order_by: str = "create_time desc", page_size: int = 100
    ) -> list[dict[str, Any]]:
        """Return the PipelineJobs matching an AIP-160 filter, in ``order_by`` order."""

    def cancel(self, job_id: str) -> CancelResult:
        """Ask Vertex to cancel a PipelineJob."""


class VertexPipelineJobs:
    """PipelineJobs over Vertex AI v1 REST through any requests-compatible session."""

    def __init__(
        self,
        session: HttpRequester,
        base_url: str,
        project: str,
        region: str,
        retry: RetryPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        """Talk to ``base_url`` for ``project``/``region`` through ``session``."""
        self._session = session
        parent = f"projects/{project}/locations/{region}"
        self._collection = f"{base_url.rstrip('/')}/v1/{parent}/pipelineJobs"
        self._retry = retry
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter

    def create(self, job_id: str, body: dict[str, Any]) -> CreateResult:
        """Create the job; 409 means it exists already; raise RejectedEvent or TransientError."""
        response, lost_reply = self._call(
            "POST", self._collection, params={"pipelineJobId": job_id}, json=body
        )
        if response.status_code == 409:
            return CreateResult(CreateOutcome.ALREADY_EXISTS, lost_reply)
        _raise_for_rejection(response, f"create {job_id}")
        return CreateResult(CreateOutcome.CREATED)

    def list(
        self, filter_: str, order_by: str = "create_time desc", page_size: int = 100
    ) -> list[dict[str, Any]]:
        """Return the jobs matching ``filter_``, following up to MAX_LIST_PAGES pages."""
        params: dict[str, Any] = {"filter": filter_, "pageSize": page_size, "orderBy": order_by}
        jobs: list[dict[str, Any]] = []
        for _ in range(MAX_LIST_PAGES):
            response, _ = self._call("GET", self._collection, params=params)
            _raise_for_rejection(response, "list pipeline jobs")
            page = response.json()
            jobs.extend(page.get("pipelineJobs", []))
            if not page.get("nextPageToken"):
                break
            params["pageToken"] = page["nextPageToken"]
        return jobs

    def cancel(self, job_id: str) -> CancelResult:
        """Cancel the job; 400/404 (finished, gone) is a refusal, not an error."""
        response, _ = self._call("POST", f"{self._collection}/{job_id}:cancel")
        if response.status_code in NOT_CANCELLABLE_STATUS:
            return CancelResult(False, f"HTTP {response.status_code} {_error_message(response)}")
        _raise_for_rejection(response, f"cancel {job_id}")
        return CancelResult(True)

    def _call(self, method: str, url: str, **kwargs: Any) -> tuple[requests.Response, bool]:
        """Send with retries; return the first non-transient response and if a reply was lost."""
        started = self._clock()
        lost_reply = False
        attempt = 0
        while True:
            try:
                response = self._session.request(
                    method, url, timeout=self._retry.request_timeout, **kwargs
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                lost_reply, problem = True, f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code not in TRANSIENT_STATUS:
                    return response, lost_reply
                problem = f"HTTP {response.status_code}: {_error_message(response)}"
            delay = self._backoff(attempt)
            if self._clock() - started + delay > self._retry.deadline:
                raise TransientError(
                    f"Vertex AI {method} failed {attempt + 1} time(s) within "
                    f"{self._retry.deadline:g}s, last: {problem}"
                )
            self._sleep(delay)
            attempt += 1

    def _backoff(self, attempt: int) -> float:
        """Exponential delay with 'equal jitter': half fixed, half random, capped."""
        ceiling = min(self._retry.max_delay, self._retry.initial_delay * 2**attempt)
        return ceiling / 2 + ceiling / 2 * self._jitter()


def _error_message(response: requests.Response) -> str:
    try:
        error = response.json().get("error", {})
        return f"{error.get('status', '')} {error.get('message', '')}".strip()
    except (ValueError, AttributeError):
        return response.text[:300]


def _raise_for_rejection(response: requests.Response, what: str) -> None:
    if response.status_code >= 400:
        raise RejectedEvent(
            f"Vertex AI refused to {what}: HTTP {response.status_code} {_error_message(response)}"
        )
