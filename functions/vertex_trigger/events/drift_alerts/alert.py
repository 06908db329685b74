"""The drift alert every accepted form becomes: what drifted, by how much, and from where."""

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from vertex_trigger.events.drift_alerts.match_fields import INCIDENT_FIELDS


class AlertForm(enum.StrEnum):
    """Which accepted shape the alert arrived in (a LogEntry wrapper is noted apart)."""

    CANONICAL = "canonical"
    INCIDENT = "incident"
    # Vertex AI Model Monitoring's logged anomalies share a prefix: `form: monitoring_*` globs all.
    ANOMALY_LOG = "monitoring_v1_anomalies"
    STATS_ANOMALIES = "monitoring_v1_stats"
    V2_ANOMALIES = "monitoring_v2"


class IncidentState(enum.StrEnum):
    """The states a Cloud Monitoring incident notification reports."""

    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class FeatureDeviation:
    """One feature's distance from its baseline (None when the alert gives no figure)."""

    name: str
    deviation: float | None
    threshold: float | None


@dataclass(frozen=True)
class VertexNames:
    """The Vertex AI resources an alert is about, as full resource names where known."""

    model: str = ""
    endpoint: str = ""
    monitoring_job: str = ""
    deployed_model_id: str = ""

    def or_else(self, other: "VertexNames") -> "VertexNames":
        """Return these names, each empty one filled from ``other``."""
        return VertexNames(
            model=self.model or other.model,
            endpoint=self.endpoint or other.endpoint,
            monitoring_job=self.monitoring_job or other.monitoring_job,
            deployed_model_id=self.deployed_model_id or other.deployed_model_id,
        )


@dataclass(frozen=True)
class Incident:
    """What a Cloud Monitoring incident notification adds to an alert."""

    incident_id: str
    state: IncidentState
    policy: str
    condition: str
    summary: str
    observed_value: str  # as sent, for placeholders and globs
    threshold_value: str
    observed: float | None  # observed_value as a number, for min_deviation
    policy_labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


NO_NAMES = VertexNames()


@dataclass(frozen=True)
class DriftAlert:
    """A drift alert, whatever form it came in."""

    form: AlertForm
    names: VertexNames = NO_NAMES
    objective: str = ""
    features: tuple[FeatureDeviation, ...] = ()
    # What the alert is about when it names no model (job and deployed model, policy and
    # resource): the cooldown and the run label identify the alert's subject by this.
    source: str = ""
    in_log_entry: bool = False
    incident: Incident | None = None

    @property
    def model(self) -> str:
        """Return the model resource name ('' when the alert does not say)."""
        return self.names.model

    @property
    def endpoint(self) -> str:
        """Return the endpoint resource name ('' when the alert does not say)."""
        return self.names.endpoint

    @property
    def monitoring_job(self) -> str:
        """Return the monitoring job resource name ('' when the alert does not say)."""
        return self.names.monitoring_job

    @property
    def deployed_model_id(self) -> str:
        """Return the deployed model id ('' when the alert does not say)."""
        return self.names.deployed_model_id

    @property
    def max_deviation(self) -> float | None:
        """Return the largest deviation (an incident's observed value); None when unmeasured."""
        if self.incident is not None:
            return self.incident.observed
        known = [f.deviation for f in self.features if f.deviation is not None]
        if known:
            return max(known)
        return None if self.features else 0.0

    @property
    def model_key(self) -> str:
        """Return what identifies the drifting model (or the alert's subject) for cooldowns."""
        return self.model or self.source

    @property
    def occurrence(self) -> str:
        """Return what identifies this occurrence across re-notifications ('' if nothing)."""
        return self.incident.incident_id if self.incident is not None else ""

    @property
    def closed(self) -> bool:
        """Tell whether the alert reports a problem that has ended."""
        return self.incident is not None and self.incident.state is IncidentState.CLOSED

    @property
    def policy_labels(self) -> Mapping[str, str]:
        """Return the alerting policy's user labels (none outside incidents)."""
        return self.incident.policy_labels if self.incident is not None else MappingProxyType({})

    def describe(self) -> str:
        """Say what the alert is about, for log reasons."""
        return f"model {self.model!r}" if self.model else f"source {self.model_key!r}"

    def match_fields(self) -> dict[str, str]:
        """Return the fields a route's ``match`` globs are tested against."""
        incident = self.incident
        return {
            "model": self.model,
            "endpoint": self.endpoint,
            "monitoring_job": self.monitoring_job,
            "deployed_model_id": self.deployed_model_id,
            "objective": self.objective,
            "form": self.form.value,
            **{name: getattr(incident, name) if incident else "" for name in INCIDENT_FIELDS},
        }

    def placeholder_values(self, event_id: str, event_time: str) -> dict[str, str]:
        """Return the text each drift placeholder stands for."""
        deviation = self.max_deviation
        return {
            **self.match_fields(),
            "features": ",".join(f.name for f in self.features),
            "max_deviation": "" if deviation is None else repr(deviation),
            "event_id": event_id,
            "event_time": event_time,
        }
