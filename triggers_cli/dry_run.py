"""Collaborators that create, cancel, publish and post nothing: the handlers run as they are.

``explain`` and ``replay --dry-run`` give these to the functions' own handlers, so the decision
is the handlers' own code's, not a restatement of it. Reads go to Vertex only when asked.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from vertex_trigger.public import (
    CancelResult,
    CreateOutcome,
    CreateResult,
    Decision,
    PipelineJobs,
    Services,
    filter_time,
    job_id_of,
)

NOT_SENT = "(dry run: not published)"
_LABEL_TERM = re.compile(r'labels\.([a-z][a-z0-9_-]*)\s*=\s*"([^"]*)"')


@dataclass
class Recorded:
    """What the handlers asked for: the creates (job id -> body), cancels, messages and posts."""

    creates: dict[str, dict[str, Any]] = field(default_factory=dict)
    cancels: list[str] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, str]] = field(default_factory=list)


class DryRunJobs:
    """PipelineJobs that records creates and cancels; lists and gets read ``jobs`` if given.

    A recorded create answers CREATED (ALREADY_EXISTS when ``jobs`` shows the id), and is listed
    from then on as a pending run created now, so the drift cooldown's settling finds it.
    """

    def __init__(
        self, jobs: PipelineJobs | None, now: Callable[[], datetime], recorded: Recorded
    ) -> None:
        """Read through ``jobs`` (None: ask Vertex nothing); record into ``recorded``."""
        self._jobs = jobs
        self._now = now
        self.recorded = recorded


    def create(self, job_id: str, body: dict[str, Any]) -> CreateResult:
        """Record the request; answer as Vertex would, creating nothing."""
        self.recorded.creates[job_id] = body
        exists = self._jobs is not None and self._jobs.get(job_id) is not None
        return CreateResult(CreateOutcome.ALREADY_EXISTS if exists else CreateOutcome.CREATED)

    def list(
        self, filter_: str, order_by: str = "create_time desc", page_size: int = 100
    ) -> list[dict[str, Any]]:
        """Return Vertex's runs (if asked) plus the recorded creates the filter's labels match."""
        listed = self._jobs.list(filter_, order_by, page_size) if self._jobs else []
        known = {job_id_of(job) for job in listed}
        pretend = [
            self._pretend(job_id, body)
            for job_id, body in self.recorded.creates.items()
            if job_id not in known and _labels_match(filter_, body.get("labels") or {})
        ]
        return [*pretend, *listed] if order_by.endswith("desc") else [*listed, *pretend]

    def cancel(self, job_id: str) -> CancelResult:
        """Record the cancel; answer that Vertex accepted it."""
        self.recorded.cancels.append(job_id)
        return CancelResult(True)

    def get(self, job_id: str) -> dict[str, Any] | None:
        """Return a recorded create as a pending run, else Vertex's run (if asked)."""
        if job_id in self.recorded.creates:
            return self._pretend(job_id, self.recorded.creates[job_id])
        return self._jobs.get(job_id) if self._jobs else None

    def _pretend(self, job_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **body,
            "name": f"pipelineJobs/{job_id}",
            "state": "PIPELINE_STATE_PENDING",
            "createTime": filter_time(self._now()),
        }


def _labels_match(filter_: str, labels: Mapping[str, str]) -> bool:
    """Tell whether every ``labels.K="V"`` term holds (a run created now meets time bounds)."""
    return all(labels.get(key) == value for key, value in _LABEL_TERM.findall(filter_))


class DryRunPublisher:
    """A Pub/Sub publisher that records each message instead of publishing it."""

    def __init__(self, recorded: Recorded) -> None:
        """Record into ``recorded``."""
        self.recorded = recorded


    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> str:
        """Record the message; return a note in place of a message id."""
        self.recorded.messages.append(
            {
                "topic": topic,
                "data": data.decode("utf-8", "replace"),
                "attributes": dict(attributes),
            }
        )
        return NOT_SENT


class DryRunWebhooks:
    """A webhook poster that records each text instead of posting it."""

    def __init__(self, recorded: Recorded) -> None:
        """Record into ``recorded``."""
        self.recorded = recorded


    def post(self, route: str, text: str) -> None:
        """Record the post."""
        self.recorded.posts.append({"route": route, "text": text})


def dry_run_services(services: Services, read_vertex: bool) -> tuple[Services, Recorded]:
    """Return ``services`` with nothing that writes, and the record of what they were asked."""
    recorded = Recorded()
    jobs = DryRunJobs(services.jobs if read_vertex else None, services.now, recorded)
    dry = replace(
        services, jobs=jobs, publisher=DryRunPublisher(recorded), webhooks=DryRunWebhooks(recorded)
    )
    return dry, recorded


# A dry run's outcome says what the function would have done.
_WOULD = {Decision.LAUNCHED: "would_launch", Decision.REPORTED: "would_report"}


def would(decision: Decision) -> str:
    """Return a dry run's name for ``decision`` (launched -> would_launch; others as they are)."""
    return _WOULD.get(decision, decision.value)
