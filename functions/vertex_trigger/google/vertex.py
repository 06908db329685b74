"""Vertex AI v1 REST calls for PipelineJobs, through the one request path."""

import enum
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

from vertex_trigger.google.api_calls import ApiCalls, raise_for
from vertex_trigger.google.api_errors import read_error
from vertex_trigger.google.http import Requester
from vertex_trigger.google.retries import Answer

SERVICE = "Vertex AI"
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


class VertexPipelineJobs:
    """PipelineJobs over Vertex AI v1 REST through an HTTP requester (credentialed or not)."""

    def __init__(
        self, session: Requester, base_url: str, project: str, region: str, calls: ApiCalls
    ) -> None:
        """Talk to ``base_url`` for ``project``/``region`` through ``session`` and ``calls``."""
        self._session = session
        parent = f"projects/{project}/locations/{region}"
        self._collection = f"{base_url.rstrip('/')}/v1/{parent}/pipelineJobs"
        self._calls = calls

    def create(self, job_id: str, body: dict[str, Any]) -> CreateResult:
        """Create the job; 409 ALREADY_EXISTS means it exists; raise what fixes an error."""
        action = f"create {job_id}"
        answer = self._send(
            "POST", self._collection, action, {409}, params={"pipelineJobId": job_id}, json=body
        )
        response = answer.response
        if response.status == 409:
            if read_error(response).status != "ALREADY_EXISTS":
                raise_for(response, SERVICE, action)
            return CreateResult(CreateOutcome.ALREADY_EXISTS, answer.lost_reply)
        return CreateResult(CreateOutcome.CREATED)

    def list(
        self, filter_: str, order_by: str = "create_time desc", page_size: int = 100
    ) -> list[dict[str, Any]]:
        """Return the jobs matching ``filter_``, following up to MAX_LIST_PAGES pages."""
        params: dict[str, Any] = {"filter": filter_, "pageSize": page_size, "orderBy": order_by}
        jobs: list[dict[str, Any]] = []
        for _ in range(MAX_LIST_PAGES):
            page = self._send("GET", self._collection, "list pipeline jobs", params=params)
            body = page.response.json()
            jobs.extend(body.get("pipelineJobs", []))
            if not body.get("nextPageToken"):
                break
            params["pageToken"] = body["nextPageToken"]
        return jobs

    def cancel(self, job_id: str) -> CancelResult:
        """Cancel the job; 400/404 (finished, gone) is a refusal, not an error."""
        url = f"{self._collection}/{job_id}:cancel"
        response = self._send("POST", url, f"cancel {job_id}", NOT_CANCELLABLE_STATUS).response
        if response.status in NOT_CANCELLABLE_STATUS:
            return CancelResult(False, read_error(response).describe())
        return CancelResult(True)

    def get(self, job_id: str) -> dict[str, Any] | None:
        """Return the job (``GET .../pipelineJobs/ID``); 404 is None: no such run (any more)."""
        response = self._send("GET", f"{self._collection}/{job_id}", f"get {job_id}", {404})
        if response.response.status == 404:
            return None
        result: dict[str, Any] = response.response.json()
        return result

    def _send(
        self, method: str, url: str, action: str, handled: Collection[int] = (), **request: Any
    ) -> Answer:
        """Send one call of this collection through the request path."""
        return self._calls.send(
            self._session, method, url, service=SERVICE, action=action, handled=handled, **request
        )
