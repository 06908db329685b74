"""Cancel the runs a settled race left over (cooldown, overlap), saying what happened."""

from typing import Any

from vertex_trigger.errors import DeploymentError, TransientError
from vertex_trigger.google.resource_names import job_id_of
from vertex_trigger.launch.services import Services


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
