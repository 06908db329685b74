"""Serve one event: its handler on one time budget, its one log line, and the retry policy.

Only what a retry can fix is raised to the platform (which then redelivers): a deferral (429,
unless ``parking`` keeps it for the sweeper), a transient failure, a deployment problem, a defect.
A skip or a rejection is acknowledged, and so is a parked deferral.
"""

from collections.abc import Callable
from typing import Any

from vertex_trigger.decisions import Outcome, Trace, write_log
from vertex_trigger.errors import DeferredEvent, DeploymentError
from vertex_trigger.events.cloud_events import event_id_of
from vertex_trigger.google.api_calls import spending
from vertex_trigger.google.retries import Budget
from vertex_trigger.launch.services import Services
from vertex_trigger.triggers.failures import ACKNOWLEDGED, failure_outcome
from vertex_trigger.triggers.parking import park

Handler = Callable[[Any, Services, Trace], Outcome]
# What each raised failure tells the reader will happen to the event.
_REDELIVERED = "raising so the event is redelivered"
_LATER = "answering 429 so it is redelivered later"
_WAITS = "raising so the event is redelivered, then dead-lettered, until the deployment is fixed"


def serve(
    handler: Handler,
    cloud_event: Any,
    services: Services,
    log: Callable[[Outcome], None] = write_log,
) -> Outcome:
    """Handle ``cloud_event`` on one budget; acknowledge what a retry cannot fix, raise the rest."""
    trace = Trace(event_id=event_id_of(cloud_event))
    try:
        with spending(Budget(services.config.retry)):
            try:
                outcome = handler(cloud_event, services, trace)
            except DeferredEvent as deferral:
                if services.config.parking is None:
                    raise
                # Each 429 spends a delivery attempt: a long run would outlast them all.
                outcome = park(services, cloud_event, trace, deferral)
    except ACKNOWLEDGED as exc:
        outcome = failure_outcome(exc, trace, again="")
    except Exception as exc:  # what a retry may fix, and defects: one line, then redelivery
        log(failure_outcome(exc, trace, again=_again(exc)))
        raise
    log(outcome)
    return outcome


def _again(exc: Exception) -> str:
    if isinstance(exc, DeferredEvent):
        return _LATER
    return _WAITS if isinstance(exc, DeploymentError) else _REDELIVERED
