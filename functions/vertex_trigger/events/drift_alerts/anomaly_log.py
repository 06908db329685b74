"""Model Monitoring v1's anomaly log payload in the how-to's shape (design.md, formats 2 and 3)."""

from collections.abc import Mapping
from typing import Any

from vertex_trigger.events.drift_alerts import fields
from vertex_trigger.events.drift_alerts.alert import AlertForm, DriftAlert, VertexNames
from vertex_trigger.events.drift_alerts.canonical import feature
from vertex_trigger.events.drift_alerts.forms import Context, Form


def parse(payload: Mapping[str, Any], context: Context) -> DriftAlert:
    """Read the job, ``deployedModelId``, ``anomalyObjective`` and ``featureAnomalies``."""
    anomalies = fields.items(payload, "featureAnomalies")
    names = VertexNames(
        model=fields.text(payload, "model"),
        endpoint=fields.text(payload, "endpoint"),
        monitoring_job=fields.text(payload, "modelDeploymentMonitoringJob", required=True),
        deployed_model_id=fields.text(payload, "deployedModelId", numeric_id=True),
    ).or_else(context.names)
    return DriftAlert(
        form=AlertForm.ANOMALY_LOG,
        names=names,
        objective=fields.text(payload, "anomalyObjective"),
        features=tuple(
            feature(raw, f"featureAnomalies[{i}]", "featureDisplayName")
            for i, raw in enumerate(anomalies)
        ),
        source=deployed_model_source(names),
        in_log_entry=context.in_log_entry,
    )


def deployed_model_source(names: VertexNames) -> str:
    """Identify a v1 monitored deployment: its endpoint (else its job) and deployed model id."""
    return "/".join(filter(None, (names.endpoint or names.monitoring_job, names.deployed_model_id)))


FORM = Form(
    "Model Monitoring v1 anomaly log", ("featureAnomalies", "modelDeploymentMonitoringJob"), parse
)
