"""Route key ``overlap``: what a launch does while a run of its scope is live.

The scope is the run's source (its ``trigger-source`` label: one object name in any generation, one
batch folder, one model) or the whole route. ``queue`` defers the event (429, redelivered until
the live run ends) and ``skip`` acknowledges it, naming the live run. ``replace`` creates the run,
then settles: the newest run of the scope by (``createTime``, job name) that is not cancelled wins,
and every live run older than it is cancelled, so concurrent launches converge on one live run, the
newest (why: docs/design.md#the-overlap-race). Vertex is the only state, as for the cooldown.
"""

from dataclasses import replace
from typing import Any

from vertex_trigger.config.labels import SOURCE_LABEL
from vertex_trigger.config.lifecycle import OverlapAction, OverlapScope
from vertex_trigger.config.model import Route
from vertex_trigger.decisions import Decision, Outcome
from vertex_trigger.errors import DeferredEvent, TransientError
from vertex_trigger.google.pipeline_states import (
    LIVE_FILTER,
    NOT_CANCELLED_FILTER,
    is_cancelled,
    state_of,
)
from vertex_trigger.google.resource_names import job_id_of
from vertex_trigger.google.times import filter_time
from vertex_trigger.launch.race_cancels import cancel_loser, created_at, race_order
from vertex_trigger.launch.route_runs import route_runs
from vertex_trigger.launch.services import Services

# Live: not finished and not being cancelled (a run on its way out holds nothing back).


def replaces(route: Route) -> bool:
    """Tell whether the route's launches replace the live runs of their scope."""
    return route.overlap is not None and route.overlap.action is OverlapAction.REPLACE


def scope_runs(
    services: Services, route: Route, source_id: str, condition: str, **listing: Any
) -> list[dict[str, Any]]:
    """List the runs a launch of ``source_id`` overlaps with that meet ``condition``.

    The route's own runs only (launch/route_runs.py): made by the service, under any of its names.
    """
    scope = ""
    if route.overlap is None or route.overlap.scope is OverlapScope.SAME_SOURCE:
        scope = f'labels.{SOURCE_LABEL}="{source_id}" AND '
    return route_runs(services, route, scope + condition, **listing)


def check(services: Services, route: Route, labels: dict[str, str], own_job: str) -> str:
    """Before a create: defer (queue) or return why to skip (skip) while the scope has a live run.

    Our own run among the live ones means a redelivery: it goes on to its 409.
    """
    overlap = route.overlap
    if overlap is None or overlap.action is OverlapAction.REPLACE:
        return ""
    live = _listed(services, route, labels[SOURCE_LABEL], LIVE_FILTER)
    if not live or own_job in {job_id_of(run) for run in live}:
        return ""
    what = f"run {job_id_of(live[-1])} {_of_scope(route)} is {state_of(live[-1])}"
    if overlap.action is OverlapAction.QUEUE:
        raise DeferredEvent(f"overlap queue: {what}; queued until it ends")
    return f"overlap skip: {what}"


def settle(services: Services, route: Route, labels: dict[str, str], launched: Outcome) -> Outcome:
    """After a create (replace): cancel the scope's live runs older than its newest run.

    The winner is the newest run of the scope that is not cancelled, by (createTime, job name):
    every observer that sees it picks the same one, and nobody cancels it, only runs before it.
    Each handler lists after its own create answered, so whichever lists last sees every create
    and cancels all but the newest. A redelivery gets 409 and settles again, so a cancel lost to
    a transient error is retried.
    """
    if not replaces(route) or launched.decision not in (Decision.LAUNCHED, Decision.DUPLICATE):
        return launched
    source = labels[SOURCE_LABEL]
    live = _listed(services, route, source, LIVE_FILTER)
    own = next((run for run in live if job_id_of(run) == launched.job), None)
    own = own or services.jobs.get(launched.job)
    if own is None:
        if launched.decision is Decision.DUPLICATE:
            return launched  # deleted since: nothing of it to settle
        raise TransientError(f"run {launched.job} is not listed yet; cannot settle the overlap")
    if is_cancelled(own):
        return _replaced(launched, f"this run {launched.job} was already cancelled")
    since = filter_time(created_at(own))  # whole seconds: a run of the same second is listed too
    newer = _listed(services, route, source, f'{NOT_CANCELLED_FILTER} AND create_time>="{since}"')
    winner = max([*live, *newer, own], key=race_order)
    losers = [run for run in live if race_order(run) < race_order(winner)]
    replaced_by = f"run {job_id_of(winner)} replaces"
    notes = "; ".join(cancel_loser(services, run, launched.job, replaced_by) for run in losers)
    if job_id_of(winner) != launched.job:
        return _replaced(launched, f"run {job_id_of(winner)} is newer; {notes}".rstrip("; "))
    replaced = f"overlap replace: {notes}" if notes else ""
    return replace(launched, reason="; ".join(filter(None, [launched.reason, replaced])))


def _of_scope(route: Route) -> str:
    scope = route.overlap.scope if route.overlap else OverlapScope.SAME_SOURCE
    return "of the same source" if scope is OverlapScope.SAME_SOURCE else "of the route"


def _listed(
    services: Services, route: Route, source_id: str, condition: str
) -> list[dict[str, Any]]:
    """Return the scope's runs meeting ``condition``, oldest first in race order."""
    runs = scope_runs(services, route, source_id, condition, order_by="create_time")
    return sorted(runs, key=race_order)


def _replaced(launched: Outcome, why: str) -> Outcome:
    """Turn this event's launch into a skip: a newer run of its scope replaces its run."""
    return replace(launched, decision=Decision.SKIPPED, reason=f"overlap replace: {why}")


