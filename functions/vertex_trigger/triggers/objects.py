"""``on_object_finalized``: a new object in a watched bucket launches its route's pipeline."""

from typing import Any

from vertex_trigger.config.model import Route
from vertex_trigger.decisions import Outcome, Trace
from vertex_trigger.events.cloud_events import envelope_of
from vertex_trigger.events.storage import FINALIZED, ObjectEvent, parse_object_event
from vertex_trigger.launch.identity import former_job_ids, job_id, run_labels, short_hash
from vertex_trigger.launch.launcher import launch
from vertex_trigger.launch.services import Services
from vertex_trigger.triggers.routing import launchable, route_object


def handle_object_event(cloud_event: Any, services: Services, trace: Trace) -> Outcome:
    """Parse, route, guard and launch one storage event (or evaluate its batch)."""
    event = parse_object_event(envelope_of(cloud_event, FINALIZED))
    trace.source = f"{event.uri}#{event.generation}"
    route = launchable(services, route_object(services.config, event), trace)
    if route.batch is not None:
        # Imported here: an instance whose routes have no batch never loads the batch rules.
        from vertex_trigger.triggers.batches import handle_batch_object

        return handle_batch_object(services, route, event, trace)
    return launch_object(services, route, event, trace)


def launch_object(services: Services, route: Route, event: ObjectEvent, trace: Trace) -> Outcome:
    """Launch one object's run under its deterministic job id (the event path and the sweeper)."""
    trace.job, *former = object_job_ids(route, event)
    labels = run_labels(route, "object", short_hash(event.bucket, event.name), trace.event_id)
    return launch(services, route, event.placeholder_values(), labels, trace, former_ids=former)


def object_job_ids(route: Route, event: ObjectEvent) -> list[str]:
    """Return the object's job id under the route's name, then under its former names."""
    identity = (event.bucket, event.name, str(event.generation))
    return [job_id(route.name, *identity), *former_job_ids(route, *identity)]
