"""The collaborators a handler needs, built once per instance and passed in."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from vertex_trigger.config import Config
from vertex_trigger.gcs_objects import GcsObjects
from vertex_trigger.retrying import Budget
from vertex_trigger.templates import TemplateStore
from vertex_trigger.vertex import PipelineJobs


@dataclass(frozen=True)
class Services:
    """Configuration plus the template cache, the launcher, bucket listings and a clock."""

    config: Config
    templates: TemplateStore
    jobs: PipelineJobs
    now: Callable[[], datetime]
    storage: GcsObjects  # lists batch folders and reads manifests; the sweeper lists prefixes

    def for_event(self, budget: Budget) -> "Services":
        """Return these services with every Google API call drawing on one event's ``budget``."""
        return replace(
            self,
            templates=self.templates.with_budget(budget),
            jobs=self.jobs.with_budget(budget),
            storage=self.storage.with_budget(budget),
        )
