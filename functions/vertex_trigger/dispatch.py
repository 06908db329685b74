"""Run a handler for one event, log its one line, and raise only what a retry can fix."""

from collections.abc import Callable
from typing import Any

from vertex_trigger.cloud_events import event_id_of
from vertex_trigger.errors import DeferredEvent, DeploymentError, RejectedEvent, TransientError
from vertex_trigger.outcomes import Decision, Outcome, Trace, write_log
from vertex_trigger.retrying import Budget
from vertex_trigger.services import Services

Handler = Callable[[Any, Services, Trace], Outcome]
DEPLOYMENT_PROBLEM = "deployment problem: "  # how a failed reason says the event was fine
_WAITS = "raising so the event is redelivered, then dead-lettered, until the deployment is fixed"


def dispatch(
    handler: Handler,
    cloud_event: Any,
    services: Services,
    log: Callable[[Outcome], None] = write_log,
) -> Outcome:
    """Handle ``cloud_event`` on one time budget; acknowledge rejections, re-raise the rest."""
    trace = Trace(event_id=event_id_of(cloud_event))
    try:
        outcome = handler(cloud_event, services.for_event(Budget(services.config.retry)), trace)
    except RejectedEvent as exc:
        outcome = trace.outcome(Decision.REJECTED, str(exc))
    except DeferredEvent as exc:
        log(trace.outcome(Decision.DEFERRED, f"{exc}; answering 429 so it is redelivered later"))
        raise
    except TransientError as exc:
        log(trace.outcome(Decision.FAILED, f"{exc}; raising so the event is redelivered"))
        raise
    except DeploymentError as exc:
        log(trace.outcome(Decision.FAILED, f"{DEPLOYMENT_PROBLEM}{exc}; {_WAITS}"))
        raise
    except Exception as exc:  # a defect: still one line, then redelivery
        log(trace.outcome(Decision.FAILED, f"unexpected {type(exc).__name__}: {exc}"))
        raise
    log(outcome)
    return outcome
