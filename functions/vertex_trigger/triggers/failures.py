"""The decision an exception stands for, and whether the platform must see it raised."""

from vertex_trigger.decisions import Decision, Outcome, Trace
from vertex_trigger.errors import (
    DeferredEvent,
    DeploymentError,
    RejectedEvent,
    SkippedEvent,
    TransientError,
)
from vertex_trigger.google.api_calls import current_budget

DEPLOYMENT_PROBLEM = "deployment problem: "  # how a failed reason says the event was fine
ACKNOWLEDGED = (SkippedEvent, RejectedEvent)  # a retry cannot change them: never raised on


def failure_outcome(exc: Exception, trace: Trace, again: str, prefix: str = "") -> Outcome:
    """Return the outcome ``exc`` stands for; ``again`` says what retries a deferral or failure."""
    if isinstance(exc, SkippedEvent):
        return trace.outcome(Decision.SKIPPED, f"{prefix}{exc}")
    if isinstance(exc, RejectedEvent):
        return trace.outcome(Decision.REJECTED, f"{prefix}{exc}")
    if isinstance(exc, DeferredEvent):
        return trace.outcome(Decision.DEFERRED, f"{prefix}{exc}; {again}")
    if isinstance(exc, DeploymentError):
        return trace.outcome(Decision.FAILED, f"{DEPLOYMENT_PROBLEM}{prefix}{exc}; {again}")
    if isinstance(exc, TransientError):
        return trace.outcome(Decision.FAILED, f"{prefix}{exc}; {again}")
    return trace.outcome(Decision.FAILED, f"unexpected {type(exc).__name__}: {exc}")


def out_of_time(exc: TransientError, limit: str) -> TransientError:
    """Add which limit to raise when ``exc`` came from the time budget running out."""
    budget = current_budget()
    if budget is None or budget.can_wait(0.0):  # time was left: a fault, not the limit
        return exc
    return TransientError(f"{exc}; {limit}")
