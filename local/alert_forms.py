"""Build a drift alert in each form Google Cloud sends, as the Pub/Sub message data.

Shapes follow tests/functions/data/drift/ (see its README for the sources): the canonical form,
a Cloud Monitoring incident notification (schema 1.2), and three Cloud Logging LogEntries as a
log sink publishes them (Model Monitoring v1 anomaly log, v1 ModelMonitoringStatsAnomalies,
v2 ModelMonitoringAlert).
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local.object_events import rfc3339_millis

V1_JOB = "projects/local-project/locations/us-central1/modelDeploymentMonitoringJobs/1"
V2_JOB = (
    "projects/local-project/locations/us-central1/modelMonitors/house-prices/modelMonitoringJobs/1"
)
ANOMALY_LOG = "aiplatform.googleapis.com%2Fmodel_monitoring_anomaly"


class Form(enum.StrEnum):
    """The forms `--form` can build."""

    CANONICAL = "canonical"
    INCIDENT = "incident"
    STATS_ANOMALIES = "stats-anomalies"
    LOG_ENTRY = "log-entry"
    V2 = "v2"


@dataclass(frozen=True)
class AlertSpec:
    """What the alert says, whatever its form."""

    features: dict[str, float]
    threshold: float = 0.3
    model: str = ""
    endpoint: str = ""
    objective: str = "RAW_FEATURE_DRIFT"
    monitoring_job: str = ""
    deployed_model_id: str = "1"
    policy: str = "house-prices drift"
    state: str = "open"
    observed: float | None = None  # an incident's observed value (default: the largest deviation)
    policy_labels: dict[str, str] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def time(self) -> str:
        return rfc3339_millis(self.now)


def build(form: Form, spec: AlertSpec) -> dict[str, Any]:
    """Return the message data of ``form`` for ``spec``."""
    return _BUILDERS[form](spec)


def canonical(spec: AlertSpec) -> dict[str, Any]:
    """Build the alert our drift check publishes."""
    return {
        "model": spec.model,
        "endpoint": spec.endpoint,
        "objective": spec.objective,
        "detected_at": spec.time,
        "features": _deviations(spec, "name"),
    }


def incident(spec: AlertSpec) -> dict[str, Any]:
    """Build a Cloud Monitoring Pub/Sub channel notification (schema version 1.2)."""
    observed = spec.observed if spec.observed is not None else max(spec.features.values())
    project, location, endpoint_id = _parts(spec.endpoint, "endpoints")
    return {
        "incident": {
            "incident_id": f"0.{secrets.token_hex(6)}",
            "scoping_project_id": project or "local-project",
            "started_at": int(spec.now.timestamp()),
            "ended_at": None if spec.state == "open" else int(spec.now.timestamp()),
            "state": spec.state,
            "resource": {
                "type": "aiplatform.googleapis.com/Endpoint",
                "labels": _present(
                    resource_container=project, location=location, endpoint_id=endpoint_id
                ),
            },
            "metric": {
                "type": "logging.googleapis.com/user/drift_distance",
                "labels": _present(model=spec.model, deployed_model_id=spec.deployed_model_id),
            },
            "metadata": {"system_labels": {}, "user_labels": {}},
            "policy_name": spec.policy,
            "policy_user_labels": spec.policy_labels,
            "condition_name": f"{spec.policy} above {spec.threshold:g}",
            "threshold_value": f"{spec.threshold:g}",
            "observed_value": f"{observed:.3f}",
            "summary": f"Drift distance is above the threshold of {spec.threshold:g} "
            f"with a value of {observed:.3f}.",
        },
        "version": "1.2",
    }


def anomaly_log_entry(spec: AlertSpec) -> dict[str, Any]:
    """Build the Model Monitoring v1 anomaly log (how-to shape) in a LogEntry."""
    payload = {
        "modelDeploymentMonitoringJob": spec.monitoring_job or V1_JOB,
        "deployedModelId": spec.deployed_model_id,
        "anomalyObjective": spec.objective,
        "startTime": spec.time,
        "endTime": spec.time,
        "featureAnomalies": _deviations(spec, "featureDisplayName"),
    }
    return _log_entry(payload, _v1_job_resource(spec), spec)


def stats_anomalies_entry(spec: AlertSpec) -> dict[str, Any]:
    """Build a v1 ModelMonitoringStatsAnomalies (``enable_logging``) in a LogEntry."""
    payload = {
        "@type": "type.googleapis.com/google.cloud.aiplatform.v1.ModelMonitoringStatsAnomalies",
        "objective": spec.objective,
        "deployedModelId": spec.deployed_model_id,
        "anomalyCount": sum(d >= spec.threshold for d in spec.features.values()),
        "featureStats": [
            {
                "featureDisplayName": name,
                "threshold": {"value": spec.threshold},
                "predictionStats": [
                    {
                        "distributionDeviation": deviation,
                        "anomalyDetectionThreshold": spec.threshold,
                        "startTime": spec.time,
                        "endTime": spec.time,
                    },
                ],
            }
            for name, deviation in spec.features.items()
        ],
    }
    return _log_entry(payload, _v1_job_resource(spec), spec)


def v2_entry(spec: AlertSpec) -> dict[str, Any]:
    """Build Model Monitoring v2 alerts (v1beta1 ModelMonitoringAlert) in a LogEntry."""
    job = spec.monitoring_job or V2_JOB
    alerts = [
        {
            "statsName": name,
            "objectiveType": "raw-feature-drift",
            "alertTime": spec.time,
            "anomaly": {
                "modelMonitoringJob": job,
                "algorithm": "jensen_shannon_divergence",
                "tabularAnomaly": {
                    "summary": f"{name}: {deviation} is above the threshold {spec.threshold}",
                    "anomaly": {
                        "currentStats": {"distributionValue": {"distributionDeviation": deviation}}
                    },
                    "triggerTime": spec.time,
                    "condition": {"threshold": spec.threshold},
                },
            },
        }
        for name, deviation in spec.features.items()
    ]
    payload = alerts[0] if len(alerts) == 1 else {"modelMonitoringAlerts": alerts}
    project, location, _ = _parts(job, "modelMonitors")
    labels = _present(resource_container=project, location=location)
    resource = {"type": "aiplatform.googleapis.com/ModelMonitor", "labels": labels}
    return _log_entry(payload, resource, spec)


def _deviations(spec: AlertSpec, name_key: str) -> list[dict[str, Any]]:
    """Return ``[{NAME_KEY, deviation, threshold}]``, as the canonical form and v1 log list them."""
    return [
        {name_key: name, "deviation": deviation, "threshold": spec.threshold}
        for name, deviation in spec.features.items()
    ]


def _v1_job_resource(spec: AlertSpec) -> dict[str, Any]:
    job = spec.monitoring_job or V1_JOB
    project, location, job_id = _parts(job, "modelDeploymentMonitoringJobs")
    labels = _present(resource_container=project, location=location, job_id=job_id)
    return {"type": "aiplatform.googleapis.com/ModelDeploymentMonitoringJob", "labels": labels}


def _log_entry(payload: dict[str, Any], resource: dict[str, Any], spec: AlertSpec) -> dict:
    """Wrap a payload in a LogEntry as a log sink publishes it to Pub/Sub."""
    project = resource["labels"].get("resource_container") or "local-project"
    return {
        "insertId": secrets.token_hex(8),
        "jsonPayload": payload,
        "resource": resource,
        "timestamp": spec.time,
        "severity": "WARNING",
        "logName": f"projects/{project}/logs/{ANOMALY_LOG}",
        "receiveTimestamp": spec.time,
    }


def _present(**labels: str) -> dict[str, str]:
    """Return the labels that have a value (Cloud Monitoring leaves out the others)."""
    return {key: value for key, value in labels.items() if value}


def _parts(name: str, collection: str) -> tuple[str, str, str]:
    """Return (project, location, id) of projects/P/locations/L/COLLECTION/ID[/...] (else '')."""
    parts = name.split("/")
    if len(parts) >= 6 and parts[0] == "projects" and parts[2] == "locations":
        return parts[1], parts[3], parts[5] if parts[4] == collection else ""
    return "", "", ""


_BUILDERS = {
    Form.CANONICAL: canonical,
    Form.INCIDENT: incident,
    Form.STATS_ANOMALIES: stats_anomalies_entry,
    Form.LOG_ENTRY: anomaly_log_entry,
    Form.V2: v2_entry,
}
