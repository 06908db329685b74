"""``on_run_state``: a PipelineJob log entry is a nudge to read the run and report how it ended.

A run's end first launches the run_ended routes that follow it (triggers/chains.py), then is
reported: a redelivery after a failed report repeats only 409s, never a webhook post. A run that
claims one of this configuration's routes but that the service did not make (its trigger-auth label
does not verify) is skipped before anything: it launches no chain, gets no retry, is not reported.
"""

from dataclasses import replace
from typing import Any

from vertex_trigger.config.labels import AUTH_LABEL
from vertex_trigger.config.model import Config, EventKind, Route
from vertex_trigger.decisions import Decision, Outcome, Trace
from vertex_trigger.events.pubsub import published_message
from vertex_trigger.events.run_state_log import JobRef, job_ref_of
from vertex_trigger.google.pipeline_states import EndState, state_of
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
    # Labelled like ours by someone else: before the chains and the retries, so that a forged
    # run launches nothing, gets nothing retried and is never reported.
    if route is not None and not services.run_key.made(job):
        return trace.outcome(
            Decision.SKIPPED,
            f"not a run the trigger service made: its {AUTH_LABEL} label does not verify",
        )
    chained = _chained(services, job, trace)
    if trigger is None or route is None:
        return trace.outcome(
            Decision.SKIPPED, _joined("not a run of this configuration's routes", chained)
        )
    trace.route, trace.source = route.name, trigger.source
    # A run labelled with a former name (renamed_from) is reported as the route it became.
    ended = run_end(job, replace(trigger, route=route.name))
    if ended is None:
        return trace.outcome(Decision.SKIPPED, f"state {state_of(job)} is not an end state")
    # A retry is launched before the end is published: should it fail transiently, the event is
    # redelivered and tries both again (the retry's id is deterministic: no second run).
    note = _lifecycle_note(services, route, job, ended.state, trace.event_id)
    ended = replace(ended, note=note or None)
    return trace.outcome(Decision.REPORTED, _joined(report(services, route, ended), chained))


def _chained(services: Services, job: dict[str, Any], trace: Trace) -> str:
    """Launch the run_ended routes that follow the run; say what they decided ('' if none)."""
    if not services.config.routes_for(EventKind.RUN_ENDED):
        return ""  # no chains configured: their modules are never loaded
    from vertex_trigger.triggers.chains import chain_note, follow

    return chain_note(follow(services, job, trace))


def _lifecycle_note(
    services: Services, route: Route, job: dict[str, Any], state: EndState, event_id: str
) -> str:
    """Retry a failed run, or say why it was cancelled, under the route's lifecycle rules."""
    if route.retry_failed is None and route.max_duration is None and route.overlap is None:
        return ""  # no rule that retries or cancels: nothing to add, nothing of theirs loaded
    from vertex_trigger.triggers.run_notes import lifecycle_note

    return lifecycle_note(services, route, job, state, event_id)


def _joined(reason: str, chained: str) -> str:
    return f"{reason}; {chained}" if chained else reason


def _elsewhere(config: Config, ref: JobRef) -> str:
    """Say why a run outside our project or region cannot be ours, or return ''."""
    if ref.location and ref.location != config.region:
        return f"run in location {ref.location}; this configuration launches in {config.region}"
    # A project number cannot be compared offline with the project id: the run's labels decide.
    if ref.project and not ref.project.isdigit() and ref.project != config.project:
        return f"run in project {ref.project}; this configuration launches in {config.project}"
    return ""
