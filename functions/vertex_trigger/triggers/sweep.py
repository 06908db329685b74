"""``sweep``: launch what object events missed, under the job ids the events would have used.

It also re-drives the events parked at a route's ``max_running`` cap (``triggers/parking.py``).

For each object route with ``sweep_lookback``: list the objects under its prefix created within the
lookback, list the route's runs once (by label), and launch what has no run: due ``quiet`` batches,
complete batches, single objects. The ids are deterministic, so the sweeper and the event path
never both launch one thing; a run older than the lookback answers ``409`` (a duplicate).
"""

import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from vertex_trigger.config.model import EventKind, Route
from vertex_trigger.decisions import Decision, Outcome, Trace, write_log
from vertex_trigger.errors import DeferredEvent, DeploymentError, RejectedEvent, TransientError
from vertex_trigger.events.storage import ObjectEvent
from vertex_trigger.google.api_calls import spending
from vertex_trigger.google.resource_names import job_id_of
from vertex_trigger.google.retries import Budget
from vertex_trigger.google.storage import ObjectInfo
from vertex_trigger.google.times import filter_time
from vertex_trigger.launch.identity import former_job_ids, job_id
from vertex_trigger.launch.route_runs import route_runs as own_route_runs
from vertex_trigger.launch.services import Services
from vertex_trigger.triggers.batch_rules import batch_job_id, batch_job_ids, folder_of
from vertex_trigger.triggers.batches import decide_batch, launch_complete_batch
from vertex_trigger.triggers.failures import failure_outcome
from vertex_trigger.triggers.objects import launch_object
from vertex_trigger.triggers.parking import redrive_parked
from vertex_trigger.triggers.routing import route_object

SWEEP_LIMIT = 100_000  # objects listed per route and sweep (a hundred pages of the JSON API)
RUNS_PAGE = 1000
LAUNCHED_REASON = "no run for it: launched by the sweeper"
AGAIN = "the next sweep tries again"
# Logged one line each; skips and duplicates are only counted (a sweep sees them by thousands).
LOGGED = frozenset({Decision.LAUNCHED, Decision.REJECTED, Decision.DEFERRED, Decision.FAILED})
Log = Callable[[Outcome], None]
Attempt = Callable[[Services, Trace], Outcome]


def write_summary(summary: dict[str, Any], stream: TextIO | None = None) -> None:
    """Write the sweep's counts as one JSON line (ERROR when something failed, else INFO)."""
    counts = ", ".join(f"{d.value} {summary[d.value]}" for d in Decision if summary[d.value])
    entry = {
        "severity": "ERROR" if summary["failed"] else "INFO",
        "message": f"{summary['sweep']}: {counts or 'nothing to do'}",
        "sweep": summary,
    }
    out = stream or sys.stdout
    out.write(json.dumps(entry) + "\n")
    out.flush()


def sweep(
    services: Services,
    log: Log = write_log,
    report: Callable[[dict[str, Any]], None] = write_summary,
) -> dict[str, Any]:
    """Sweep every object route with ``sweep_lookback``; return the count of each decision."""
    started = services.now()
    sweep_id = f"sweep-{started.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    totals: Counter[str] = Counter()
    routes: dict[str, dict[str, int]] = {}
    for route in services.config.routes_for(EventKind.OBJECT_FINALIZED):
        if route.sweep_lookback is not None:
            counts = _sweep_route(services, route, sweep_id, started, log)
            routes[route.name] = dict(counts)
            totals.update(counts)
    parked = _redrive(services, sweep_id, log) if services.config.parking else None
    if parked is not None:
        totals.update({k: v for k, v in parked.items() if k != "still_parked"})
    summary: dict[str, Any] = {"sweep": sweep_id}
    summary.update({d.value: totals[d.value] for d in Decision})
    summary["left_for_next_sweep"] = totals["left_for_next_sweep"]
    summary["routes"] = routes
    if parked is not None:
        summary["parked"] = dict(parked)
    report(summary)
    return summary


def _sweep_route(
    services: Services, route: Route, sweep_id: str, started: datetime, log: Log
) -> Counter[str]:
    """Try every candidate of one route; stop at the first deferral or failure."""
    since = started - timedelta(seconds=route.sweep_lookback or 0)
    counts: Counter[str] = Counter()
    try:
        events = listed_events(services, route, since, None, event_id=sweep_id, started=started)
        runs = route_runs(services, route, since)
    except (RejectedEvent, TransientError, DeploymentError) as exc:
        outcome = failure_outcome(exc, Trace(sweep_id, route=route.name), AGAIN, "cannot sweep: ")
        log(outcome)
        counts[outcome.decision.value] += 1
        return counts
    attempts = list(candidates(services, route, events, runs))
    for done, (source, attempt) in enumerate(attempts, 1):
        outcome = attempt_outcome(
            services, attempt, Trace(sweep_id, source=source, route=route.name)
        )
        counts[outcome.decision.value] += 1
        if outcome.decision in LOGGED:
            log(outcome)
        if outcome.decision in (Decision.DEFERRED, Decision.FAILED):
            counts["left_for_next_sweep"] += len(attempts) - done
            break
    return counts


def _redrive(services: Services, sweep_id: str, log: Log) -> Counter[str]:
    """Re-drive the parked deferrals; a parking place that cannot be listed is one failure."""
    try:
        return redrive_parked(services, log)
    except (RejectedEvent, TransientError, DeploymentError) as exc:
        trace = Trace(sweep_id, source=services.config.parking or "")
        outcome = failure_outcome(exc, trace, AGAIN, "cannot list parked events: ")
        log(outcome)
        return Counter({outcome.decision.value: 1})


def listed_events(
    services: Services,
    route: Route,
    since: datetime | None,
    until: datetime | None,
    *,
    event_id: str,
    started: datetime,
) -> list[ObjectEvent]:
    """Return the events the route's objects created in [since, until) stand for."""
    listed = services.storage.list(route.bucket, route.prefix, max_objects=SWEEP_LIMIT)
    return [
        object_event(route.bucket, o, event_id, started)
        for o in listed
        if (since is None or o.time_created >= since) and (until is None or o.time_created < until)
    ]


def route_runs(services: Services, route: Route, since: datetime | None) -> set[str]:
    """Return the job ids of the route's own runs, under any of its names (after ``since``)."""
    condition = f'create_time>"{filter_time(since)}"' if since is not None else ""
    runs = own_route_runs(services, route, condition, page_size=RUNS_PAGE)
    return {job_id_of(run) for run in runs}


def attempt_outcome(
    services: Services,
    attempt: Attempt,
    trace: Trace,
    *,
    launched: str = LAUNCHED_REASON,
    again: str = AGAIN,
) -> Outcome:
    """Run one candidate on its own time budget, as an event; what it raises is its outcome.

    ``launched`` is the reason of a launch; ``again`` says what retries a deferral or failure
    (the sweeper's words by default; the CLI's backfill has its own).
    """
    try:
        with spending(Budget(services.config.retry)):
            outcome = attempt(services, trace)
    except (RejectedEvent, DeferredEvent, TransientError, DeploymentError) as exc:
        return failure_outcome(exc, trace, again)
    if outcome.decision is Decision.LAUNCHED and not outcome.reason:
        return trace.outcome(Decision.LAUNCHED, launched)
    return outcome


def candidates(
    services: Services, route: Route, events: list[ObjectEvent], runs: set[str]
) -> Iterator[tuple[str, Attempt]]:
    """Yield (source, attempt) for each recent object of the route, or each folder of a batch."""
    mine = [e for e in events if _routes_here(services, route, e)]
    if route.batch is None:
        for event in mine:
            yield f"{event.uri}#{event.generation}", _object_attempt(route, event, runs)
        return
    for folder in sorted({folder_of(e.name) for e in mine}):
        yield f"gs://{route.bucket}/{folder}", _batch_attempt(route, folder, runs)


def _object_attempt(route: Route, event: ObjectEvent, runs: set[str]) -> Attempt:
    def attempt(services: Services, trace: Trace) -> Outcome:
        identity = (event.bucket, event.name, str(event.generation))
        trace.job = job_id(route.name, *identity)
        existing = [j for j in (trace.job, *former_job_ids(route, *identity)) if j in runs]
        if existing:
            trace.job = existing[0]
            return trace.outcome(Decision.DUPLICATE, "its run exists")
        return launch_object(services, route, event, trace)

    return attempt


def _batch_attempt(route: Route, folder: str, runs: set[str]) -> Attempt:
    def attempt(services: Services, trace: Trace) -> Outcome:
        batch, done = decide_batch(services, route, route.bucket, folder)
        if not done.complete:
            return trace.outcome(Decision.SKIPPED, done.waiting)
        trace.job = batch_job_id(route.name, batch, done)
        existing = [j for j in batch_job_ids(route, batch, done) if j in runs]
        if existing:
            trace.job = existing[0]
            return trace.outcome(Decision.DUPLICATE, "its run exists")
        return launch_complete_batch(services, route, batch, done, trace)

    return attempt


def _routes_here(services: Services, route: Route, event: ObjectEvent) -> bool:
    """Tell whether the event path would give this object to this route (same guards)."""
    target = route_object(services.config, event)
    return isinstance(target, Route) and target.name == route.name


def object_event(bucket: str, obj: ObjectInfo, event_id: str, started: datetime) -> ObjectEvent:
    """Build the event a listed object stands for (event_id: the sweep's; event_time: its start)."""
    return ObjectEvent(
        event_id=event_id,
        event_time=_rfc3339_millis(started),
        bucket=bucket,
        name=obj.name,
        generation=obj.generation,
        content_type=obj.content_type,
        size=obj.size,
        time_created=_rfc3339_millis(obj.time_created),
    )


def _rfc3339_millis(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"
