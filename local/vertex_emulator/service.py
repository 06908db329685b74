"""PipelineJob operations (create, get, list, cancel) on top of the store and the executor."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from local.vertex_emulator import listing
from local.vertex_emulator.clock import ScaledClock
from local.vertex_emulator.errors import (
    ApiError,
    already_exists,
    failed_precondition,
    invalid_argument,
    not_found,
)
from local.vertex_emulator.executor import PipelineExecutor, mark_cancelled, mark_ended
from local.vertex_emulator.faults import FaultInjector, FaultKind, fault_error
from local.vertex_emulator.operations import (
    BATCH_CANCEL_METADATA,
    BATCH_CANCEL_RESPONSE,
    BATCH_DELETE_RESPONSE,
    DELETE_METADATA,
    Operations,
)
from local.vertex_emulator.quota import CreateQuota
from local.vertex_emulator.store import Job, JobStore, now_rfc3339
from local.vertex_emulator.task_faults import TaskFaults
from local.vertex_emulator.validation import parse_pipeline_job, validate_create

log = logging.getLogger(__name__)
FINAL_STATES = {"PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED", "PIPELINE_STATE_CANCELLED"}
MAX_BATCH = 32  # "A maximum of 32 PipelineJobs can be deleted (cancelled) in a batch."


class PipelineService:
    """The Vertex AI PipelineService subset the emulator speaks."""

    def __init__(
        self,
        store: JobStore,
        executor: PipelineExecutor | None,
        faults: FaultInjector,
        cancel_faults: FaultInjector | None = None,
        list_faults: FaultInjector | None = None,
        *,
        quota: CreateQuota | None = None,
        clock: ScaledClock | None = None,
    ):
        self.store = store
        self.executor = executor
        self.faults = faults
        self.cancel_faults = cancel_faults or FaultInjector()
        self.list_faults = list_faults or FaultInjector()
        self.quota = quota or CreateQuota()
        self.clock = clock or ScaledClock()
        # Runs take their task faults from the executor; without one they stay recorded only.
        self.task_faults = executor.task_faults if executor is not None else TaskFaults()
        self.operations = Operations()

    def create(self, parent: str, job_id: str | None, body: Any) -> Job:
        """Create a job; every attempt (also failed ones) is recorded in the request log."""
        job_id = job_id or f"job-{secrets.token_hex(8)}"
        try:
            job = self._create(parent, job_id, body)
        except ApiError as err:
            log.info("create %s/%s -> %s %s", parent, job_id, err.code, err.message)
            self.store.record_request({"job_id": job_id, "body": body, "status": err.code})
            raise
        self.store.record_request({"job_id": job_id, "body": body, "status": 200})
        return job

    def _create(self, parent: str, job_id: str, body: Any) -> Job:
        """Check the quota, apply faults, validate, store, and queue for execution."""
        self.quota.admit(parent)  # Google checks quota before the service sees the request
        _apply(self.faults)
        job = parse_pipeline_job(body)
        location = parent.rsplit("/", 1)[-1]
        validate_create(job, job_id, location, require_runnable=self.executor is not None)
        name = f"{parent}/pipelineJobs/{job_id}"
        stamp = now_rfc3339()
        job.update(name=name, state="PIPELINE_STATE_PENDING", createTime=stamp, updateTime=stamp)
        for output_only in ("startTime", "endTime", "error", "jobDetail"):
            job.pop(output_only, None)
        if not self.store.insert(job):
            raise already_exists(f"PipelineJob {name} already exists.")
        if self.executor is not None:
            self.executor.submit(name)
        log.info("created %s", name)
        return self.clock.viewer()(job)

    def get(self, name: str) -> Job:
        """Return one job (its times as the clock reports them) or NOT_FOUND."""
        job = self.store.get(name)
        if job is None:
            raise not_found(f"PipelineJob {name} is not found.")
        return self.clock.viewer()(job)

    def list(self, parent: str, query: dict[str, str]) -> dict[str, Any]:
        """Filter, order and page the jobs under a parent; a readMask keeps only its fields."""
        _apply(self.list_faults)
        filter_text = query.get("filter", "")
        order_by = query.get("orderBy", query.get("order_by", ""))
        mask = listing.parse_read_mask(query.get("readMask", query.get("read_mask", "")))
        predicates = listing.parse_filter(filter_text)
        key = listing.query_key(filter_text, order_by)
        offset, size = listing.page_window(
            query.get("pageSize", query.get("page_size", "")),
            query.get("pageToken", query.get("page_token", "")),
            key,
        )
        # One job past the page tells whether another page follows; only these get copied.
        # Filters see the times as reported (the scaled clock keeps their order, so sorting the
        # stored times sorts the reported ones).
        view = self.clock.viewer()
        jobs = self.store.list(
            parent,
            keep=lambda job: all(p(view(job)) for p in predicates),
            pick=lambda kept: listing.sort_jobs(kept, order_by)[offset : offset + size + 1],
        )
        chunk = [listing.masked(view(job), mask) for job in jobs[:size]]
        token = listing.next_page_token(offset, size, len(jobs) > size, key)
        response: dict[str, Any] = {"pipelineJobs": chunk} if chunk else {}
        if token:
            response["nextPageToken"] = token
        return response

    def cancel(self, name: str) -> dict[str, Any]:
        """Cancel a job that has not finished; a finished one is FAILED_PRECONDITION."""
        _apply(self.cancel_faults)
        job = self.get(name)
        if job["state"] in FINAL_STATES:
            state = job["state"].removeprefix("PIPELINE_STATE_")
            raise failed_precondition(f"Cannot cancel PipelineJob {name} in state {state}.")
        if self.executor is None:
            self.store.update(name, mark_cancelled)
            return {}
        self.store.update(name, lambda j: j.update(state="PIPELINE_STATE_CANCELLING"))
        self.executor.cancel(name)
        return {}

    def delete(self, name: str) -> dict[str, Any]:
        """Delete an ended job; answer the operation (done). A job still going is refused."""
        job = self.get(name)
        _require_ended(job, "deleted")
        self.store.delete(name)
        return self.operations.finished(_parent_of(name), DELETE_METADATA)

    def batch_delete(self, parent: str, body: Any) -> dict[str, Any]:
        """Delete ended jobs, all or none (the call is atomic); the response lists them."""
        jobs = [self.get(name) for name in _batch_names(parent, body, "deleted")]
        for job in jobs:
            _require_ended(job, "deleted")
        for job in jobs:
            self.store.delete(job["name"])
        response = {"@type": BATCH_DELETE_RESPONSE, "pipelineJobs": jobs}
        return self.operations.finished(parent, DELETE_METADATA, response)

    def batch_cancel(self, parent: str, body: Any) -> dict[str, Any]:
        """Cancel the jobs still going, skip those already ended; the response lists them all."""
        names = _batch_names(parent, body, "cancelled")
        jobs = [self.get(name) for name in names]  # an unknown name cancels nothing
        for job in jobs:
            if job["state"] not in FINAL_STATES:
                self.cancel(job["name"])
        response = {"@type": BATCH_CANCEL_RESPONSE, "pipelineJobs": [self.get(n) for n in names]}
        return self.operations.finished(parent, BATCH_CANCEL_METADATA, response)

    def set_state(self, name: str, state: Any, message: Any = "", tasks: Any = None) -> Job:
        """Emulator control: end a job that is not running here (`--no-execute`) in `state`.

        `tasks` (optional) lists the tasks that ran, with their outputs, as the run's task details.
        """
        if state not in FINAL_STATES:
            raise invalid_argument(f"state must be one of {', '.join(sorted(FINAL_STATES))}")
        _check_tasks(tasks)
        job = self.get(name)
        if job["state"] in FINAL_STATES:
            raise failed_precondition(f"PipelineJob {name} has ended already ({job['state']}).")
        if self.executor is not None:
            raise failed_precondition("The emulator executes runs; their states are the runs'.")
        ended = self.store.update(
            name, lambda j: mark_ended(j, state, str(message or ""), tasks)
        )
        return self.clock.viewer()(ended)

    def clear_faults(self) -> None:
        """Drop every injected fault, for creates, cancels, lists and tasks."""
        self.faults.clear()
        self.cancel_faults.clear()
        self.list_faults.clear()
        self.task_faults.clear()

    def reset(self) -> None:
        """Forget all jobs, requests, faults and quota usage (a quota setting stays)."""
        self.clear_faults()
        self.quota.clear_usage()
        self.store.reset()


def _check_tasks(tasks: Any) -> None:
    """Refuse task records that are not `[{"taskName": str, "outputs": {...}}, ...]`."""
    if tasks is None:
        return
    shape = 'tasks must be a list of {"taskName": str, "outputs": {"parameters", "artifacts"}}'
    if not isinstance(tasks, list):
        raise invalid_argument(shape)
    for task in tasks:
        if not isinstance(task, dict) or not isinstance(task.get("taskName"), str):
            raise invalid_argument(shape)
        outputs = task.get("outputs", {})
        if not isinstance(outputs, dict) or not all(
            isinstance(outputs.get(key, {}), dict) for key in ("parameters", "artifacts")
        ):
            raise invalid_argument(shape)


def _parent_of(name: str) -> str:
    """Return projects/P/locations/L of a job's resource name."""
    return name.split("/pipelineJobs/", 1)[0]


def _require_ended(job: Job, what: str) -> None:
    if job["state"] not in FINAL_STATES:
        raise failed_precondition(
            f"The PipelineJob \"{job['name']}\" is in state {job['state']} and cannot be {what}:"
            " cancel it first."
        )


def _batch_names(parent: str, body: Any, what: str) -> list[str]:
    """Read a batch request's `names`: 1 to 32 jobs of this parent."""
    names = body.get("names") if isinstance(body, dict) else None
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise invalid_argument("names: at least one PipelineJob name is required.")
    if len(names) > MAX_BATCH:
        raise invalid_argument(
            f"names: at most {MAX_BATCH} PipelineJobs can be {what} in a batch, got {len(names)}."
        )
    for name in names:
        if _parent_of(name) != parent or "/pipelineJobs/" not in name:
            raise invalid_argument(f"names: {name!r} is not a PipelineJob of {parent}.")
    return list(dict.fromkeys(names))


def _apply(faults: FaultInjector) -> None:
    """Answer the next queued status fault, or sleep through a hang fault first."""
    fault = faults.take()
    if fault is not None and fault.kind is FaultKind.STATUS:
        raise fault_error(fault)
    if fault is not None:
        time.sleep(fault.seconds)
