"""Vertex AI v1 REST calls for PipelineJobs, retried inside one time budget per event."""

import copy
import enum
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from vertex_trigger.api_errors import Fix, fix_for, read_error
from vertex_trigger.errors import DeploymentError, RejectedEvent
from vertex_trigger.http import Requester, Response
from vertex_trigger.retrying import Answer, Budget, Retrier, RetryPolicy

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

    def get(self, job_id: str) -> dict[str, Any] | None:
        """Return a PipelineJob, or None when Vertex has none with this id."""

    def with_budget(self, budget: Budget) -> "PipelineJobs":
        """Return the same launcher with every call drawing on ``budget`` (one event's time)."""


class VertexPipelineJobs:
    """PipelineJobs over Vertex AI v1 REST through an HTTP requester (credentialed or not)."""

    def __init__(
        self,
        session: Requester,
        base_url: str,
        project: str,
        region: str,
        retry: RetryPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        """Talk to ``base_url`` for ``project``/``region`` through ``session``.

        Without ``with_budget`` each call gets its own budget of ``retry.deadline``.
        """
        self._session = session
        parent = f"projects/{project}/locations/{region}"
        self._collection = f"{base_url.rstrip('/')}/v1/{parent}/pipelineJobs"
        self._retrier = Retrier(retry, sleep=sleep, clock=clock, jitter=jitter)
        self._budget: Budget | None = None

    def with_budget(self, budget: Budget) -> "VertexPipelineJobs":
        """Return a copy whose calls all draw on ``budget``."""
        budgeted = copy.copy(self)
        budgeted._budget = budget
        return budgeted

    def create(self, job_id: str, body: dict[str, Any]) -> CreateResult:
        """Create the job; 409 ALREADY_EXISTS means it exists; raise what fixes an error."""
        answer = self._call("POST", self._collection, params={"pipelineJobId": job_id}, json=body)
        response = answer.response
        if response.status == 409 and read_error(response).status == "ALREADY_EXISTS":
            return CreateResult(CreateOutcome.ALREADY_EXISTS, answer.lost_reply)
        _raise_for_error(response, f"create {job_id}")
        return CreateResult(CreateOutcome.CREATED)

    def list(
        self, filter_: str, order_by: str = "create_time desc", page_size: int = 100
    ) -> list[dict[str, Any]]:
        """Return the jobs matching ``filter_``, following up to MAX_LIST_PAGES pages."""
        params: dict[str, Any] = {"filter": filter_, "pageSize": page_size, "orderBy": order_by}
        jobs: list[dict[str, Any]] = []
        for _ in range(MAX_LIST_PAGES):
            response = self._call("GET", self._collection, params=params).response
            _raise_for_error(response, "list pipeline jobs")
            page = response.json()
            jobs.extend(page.get("pipelineJobs", []))
            if not page.get("nextPageToken"):
                break
            params["pageToken"] = page["nextPageToken"]
        return jobs

    def cancel(self, job_id: str) -> CancelResult:
        """Cancel the job; 400/404 (finished, gone) is a refusal, not an error."""
        response = self._call("POST", f"{self._collection}/{job_id}:cancel").response
        if response.status in NOT_CANCELLABLE_STATUS:
            return CancelResult(False, read_error(response).describe())
        _raise_for_error(response, f"cancel {job_id}")
        return CancelResult(True)

    def get(self, job_id: str) -> dict[str, Any] | None:
        """Return the job (``GET .../pipelineJobs/ID``); 404 is None: no such run (any more)."""
        response = self._call("GET", f"{self._collection}/{job_id}").response
        if response.status == 404:
            return None
        _raise_for_error(response, f"get {job_id}")
        return response.json()

    def _call(self, method: str, url: str, **kwargs: Any) -> Answer:
        """Send with retries inside this event's budget (or a budget of its own)."""
        budget = self._budget or self._retrier.budget()
        return self._retrier.send(
            lambda timeout: self._session.request(method, url, timeout=timeout, **kwargs),
            f"Vertex AI {method}",
            budget,
        )


def _raise_for_error(response: Response, what: str) -> None:
    """Raise DeploymentError or RejectedEvent for an error answer, by what would fix it."""
    if response.status < 400:
        return
    error = read_error(response)
    message = f"Vertex AI refused to {what}: {error.describe()}"
    if fix_for(error) is Fix.DEPLOYMENT:
        raise DeploymentError(message)
    raise RejectedEvent(message)
