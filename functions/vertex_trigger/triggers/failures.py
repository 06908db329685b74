"""The decision an exception stands for, and whether the platform must see it raised."""

from collections.abc import Callable

from vertex_trigger.decisions import Decision, Outcome, Trace
from vertex_trigger.errors import (
    DeferredEvent,
    DeploymentError,
    RejectedEvent,
    SkippedEvent,
    TransientError,
)

DEPLOYMENT_PROBLEM = "deployment problem: "  # how a failed reason says the event was fine
ACKNOWLEDGED = (SkippedEvent, RejectedEvent)  # a retry cannot change them: never raised on
NEXT_SWEEP = "the next sweep tries again"  # what retries a sweep's failure or deferral
Log = Callable[[Outcome], None]  # where a sweep or a chain writes its decision lines


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
