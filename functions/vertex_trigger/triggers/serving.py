"""Serve one event: its handler on one time budget, its one log line, and the retry policy.

Only what a retry can fix is raised to the platform (which then redelivers): a deferral (429,
unless ``parking`` keeps an object or drift event for the sweeper), a transient failure, a
deployment problem, a defect. A skip or a rejection is acknowledged, and so is a parked deferral.
"""

from collections.abc import Callable
from typing import Any

from vertex_trigger.decisions import Decision, Outcome, Trace, write_log
from vertex_trigger.errors import DeferredEvent, DeploymentError
from vertex_trigger.events.cloud_events import event_id_of
from vertex_trigger.google.api_calls import spending
from vertex_trigger.google.retries import Budget
from vertex_trigger.launch.services import Services
from vertex_trigger.triggers.failures import ACKNOWLEDGED, failure_outcome

Handler = Callable[[Any, Services, Trace], Outcome]
# What each raised failure tells the reader will happen to the event.
_REDELIVERED = "raising so the event is redelivered"
_LATER = "answering 429 so it is redelivered later"
_WAITS = "raising so the event is redelivered, then dead-lettered, until the deployment is fixed"
NOT_A_CLOUD_EVENT = "not a CloudEvent: functions-framework answered 400 before the function ran"
NOT_PARSED = (
    "not a CloudEvent: functions-framework could not parse the request body (not UTF-8, JSON "
    "nested too deeply or a number too long to read)"
)
LOGGED = "vertex-triggers: the decision line of this event is written"  # a note on what we raise


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
                from vertex_trigger.triggers.parking import park, parks  # only where configured

                if not parks(handler):
                    raise
                # Each 429 spends a delivery attempt: a long run would outlast them all.
                outcome = park(services, cloud_event, trace, deferral)
    except ACKNOWLEDGED as exc:
        outcome = failure_outcome(exc, trace, again="")
    except Exception as exc:  # what a retry may fix, and defects: one line, then redelivery
        log(failure_outcome(exc, trace, again=_again(exc)))
        exc.add_note(LOGGED)
        raise
    log(outcome)
    return outcome


def _again(exc: Exception) -> str:
    if isinstance(exc, DeferredEvent):
        return _LATER
    return _WAITS if isinstance(exc, DeploymentError) else _REDELIVERED


def refused_request(event_id: str, log: Callable[[Outcome], None] = write_log) -> tuple[str, int]:
    """Give functions-framework's 400 (no CloudEvent in the request) its decision line."""
    log(Trace(event_id=event_id).outcome(Decision.REJECTED, NOT_A_CLOUD_EVENT))
    return NOT_A_CLOUD_EVENT, 400


def unparsed_request(
    event_id: str, error: BaseException | None, log: Callable[[Outcome], None] = write_log
) -> tuple[str, int] | None:
    """Answer 400 with a decision line when functions-framework failed to parse the request.

    It raises for a structured-mode body that is not UTF-8 (UnicodeDecodeError), JSON nested
    deeper than its parser recurses (RecursionError) and a JSON number past Python's 4,300
    digits (the cloudevents package's DataUnmarshallerError), before any handler runs: a 500
    with no line of ours. Return None for anything else, a defect, which keeps its 500.
    """
    if error is None or LOGGED in getattr(error, "__notes__", ()):
        return None  # raised by a handler after its own line: a retry may fix it
    if not isinstance(error, UnicodeDecodeError | RecursionError) and not _cloudevents(error):
        return None
    reason = f"{NOT_PARSED} ({type(error).__name__})"
    log(Trace(event_id=event_id).outcome(Decision.REJECTED, reason))
    return reason, 400


def _cloudevents(error: BaseException) -> bool:
    """Tell whether the cloudevents package (inside functions-framework) raised ``error``."""
    return type(error).__module__.startswith("cloudevents.")
