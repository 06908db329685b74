"""``on_drift_alert``: a drift alert on Pub/Sub launches a retraining, at most once per cooldown."""

from typing import Any

from vertex_trigger.config.model import Route
from vertex_trigger.decisions import Decision, Outcome, Trace
from vertex_trigger.events.drift_alerts.alert import DriftAlert
from vertex_trigger.events.drift_alerts.parsing import parse_drift_alert
from vertex_trigger.events.pubsub import PubsubMessage, published_message
from vertex_trigger.launch.identity import former_job_ids, job_id, run_labels, short_hash
from vertex_trigger.launch.launcher import launch
from vertex_trigger.launch.services import Services
from vertex_trigger.triggers import cooldown
from vertex_trigger.triggers.routing import launchable, route_drift


def handle_drift_event(cloud_event: Any, services: Services, trace: Trace) -> Outcome:
    """Parse and route one drift alert, then launch it once per cooldown window."""
    published = published_message(cloud_event)
    trace.event_id = published.event_id
    alert = parse_drift_alert(published.message.data)
    trace.source = alert.model_key
    if alert.closed:
        return trace.outcome(Decision.SKIPPED, "incident closed")
    route = launchable(services, route_drift(services.config, alert), trace)
    return _launch_unless_cooling_down(
        services,
        route,
        alert,
        message=published.message,
        event_time=published.event_time,
        trace=trace,
    )


def _launch_unless_cooling_down(
    services: Services,
    route: Route,
    alert: DriftAlert,
    *,
    message: PubsubMessage,
    event_time: str,
    trace: Trace,
) -> Outcome:
    """Launch with a window job id unless Vertex holds a recent run; then settle any race."""
    source_id = short_hash(alert.model_key)
    values = alert.placeholder_values(trace.event_id, event_time)
    labels = run_labels(route, "drift", source_id, trace.event_id)
    if route.cooldown is None:
        # An incident is notified again while open (new message ids): its id names it once.
        identity = (alert.model_key, alert.occurrence or message.message_id)
        trace.job = job_id(route.name, *identity)
        former = former_job_ids(route, *identity)
        return launch(services, route, values, labels, trace, former_ids=former)
    runs = cooldown.window_runs(services, route, source_id, event_time)
    trace.job = cooldown.window_job_id(route, alert, event_time, services.now(), runs)
    wait = cooldown.check(route, runs, trace.job, services.now())
    if wait:
        return trace.outcome(Decision.SKIPPED, wait)
    launched = launch(services, route, values, labels, trace)
    if launched.decision is Decision.SKIPPED:  # daily budget, overlap skip or replace: no settling
        return launched
    return cooldown.settle(services, route, source_id, launched)
