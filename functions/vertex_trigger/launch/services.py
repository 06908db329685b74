"""The collaborators a handler needs, built once per instance and passed in."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from vertex_trigger.config.model import Config
from vertex_trigger.decisions import Outcome, write_log
from vertex_trigger.google.storage import Storage
from vertex_trigger.google.vertex import PipelineJobs
from vertex_trigger.launch.run_key import RunKey
from vertex_trigger.launch.templates import TemplateStore

if TYPE_CHECKING:  # loaded only by the instances that use them (see startup.build_services)
    from vertex_trigger.google.pubsub import Publisher
    from vertex_trigger.google.webhook import WebhookPoster
    from vertex_trigger.launch.pauses import PauseBoard


@dataclass(frozen=True)
class Services:
    """Configuration, template cache, launcher, clock, bucket listings and outcome senders.

    Every Google API call they make draws on the budget of the event being handled
    (``google.api_calls.spending``): one budget per event, whichever client spends it.
    """

    config: Config
    templates: TemplateStore
    jobs: PipelineJobs
    now: Callable[[], datetime]
    storage: Storage  # lists batch folders and reads manifests; the sweeper lists prefixes
    run_key: RunKey  # labels our runs and tells them from runs anyone else created
    publisher: "Publisher | None" = None  # only where run ends are reported (on_run_state)
    webhooks: "WebhookPoster | None" = None
    # Where a handler writes the decision lines it makes besides its event's own (a run's end
    # launching run_ended routes: one line per route); the tools record them instead.
    log: Callable[[Outcome], None] = write_log
    pauses: "PauseBoard | None" = None  # route pauses, when the configuration has a state location

    def paused_reason(self, route: str) -> str:
        """Return why the route may not launch now (it is paused), or '' (never without pauses)."""
        return self.pauses.paused_reason(route) if self.pauses is not None else ""
