"""Deferred events wait in Cloud Storage, not in redelivery: parked at the cap, re-driven by sweep.

Every 429 is a delivery attempt, so an event held by ``max_running`` behind a long run outlives
the subscription's dead-letter policy (15 attempts: about 1.5 hours) or Eventarc Advanced's five
retries, and its run never starts. With ``parking: gs://BUCKET/PREFIX`` a deferred event is written
to ``PREFIX/ROUTE/JOB.json`` and acknowledged; each sweep, after a route's lifecycle (a paused
route's events stay parked), hands the route's parked events, oldest first, to their handler
again within the sweep's ``sweep_deadline`` and deletes each one once it is decided
(docs/design.md#deferred-events-are-parked).
The job id is the event's as always: parking twice writes one object, and a re-drive after the
run exists is a 409, a duplicate.
"""

import base64
import itertools
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from vertex_trigger.config.loader import parking_place
from vertex_trigger.config.model import Route
from vertex_trigger.decisions import Decision, Outcome, Trace
from vertex_trigger.errors import (
    DeferredEvent,
    DeploymentError,
    RejectedEvent,
    SkippedEvent,
    TransientError,
)
from vertex_trigger.events.pubsub import MESSAGE_PUBLISHED
from vertex_trigger.events.storage import FINALIZED
from vertex_trigger.google.api_calls import spending
from vertex_trigger.google.retries import Budget, RetryPolicy
from vertex_trigger.google.storage import ObjectInfo
from vertex_trigger.launch.services import Services
from vertex_trigger.triggers.failures import Log, failure_outcome

PARKED_LIMIT = 10_000  # parked events one sweep lists
RECORD_LIMIT = 16 * 1024 * 1024  # a Pub/Sub message is at most 10 MB; its record a little more
STAYS = "it stays parked for the next sweep"
STILL_PARKED = "still_parked"  # counted in the sweep summary's parked, not as a decision
# The modules whose handlers' deferred events are parked, and re-driven by CloudEvent type.
_REDRIVEN = frozenset({"vertex_trigger.triggers.objects", "vertex_trigger.triggers.drift"})


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


def parks(handler: Callable[..., Outcome]) -> bool:
    """Tell whether a deferral of ``handler``'s event is parked (an event the sweeper re-drives).

    on_run_state's deferrals are not: a run's end is redelivered (429) and what it left undone
    the sweeper recovers on its own (lost links, retries of failed runs).
    """
    return getattr(handler, "__module__", "") in _REDRIVEN


def redrive_parked(services: Services, route: Route, log: Log, budget: Budget) -> Counter[str]:
    """Hand the route's parked events, oldest first, to their handler; delete the decided ones.

    ``budget`` is the sweep's (``sweep_deadline``): the listing and every re-drive draw on it,
    and the events left when it runs out stay parked for the next sweep.
    """
    assert services.config.parking is not None
    bucket, prefix = parking_place(services.config.parking)
    counts: Counter[str] = Counter()
    listed: list[ObjectInfo] = []
    with spending(Budget(_policy(services, budget))):
        for name in route.names:  # events parked before a rename are the route's own
            listing = services.storage.list(bucket, f"{prefix}{name}/")
            listed += itertools.islice(listing, PARKED_LIMIT - len(listed))
    waiting = sorted(listed, key=lambda o: (o.time_created, o.name))
    for done, parked in enumerate(waiting):
        if not budget.can_wait(0.0):  # too little left of the sweep for one more launch
            counts[STILL_PARKED] += len(waiting) - done
            break
        outcome = _redrive(services, bucket, parked, Trace(route=route.name), budget)
        counts[outcome.decision.value] += 1
        log(outcome)
        if outcome.decision in (Decision.DEFERRED, Decision.FAILED):
            # The route's cap is still reached (or Vertex fails): its later events wait too.
            counts[STILL_PARKED] += len(waiting) - done
            break
    return counts


def _policy(services: Services, budget: Budget) -> RetryPolicy:
    """Return one call's (or re-drive's) retry policy, its time cut to what is left of the sweep."""
    return services.config.retry.within(budget.remaining())


def _redrive(
    services: Services, bucket: str, parked: ObjectInfo, trace: Trace, budget: Budget
) -> Outcome:
    """Decide one parked event on its own budget; delete it unless it must wait again."""
    uri = f"gs://{bucket}/{parked.name}"
    trace.source = uri
    try:
        with spending(Budget(_policy(services, budget))):
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
    if kind == MESSAGE_PUBLISHED:
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
