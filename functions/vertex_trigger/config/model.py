"""The configuration model: one instance's routes and settings, frozen once read."""

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from vertex_trigger.config.batch import BatchSpec
from vertex_trigger.config.cooldown_counts import DEFAULT as DEFAULT_COOLDOWN_COUNTS
from vertex_trigger.config.cooldown_counts import CooldownCounts
from vertex_trigger.config.lifecycle import Overlap, RetryFailed
from vertex_trigger.config.notify import Notify
from vertex_trigger.config.partitions import Partitions
from vertex_trigger.config.state_location import DEFAULT_PAUSE_CHECK, StateLocation
from vertex_trigger.config.template_ref import TemplateRef
from vertex_trigger.config.upstream import Upstream
from vertex_trigger.google.retries import RetryPolicy

# How many run_ended links a chain may have after its first run, unless max_chain_depth says.
DEFAULT_MAX_CHAIN_DEPTH = 5
# Below the sweep function's default timeout (300 s in terraform/), so a sweep ends, logs and
# answers before the platform cuts it off.
SWEEP_DEADLINE = 240.0


class EventKind(enum.StrEnum):
    """The event a route listens to."""

    OBJECT_FINALIZED = "object_finalized"
    DRIFT_ALERT = "drift_alert"
    RUN_ENDED = "run_ended"  # another run ended: a chain's next link


@dataclass(frozen=True)
class Route:
    """One configured trigger: which events, which template, which parameters."""

    name: str
    event: EventKind
    template: TemplateRef
    parameters: Mapping[str, Any]
    labels: Mapping[str, str]
    enable_caching: bool | None
    input_artifacts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    bucket: str = ""
    prefix: str = ""
    suffix: str = ""
    match: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    policy_labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    min_deviation: float | None = None
    cooldown: float | None = None  # seconds
    cooldown_counts: CooldownCounts = DEFAULT_COOLDOWN_COUNTS
    notify: Notify | None = None
    batch: BatchSpec | None = None
    sweep_lookback: float | None = None  # seconds; None: the sweeper leaves the route alone
    partitions: Partitions | None = None  # how names carry the date; None: list the whole prefix
    max_running: int | None = None
    max_runs_per_day: int | None = None
    after: Upstream | None = None  # run_ended routes: the runs whose ends launch this route
    overlap: Overlap | None = None  # what a launch does while a run of its scope is live
    max_duration: float | None = None  # seconds; the sweeper's watchdog cancels longer runs
    retry_failed: RetryFailed | None = None  # failed runs are launched again
    renamed_from: tuple[str, ...] = ()  # former names: their runs are this route's

    @property
    def names(self) -> tuple[str, ...]:
        """Return the route's name, then its former names (what its runs may be labelled)."""
        return (self.name, *self.renamed_from)


@dataclass(frozen=True)
class Config:
    """The whole configuration of one instance."""

    path: Path
    project: str
    region: str
    pipeline_root: str
    service_account: str | None
    network: str | None
    kms_key: str | None
    routes: tuple[Route, ...]
    retry: RetryPolicy
    outcomes_topic: str | None = None  # where on_run_state publishes how runs ended
    max_chain_depth: int = DEFAULT_MAX_CHAIN_DEPTH
    state: StateLocation | None = None  # where route pauses live (None: routes cannot pause)
    pause_check: float = DEFAULT_PAUSE_CHECK  # seconds an instance trusts a pause read
    sweep_deadline: float = SWEEP_DEADLINE  # seconds one sweep may take, every route included
    parking: str | None = None  # gs://BUCKET/PREFIX: where deferred events wait for the sweeper

    def route_named(self, name: str) -> Route | None:
        """Return the route called ``name`` now or before (``renamed_from``), if there is one."""
        return next((r for r in self.routes if name in r.names), None)

    def routes_for(self, event: EventKind) -> tuple[Route, ...]:
        """Return the routes listening to ``event``, in file order."""
        return tuple(r for r in self.routes if r.event is event)
