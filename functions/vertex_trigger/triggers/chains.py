"""``run_ended`` routes: a run's end launches the routes that follow it, once per route and run.

The job id hashes the route and the upstream run's job id, so the log entries Vertex writes for
one end, Eventarc's redeliveries and the sweeper all meet on one id and Vertex's ``409`` admits
one run. The run carries the chain's first source as its display name and the upstream's job id
as a label, so every run of a chain names where the chain started and what launched it.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vertex_trigger.config.labels import SOURCE_LABEL
from vertex_trigger.config.model import Config, EventKind, Route
from vertex_trigger.decisions import Decision, Outcome, Trace
from vertex_trigger.errors import RejectedEvent
from vertex_trigger.google.pipeline_states import EndState, state_of
from vertex_trigger.google.resource_names import job_id_of
from vertex_trigger.google.times import filter_time
from vertex_trigger.launch.chain_fit import references
from vertex_trigger.launch.identity import RunTrigger, chain_labels, job_id, short_hash, trigger_of
from vertex_trigger.launch.launcher import launch
from vertex_trigger.launch.route_runs import forged, route_runs
from vertex_trigger.launch.services import Services
from vertex_trigger.launch.upstream_outputs import output_values

RUNS_PAGE = 1000
Attempt = Callable[[Services, Trace], Outcome]


@dataclass(frozen=True)
class EndedRun:
    """A run that ended, as the routes that follow it see it."""

    job: Mapping[str, Any]  # the PipelineJob as Vertex returned it (GET: with jobDetail)
    job_id: str
    state: EndState
    pipeline: str  # pipelineSpec.pipelineInfo.name
    trigger: RunTrigger | None  # None: no route made it (a schedule's run, a notebook's)
    end_time: str

    @property
    def source(self) -> str:
        """Return what started the chain: the upstream's own source, else the upstream itself."""
        if self.trigger and self.trigger.source:
            return self.trigger.source
        return str(self.job.get("name") or self.job_id)

    @property
    def source_id(self) -> str:
        """Return the trigger-source label every run of the chain carries: its first run's."""
        labels = self.job.get("labels")
        carried = labels.get(SOURCE_LABEL) if isinstance(labels, dict) else None
        return carried if isinstance(carried, str) and carried else short_hash(self.source)

    def placeholder_values(self) -> dict[str, str]:
        """Return the values of a run_ended route's placeholders."""
        return {
            "upstream_job": self.job_id,
            "upstream_route": self.trigger.route if self.trigger else "",
            "upstream_state": self.state.value,
            "upstream_pipeline": self.pipeline,
            "upstream_source": self.source,
            "upstream_event_id": self.trigger.event_id if self.trigger else "",
            "event_time": self.end_time,
        }


def ended_run(job: Mapping[str, Any]) -> EndedRun | None:
    """Return the run if it ended (SUCCEEDED, FAILED, CANCELLED), else None."""
    try:
        state = EndState(state_of(job))
    except ValueError:
        return None
    spec = job.get("pipelineSpec")
    info = spec.get("pipelineInfo") if isinstance(spec, dict) else None
    pipeline = info.get("name") if isinstance(info, dict) else None
    return EndedRun(
        job=job,
        job_id=job_id_of(job),
        state=state,
        pipeline=pipeline if isinstance(pipeline, str) else "",
        trigger=trigger_of(job),
        end_time=str(job.get("endTime") or ""),
    )


def following(config: Config, run: EndedRun) -> list[Route]:
    """Return the run_ended routes that follow this run: after its route, or its pipeline."""
    return [r for r in config.routes_for(EventKind.RUN_ENDED) if _follows(config, r, run)]


def _follows(config: Config, route: Route, run: EndedRun) -> bool:
    after = route.after
    if after is None:
        return False
    if after.route:  # a run labelled with a former name (renamed_from) is the route's own
        upstream = config.route_named(run.trigger.route) if run.trigger else None
        return upstream is not None and upstream.name == after.route
    return after.pipeline == run.pipeline


def chain_job_id(route: Route, upstream_job: str) -> str:
    """Return the job id of the route's run after ``upstream_job``: one per route and run."""
    return job_id(route.name, upstream_job)


def follow(services: Services, job: Mapping[str, Any], event: Trace) -> list[Outcome]:
    """Launch every run_ended route that follows this run's end; log and return each decision.

    What a retry can fix (a deferral, a transient or deployment failure) is raised with
    ``event`` naming the route and job it stopped at, so the event's one failure line says so.
    """
    run = ended_run(job)
    if run is None:
        return []
    outcomes = []
    for route in following(services.config, run):
        trace = Trace(event.event_id, run.source, route.name, chain_job_id(route, run.job_id))
        try:
            outcome = launch_after(services, route, run, trace)
        except Exception:
            event.source, event.route, event.job = trace.source, trace.route, trace.job
            raise
        services.log(outcome)
        outcomes.append(outcome)
    return outcomes


def launch_after(services: Services, route: Route, run: EndedRun, trace: Trace) -> Outcome:
    """Launch the route's run after ``run`` (``trace.job``), unless its end state is not listed."""
    states = route.after.states if route.after else frozenset()
    if run.state not in states:
        listed = ", ".join(sorted(states))
        return trace.outcome(
            Decision.SKIPPED,
            f"upstream run {run.job_id} ended {run.state}; route {route.name!r} runs after "
            f"{listed} only",
        )
    try:
        refs = [ref for _, _, ref in references(route)]
        values = {**run.placeholder_values(), **output_values(run.job, refs)}
        labels = chain_labels(route, run.source_id, trace.event_id, run.job_id)
        outcome = launch(services, route, values, labels, trace)
    except RejectedEvent as exc:  # this route cannot take this run; the others still may
        return trace.outcome(Decision.REJECTED, str(exc))
    if outcome.decision is Decision.LAUNCHED and not outcome.reason:
        return trace.outcome(Decision.LAUNCHED, f"upstream run {run.job_id} ended {run.state}")
    return outcome


def chain_note(outcomes: list[Outcome]) -> str:
    """Return what the run's end launched, for its event's line ('' when nothing follows it)."""
    if not outcomes:
        return ""
    told = "; ".join(f"route {o.route!r} {o.decision.value} {o.job}" for o in outcomes)
    return f"followed by {told}"


def lost_links(
    services: Services, route: Route, since: datetime, runs: set[str]
) -> Iterator[tuple[str, Attempt]]:
    """Yield (source, attempt) for each upstream run ended since ``since`` in a listed state.

    ``runs`` are the route's own runs: an upstream whose run of the route is among them is a
    duplicate without a call; the others are read (a listing has no jobDetail) and launched.
    Only runs the service made count as a route's runs (under any of its names); a run that
    claims one of our routes but does not verify launches nothing, even for a pipeline upstream.
    """
    for upstream in _upstream_runs(services, route, since):
        run = ended_run(upstream)
        if run is not None:
            yield run.source, _link_attempt(route, run.job_id, runs)


def _upstream_runs(services: Services, route: Route, since: datetime) -> list[dict[str, Any]]:
    """List the upstream runs that ended since ``since`` in a listed state.

    ``after.route`` names a route of the configuration (checked at start-up): its runs, under
    any of its names; else ``after.pipeline``: any run of that pipeline the service made.
    """
    after = route.after
    assert after is not None
    upstream = services.config.route_named(after.route) if after.route else None
    if upstream is not None:
        return route_runs(services, upstream, _ended_since(route, since), page_size=RUNS_PAGE)
    condition = f'pipeline_name="{after.pipeline}" AND {_ended_since(route, since)}'
    listed = services.jobs.list(condition, page_size=RUNS_PAGE)
    return [run for run in listed if not forged(services, run)]


def _ended_since(route: Route, since: datetime) -> str:
    """Return the end time and state part of the upstream filter."""
    after = route.after
    assert after is not None
    states = " OR ".join(f'state="PIPELINE_STATE_{state}"' for state in sorted(after.states))
    return f'end_time>"{filter_time(since)}" AND ({states})'


def _link_attempt(route: Route, upstream_job: str, runs: set[str]) -> Attempt:
    def attempt(services: Services, trace: Trace) -> Outcome:
        trace.job = chain_job_id(route, upstream_job)
        if trace.job in runs:
            return trace.outcome(Decision.DUPLICATE, "its run exists")
        job = services.jobs.get(upstream_job)
        run = ended_run(job) if job is not None else None
        if run is None:
            return trace.outcome(Decision.SKIPPED, f"upstream run {upstream_job} is gone")
        outcome = launch_after(services, route, run, trace)
        if outcome.decision is Decision.LAUNCHED:  # the sweeper's launch: its reason says so
            return trace.outcome(Decision.LAUNCHED)
        return outcome

    return attempt
