"""The collaborators a handler needs, built once per instance and passed in."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from vertex_trigger.config import Config
from vertex_trigger.delivery import Publisher, WebhookPoster
from vertex_trigger.gcs_objects import GcsObjects
from vertex_trigger.retrying import Budget
from vertex_trigger.templates import TemplateStore
from vertex_trigger.vertex import PipelineJobs


@dataclass(frozen=True)
class Services:
    """Configuration, template cache, launcher, clock, bucket listings and outcome senders."""

    config: Config
    templates: TemplateStore
    jobs: PipelineJobs
    now: Callable[[], datetime]
    storage: GcsObjects  # lists batch folders and reads manifests; the sweeper lists prefixes
    publisher: Publisher | None = None
    webhooks: WebhookPoster | None = None

    def for_event(self, budget: Budget) -> "Services":
        """Return these services with every Google API call drawing on one event's ``budget``."""
        return replace(
            self,
            templates=self.templates.with_budget(budget),
            jobs=self.jobs.with_budget(budget),
            storage=self.storage.with_budget(budget),
            publisher=self.publisher.with_budget(budget) if self.publisher else None,
            webhooks=self.webhooks.with_budget(budget) if self.webhooks else None,
        )
