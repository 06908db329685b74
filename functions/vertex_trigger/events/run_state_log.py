"""Cloud Logging entries about a PipelineJob, as a log sink publishes them: only the job's name.

The entry is a nudge, not the record: the run's state, labels, times and error are read from
Vertex afterwards. Read here, in order: ``resource.labels.pipeline_job_id`` with ``location`` and
``resource_container`` (or ``project_id``) of the ``aiplatform.googleapis.com/PipelineJob``
monitored resource; else the first ``projects/P/locations/L/pipelineJobs/ID`` in
``protoPayload.resourceName`` (audit logs) or in a top-level string of ``jsonPayload``.
"""

import re
from dataclasses import dataclass
from typing import Any

from vertex_trigger.errors import RejectedEvent, excerpt
from vertex_trigger.events.cloud_events import json_object
from vertex_trigger.google.resource_names import JOB_ID, JOB_NAME

RESOURCE_TYPE = "aiplatform.googleapis.com/PipelineJob"
LOCATION = re.compile(r"^([a-z][a-z0-9-]{0,62})?$")  # empty: not given


@dataclass(frozen=True)
class JobRef:
    """The run an entry is about (``project`` may be a number; either may be empty: not given)."""

    project: str
    location: str
    job_id: str


def job_ref_of(data: bytes) -> JobRef:
    """Return the run a log entry names; raise RejectedEvent when it names none."""
    entry = json_object(data, "run state log entry")
    ref = _from_resource(entry.get("resource")) or _from_payload(entry)
    if ref is None:
        raise RejectedEvent(
            "log entry names no pipeline job: expected resource.labels.pipeline_job_id or a "
            "payload field projects/P/locations/L/pipelineJobs/ID"
        )
    if not JOB_ID.match(ref.job_id):
        raise RejectedEvent(f"log entry's pipeline job id is not a job id: {excerpt(ref.job_id)}")
    if not LOCATION.match(ref.location):
        raise RejectedEvent(f"log entry's location is not a location: {excerpt(ref.location)}")
    return ref


def _from_resource(resource: Any) -> JobRef | None:
    labels = resource.get("labels") if isinstance(resource, dict) else None
    if not isinstance(labels, dict) or labels.get("pipeline_job_id") is None:
        return None
    project = labels.get("resource_container") or labels.get("project_id") or ""
    return JobRef(str(project), str(labels.get("location", "")), str(labels["pipeline_job_id"]))


def _from_payload(entry: dict[str, Any]) -> JobRef | None:
    proto, payload = entry.get("protoPayload"), entry.get("jsonPayload")
    candidates = [proto.get("resourceName")] if isinstance(proto, dict) else []
    if isinstance(payload, dict):
        candidates += list(payload.values())
    for value in candidates:
        match = JOB_NAME.match(value) if isinstance(value, str) else None
        if match:
            return JobRef(*match.groups())
    return None
