"""The event ``explain`` hands to a handler, built from a file as Eventarc would deliver it.

A file may hold a structured-mode CloudEvent, a bare StorageObjectData, a MessagePublishedData
or a bare PubsubMessage, or anything else (an alert body, a log entry), which is taken as the
data of a Pub/Sub message. What Eventarc would add and the file cannot say (an event id, a
publish time) is filled in: the id ``explain``, the time now (an object's: its update time).
"""

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudevents.http import CloudEvent
from vertex_trigger.public import JOB_ID, JOB_NAME, RESOURCE_TYPE, Storage

from triggers_cli.eventarc import (
    FINALIZED,
    MESSAGE_PUBLISHED,
    message_published_event,
    object_finalized_event,
    rfc3339_millis,
)
from triggers_cli.functions import Function

EXPLAIN_ID = "explain"
# The topic is not in a message; the handlers never read the event's source.
UNKNOWN_TOPIC = "projects/-/topics/-"
_RUN_STATE_LOG = "pipeline_job_events"  # logs/aiplatform.googleapis.com%2Fpipeline_job_events


class NoSuchObjectError(LookupError):
    """The gs:// URI names no live object."""


@dataclass(frozen=True)
class Explainable:
    """An event, the function that would get it, and what the file held."""

    event: CloudEvent
    function: Function
    form: str


def event_from_bytes(content: bytes, now: datetime, forced: Function | None = None) -> Explainable:
    """Return the CloudEvent a file's content stands for and the function that would get it."""
    try:
        document = json.loads(content)
    except ValueError:
        document = None
    if isinstance(document, dict) and document.get("specversion") and document.get("type"):
        event = CloudEvent({k: v for k, v in document.items() if k != "data"}, document.get("data"))
        return Explainable(event, forced or _function_for(event), "CloudEvent")
    if isinstance(document, dict) and _is_object_data(document):
        time = str(document.get("updated") or document.get("timeCreated") or rfc3339_millis(now))
        event = object_finalized_event(document, EXPLAIN_ID, time)
        return Explainable(event, forced or Function.OBJECT_FINALIZED, "StorageObjectData")
    return _published(content, document, now, forced)


def event_from_gcs(storage: Storage, uri: str) -> Explainable:
    """Return the finalize event of a live object, its StorageObjectData read from a listing."""
    bucket, _, name = uri.removeprefix("gs://").partition("/")
    if not bucket or not name:
        raise NoSuchObjectError(f"expected gs://BUCKET/OBJECT, got {uri!r}")
    found = storage.stat(bucket, name)
    if found is None:
        raise NoSuchObjectError(f"{uri}: no such object")
    created = rfc3339_millis(found.time_created)
    data = {
        "kind": "storage#object",
        "bucket": bucket,
        "name": name,
        "generation": str(found.generation),
        "size": str(found.size),
        "contentType": found.content_type,
        "timeCreated": created,
        "updated": created,
    }
    event = object_finalized_event(data, EXPLAIN_ID, created)
    return Explainable(event, Function.OBJECT_FINALIZED, "the object's metadata")


def job_named(text: str) -> tuple[str, str, str] | None:
    """Return (project, location, job id) a run's name or bare job id names, or None.

    A bare job id leaves project and location empty: the configuration's are meant.
    """
    match = JOB_NAME.match(text)
    if match:
        project, location, job = match.groups()
        return project, location, job
    return ("", "", text) if JOB_ID.match(text) else None


def event_from_job(job: tuple[str, str, str], now: datetime) -> Explainable:
    """Return the event on_run_state gets when a run's state changes: its log entry, published."""
    project, location, job_id = job
    labels = {"pipeline_job_id": job_id}
    labels.update({k: v for k, v in (("location", location), ("resource_container", project)) if v})
    entry = {
        "logName": f"projects/{project or '-'}/logs/aiplatform.googleapis.com%2F{_RUN_STATE_LOG}",
        "resource": {"type": RESOURCE_TYPE, "labels": labels},
    }
    explained = _published(json.dumps(entry).encode(), entry, now, Function.RUN_STATE)
    return Explainable(explained.event, Function.RUN_STATE, "the run's state change log entry")


def _published(
    content: bytes, document: Any, now: datetime, forced: Function | None
) -> Explainable:
    """Wrap a MessagePublishedData, a PubsubMessage, or any other content as a message."""
    if isinstance(document, dict) and _is_drift_report(document):
        # `pipelines.drift check`'s report: the alert it publishes is in it.
        content = json.dumps(document["alert"]).encode()
        data = base64.b64encode(content).decode("ascii")
        push, form = {"message": {"data": data}}, "the drift check's report (its alert)"
    elif isinstance(document, dict) and isinstance(document.get("message"), dict):
        push, form = dict(document), "MessagePublishedData"
    elif isinstance(document, dict) and _is_message(document):
        push, form = {"message": document}, "PubsubMessage"
    else:
        data = base64.b64encode(content).decode("ascii")
        push, form = {"message": {"data": data}}, "message data"
    message = dict(push["message"])
    if not (message.get("messageId") or message.get("message_id")):
        message["messageId"] = EXPLAIN_ID
    if not (message.get("publishTime") or message.get("publish_time")):
        message["publishTime"] = rfc3339_millis(now)
    event = message_published_event({**push, "message": message}, UNKNOWN_TOPIC)
    return Explainable(event, forced or _function_for(event), form)


def _is_drift_report(document: Mapping[str, Any]) -> bool:
    return "drifted" in document and isinstance(document.get("alert"), dict)


def _is_object_data(document: Mapping[str, Any]) -> bool:
    return document.get("kind") == "storage#object" or {"bucket", "name"} <= document.keys()


def _is_message(document: Mapping[str, Any]) -> bool:
    """Tell a PubsubMessage: base64 ``data`` with its id, time or attributes, or data alone."""
    keys = {"messageId", "message_id", "publishTime", "publish_time", "attributes"}
    data = document.get("data")
    if not isinstance(data, str):
        return False
    return bool(keys & document.keys()) or (document.keys() == {"data"} and _is_base64_json(data))


def _is_base64_json(data: str) -> bool:
    try:
        json.loads(base64.b64decode(data, validate=True))
    except ValueError:
        return False
    return True


def _function_for(event: CloudEvent) -> Function:
    """Return the function whose trigger delivers this event (a run's log entry: on_run_state)."""
    if event["type"] != MESSAGE_PUBLISHED:
        return Function.OBJECT_FINALIZED if event["type"] == FINALIZED else Function.DRIFT_ALERT
    message = (event.get_data() or {}).get("message") or {}
    try:
        entry = json.loads(base64.b64decode(message.get("data") or ""))
    except ValueError:
        return Function.DRIFT_ALERT
    if isinstance(entry, dict) and _is_run_state_entry(entry):
        return Function.RUN_STATE
    return Function.DRIFT_ALERT


def _is_run_state_entry(entry: Mapping[str, Any]) -> bool:
    resource = entry.get("resource")
    kind = resource.get("type") if isinstance(resource, dict) else None
    return kind == RESOURCE_TYPE or str(entry.get("logName", "")).endswith(_RUN_STATE_LOG)
