"""Why a run of ours was cancelled, read back from Vertex: by the watchdog, or replaced.

Vertex keeps no reason with a cancel, and the trigger keeps no state of its own, so the note is
inferred by the rules that cancel: the watchdog cancels a run live longer than ``max_duration``
(so a run that lasted that long was), and ``overlap: replace`` cancels every live run older than
the newest run of its scope (so the newest run created after it replaced it). A run an operator
cancelled by hand under the same conditions reads the same.
"""

from datetime import UTC, datetime
from typing import Any

from vertex_trigger.config.durations import short_duration
from vertex_trigger.config.labels import SOURCE_LABEL
from vertex_trigger.config.model import Route
from vertex_trigger.google.pipeline_states import NOT_CANCELLED_FILTER
from vertex_trigger.google.resource_names import job_id_of
from vertex_trigger.google.times import filter_time, parse_rfc3339
from vertex_trigger.launch.overlap import replaces, scope_runs
from vertex_trigger.launch.services import Services


def cancelled_note(services: Services, route: Route, job: dict[str, Any]) -> str:
    """Return who cancelled the run, as far as the rules tell, or ''."""
    created, ended = _time(job, "createTime"), _time(job, "endTime")
    lived = (ended - created).total_seconds() if created and ended else 0.0
    if route.max_duration is not None and lived >= route.max_duration:
        return (
            f"cancelled by the watchdog after {short_duration(lived)} live "
            f"(max_duration {short_duration(route.max_duration)})"
        )
    if replaces(route) and created is not None:
        newer = _newer_runs(services, route, job, created)
        if newer:
            return f"replaced by run {job_id_of(newer[-1])} (overlap replace)"
    return ""


def _newer_runs(
    services: Services, route: Route, job: dict[str, Any], created: datetime
) -> list[dict[str, Any]]:
    """Return the runs of the job's scope created after it and not cancelled, oldest first."""
    source = str((job.get("labels") or {}).get(SOURCE_LABEL, ""))
    condition = f'{NOT_CANCELLED_FILTER} AND create_time>="{filter_time(created)}"'
    runs = scope_runs(services, route, source, condition, order_by="create_time")
    order = (created, job_id_of(job))
    newer = [run for run in runs if (_time(run, "createTime") or created, job_id_of(run)) > order]
    return sorted(newer, key=lambda run: (_time(run, "createTime") or created, job_id_of(run)))


def _time(job: dict[str, Any], field: str) -> datetime | None:
    moment = parse_rfc3339(str(job.get(field) or ""))
    return moment.astimezone(UTC) if moment else None
