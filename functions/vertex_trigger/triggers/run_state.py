"""``on_run_state``: a PipelineJob log entry is a nudge to read the run and report how it ended."""

from dataclasses import replace
from typing import Any

from vertex_trigger.config.labels import AUTH_LABEL
from vertex_trigger.config.model import Config
from vertex_trigger.decisions import Decision, Outcome, Trace
from vertex_trigger.events.pubsub import published_message
from vertex_trigger.events.run_state_log import JobRef, job_ref_of
from vertex_trigger.google.pipeline_states import state_of
from vertex_trigger.launch.identity import trigger_of
from vertex_trigger.launch.services import Services
from vertex_trigger.reporting.report import report
from vertex_trigger.reporting.run_end import run_end


def handle_run_state_event(cloud_event: Any, services: Services, trace: Trace) -> Outcome:
    """Read the run a log entry names; publish (and post) its end if one of our routes made it."""
    published = published_message(cloud_event)
    trace.event_id = published.event_id
    ref = job_ref_of(published.message.data)
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
    if not services.run_key.made(job):  # labelled like ours by someone else: never reported
        return trace.outcome(
            Decision.SKIPPED,
            f"not a run the trigger service made: its {AUTH_LABEL} label does not verify",
        )
    trace.route, trace.source = route.name, trigger.source
    # A run labelled with a former name (renamed_from) is reported as the route it became.
    ended = run_end(job, replace(trigger, route=route.name))
    if ended is None:
        return trace.outcome(Decision.SKIPPED, f"state {state_of(job)} is not an end state")
    return trace.outcome(Decision.REPORTED, report(services, route, ended))


def _elsewhere(config: Config, ref: JobRef) -> str:
    """Say why a run outside our project or region cannot be ours, or return ''."""
    if ref.location and ref.location != config.region:
        return f"run in location {ref.location}; this configuration launches in {config.region}"
    # A project number cannot be compared offline with the project id: the run's labels decide.
    if ref.project and not ref.project.isdigit() and ref.project != config.project:
        return f"run in project {ref.project}; this configuration launches in {config.project}"
    return ""
