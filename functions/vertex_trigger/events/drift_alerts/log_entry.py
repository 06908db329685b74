"""A Cloud Logging LogEntry, as a log sink publishes it to Pub/Sub, around a monitoring payload.

google/logging/v2/log_entry.proto: the payload is ``jsonPayload``; ``resource`` is the monitored
resource (``{type, labels}``) whose labels may name the project, location, endpoint and job.
"""

from collections.abc import Mapping
from typing import Any

from vertex_trigger.events.drift_alerts import anomaly_log, fields, stats_anomalies, v2_anomalies
from vertex_trigger.events.drift_alerts.alert import DriftAlert, VertexNames
from vertex_trigger.events.drift_alerts.forms import Context, Form, parse_first
from vertex_trigger.events.drift_alerts.resource_labels import names_from_labels

PAYLOAD_FORMS = (anomaly_log.FORM, stats_anomalies.FORM, v2_anomalies.FORM)
# The v1 job's own monitored resource calls its id job_id, a key too generic to read elsewhere.
_V1_JOB_RESOURCE = "aiplatform.googleapis.com/ModelDeploymentMonitoringJob"


def parse(entry: Mapping[str, Any], context: Context) -> DriftAlert:
    """Parse the ``jsonPayload`` with the names the entry's resource labels give."""
    payload = fields.obj(entry, "jsonPayload", required=True)
    names = resource_names(fields.obj(entry, "resource"))
    inner = Context(names=names.or_else(context.names), in_log_entry=True)
    return parse_first(payload, PAYLOAD_FORMS, "a Model Monitoring payload in 'jsonPayload'", inner)


def resource_names(resource: Mapping[str, Any]) -> VertexNames:
    """Return the Vertex AI names the monitored resource's labels carry."""
    labels = fields.labels(resource, "labels", "resource.labels")
    if fields.pick(resource, "type") == _V1_JOB_RESOURCE and labels.get("job_id"):
        labels = {"model_deployment_monitoring_job": labels["job_id"], **labels}
    return names_from_labels(labels)


FORM = Form("Cloud Logging LogEntry", ("jsonPayload",), parse)
