"""Pick the route for an event, or say precisely why none applies."""

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vertex_trigger.config.batch import is_control
from vertex_trigger.config.model import Config, EventKind, Route
from vertex_trigger.config.template_ref import TemplateKind
from vertex_trigger.decisions import Trace
from vertex_trigger.errors import SkippedEvent
from vertex_trigger.events.storage import ObjectEvent
from vertex_trigger.launch.services import Services

if TYPE_CHECKING:  # an object instance never loads the alert's classes
    from vertex_trigger.events.drift_alerts.alert import DriftAlert


@dataclass(frozen=True)
class Skip:
    """No launch, and why (with the route that came closest, if any)."""

    reason: str
    route: str = ""


def launchable(services: Services, target: Route | Skip, trace: Trace) -> Route:
    """Return the route to launch, named on the trace; SkippedEvent if none takes it or paused."""
    trace.route = target.route if isinstance(target, Skip) else target.name
    if isinstance(target, Skip):
        raise SkippedEvent(target.reason)
    paused = services.paused_reason(target.name)
    if paused:
        raise SkippedEvent(paused)
    return target


def route_object(config: Config, event: ObjectEvent) -> Route | Skip:
    """Return the first object route for ``event``, or the guard or mismatch that stops it."""
    guard = _object_guard(config, event)
    if guard:
        return Skip(guard)
    closest: Skip | None = None
    for route in config.routes_for(EventKind.OBJECT_FINALIZED):
        if route.bucket != event.bucket:
            continue
        if not event.name.startswith(route.prefix):
            closest = closest or Skip(f"object is outside prefix {route.prefix!r}", route.name)
        elif not event.name.endswith(route.suffix) and not is_control(route.batch, event.name):
            # A batch's marker or manifest belongs to it whatever the data objects' suffix.
            closest = closest or Skip(f"object does not end with {route.suffix!r}", route.name)
        else:
            return route
    return closest or Skip(f"no route watches bucket {event.bucket!r}")


def _object_guard(config: Config, event: ObjectEvent) -> str:
    """Return why an object must never launch (the trigger-loop traps), or an empty string."""
    if event.name.endswith("/"):
        return "object is a folder placeholder"
    if _is_under(event.uri, config.pipeline_root):
        return f"object is inside pipeline_root {config.pipeline_root}"
    for route in config.routes:
        if route.template.kind is TemplateKind.GCS and route.template.uri == event.uri:
            return f"object is the template of route {route.name!r}"
    return ""


def _is_under(uri: str, root: str) -> bool:
    return uri == root or uri.startswith(root.rstrip("/") + "/")


def route_drift(config: Config, alert: "DriftAlert") -> Route | Skip:
    """Return the first drift route whose globs, policy labels and threshold the alert meets."""
    fields = alert.match_fields()
    closest: Skip | None = None
    for route in config.routes_for(EventKind.DRIFT_ALERT):
        if not _matches(route.match, fields) or not _labels_match(route, alert):
            continue
        below = _below_min_deviation(route, alert)
        if below:
            closest = closest or Skip(below, route.name)
            continue
        return route
    return closest or Skip(f"no drift route matches {alert.describe()}")


def _matches(globs: Mapping[str, str], values: Mapping[str, str]) -> bool:
    return all(fnmatch.fnmatchcase(values[key], glob) for key, glob in globs.items())


def _labels_match(route: Route, alert: "DriftAlert") -> bool:
    """Every label the route names must be on the alert's policy and match its glob."""
    labels = alert.policy_labels
    return set(route.policy_labels) <= set(labels) and _matches(route.policy_labels, labels)


def _below_min_deviation(route: Route, alert: "DriftAlert") -> str:
    """Return why the alert falls short of the route's min_deviation, or ''."""
    if route.min_deviation is None:
        return ""
    deviation = alert.max_deviation
    if deviation is None:
        return f"the alert gives no deviation to compare with min_deviation {route.min_deviation:g}"
    if deviation < route.min_deviation:
        return f"max deviation {deviation:g} is below min_deviation {route.min_deviation:g}"
    return ""
