"""The sweeper's work on a route besides missed objects: its watchdog and its retries.

Every route (of any kind) comes here once per sweep: ``max_duration`` cancels runs live too long
(``watchdog.py``), ``retry_failed`` launches the retries that on_run_state left to the sweeper
(``retries_of_failed.py``).
"""

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from vertex_trigger.config.model import Route
from vertex_trigger.decisions import Outcome
from vertex_trigger.launch.services import Services
from vertex_trigger.triggers.retries_of_failed import sweep_retries
from vertex_trigger.triggers.watchdog import watch

Log = Callable[[Outcome], None]


def sweep_lifecycle(
    services: Services, route: Route, sweep_id: str, started: datetime, log: Log
) -> Counter[str]:
    """Run the route's watchdog, then its retries; return the count of each decision."""
    counts: Counter[str] = Counter()
    if route.max_duration is not None:
        counts.update(watch(services, route, sweep_id, started, log))
    if route.retry_failed is not None:
        counts.update(sweep_retries(services, route, sweep_id, started, log))
    return counts
