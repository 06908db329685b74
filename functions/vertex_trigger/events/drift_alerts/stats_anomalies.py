"""Model Monitoring v1 ``enable_logging`` output: a ``ModelMonitoringStatsAnomalies`` payload.

google/cloud/aiplatform/v1/model_deployment_monitoring_job.proto: ``objective``,
``deployedModelId``, ``anomalyCount``, ``featureStats[]`` of ``{featureDisplayName,
threshold: {value}, trainingStats, predictionStats[]}``; each prediction window is a
``FeatureStatsAnomaly`` (feature_monitoring_stats.proto) with ``distributionDeviation`` and
``anomalyDetectionThreshold``.
"""

from collections.abc import Mapping
from typing import Any

from vertex_trigger.events.drift_alerts import fields
from vertex_trigger.events.drift_alerts.alert import (
    AlertForm,
    DriftAlert,
    FeatureDeviation,
    VertexNames,
)
from vertex_trigger.events.drift_alerts.anomaly_log import deployed_model_source
from vertex_trigger.events.drift_alerts.forms import Context, Form

# ModelDeploymentMonitoringObjectiveType, for encoders that write the enum's number.
OBJECTIVES = (
    "MODEL_DEPLOYMENT_MONITORING_OBJECTIVE_TYPE_UNSPECIFIED",
    "RAW_FEATURE_SKEW",
    "RAW_FEATURE_DRIFT",
    "FEATURE_ATTRIBUTION_SKEW",
    "FEATURE_ATTRIBUTION_DRIFT",
)


def parse(payload: Mapping[str, Any], context: Context) -> DriftAlert:
    """Read the payload; the monitoring job and endpoint come from the enclosing LogEntry."""
    stats = fields.items(payload, "featureStats")
    names = VertexNames(
        deployed_model_id=fields.text(payload, "deployedModelId", numeric_id=True)
    ).or_else(context.names)
    return DriftAlert(
        form=AlertForm.STATS_ANOMALIES,
        names=names,
        objective=objective(fields.pick(payload, "objective")),
        features=tuple(_feature(raw, f"featureStats[{i}]") for i, raw in enumerate(stats)),
        source=deployed_model_source(names),
        in_log_entry=context.in_log_entry,
    )


def objective(value: Any) -> str:
    """Return the objective's enum name, from its name or its number."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(OBJECTIVES):
        return OBJECTIVES[value]
    if value is None or isinstance(value, str):
        return value or ""
    raise fields.rejected("objective", "must be an objective name", value)


def _feature(raw: Any, where: str) -> FeatureDeviation:
    """One feature: the largest deviation any reported prediction window shows."""
    item = fields.entry(raw, where)
    windows = fields.items(item, "predictionStats", f"{where}.predictionStats", required=False)
    deviations, thresholds = [], []
    for i, window in enumerate(windows):
        at = f"{where}.predictionStats[{i}]"
        stats = fields.entry(window, at)
        # proto3 JSON leaves out zero values: a window without a deviation deviated by 0.
        deviation = fields.pick(stats, "distributionDeviation")
        deviations.append(fields.number(deviation or 0, f"{at}.distributionDeviation"))
        used = fields.pick(stats, "anomalyDetectionThreshold")
        if used is not None:
            thresholds.append(fields.number(used, f"{at}.anomalyDetectionThreshold"))
    configured = fields.pick(fields.obj(item, "threshold", f"{where}.threshold"), "value")
    if configured is not None:
        thresholds.append(fields.number(configured, f"{where}.threshold.value"))
    return FeatureDeviation(
        name=fields.text(item, "featureDisplayName", f"{where}.featureDisplayName", required=True),
        deviation=max(deviations, default=None),
        threshold=thresholds[-1] if thresholds else None,  # the configured value wins
    )


FORM = Form("Model Monitoring v1 stats anomalies", ("featureStats",), parse)
