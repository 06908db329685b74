"""Drift alerts in the three accepted forms: canonical, LogEntry, and Model Monitoring payload."""

import enum
import math
from dataclasses import dataclass
from typing import Any

from vertex_trigger.cloud_events import json_object
from vertex_trigger.errors import RejectedEvent, excerpt


class AlertForm(enum.StrEnum):
    """Which of the accepted shapes the alert arrived in."""

    CANONICAL = "canonical"
    LOG_ENTRY = "log_entry"
    MONITORING_PAYLOAD = "monitoring_payload"


@dataclass(frozen=True)
class FeatureDeviation:
    """One feature's distance from its baseline."""

    name: str
    deviation: float
    threshold: float | None


@dataclass(frozen=True)
class DriftAlert:
    """A drift alert, whatever form it came in."""

    form: AlertForm
    model: str
    endpoint: str
    monitoring_job: str
    deployed_model_id: str
    objective: str
    features: tuple[FeatureDeviation, ...]

    @property
    def max_deviation(self) -> float:
        """Return the largest deviation in the alert (0 when it lists no feature)."""
        return max((f.deviation for f in self.features), default=0.0)

    @property
    def model_key(self) -> str:
        """Return what identifies the drifting model for cooldowns."""
        return self.model or f"{self.monitoring_job}/{self.deployed_model_id}"

    def match_fields(self) -> dict[str, str]:
        """Return the fields a route's ``match`` globs are tested against."""
        return {
            "model": self.model,
            "endpoint": self.endpoint,
            "monitoring_job": self.monitoring_job,
            "deployed_model_id": self.deployed_model_id,
            "objective": self.objective,
        }

    def placeholder_values(self, event_id: str, event_time: str) -> dict[str, str]:
        """Return the text each drift placeholder stands for."""
        return {
            **self.match_fields(),
            "features": ",".join(f.name for f in self.features),
            "max_deviation": repr(self.max_deviation),
            "event_id": event_id,
            "event_time": event_time,
        }


def parse_drift_alert(data: bytes) -> DriftAlert:
    """Parse Pub/Sub message data into a DriftAlert; raise RejectedEvent naming the problem."""
    payload = json_object(data, "drift alert")
    if "jsonPayload" in payload:
        inner = payload["jsonPayload"]
        if not isinstance(inner, dict):
            raise RejectedEvent("LogEntry 'jsonPayload' must be an object")
        return _monitoring_payload(inner, AlertForm.LOG_ENTRY)
    if "featureAnomalies" in payload or "modelDeploymentMonitoringJob" in payload:
        return _monitoring_payload(payload, AlertForm.MONITORING_PAYLOAD)
    if "features" in payload:
        return _canonical(payload)
    raise RejectedEvent(
        "not a drift alert: expected 'features' (canonical form), 'jsonPayload' (LogEntry) "
        "or 'featureAnomalies' (Model Monitoring anomaly payload)"
    )


def _canonical(payload: dict[str, Any]) -> DriftAlert:
    features = _list(payload, "features")
    return DriftAlert(
        form=AlertForm.CANONICAL,
        model=_text(payload, "model", required=True),
        endpoint=_text(payload, "endpoint"),
        monitoring_job=_text(payload, "monitoring_job"),
        deployed_model_id=_text(payload, "deployed_model_id", numeric_id=True),
        objective=_text(payload, "objective"),
        features=tuple(_feature(f, i, "features", "name") for i, f in enumerate(features)),
    )


def _monitoring_payload(payload: dict[str, Any], form: AlertForm) -> DriftAlert:
    anomalies = _list(payload, "featureAnomalies")
    return DriftAlert(
        form=form,
        model=_text(payload, "model"),
        endpoint=_text(payload, "endpoint"),
        monitoring_job=_text(payload, "modelDeploymentMonitoringJob", required=True),
        deployed_model_id=_text(payload, "deployedModelId", numeric_id=True),
        objective=_text(payload, "anomalyObjective"),
        features=tuple(
            _feature(f, i, "featureAnomalies", "featureDisplayName")
            for i, f in enumerate(anomalies)
        ),
    )


def _text(
    payload: dict[str, Any], key: str, *, required: bool = False, numeric_id: bool = False
) -> str:
    value = payload.get(key)
    if value is None and not required:
        return ""
    if numeric_id and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)  # deployedModelId is an int64 id, sometimes sent as a bare number
    if not isinstance(value, str) or (required and not value):
        raise RejectedEvent(
            f"drift alert field {key!r} must be a non-empty string, got {excerpt(value)}"
        )
    return value


def _list(payload: dict[str, Any], key: str) -> list[Any]:
    value = payload.get(key)
    if not isinstance(value, list):
        raise RejectedEvent(f"drift alert field {key!r} must be a list, got {excerpt(value)}")
    return value


def _feature(raw: Any, index: int, list_key: str, name_key: str) -> FeatureDeviation:
    where = f"{list_key}[{index}]"
    if not isinstance(raw, dict):
        raise RejectedEvent(f"drift alert field {where!r} must be an object, got {excerpt(raw)}")
    name = raw.get(name_key)
    if not isinstance(name, str) or not name:
        raise RejectedEvent(f"drift alert field '{where}.{name_key}' must be a non-empty string")
    threshold = raw.get("threshold")
    return FeatureDeviation(
        name=name,
        deviation=_number(raw.get("deviation"), f"{where}.deviation"),
        threshold=None if threshold is None else _number(threshold, f"{where}.threshold"),
    )


def _number(value: Any, where: str) -> float:
    """Accept JSON numbers and numeric strings (protobuf JSON may quote them)."""
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise RejectedEvent(
            f"drift alert field {where!r} must be a finite number, got {excerpt(value)}"
        )
    return number
