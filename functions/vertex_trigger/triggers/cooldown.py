"""The drift cooldown, kept by Vertex itself: the route's recent runs are the only state.

A window job id makes concurrent alerts in one window collide on Vertex's 409; `check` skips an
alert while a run that counts (`cooldown_counts`) exists; `settle` closes the race across a window
boundary by keeping the earliest counted run and cancelling the rest of its cooldown (why exactly
one run survives: docs/design.md#the-cooldown-race).
"""

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from vertex_trigger.config.cooldown_counts import CooldownCounts
from vertex_trigger.config.labels import SOURCE_LABEL
from vertex_trigger.config.model import Route
from vertex_trigger.decisions import Decision, Outcome
from vertex_trigger.errors import TransientError
from vertex_trigger.events.drift_alerts.alert import DriftAlert
from vertex_trigger.google.pipeline_states import CANCELLED, FAILED, is_cancelled
from vertex_trigger.google.resource_names import job_id_of
from vertex_trigger.google.times import filter_time, parse_rfc3339
from vertex_trigger.launch.identity import job_id
from vertex_trigger.launch.race_cancels import cancel_loser, created_at, race_order
from vertex_trigger.launch.route_runs import route_runs
from vertex_trigger.launch.services import Services


def recent_runs(
    services: Services, route: Route, source_id: str, since: datetime | None = None
) -> list[dict[str, Any]]:
    """Return a route's runs for one source since a cooldown ago (or ``since``), in race order."""
    start = services.now() - timedelta(seconds=_cooldown(route))
    if since is not None:
        start = min(start, since)
    condition = f'labels.{SOURCE_LABEL}="{source_id}" AND create_time>"{filter_time(start)}"'
    # Only runs the service made hold the cooldown or win a race: a forged run would otherwise
    # hold every alert back, or get a real retrain cancelled as the race's loser.
    listed = route_runs(services, route, condition, order_by="create_time")
    return sorted(listed, key=race_order)


def window_runs(
    services: Services, route: Route, source_id: str, event_time: str
) -> list[dict[str, Any]]:
    """Return the runs an alert's window id and cooldown check need, in race order.

    The id comes from the window of the alert's event time, so every run of that window's id
    sequence must be listed, however late the alert arrives (a redelivery's backoff, a
    dead-letter replay): listed since the window began, or a cooldown ago if that is earlier.
    """
    return recent_runs(services, route, source_id, window_start(route, event_time, services.now()))


def window_start(route: Route, event_time: str, now: datetime) -> datetime:
    """Return when the cooldown window of ``event_time`` (else of ``now``) began."""
    return datetime.fromtimestamp(_window(route, event_time, now) * _cooldown(route), UTC)


def counts(run: Mapping[str, Any], choice: CooldownCounts) -> bool:
    """Tell whether ``run`` holds the cooldown back (a cancelled run never does)."""
    state = run.get("state")
    if state in CANCELLED:
        return False
    return choice is CooldownCounts.LIVE or state != FAILED


def window_job_id(
    route: Route, alert: DriftAlert, event_time: str, now: datetime, runs: Sequence[dict[str, Any]]
) -> str:
    """Concurrent alerts in one cooldown window share an id, so Vertex's 409 admits only one.

    A run that ended without counting (FAILED, with ``succeeded_or_running``) keeps its id, so
    the window's next alert takes the next id in the window's sequence and can launch again.
    """
    window = _window(route, event_time, now)
    ended = {job_id_of(run) for run in runs if not counts(run, route.cooldown_counts)}
    ended -= {job_id_of(run) for run in runs if is_cancelled(run)}  # a lost race keeps the window
    for attempt in itertools.count():
        suffix = f"-retry-{attempt}" if attempt else ""
        candidate = job_id(route.name, alert.model_key, f"window-{window}{suffix}")
        if candidate not in ended:
            return candidate
    raise AssertionError("unreachable")


def check(route: Route, runs: Sequence[dict[str, Any]], own_job: str, now: datetime) -> str:
    """Return why the alert must wait (a counted run in the cooldown that is not ours), or ''."""
    since = now - timedelta(seconds=_cooldown(route))  # a late alert's list reaches further back
    counted = [r for r in runs if counts(r, route.cooldown_counts) and created_at(r) > since]
    if counted and own_job not in {job_id_of(run) for run in counted}:
        # Our own run in the list means a redelivery: create answers 409 and we settle.
        return _cooling_down(route, counted[0])
    return ""


def settle(services: Services, route: Route, source_id: str, launched: Outcome) -> Outcome:
    """Keep the earliest counted run of the route and model; cancel the others in its cooldown.

    Alerts on either side of a window boundary get different job ids, so both creates can
    succeed. Each handler, after its create answered, lists the recent runs and applies one rule:
    the winner is the earliest counted run by (createTime, job name) and every other counted
    run created less than ``cooldown`` after it is cancelled. Exactly one survives because (1) the
    order is fixed by Vertex at create time, so every observer that sees the winner picks the
    same one; (2) nobody cancels the earliest counted run, only runs after it; and (3) each handler
    lists only after its own create answered, so whichever of two racing handlers lists last
    sees both creates and cancels the later run. A redelivery of either event reaches the same
    job id, gets 409 and settles again, so a cancel lost to a transient error is retried.
    """
    runs = recent_runs(services, route, source_id)
    own = next((run for run in runs if job_id_of(run) == launched.job), None)
    if own is None and launched.decision is Decision.DUPLICATE:
        return launched  # created before this cooldown (an old redelivery): settled back then
    if own is None:  # a retry lists again once Vertex shows the run it just created
        raise TransientError(f"run {launched.job} is not listed yet; cannot settle the cooldown")
    live = [run for run in runs if counts(run, route.cooldown_counts)]
    if is_cancelled(own):
        won_by = f"run {job_id_of(live[0])} won the race; " if live else ""
        return _skipped(launched, f"{won_by}this run {launched.job} was already cancelled")
    if not counts(own, route.cooldown_counts):
        return launched  # it failed already: nothing of it holds the cooldown
    winner = job_id_of(live[0])  # own counts, so there is one
    cooldown = timedelta(seconds=_cooldown(route))
    losers = [run for run in live[1:] if created_at(run) - created_at(live[0]) < cooldown]
    lost = f"lost the cooldown race to {winner}"
    notes = "; ".join(cancel_loser(services, run, launched.job, lost) for run in losers)
    if winner != launched.job and own in losers:
        return _skipped(launched, f"run {winner} won the race; {notes}")
    # Here our run is the winner (or, with clocks apart, a full cooldown after it): it stays.
    won = f"won the race; {notes}" if notes else ""
    return replace(launched, reason="; ".join(filter(None, [launched.reason, won])))


def _window(route: Route, event_time: str, now: datetime) -> int:
    """Return the number of the cooldown window ``event_time`` (else ``now``) falls in."""
    moment = parse_rfc3339(event_time) or now
    return int(moment.timestamp() // _cooldown(route))


def _cooldown(route: Route) -> float:
    """Return the route's cooldown in seconds (only routes with one come here)."""
    if route.cooldown is None:
        raise ValueError(f"route {route.name!r} has no cooldown")
    return route.cooldown


def _skipped(launched: Outcome, why: str) -> Outcome:
    """Turn this event's launch into a cooldown skip: its run lost the race."""
    return replace(launched, decision=Decision.SKIPPED, reason=f"cooling down: {why}")


def _cooling_down(route: Route, run: dict[str, Any]) -> str:
    state = str(run.get("state", "?")).removeprefix("PIPELINE_STATE_")
    return (
        f"cooling down: run {job_id_of(run)} was created at {run.get('createTime', '?')} and is "
        f"{state}, within cooldown {route.cooldown:g}s ({route.cooldown_counts} runs count)"
    )


