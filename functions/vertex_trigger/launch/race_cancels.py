"""Settle a race between runs (cooldown, overlap): their order, and cancelling the losers."""

from datetime import UTC, datetime
from typing import Any

from vertex_trigger.errors import DeploymentError, TransientError
from vertex_trigger.google.resource_names import job_id_of
from vertex_trigger.google.times import parse_rfc3339
from vertex_trigger.launch.services import Services


def created_at(run: dict[str, Any]) -> datetime:
    """Return the run's creation time; a run without one sorts last."""
    return parse_rfc3339(str(run.get("createTime", ""))) or datetime.max.replace(tzinfo=UTC)


def race_order(run: dict[str, Any]) -> tuple[datetime, str]:
    """Order runs as every observer does: by creation time, then job id."""
    return created_at(run), job_id_of(run)


def cancel_loser(services: Services, run: dict[str, Any], own_job: str, lost: str) -> str:
    """Cancel ``run`` and say so, naming it as this event's run or another; ``lost``: to what.

    A cancel that fails for a reason a retry can fix is raised (the redelivery gets 409 and
    settles again); a run that finished or is gone is noted: nothing is left to stop.
    """
    name = job_id_of(run)
    which = f"this run {name}" if name == own_job else f"run {name}"
    try:
        result = services.jobs.cancel(name)
    except (TransientError, DeploymentError) as exc:
        raise type(exc)(f"could not cancel {which}, which {lost}: {exc}") from None
    if result.accepted:
        return f"cancelled {which}"
    return f"could not cancel {which}: {result.refusal}"
