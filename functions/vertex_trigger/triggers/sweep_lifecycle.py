"""The sweeper's work on a route besides missed objects: its pause, watchdog and retries.

Every route (of any kind) comes here once per sweep. A paused route is left alone, one line says
so; otherwise ``max_duration`` cancels runs live too long (``watchdog.py``) and ``retry_failed``
launches the retries that on_run_state left to the sweeper (``retries_of_failed.py``). A route
resumed with ``--skip-missed`` keeps the window of objects nobody launches.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from vertex_trigger.config.model import Route
from vertex_trigger.decisions import Decision, Trace
from vertex_trigger.errors import DeploymentError, RejectedEvent, TransientError
from vertex_trigger.launch.pauses import PauseRecord
from vertex_trigger.launch.services import Services
from vertex_trigger.triggers.failures import NEXT_SWEEP, Log, failure_outcome
from vertex_trigger.triggers.retries_of_failed import sweep_retries
from vertex_trigger.triggers.watchdog import watch

LEFT_ALONE = "the sweeper leaves it alone until it is resumed"


@dataclass
class RouteSweep:
    """What the lifecycle part of a sweep did, and whether the route's objects are swept next."""

    counts: Counter[str] = field(default_factory=Counter)
    go_on: bool = True  # False: paused, or its pause unreadable
    record: PauseRecord | None = None  # the route's pause record, for its skip windows

    def missed_on_purpose(self, moment: datetime) -> bool:
        """Tell whether an object created at ``moment`` was skipped by a --skip-missed resume."""
        return self.record is not None and self.record.skips(moment)


def sweep_lifecycle(
    services: Services, route: Route, sweep_id: str, started: datetime, log: Log
) -> RouteSweep:
    """Check the route's pause, then run its watchdog and its retries."""
    done = RouteSweep()
    try:
        done.record = services.pauses.record(route.name) if services.pauses else None
    except (TransientError, DeploymentError, RejectedEvent) as exc:
        trace = Trace(sweep_id, route=route.name)
        outcome = failure_outcome(exc, trace, NEXT_SWEEP, "cannot read the route's pause: ")
        log(outcome)
        done.counts[outcome.decision.value] += 1
        done.go_on = False
        return done
    if done.record is not None and done.record.paused:
        log(Trace(sweep_id, route=route.name).outcome(
            Decision.SKIPPED, f"{done.record.describe()}; {LEFT_ALONE}"))  # fmt: skip
        done.counts[Decision.SKIPPED.value] += 1
        done.go_on = False
        return done
    # A failure of either is one failed line (the failed-events alert counts it); the route's
    # objects are still swept, and the next sweep tries again.
    trace = Trace(sweep_id, route=route.name)
    arguments = (services, route, sweep_id, started, log)
    if route.max_duration is not None:
        done.counts.update(_guarded(partial(watch, *arguments), "cannot run the watchdog: ",
                                    trace, log))  # fmt: skip
    if route.retry_failed is not None:
        done.counts.update(_guarded(partial(sweep_retries, *arguments),
                                    "cannot sweep the retries: ", trace, log))  # fmt: skip
    return done


def _guarded(
    part: Callable[[], Counter[str]], problem: str, trace: Trace, log: Log
) -> Counter[str]:
    """Run one part of the route's lifecycle; what a retry may fix is one logged line."""
    try:
        return part()
    except (TransientError, DeploymentError, RejectedEvent) as exc:
        outcome = failure_outcome(exc, trace, NEXT_SWEEP, problem)
        log(outcome)
        return Counter({outcome.decision.value: 1})
