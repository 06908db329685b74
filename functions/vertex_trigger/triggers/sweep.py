"""``sweep``: launch what object events missed, under the job ids the events would have used.

Every route first gets its run lifecycle (triggers/sweep_lifecycle.py: its pause, the watchdog,
retries of failed runs). Then, for each object route with ``sweep_lookback``: list the objects
created within the lookback, list the route's runs once (by label), and launch what has no run: due
``quiet`` batches, complete batches, single objects; for each run_ended route with
``sweep_lookback``: the upstream runs that ended within the lookback without their run of the route
(lost links). The ids are deterministic, so the sweeper and the event path never both launch one
thing; a run older than the lookback answers ``409`` (a duplicate).

A route with ``partitions`` lists only the partitions the lookback covers (one ``startOffset``);
any other lists its whole prefix, page by page, keeping only what the lookback holds, and says so
in a WARNING when that was far more than it kept. One sweep's listings, launches and re-drives
take at most ``sweep_deadline``: each route lists within its share of what is left, and no launch
starts once too little is left (the watchdog's cancels and the retries of failed runs each have the
config's ``retry`` budget besides). A
route that could not be swept (a deployment problem, the time ran out, any error) is ``failed``:
logged at ERROR, and the sweep answers 500 so Cloud Scheduler and the failed-events metric see it.

With ``parking``, each route that is not paused also gets its parked deferrals re-driven, right
after its lifecycle and on the same ``sweep_deadline`` (``triggers/parking.py``).
"""

import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from vertex_trigger.config.model import EventKind, Route
from vertex_trigger.decisions import Decision, Outcome, Trace, write_log
from vertex_trigger.errors import (
    DeferredEvent,
    DeploymentError,
    RejectedEvent,
    SkippedEvent,
    TransientError,
)
from vertex_trigger.events.storage import ObjectEvent
from vertex_trigger.google.api_calls import spending
from vertex_trigger.google.resource_names import job_id_of
from vertex_trigger.google.retries import Budget, RetryPolicy
from vertex_trigger.google.storage import ListingStoppedError, ObjectInfo, Span
from vertex_trigger.google.times import filter_time, parse_rfc3339
from vertex_trigger.launch.route_runs import route_runs as own_route_runs
from vertex_trigger.launch.services import Services
from vertex_trigger.triggers.batch_rules import Batch, folder_of
from vertex_trigger.triggers.batches import launch_batch
from vertex_trigger.triggers.chains import lost_links
from vertex_trigger.triggers.failures import NEXT_SWEEP, Log, failure_outcome
from vertex_trigger.triggers.objects import launch_object, object_job_ids
from vertex_trigger.triggers.parking import STILL_PARKED, redrive_parked
from vertex_trigger.triggers.routing import route_object
from vertex_trigger.triggers.sweep_lifecycle import sweep_lifecycle

RUNS_PAGE = 1000
LAUNCHED_REASON = "no run for it: launched by the sweeper"
# A listing read this many objects, and this many times what the lookback held: worth a WARNING.
WARN_READ = 10_000
WARN_RATIO = 10
# Logged one line each; skips and duplicates are only counted (a sweep sees them by thousands).
LOGGED = frozenset({Decision.LAUNCHED, Decision.REJECTED, Decision.DEFERRED, Decision.FAILED})
Warn = Callable[[str, str], None]
Attempt = Callable[[Services, Trace], Outcome]
Missed = Callable[[datetime], bool]  # objects a --skip-missed resume chose to leave, by creation


def write_summary(summary: dict[str, Any], stream: TextIO | None = None) -> None:
    """Write the sweep's counts as one JSON line (ERROR when something failed, else INFO)."""
    counts = ", ".join(f"{d.value} {summary[d.value]}" for d in Decision if summary[d.value])
    entry = {
        "severity": "ERROR" if summary["failed"] else "INFO",
        "message": f"{summary['sweep']}: {counts or 'nothing to do'}",
        "sweep": summary,
    }
    _write(entry, stream)


def write_warning(route: str, message: str, stream: TextIO | None = None) -> None:
    """Write one WARNING line about a route's sweep."""
    _write({"severity": "WARNING", "message": message, "route": route}, stream)


def _write(entry: dict[str, Any], stream: TextIO | None) -> None:
    out = stream or sys.stdout
    out.write(json.dumps(entry) + "\n")
    out.flush()


@dataclass(frozen=True)
class _Sweep:
    """One sweep: its id and start, its time budget, and where its lines go."""

    id: str
    started: datetime
    budget: Budget  # sweep_deadline, for every route together
    log: Log
    warn: Warn


def sweep(
    services: Services,
    log: Log = write_log,
    report: Callable[[dict[str, Any]], None] = write_summary,
    warn: Warn = write_warning,
) -> dict[str, Any]:
    """Sweep every route: its lifecycle, then what events missed; count each decision."""
    started = services.now()
    config = services.config
    budget = Budget(replace(config.retry, deadline=config.sweep_deadline))
    run = _Sweep(f"sweep-{started.astimezone(UTC):%Y%m%dT%H%M%SZ}", started, budget, log, warn)
    totals: Counter[str] = Counter()
    routes: dict[str, dict[str, int]] = {}
    parked: Counter[str] = Counter()
    swept: list[tuple[Route, Missed]] = []
    for route in config.routes:
        lifecycle = sweep_lifecycle(services, route, run.id, started, log)
        counts = lifecycle.counts
        if config.parking and lifecycle.go_on:  # a paused route's parked events stay parked
            redriven = _redrive(services, route, run)
            parked.update(redriven)
            counts = counts + Counter({k: v for k, v in redriven.items() if k != STILL_PARKED})
        if counts:
            routes[route.name] = dict(counts)
            totals.update(counts)
        if _swept(route) and lifecycle.go_on:
            swept.append((route, lifecycle.missed_on_purpose))
    for left, (route, missed) in zip(range(len(swept), 0, -1), swept, strict=True):
        # An equal share of what is left: a route whose history is huge cannot starve the rest.
        share = max(budget.remaining(), 0.0) / left
        counts = _sweep_route(services, route, run, share, missed)
        routes[route.name] = dict(Counter(routes.get(route.name, {})) + counts)
        totals.update(counts)
    summary: dict[str, Any] = {"sweep": run.id}
    summary.update({d.value: totals[d.value] for d in Decision})
    summary["left_for_next_sweep"] = totals["left_for_next_sweep"]
    summary["routes"] = routes
    if config.parking:
        summary["parked"] = dict(parked)
    report(summary)
    return summary


def _redrive(services: Services, route: Route, run: _Sweep) -> Counter[str]:
    """Re-drive the route's parked deferrals; a parking place that cannot be listed is a failure."""
    try:
        return redrive_parked(services, route, run.log, run.budget)
    except (RejectedEvent, TransientError, DeploymentError) as exc:
        trace = Trace(run.id, source=services.config.parking or "", route=route.name)
        outcome = failure_outcome(exc, trace, NEXT_SWEEP, "cannot list parked events: ")
        run.log(outcome)
        return Counter({outcome.decision.value: 1})


def _swept(route: Route) -> bool:
    """Tell whether the sweeper looks for what the route's events missed."""
    return route.event is not EventKind.DRIFT_ALERT and route.sweep_lookback is not None


def _sweep_route(
    services: Services, route: Route, run: _Sweep, share: float, missed: Missed
) -> Counter[str]:
    """List one route's recent objects (or upstream runs) and runs, then try every candidate.

    Stop at a failure. Objects created while the route was paused and then resumed with
    --skip-missed are left out.
    """
    counts: Counter[str] = Counter()
    since = run.started - timedelta(seconds=route.sweep_lookback or 0)
    trace = Trace(run.id, route=route.name)
    try:
        if route.event is EventKind.RUN_ENDED:
            with spending(Budget(replace(services.config.retry, deadline=share))):
                attempts = list(
                    lost_links(services, route, since, route_runs(services, route, since))
                )
        else:
            listed, runs = _route_listing(services, route, since, run, share)
            events = [e for e in listed.events if not missed(_created(e))]
            attempts = list(candidates(services, route, events, runs))
            _warn_if_wasteful(route, listed, run)
    except Exception as exc:  # whatever stopped it, the route was not swept: ERROR, and a 500
        return _counted(run, counts, cannot_sweep(exc, trace))
    for done, (source, attempt) in enumerate(attempts, 1):
        if not run.budget.can_wait(0.0):  # too little left of the sweep for one more launch
            counts["left_for_next_sweep"] += len(attempts) - done + 1
            return _counted(run, counts, _out_of_time(run, trace, len(attempts) - done + 1))
        policy = services.config.retry.within(run.budget.remaining())
        try:
            outcome = attempt_outcome(
                services, attempt, Trace(run.id, source=source, route=route.name), policy=policy
            )
        except Exception as exc:  # a defect: this route stops, the others are still swept
            outcome = cannot_sweep(exc, Trace(run.id, source=source, route=route.name))
        _counted(run, counts, outcome)
        if outcome.decision in (Decision.DEFERRED, Decision.FAILED):
            counts["left_for_next_sweep"] += len(attempts) - done
            break
    return counts


def _counted(run: _Sweep, counts: Counter[str], outcome: Outcome) -> Counter[str]:
    counts[outcome.decision.value] += 1
    if outcome.decision in LOGGED:
        run.log(outcome)
    return counts


@dataclass(frozen=True)
class Listed:
    """The events a route's recent objects stand for, and how many objects were read for them."""

    events: list[ObjectEvent]
    read: int


def _route_listing(
    services: Services, route: Route, since: datetime, run: _Sweep, share: float
) -> tuple[Listed, set[str]]:
    """List the route's recent objects and runs within the route's share of the sweep's time."""
    with spending(Budget(replace(services.config.retry, deadline=share))):
        try:
            listed = listed_events(services, route, since, None, event_id=run.id,
                                   started=run.started)  # fmt: skip
        except ListingStoppedError as exc:  # its share of the sweep's time ran out
            raise TransientError(f"{exc}; {_listing_limit(services, route, share)}") from None
        return listed, route_runs(services, route, since)


def _listing_limit(services: Services, route: Route, share: float) -> str:
    key = "a finer partitions pattern" if route.partitions else "partitions"
    return (
        f"the route's share of the sweep's time ({max(share, 0):.3g}s of sweep_deadline "
        f"{services.config.sweep_deadline:g}s) ran out while listing "
        f"gs://{route.bucket}/{route.prefix}: set {key} on this route to list only recent "
        "objects, or raise sweep_deadline (and the sweep function's timeout above it)"
    )


def _out_of_time(run: _Sweep, trace: Trace, left: int) -> Outcome:
    return trace.outcome(
        Decision.FAILED,
        f"cannot sweep: the sweep's time (sweep_deadline {run.budget.policy.deadline:g}s) ran "
        f"out with {left} candidate(s) of this route left: raise sweep_deadline (and the sweep "
        f"function's timeout above it); {NEXT_SWEEP}",
    )


def cannot_sweep(exc: Exception, trace: Trace) -> Outcome:
    """Return the ``failed`` outcome of a route (or candidate) that an exception stopped."""
    if isinstance(exc, TransientError | DeploymentError):
        return failure_outcome(exc, trace, NEXT_SWEEP, "cannot sweep: ")
    what = str(exc) if isinstance(exc, RejectedEvent) else f"unexpected {type(exc).__name__}: {exc}"
    return trace.outcome(Decision.FAILED, f"cannot sweep: {what}; {NEXT_SWEEP}")


def _warn_if_wasteful(route: Route, listed: Listed, run: _Sweep) -> None:
    """Warn once when the listing read far more objects than the lookback held."""
    kept = len(listed.events)
    if listed.read < WARN_READ or listed.read < WARN_RATIO * kept:
        return
    lookback = _duration_text(route.sweep_lookback or 0)
    advice = (
        "a finer partitions pattern (down to the hour, %H) lists less"
        if route.partitions
        else f"set partitions on route {route.name!r} to list only recent partitions"
    )
    run.warn(route.name, f"route {route.name!r} read {listed.read:,} objects for {kept:,} in "
                         f"the last {lookback}: {advice}")  # fmt: skip


def _duration_text(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def route_span(route: Route, since: datetime | None, until: datetime | None) -> Span:
    """Return which names hold the route's objects created in [since, until).

    Without ``partitions``: the whole prefix. With it: from the partition of ``since`` on, and
    before the partition after ``until``'s.
    """
    partitions = route.partitions
    if partitions is None:
        return Span(route.prefix)
    return Span(
        route.prefix,
        start_offset=partitions.name_at(since) if since else "",
        end_offset=partitions.name_after(until) if until else "",
    )


def listed_events(
    services: Services,
    route: Route,
    since: datetime | None,
    until: datetime | None,
    *,
    event_id: str,
    started: datetime,
) -> Listed:
    """Return the events the route's objects created in [since, until) stand for, page by page."""
    events, read = [], 0
    for obj in services.storage.list(route.bucket, route_span(route, since, until)):
        read += 1
        created = obj.time_created
        if (since is None or created >= since) and (until is None or created < until):
            events.append(object_event(route.bucket, obj, event_id, started))
    return Listed(events, read)


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
    again: str = NEXT_SWEEP,
    policy: RetryPolicy | None = None,
) -> Outcome:
    """Run one candidate on its own time budget, as an event; what it raises is its outcome.

    ``launched`` is the reason of a launch; ``again`` says what retries a deferral or failure
    (the sweeper's words by default; the CLI's backfill has its own); ``policy``: the budget's
    (the configuration's retry policy by default).
    """
    try:
        with spending(Budget(policy or services.config.retry)):
            outcome = attempt(services, trace)
    except (SkippedEvent, RejectedEvent, DeferredEvent, TransientError, DeploymentError) as exc:
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
        ids = object_job_ids(route, event)
        trace.job = ids[0]
        existing = [j for j in ids if j in runs]
        if existing:
            trace.job = existing[0]
            return trace.outcome(Decision.DUPLICATE, "its run exists")
        return launch_object(services, route, event, trace)

    return attempt


def _batch_attempt(route: Route, folder: str, runs: set[str]) -> Attempt:
    def attempt(services: Services, trace: Trace) -> Outcome:
        return launch_batch(services, route, Batch(route.bucket, folder), trace, runs=runs)

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


def _created(event: ObjectEvent) -> datetime:
    return parse_rfc3339(event.time_created) or datetime.min.replace(tzinfo=UTC)


def _rfc3339_millis(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"
