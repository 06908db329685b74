"""``on_object_finalized``: a new object in a watched bucket launches its route's pipeline."""

from typing import Any

from vertex_trigger.batch_trigger import handle_batch_object
from vertex_trigger.cloud_events import envelope_of
from vertex_trigger.config import Route
from vertex_trigger.labels import job_id, short_hash
from vertex_trigger.launch import launch, run_labels
from vertex_trigger.outcomes import Decision, Outcome, Trace
from vertex_trigger.routing import Skip, route_object
from vertex_trigger.services import Services
from vertex_trigger.storage_events import FINALIZED, ObjectEvent, parse_object_event


def handle_object_event(cloud_event: Any, services: Services, trace: Trace) -> Outcome:
    """Parse, route, guard and launch one storage event (or evaluate its batch)."""
    envelope = envelope_of(cloud_event)
    if envelope.event_type != FINALIZED:
        return trace.outcome(
            Decision.SKIPPED, f"event type {envelope.event_type!r} is not {FINALIZED}"
        )
    event = parse_object_event(envelope)
    trace.source = f"{event.uri}#{event.generation}"
    target = route_object(services.config, event)
    if isinstance(target, Skip):
        trace.route = target.route
        return trace.outcome(Decision.SKIPPED, target.reason)
    trace.route = target.name
    if target.batch is not None:
        return handle_batch_object(services, target, event, trace)
    return launch_object(services, target, event, trace)


def launch_object(services: Services, route: Route, event: ObjectEvent, trace: Trace) -> Outcome:
    """Launch one object's run under its deterministic job id (the event path and the sweeper)."""
    trace.job = job_id(route.name, event.bucket, event.name, str(event.generation))
    labels = run_labels(route, "object", short_hash(event.bucket, event.name), trace.event_id)
    return launch(services, route, event.placeholder_values(), labels, trace)
