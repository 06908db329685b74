"""A run like an existing one, by hand (``vertex-triggers rerun JOB``), under ``ORIGINAL-rerun-N``.

The rerun copies JOB (its spec as sent, parameters, the labels of its trigger: launch/relaunch.py),
labelled ``trigger-rerun-of`` with JOB, under the next rerun id of JOB's original run: N is one
more than the highest rerun of it that Vertex lists, so two operators rerunning at once meet on
one id and Vertex's 409 admits one. It goes through the route's limits and overlap policy like any
launch; a paused route is not rerun until it is resumed.
"""

from dataclasses import dataclass
from typing import Any

from vertex_trigger.config.labels import (
    AUTH_LABEL,
    MAX_LABELS,
    RERUN_OF_LABEL,
    SOURCE_LABEL,
    VERTEX_LABELS,
)
from vertex_trigger.config.model import Route
from vertex_trigger.decisions import Outcome, Trace
from vertex_trigger.google.resource_names import job_id_of
from vertex_trigger.launch.identity import trigger_of
from vertex_trigger.launch.launcher import submit
from vertex_trigger.launch.lineage import original_of, rerun_id, rerun_number
from vertex_trigger.launch.relaunch import relaunch_body
from vertex_trigger.launch.route_runs import route_runs
from vertex_trigger.launch.services import Services


class RerunError(Exception):
    """JOB cannot be rerun here: no such run, not a run of these routes, or its route paused."""


@dataclass(frozen=True)
class RerunPlan:
    """The rerun of ``of``: its route, its new job id and its create body."""

    route: Route
    of: str
    job: str
    body: dict[str, Any]


def plan_rerun(services: Services, job_id: str) -> RerunPlan:
    """Read JOB and return its rerun's id and body; raise RerunError saying why not."""
    job = services.jobs.get(job_id)
    if job is None:
        raise RerunError(f"Vertex AI has no run {job_id}")
    trigger = trigger_of(job)
    route = services.config.route_named(trigger.route) if trigger else None
    if route is None:
        raise RerunError(f"{job_id} is not a run of this configuration's routes")
    if not services.run_key.made(job):  # a copy would carry our label: never of a forged run
        raise RerunError(
            f"{job_id} is not a run the trigger service made: its {AUTH_LABEL} label does not "
            "verify"
        )
    paused = services.paused_reason(route.name)
    if paused:
        raise RerunError(f"{paused}: resume it first")
    body = relaunch_body(job, RERUN_OF_LABEL, job_id)
    if len(body["labels"]) + len(VERTEX_LABELS) > MAX_LABELS:
        raise RerunError(
            f"{job_id} has {len(body['labels']) - 1} labels: with {RERUN_OF_LABEL} and Vertex "
            f"AI's own, a rerun would pass the {MAX_LABELS} a run may have"
        )
    original = original_of(job_id)
    number = _next_rerun(services, route, job, original)
    return RerunPlan(route, job_id, rerun_id(original, number), body)


def rerun(services: Services, plan: RerunPlan, trace: Trace) -> Outcome:
    """Create the rerun within the route's limits and overlap policy."""
    trace.route, trace.job = plan.route.name, plan.job
    trace.source = str(plan.body.get("displayName") or "")
    return submit(services, plan.route, plan.body, trace)


def _next_rerun(services: Services, route: Route, job: dict[str, Any], original: str) -> int:
    """Return one more than the highest rerun of ``original`` among its source's runs."""
    labels = job.get("labels") or {}
    runs = route_runs(services, route, f'labels.{SOURCE_LABEL}="{labels.get(SOURCE_LABEL, "")}"')
    return 1 + max((rerun_number(job_id_of(run), original) for run in runs), default=0)
