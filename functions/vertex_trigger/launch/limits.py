"""Route limits kept by Vertex itself: ``max_runs_per_day`` skips, ``max_running`` defers.

Each limit is one list call on the route's label; the runs in Vertex are the only state. A launch
whose own job is already among the listed runs is a redelivery, not a new run, and goes on to its
``409``.
"""

from datetime import timedelta
from typing import Any

from vertex_trigger.config.model import Route
from vertex_trigger.errors import DeferredEvent
from vertex_trigger.google.pipeline_states import FINISHED
from vertex_trigger.google.resource_names import job_id_of
from vertex_trigger.google.times import filter_time
from vertex_trigger.launch.route_runs import route_runs
from vertex_trigger.launch.services import Services

BUDGET_WINDOW = timedelta(hours=24)
OWN_PAGE = 100


def check_limits(services: Services, route: Route, own_job: str) -> str:
    """Return why the daily budget stops this launch ('' if it does not); defer at the cap."""
    if route.max_runs_per_day is not None:
        since = services.now() - BUDGET_WINDOW
        runs = _runs(services, route, f'create_time>"{filter_time(since)}"', route.max_runs_per_day)
        if _full(runs, route.max_runs_per_day, own_job):
            return (
                f"daily budget reached: {len(runs)} run(s) of route {route.name!r} created in "
                f"the last 24 h (max_runs_per_day {route.max_runs_per_day})"
            )
    if route.max_running is not None:
        live = " AND ".join(f'state!="{state}"' for state in FINISHED)
        runs = _runs(services, route, live, route.max_running)
        if _full(runs, route.max_running, own_job):
            raise DeferredEvent(
                f"max_running {route.max_running} reached: {len(runs)} run(s) of route "
                f"{route.name!r} not finished, e.g. {job_id_of(runs[0])}"
            )
    return ""


def _runs(services: Services, route: Route, condition: str, limit: int) -> list[dict[str, Any]]:
    """List the route's own runs meeting ``condition`` (``limit`` of them decide)."""
    # Only runs the service made count: anyone may label a run of theirs with our route. Pages
    # of at least OWN_PAGE, so that runs made by others cannot crowd ours out of the pages read.
    return route_runs(services, route, condition, page_size=max(limit, OWN_PAGE))


def _full(runs: list[dict[str, Any]], limit: int, own_job: str) -> bool:
    return len(runs) >= limit and own_job not in {job_id_of(run) for run in runs}
