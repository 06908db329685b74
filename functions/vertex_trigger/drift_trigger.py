"""``on_drift_alert``: a drift alert on Pub/Sub launches a retraining, at most once per cooldown."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from vertex_trigger.cloud_events import envelope_of
from vertex_trigger.config import Route
from vertex_trigger.drift_alerts import DriftAlert, parse_drift_alert
from vertex_trigger.labels import ROUTE_LABEL, SOURCE_LABEL, job_id, short_hash
from vertex_trigger.launch import launch, run_labels
from vertex_trigger.outcomes import Decision, Outcome, Trace
from vertex_trigger.pubsub_events import MESSAGE_PUBLISHED, PubsubMessage, parse_message
from vertex_trigger.routing import Skip, route_drift
from vertex_trigger.services import Services

_FRACTION = re.compile(r"(\.\d{6})\d+")  # RFC 3339 allows nanoseconds; datetime holds micro


def handle_drift_event(cloud_event: Any, services: Services, trace: Trace) -> Outcome:
    """Parse and route one drift alert, then launch it once per cooldown window."""
    envelope = envelope_of(cloud_event)
    if envelope.event_type != MESSAGE_PUBLISHED:
        return trace.outcome(
            Decision.SKIPPED, f"event type {envelope.event_type!r} is not {MESSAGE_PUBLISHED}"
        )
    message = parse_message(envelope)
    trace.event_id = envelope.event_id or message.message_id
    alert = parse_drift_alert(message.data)
    trace.source = alert.model_key
    target = route_drift(services.config, alert)
    if isinstance(target, Skip):
        trace.route = target.route
        return trace.outcome(Decision.SKIPPED, target.reason)
    trace.route = target.name
    event_time = envelope.event_time or message.publish_time
    return _launch_unless_cooling_down(
        services, target, alert, message=message, event_time=event_time, trace=trace
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
    """Launch with a window job id unless Vertex holds a recent run of this route and model."""
    source_id = short_hash(alert.model_key)
    if route.cooldown is None:
        trace.job = job_id(route.name, alert.model_key, message.message_id)
    else:
        trace.job = _window_job_id(route, alert, _parse_time(event_time) or services.now())
        recent = _recent_run(services, route, source_id, trace.job)
        if recent:
            return trace.outcome(Decision.SKIPPED, recent)
    values = alert.placeholder_values(trace.event_id, event_time)
    return launch(services, route, values, run_labels(route, "drift", source_id), trace)


def _window_job_id(route: Route, alert: DriftAlert, event_time: datetime) -> str:
    """Concurrent alerts in one cooldown window share an id, so Vertex's 409 admits only one."""
    window = int(event_time.timestamp() // route.cooldown)
    return job_id(route.name, alert.model_key, f"window-{window}")


def _recent_run(services: Services, route: Route, source_id: str, own_job: str) -> str:
    """Return why the route is cooling down (another run inside the window), or ''."""
    since = services.now() - timedelta(seconds=route.cooldown)
    filter_ = (
        f'labels.{ROUTE_LABEL}="{route.name}" AND labels.{SOURCE_LABEL}="{source_id}" '
        f'AND create_time>"{since.strftime("%Y-%m-%dT%H:%M:%SZ")}"'
    )
    for job in services.jobs.list(filter_):
        job_name = str(job.get("name", "")).rsplit("/", 1)[-1]
        if job_name != own_job:  # our own id means a redelivery: let create answer 409
            return (
                f"cooling down: run {job_name} was created at {job.get('createTime', '?')}, "
                f"within cooldown {route.cooldown:g}s"
            )
    return ""


def _parse_time(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", text))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
