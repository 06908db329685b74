"""``on_run_state``: a PipelineJob log entry is a nudge to read the run and report how it ended."""

from typing import Any

from vertex_trigger.config import Config, Route
from vertex_trigger.outcomes import Decision, Outcome, Trace
from vertex_trigger.pubsub_events import published_message
from vertex_trigger.run_identity import trigger_of
from vertex_trigger.run_outcomes import RunOutcome, run_outcome, state_of
from vertex_trigger.run_state_logs import JobRef, job_ref_of
from vertex_trigger.services import Services


def handle_run_state_event(cloud_event: Any, services: Services, trace: Trace) -> Outcome:
    """Read the run a log entry names; publish (and post) its end if one of our routes made it."""
    published = published_message(cloud_event, trace)
    if isinstance(published, Outcome):
        return published
    _, message = published
    ref = job_ref_of(message.data)
    trace.job = ref.job_id
    elsewhere = _elsewhere(services.config, ref)
    if elsewhere:
        return trace.outcome(Decision.SKIPPED, elsewhere)
    job = services.jobs.get(ref.job_id)
    if job is None:
        return trace.outcome(Decision.SKIPPED, "Vertex AI has no such run (deleted?)")
    trigger = trigger_of(job)
    route = services.config.route_named(trigger.route) if trigger else None
    if trigger is None or route is None:
        return trace.outcome(Decision.SKIPPED, "not a run of this configuration's routes")
    trace.route, trace.source = route.name, trigger.source
    outcome = run_outcome(job, trigger)
    if outcome is None:
        return trace.outcome(Decision.SKIPPED, f"state {state_of(job)} is not an end state")
    return trace.outcome(Decision.REPORTED, report(services, route, outcome))


def report(services: Services, route: Route, outcome: RunOutcome) -> str:
    """Publish the outcome, then post it to the route's webhook; say what was sent where.

    Publish first: should the webhook fail, the redelivery publishes again under the same
    ``outcome_id``, which consumers drop; the other order would repeat a human-read chat line.
    """
    sent = [str(outcome.state)]
    topic = services.config.outcomes_topic
    if topic and services.publisher is not None:
        message_id = services.publisher.publish(
            topic, outcome.message_data(), outcome.attributes()
        )
        sent.append(f"published message {message_id} to {topic}")
    if route.notify and outcome.state in route.notify.on and services.webhooks is not None:
        services.webhooks.post(route.name, outcome.webhook_text())
        sent.append("posted to the route's webhook")
    return "; ".join(sent)


def _elsewhere(config: Config, ref: JobRef) -> str:
    """Say why a run outside our project or region cannot be ours, or return ''."""
    if ref.location and ref.location != config.region:
        return f"run in location {ref.location}; this configuration launches in {config.region}"
    # A project number cannot be compared offline with the project id: the run's labels decide.
    if ref.project and not ref.project.isdigit() and ref.project != config.project:
        return f"run in project {ref.project}; this configuration launches in {config.project}"
    return ""
