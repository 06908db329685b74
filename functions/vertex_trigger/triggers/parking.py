"""Deferred events wait in Cloud Storage, not in redelivery: parked at the cap, re-driven by sweep.

Every 429 is a delivery attempt, so an event held by ``max_running`` behind a long run outlives
the subscription's dead-letter policy (15 attempts: about 1.5 hours) or Eventarc Advanced's five
retries, and its run never starts. With ``parking: gs://BUCKET/PREFIX`` a deferred event is written
to ``PREFIX/ROUTE/JOB.json`` and acknowledged; each sweep hands the parked events, oldest first, to
their handler again and deletes each one once it is decided
(docs/design.md#deferred-events-are-parked).
The job id is the event's as always: parking twice writes one object, and a re-drive after the
run exists is a 409, a duplicate.
"""

import base64
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from vertex_trigger.decisions import Decision, Outcome, Trace
from vertex_trigger.errors import (
    DeferredEvent,
    DeploymentError,
    RejectedEvent,
    SkippedEvent,
    TransientError,
)
from vertex_trigger.google.api_calls import spending
from vertex_trigger.google.retries import Budget
from vertex_trigger.google.storage import ObjectInfo
from vertex_trigger.launch.services import Services
from vertex_trigger.triggers.failures import failure_outcome

PARKED_LIMIT = 10_000  # parked events one sweep lists
RECORD_LIMIT = 16 * 1024 * 1024  # a Pub/Sub message is at most 10 MB; its record a little more
STAYS = "it stays parked for the next sweep"
FINALIZED = "google.cloud.storage.object.v1.finalized"
PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
Log = Callable[[Outcome], None]


@dataclass(frozen=True)
class ParkedEvent:
    """A parked CloudEvent read back: what the handlers read of a ``cloudevents`` CloudEvent."""

    attributes: Mapping[str, str]
    data: Any

    def get_attributes(self) -> Mapping[str, str]:
        """Return the CloudEvent's attributes."""
        return self.attributes

    def get_data(self) -> Any:
        """Return the CloudEvent's data (a JSON value, or bytes)."""
        return self.data


def parking_place(uri: str) -> tuple[str, str]:
    """Split ``gs://BUCKET/PREFIX`` into the bucket and the prefix (with its trailing ``/``)."""
    bucket, _, prefix = uri.removeprefix("gs://").partition("/")
    return bucket, prefix.rstrip("/") + "/"


def park(services: Services, cloud_event: Any, trace: Trace, deferral: DeferredEvent) -> Outcome:
    """Write the deferred event under its route and job id; its outcome is `deferred`, acked."""
    assert services.config.parking is not None  # serve parks only when parking is configured
    bucket, prefix = parking_place(services.config.parking)
    name = f"{prefix}{trace.route}/{trace.job}.json"
    # Not application/json: gcp-storage-emulator parses such a media upload's body; only the
    # sweeper reads the record back, and it knows what it is.
    created = services.storage.create(
        bucket, name, _sealed_record(services, cloud_event), "application/octet-stream"
    )
    how = "parked as" if created else "already parked as"  # an earlier delivery, or the window's
    return trace.outcome(
        Decision.DEFERRED,
        f"{deferral}; {how} gs://{bucket}/{name}: the sweeper launches it once a run finishes",
    )


def redrive_parked(services: Services, log: Log) -> Counter[str]:
    """Hand every parked event, oldest first, to its handler; delete the ones it decided."""
    assert services.config.parking is not None
    bucket, prefix = parking_place(services.config.parking)
    listed = services.storage.list(bucket, prefix, max_objects=PARKED_LIMIT)
    counts: Counter[str] = Counter()
    waiting: set[str] = set()  # routes whose cap is still reached: their other events wait too
    for parked in sorted(listed, key=lambda o: (o.time_created, o.name)):
        route = parked.name.removeprefix(prefix).split("/", 1)[0]
        if route in waiting:
            counts["still_parked"] += 1
            continue
        outcome = _redrive(services, bucket, parked, Trace(route=route))
        counts[outcome.decision.value] += 1
        log(outcome)
        if outcome.decision in (Decision.DEFERRED, Decision.FAILED):
            waiting.add(route)
            counts["still_parked"] += 1
    return counts


def _redrive(services: Services, bucket: str, parked: ObjectInfo, trace: Trace) -> Outcome:
    """Decide one parked event on its own budget; delete it unless it must wait again."""
    uri = f"gs://{bucket}/{parked.name}"
    trace.source = uri
    try:
        with spending(Budget(services.config.retry)):
            try:
                event = _read(services, bucket, parked)
                trace.event_id = str(event.attributes.get("id") or "")
                outcome = _handler(event)(event, services, trace)
            except (SkippedEvent, RejectedEvent) as exc:
                outcome = failure_outcome(exc, trace, again="", prefix=f"parked {uri}: ")
            services.storage.delete(bucket, parked.name, parked.generation)
    except (DeferredEvent, TransientError, DeploymentError) as exc:
        return failure_outcome(exc, trace, STAYS)
    if outcome.decision is Decision.LAUNCHED and not outcome.reason:
        return trace.outcome(
            Decision.LAUNCHED, f"parked since {_created(parked)}: launched by the sweeper"
        )
    return outcome


def _handler(event: ParkedEvent) -> Callable[[Any, Services, Trace], Outcome]:
    """Return the handler of the function that parked the event (by its CloudEvent type)."""
    kind = event.attributes.get("type")
    if kind == FINALIZED:
        from vertex_trigger.triggers.objects import handle_object_event

        return handle_object_event
    if kind == PUBLISHED:
        from vertex_trigger.triggers.drift import handle_drift_event

        return handle_drift_event
    raise RejectedEvent(f"a parked event of type {kind!r}, which no launching function serves")


def _sealed_record(services: Services, cloud_event: Any) -> bytes:
    """Return the event's attributes and data as JSON, sealed with the run key."""
    data = cloud_event.get_data()
    record: dict[str, Any] = {
        "attributes": {str(k): str(v) for k, v in cloud_event.get_attributes().items()},
    }
    if isinstance(data, bytes | bytearray):
        record["data_base64"] = base64.b64encode(data).decode("ascii")
    else:
        record["data"] = data
    content = json.dumps(record, sort_keys=True, ensure_ascii=True)  # lone surrogates escaped
    seal = services.run_key.seal(content.encode("ascii"))
    return json.dumps({"event": content, "seal": seal}).encode("ascii")


def _read(services: Services, bucket: str, parked: ObjectInfo) -> ParkedEvent:
    """Read a parked record back; one this deployment did not seal is rejected (and deleted)."""
    raw = services.storage.read(bucket, parked.name, parked.generation, RECORD_LIMIT)
    try:
        sealed = json.loads(raw)
        content, seal = str(sealed["event"]), str(sealed["seal"])
    except (ValueError, KeyError, TypeError):
        raise RejectedEvent("not a parked event record") from None
    if not services.run_key.sealed(content.encode("utf-8"), seal):
        raise RejectedEvent("its seal does not verify: not parked by this deployment")
    record = json.loads(content)
    data = (
        base64.b64decode(record["data_base64"]) if "data_base64" in record else record.get("data")
    )
    return ParkedEvent(record.get("attributes") or {}, data)


def _created(parked: ObjectInfo) -> str:
    return f"{parked.time_created:%Y-%m-%dT%H:%M:%SZ}"
