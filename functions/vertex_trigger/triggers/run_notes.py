"""What ``on_run_state`` adds to an outcome: retries, the last attempt, the watchdog, replacing.

A FAILED run of a route with ``retry_failed`` is retried here (or its retry left to the sweeper),
and its outcome says which attempt it was and what follows, the last attempt saying so. A
CANCELLED run says why, as far as the rules tell (``reporting/cancel_notes.py``).
"""

from typing import Any

from vertex_trigger.config.model import Route
from vertex_trigger.google.pipeline_states import EndState
from vertex_trigger.google.resource_names import job_id_of
from vertex_trigger.launch.lineage import attempt_of
from vertex_trigger.launch.services import Services
from vertex_trigger.reporting.cancel_notes import cancelled_note
from vertex_trigger.triggers.retries_of_failed import attempts, note_after_failure


def lifecycle_note(
    services: Services, route: Route, job: dict[str, Any], state: EndState, event_id: str
) -> str:
    """Return the note of a run's end: retried, last attempt, watchdog, replaced; or ''."""
    if state is EndState.FAILED and route.retry_failed is not None:
        return note_after_failure(services, route, job, event_id)
    if state is EndState.CANCELLED:
        return cancelled_note(services, route, job)
    if route.retry_failed is not None and attempt_of(job_id_of(job)) > 1:
        return attempts(route.retry_failed, job_id_of(job)).describe()
    return ""
