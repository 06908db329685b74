"""A route's runs in Vertex: those the service made, under the route's name and former names."""

from typing import Any

from vertex_trigger.config.labels import ROUTE_LABEL
from vertex_trigger.config.model import Route
from vertex_trigger.google.resource_names import job_id_of
from vertex_trigger.launch.identity import trigger_of
from vertex_trigger.launch.services import Services


def route_runs(
    services: Services, route: Route, condition: str = "", **listing: Any
) -> list[dict[str, Any]]:
    """List the route's own runs meeting ``condition``: one list call per name it has had.

    A renamed route (``renamed_from``) keeps its runs: their labels and job ids name the route as
    it was called when they were launched, so the limits, the cooldown, batches and the sweeper
    count them as its own (docs/configuration.md#renaming-a-route).
    """
    found: dict[str, dict[str, Any]] = {}
    for name in route.names:
        filter_ = f'labels.{ROUTE_LABEL}="{name}"' + (f" AND {condition}" if condition else "")
        for run in services.run_key.ours(services.jobs.list(filter_, **listing)):
            found.setdefault(job_id_of(run), run)
    return list(found.values())


def forged(services: Services, run: dict[str, Any]) -> bool:
    """Tell whether ``run`` claims a route of this configuration but the service did not make it."""
    trigger = trigger_of(run)
    claimed = services.config.route_named(trigger.route) if trigger else None
    return claimed is not None and not services.run_key.made(run)
