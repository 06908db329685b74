"""Route key ``retry_failed``: a run that ended FAILED is launched again, up to ``attempts`` runs.

The retry is the failed run again (its spec as sent, parameters, labels, service account, network
and key: ``launch/relaunch.py``) under the id of its next attempt (``JOB-attempt-2``, ...), labelled
``trigger-retry-of`` with the run it retries. ``on_run_state`` launches it when the failure is
reported (``after`` unset), the sweeper once ``after`` has passed (and whatever on_run_state could
not: a deferral, a lost log entry); both compute the same id, so Vertex's 409 admits one create.
A retry counts toward the route's limits and goes through its overlap policy like any launch.

Completed tasks: Vertex's execution cache reuses a task whose inputs and component are unchanged
(docs/configuration.md#retrying-failed-runs); a retry sends the failed run's own spec, so it keeps
the route's caching choice: with ``enable_caching: false`` every task runs again.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from vertex_trigger.config.labels import RETRY_OF_LABEL, SOURCE_LABEL
from vertex_trigger.config.lifecycle import RetryFailed
from vertex_trigger.config.model import Route
from vertex_trigger.decisions import Decision, Outcome, Trace
from vertex_trigger.errors import DeferredEvent, DeploymentError, RejectedEvent, TransientError
from vertex_trigger.google.api_calls import spending
from vertex_trigger.google.pipeline_states import FAILED, NOT_CANCELLED_FILTER
from vertex_trigger.google.resource_names import job_id_of
from vertex_trigger.google.retries import Budget
from vertex_trigger.google.times import filter_time, parse_rfc3339
from vertex_trigger.launch.launcher import submit
from vertex_trigger.launch.lineage import attempt_of, next_attempt, original_of
from vertex_trigger.launch.overlap import scope_runs
from vertex_trigger.launch.relaunch import relaunch_body
from vertex_trigger.launch.route_runs import route_runs
from vertex_trigger.launch.services import Services
from vertex_trigger.triggers.failures import NEXT_SWEEP, Log, failure_outcome

# The sweeper retries failures that ended this recently (a retry skipped by the daily budget is
# tried again by each sweep until then).
RETRY_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Attempts:
    """Which attempt a run is, out of how many the route allows."""

    number: int
    allowed: int

    @property
    def last(self) -> bool:
        """Tell whether no retry follows this run."""
        return self.number >= self.allowed

    def describe(self) -> str:
        """Return ``attempt N of M``."""
        return f"attempt {self.number} of {self.allowed}"


def attempts(setting: RetryFailed, job_id: str) -> Attempts:
    """Return which attempt ``job_id`` is under the route's ``retry_failed``."""
    return Attempts(attempt_of(job_id), setting.attempts)


def retry(services: Services, route: Route, failed: dict[str, Any], trace: Trace) -> Outcome:
    """Launch the retry of a failed run under its next attempt's id, within the route's limits."""
    failed_id = job_id_of(failed)
    trace.job = next_attempt(failed_id)
    newer = _superseded_by(services, route, failed)
    if newer:
        return trace.outcome(
            Decision.SKIPPED, f"not retried: run {newer} of its scope is newer ({_overlap(route)})"
        )
    return submit(services, route, relaunch_body(failed, RETRY_OF_LABEL, failed_id), trace)


def note_after_failure(
    services: Services, route: Route, failed: dict[str, Any], event_id: str
) -> str:
    """Retry a failed run now, unless ``after`` asks to wait; return what its outcome says."""
    setting = route.retry_failed
    assert setting is not None  # only routes that retry come here
    count = attempts(setting, job_id_of(failed))
    if count.last:
        return f"{count.describe()}, the last: not retried"
    retry_id = next_attempt(job_id_of(failed))
    paused = services.paused_reason(route.name)
    if paused:
        return f"{count.describe()}: {paused}; the sweeper retries it as {retry_id} once resumed"
    if setting.after:
        wait = f"{setting.after:g}s after it failed"
        return f"{count.describe()}: the sweeper retries it as {retry_id} {wait}"
    trace = Trace(event_id, source=str(failed.get("displayName") or ""), route=route.name)
    try:
        outcome = retry(services, route, failed, trace)
    except DeferredEvent as exc:  # the sweeper launches it once there is room
        return f"{count.describe()}: retry {retry_id} waits ({exc}); the sweeper launches it"
    except RejectedEvent as exc:
        return f"{count.describe()}: retry {retry_id} refused: {exc}"
    return f"{count.describe()}: {_retried(outcome)}"


def sweep_retries(
    services: Services, route: Route, sweep_id: str, started: datetime, log: Log
) -> Counter[str]:
    """Retry the route's recent failures that have no retry yet and waited ``after``."""
    setting = route.retry_failed
    assert setting is not None
    since = filter_time(started - RETRY_WINDOW)
    # Only runs the service made (launch/route_runs.py): a forged failure gets no retry.
    failed = route_runs(services, route, f'state="{FAILED}" AND end_time>"{since}"')
    retried = route_runs(services, route, f'labels.{RETRY_OF_LABEL}:* AND create_time>"{since}"')
    known = {job_id_of(run) for run in retried}
    due = started - timedelta(seconds=setting.after)
    counts: Counter[str] = Counter()
    for run in sorted(failed, key=lambda run: str(run.get("endTime", ""))):
        if attempts(setting, job_id_of(run)).last or next_attempt(job_id_of(run)) in known:
            continue
        if (parse_rfc3339(str(run.get("endTime", ""))) or started) > due:
            continue  # ``after`` has not passed yet
        outcome = _sweep_one(services, route, run, Trace(sweep_id, route=route.name))
        counts[outcome.decision.value] += 1
        if outcome.decision is not Decision.DUPLICATE:
            log(outcome)
        if outcome.decision in (Decision.DEFERRED, Decision.FAILED):
            break  # the next creates would fare no better
    return counts


def _sweep_one(services: Services, route: Route, run: dict[str, Any], trace: Trace) -> Outcome:
    """Retry one failure on its own budget; what it raises is its outcome."""
    trace.source = str(run.get("displayName") or "")
    assert route.retry_failed is not None  # only routes with retry_failed are swept for retries
    count = attempts(route.retry_failed, job_id_of(run))
    try:
        with spending(Budget(services.config.retry)):
            # The listing may leave out the spec: read the run whole before copying it.
            failed = services.jobs.get(job_id_of(run)) or run
            outcome = retry(services, route, failed, trace)
    except (RejectedEvent, DeferredEvent, TransientError, DeploymentError) as exc:
        return failure_outcome(exc, trace, NEXT_SWEEP)
    if outcome.decision is Decision.LAUNCHED:
        why = f"retry of {job_id_of(run)} ({count.describe()} failed): launched by the sweeper"
        return trace.outcome(Decision.LAUNCHED, "; ".join(filter(None, [why, outcome.reason])))
    return outcome


def _retried(outcome: Outcome) -> str:
    if outcome.decision is Decision.LAUNCHED:
        return f"retried as {outcome.job}"
    if outcome.decision is Decision.DUPLICATE:
        return f"retried as {outcome.job} (already launched)"
    return f"retry {outcome.job} not launched: {outcome.reason}"


def _superseded_by(services: Services, route: Route, failed: dict[str, Any]) -> str:
    """Return a newer run of the failed run's overlap scope, which a retry must not undo, or ''.

    Only on routes with ``overlap``: a retry of an older source would otherwise replace, or queue
    behind, the run of newer data.
    """
    if route.overlap is None:
        return ""
    source = str((failed.get("labels") or {}).get(SOURCE_LABEL, ""))
    created = _created(failed)
    # Whole seconds: the run's own second is listed, then compared.
    condition = f'{NOT_CANCELLED_FILTER} AND create_time>="{filter_time(created)}"'
    lineage = original_of(job_id_of(failed))
    newer = [
        run
        for run in scope_runs(services, route, source, condition)
        if _created(run) > created and original_of(job_id_of(run)) != lineage
    ]
    return job_id_of(newer[0]) if newer else ""


def _created(run: dict[str, Any]) -> datetime:
    return parse_rfc3339(str(run.get("createTime", ""))) or datetime.min.replace(tzinfo=UTC)


def _overlap(route: Route) -> str:
    return route.overlap.describe() if route.overlap else ""
