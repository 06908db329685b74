"""Model Monitoring v2 (ModelMonitor) anomalies, as its Cloud Logging export delivers them.

The v1beta1 ``ModelMonitoringNotificationSpec.enable_cloud_logging`` writes
``google.cloud.aiplatform.logging.ModelMonitoringAnomaliesLogEntry``, a proto googleapis does not
publish. Its content is the published v1beta1 anomaly (model_monitoring_alert.proto), accepted in
each wrapping the API uses: ``ModelMonitoringAnomaly`` (``modelMonitoringJob``, ``algorithm``,
``tabularAnomaly``), ``ModelMonitoringAlert`` (``statsName``, ``objectiveType``, ``alertTime``,
``anomaly``) and a list of alerts (``modelMonitoringAlerts``, as SearchModelMonitoringAlerts).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vertex_trigger.events.drift_alerts import fields
from vertex_trigger.events.drift_alerts.alert import (
    AlertForm,
    DriftAlert,
    FeatureDeviation,
    VertexNames,
)
from vertex_trigger.events.drift_alerts.forms import Context, Form

_JOBS = "/modelMonitoringJobs/"


@dataclass(frozen=True)
class _Reported:
    """One reported anomaly, with the alert around it (the anomaly itself when unwrapped)."""

    alert: Mapping[str, Any]
    anomaly: Mapping[str, Any]
    where: str  # path of the anomaly, for error messages ('' at the top level)

    def at(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name


def parse(payload: Mapping[str, Any], context: Context) -> DriftAlert:
    """Read one alert, one anomaly or a list of alerts into one drift alert."""
    reported = _reported(payload)
    first = reported[0]
    job = fields.text(first.anomaly, "modelMonitoringJob", first.at("modelMonitoringJob"),
                      required=True)  # fmt: skip
    return DriftAlert(
        form=AlertForm.V2_ANOMALIES,
        names=VertexNames(monitoring_job=job).or_else(context.names),
        objective=fields.text(first.alert, "objectiveType"),
        features=tuple(_feature(item) for item in reported),
        source=job.split(_JOBS)[0],  # the ModelMonitor: each scheduled run is a new job
        in_log_entry=context.in_log_entry,
    )


def _reported(payload: Mapping[str, Any]) -> list[_Reported]:
    """Return each anomaly in the payload with its alert."""
    if not fields.has(payload, "modelMonitoringAlerts"):
        return [_unwrapped(payload, "")]
    listed = fields.items(payload, "modelMonitoringAlerts")
    if not listed:
        raise fields.rejected("modelMonitoringAlerts", "must list at least one alert", listed)
    return [
        _unwrapped(fields.entry(raw, f"modelMonitoringAlerts[{i}]"), f"modelMonitoringAlerts[{i}]")
        for i, raw in enumerate(listed)
    ]


def _unwrapped(alert: Mapping[str, Any], where: str) -> _Reported:
    """Return the anomaly of a ModelMonitoringAlert, or a bare ModelMonitoringAnomaly as is."""
    if not fields.has(alert, "anomaly"):
        return _Reported(alert, alert, where)
    inner = f"{where}.anomaly" if where else "anomaly"
    return _Reported(alert, fields.obj(alert, "anomaly", inner, required=True), inner)


def _feature(item: _Reported) -> FeatureDeviation:
    at = item.at("tabularAnomaly")
    tabular = fields.obj(item.anomaly, "tabularAnomaly", at, required=True)
    body = fields.pick(tabular, "anomaly")
    threshold = fields.pick(fields.obj(tabular, "condition", f"{at}.condition"), "threshold")
    if threshold is None and isinstance(body, dict):
        threshold = fields.pick(body, "thresholdValue")
    return FeatureDeviation(
        name=fields.text(item.alert, "statsName"),
        deviation=_deviation(body, f"{at}.anomaly"),
        threshold=fields.optional_number(threshold, f"{at}.condition.threshold"),
    )


def _deviation(body: Any, where: str) -> float | None:
    """Return the anomaly body's figure: a number, or a ModelMonitoringStatsDataPoint's."""
    if not isinstance(body, dict):
        return None if body is None or isinstance(body, list) else fields.number(body, where)
    current = fields.obj(body, "currentStats", f"{where}.currentStats")
    distribution = fields.obj(
        current, "distributionValue", f"{where}.currentStats.distributionValue"
    )
    if fields.has(current, "distributionValue"):
        # proto3 JSON leaves out zero values: a distribution without a deviation deviated by 0.
        value = fields.pick(distribution, "distributionDeviation") or 0
        return fields.number(value, f"{where}.currentStats.distributionValue.distributionDeviation")
    for key, at in (("doubleValue", current), ("distributionDeviation", body), ("value", body)):
        if fields.pick(at, key) is not None:
            return fields.number(fields.pick(at, key), f"{where}.{key}")
    return None


FORM = Form(
    "Model Monitoring v2 anomalies", ("tabularAnomaly", "modelMonitoringAlerts", "anomaly"), parse
)
