"""Launch a route's run: fit the template, render values, build the body, check limits, create."""

from collections.abc import Mapping, Sequence
from typing import Any

from vertex_trigger.config.labels import AUTH_LABEL
from vertex_trigger.config.model import Route
from vertex_trigger.decisions import Decision, Outcome, Trace
from vertex_trigger.errors import DeploymentError, RejectedEvent, TransientError
from vertex_trigger.google.vertex import CreateOutcome
from vertex_trigger.launch.identity import display_name
from vertex_trigger.launch.job_body import pipeline_job_body
from vertex_trigger.launch.limits import check_limits
from vertex_trigger.launch.parameters import ParameterError, render, render_input_artifacts
from vertex_trigger.launch.route_fit import first_misfit
from vertex_trigger.launch.services import Services


def launch(
    services: Services,
    route: Route,
    values: Mapping[str, str],
    labels: Mapping[str, str],
    trace: Trace,
    *,
    former_ids: Sequence[str] = (),
) -> Outcome:
    """Create the job ``trace.job`` for ``route`` within its limits; 409 is a duplicate.

    ``former_ids`` are the ids of the same run under the route's former names: if the service
    launched one of them before the route was renamed, this event is a duplicate.
    """
    template = services.templates.get(route.template)
    misfit = first_misfit(route, template)  # a new template version may no longer fit the route
    if misfit:
        raise DeploymentError(
            f"route {route.name!r} does not fit template {route.template.uri} (version "
            f"{template.version}): key {misfit.key!r}: {misfit.problem}"
        )
    try:
        parameter_values = render(route.parameters, template.inputs, values)
        artifacts = render_input_artifacts(route.input_artifacts, values)
    except ParameterError as exc:  # the event's text does not fit
        raise RejectedEvent(f"{exc} (template {route.template.uri})") from None
    body = pipeline_job_body(
        services.config,
        route=route,
        template=template,
        display_name=display_name(trace.source) or trace.job,
        parameter_values=parameter_values,
        labels=labels,
        input_artifacts=artifacts,
    )
    earlier = _launched_under_a_former_name(services, former_ids)
    if earlier:
        trace.job = earlier
        return trace.outcome(
            Decision.DUPLICATE, "launched under the route's former name: already launched"
        )
    return submit(services, route, body, trace)


def submit(services: Services, route: Route, body: dict[str, Any], trace: Trace) -> Outcome:
    """Create ``trace.job`` from ``body`` within the route's limits and overlap; 409 is a duplicate.

    Every launch comes here: the event path, the sweeper, backfills, chains, retries and reruns.
    """
    # Added here, where the job id is final: what tells our runs from any other (run_key.py).
    # A retry's or rerun's body is a copy of another run's: its label is replaced, not kept.
    body = {**body, "labels": {**body["labels"], AUTH_LABEL: services.run_key.label(trace.job)}}
    over_budget = check_limits(services, route, trace.job)  # may raise DeferredEvent
    if over_budget:
        return trace.outcome(Decision.SKIPPED, over_budget)
    if route.overlap is None:
        return _create(services, body, trace)
    # Imported here: only instances with an overlap policy load it (most routes have none).
    from vertex_trigger.launch import overlap

    overlapping = overlap.check(services, route, body["labels"], trace.job)  # queue: deferred
    if overlapping:
        return trace.outcome(Decision.SKIPPED, overlapping)
    return overlap.settle(services, route, body["labels"], _create(services, body, trace))


def _create(services: Services, body: dict[str, Any], trace: Trace) -> Outcome:
    """Create ``trace.job``: launched, or a duplicate of the run of ours under that id."""
    result = services.jobs.create(trace.job, body)
    if result.outcome is CreateOutcome.CREATED:
        return trace.outcome(Decision.LAUNCHED)
    _check_the_existing_run_is_ours(services, trace.job)
    if result.after_lost_reply:
        return trace.outcome(Decision.LAUNCHED, "created by an attempt whose reply was lost")
    return trace.outcome(Decision.DUPLICATE, "a run with this job id exists: already launched")


def _launched_under_a_former_name(services: Services, former_ids: Sequence[str]) -> str:
    """Return the id among ``former_ids`` of a run the service made, or ''."""
    for former in former_ids:  # only routes with renamed_from have any: one GET each
        run = services.jobs.get(former)
        if run is not None and services.run_key.made(run):
            return former
    return ""


def _check_the_existing_run_is_ours(services: Services, job: str) -> None:
    """After a 409: raise unless the run holding the job id is one the service made.

    The ids are derived from public facts, so anyone who may create runs can take an id before
    its event comes; calling that a duplicate would lose the event. Raised as a deployment problem,
    the event waits (redelivery, then the dead-letter topic) while an operator deletes that run.
    """
    run = services.jobs.get(job)
    if run is None:  # deleted since the 409: the next delivery creates it
        raise TransientError(f"run {job} answered 409 and then 404: deleted meanwhile")
    if not services.run_key.made(run):
        raise DeploymentError(
            f"job id {job} is taken by a run the trigger service did not make (its "
            f"{AUTH_LABEL} label does not verify): delete that run, and the event launches on "
            "its next delivery"
        )
