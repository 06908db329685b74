"""Route key ``max_duration``: the sweeper's watchdog cancels a run of the route live longer.

Live means not finished and not being cancelled, from the run's ``createTime``: a run holds its
``max_running`` slot from its creation, so a run stuck QUEUED or PENDING counts as much as a hung
RUNNING one. Each cancel is one log line (``cancelled``, WARNING) naming the run and how long it
was live; the run's outcome (``on_run_state``) says the watchdog cancelled it and after how long
(``reporting/cancel_notes.py``). Once Vertex has cancelled it, its slot is free.
"""

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from vertex_trigger.config.durations import short_duration
from vertex_trigger.config.model import Route
from vertex_trigger.decisions import Decision, Outcome, Trace
from vertex_trigger.errors import DeploymentError, TransientError
from vertex_trigger.google.api_calls import spending
from vertex_trigger.google.pipeline_states import LIVE_FILTER
from vertex_trigger.google.resource_names import job_id_of
from vertex_trigger.google.retries import Budget
from vertex_trigger.google.times import filter_time, parse_rfc3339
from vertex_trigger.launch.route_runs import route_runs
from vertex_trigger.launch.services import Services
from vertex_trigger.triggers.failures import NEXT_SWEEP, Log, failure_outcome


def watch(
    services: Services, route: Route, sweep_id: str, started: datetime, log: Log
) -> Counter[str]:
    """Cancel every run of the route live longer than its ``max_duration``; log each."""
    limit = route.max_duration
    assert limit is not None  # only routes with a watchdog come here
    cutoff = filter_time(started - timedelta(seconds=limit))
    condition = f'{LIVE_FILTER} AND create_time<"{cutoff}"'
    counts: Counter[str] = Counter()
    # Only runs the service made: the watchdog cancels nobody else's run (launch/route_runs.py).
    listed = route_runs(services, route, condition, order_by="create_time")
    for run in sorted(listed, key=lambda run: str(run.get("createTime", ""))):
        trace = Trace(sweep_id, str(run.get("displayName") or ""), route.name, job_id_of(run))
        outcome = _cancel(services, run, limit, started, trace)
        counts[outcome.decision.value] += 1
        log(outcome)
        if outcome.decision is Decision.FAILED:
            break  # the next cancels would fare no better
    return counts


def _cancel(
    services: Services, run: dict[str, Any], limit: float, now: datetime, trace: Trace
) -> Outcome:
    """Cancel one run on its own budget; say how long it was live."""
    created = parse_rfc3339(str(run.get("createTime", ""))) or now
    why = (
        f"watchdog: live for {short_duration((now - created).total_seconds())}, longer than "
        f"max_duration {short_duration(limit)}"
    )
    try:
        with spending(Budget(services.config.retry)):
            result = services.jobs.cancel(trace.job)
    except (TransientError, DeploymentError) as exc:
        return failure_outcome(exc, trace, NEXT_SWEEP, f"{why}; could not cancel: ")
    if result.accepted:
        return trace.outcome(Decision.CANCELLED, f"{why}: cancelled")
    return trace.outcome(Decision.SKIPPED, f"{why}; could not cancel: {result.refusal}")
