"""Cloud Monitoring incident notifications from a Pub/Sub notification channel (schema 1.2).

``{"incident": {incident_id, state, policy_name, condition_name, summary, observed_value,
threshold_value, resource: {type, labels}, metric: {type, labels}, metadata: {system_labels,
user_labels}, policy_user_labels, ...}, "version": "1.2"}``. Alerting policies, and Vertex AI
Model Monitoring v2 through its notification channels, reach Pub/Sub this way.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from vertex_trigger.events.drift_alerts import fields
from vertex_trigger.events.drift_alerts.alert import AlertForm, DriftAlert, Incident, IncidentState
from vertex_trigger.events.drift_alerts.forms import Context, Form
from vertex_trigger.events.drift_alerts.resource_labels import names_from_labels


def parse(payload: Mapping[str, Any], context: Context) -> DriftAlert:
    """Read the incident; Vertex AI names come from resource, metric and policy labels."""
    incident = fields.obj(payload, "incident", required=True)
    resource = fields.obj(incident, "resource", "incident.resource")
    resource_labels = fields.labels(resource, "labels", "incident.resource.labels")
    metric = fields.obj(incident, "metric", "incident.metric")
    metric_labels = fields.labels(metric, "labels", "incident.metric.labels")
    policy_labels = _policy_labels(incident)
    details = _incident(incident, policy_labels)
    names = names_from_labels(resource_labels, metric_labels, policy_labels)
    return DriftAlert(
        form=AlertForm.INCIDENT,
        names=names.or_else(context.names),
        source=_policy_and_resource(details.policy, resource, resource_labels),
        in_log_entry=context.in_log_entry,
        incident=details,
    )


def _incident(incident: Mapping[str, Any], policy_labels: Mapping[str, str]) -> Incident:
    observed = _value_text(incident, "observed_value")
    return Incident(
        incident_id=fields.text(incident, "incident_id", "incident.incident_id", required=True),
        state=_state(incident),
        policy=fields.text(incident, "policy_name", "incident.policy_name"),
        condition=fields.text(incident, "condition_name", "incident.condition_name"),
        summary=fields.text(incident, "summary", "incident.summary"),
        observed_value=observed,
        threshold_value=_value_text(incident, "threshold_value"),
        observed=fields.optional_number(observed, "incident.observed_value"),
        policy_labels=MappingProxyType(policy_labels),
    )


def _state(incident: Mapping[str, Any]) -> IncidentState:
    state = fields.text(incident, "state", "incident.state", required=True)
    try:
        return IncidentState(state.lower())  # the schema says "open"/"closed"; be case-blind
    except ValueError:
        raise fields.rejected("incident.state", "must be 'open' or 'closed'", state) from None


def _value_text(incident: Mapping[str, Any], name: str) -> str:
    """Return a value the schema sends as text ("0.835"); a bare JSON number is accepted too."""
    value = fields.pick(incident, name)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    return fields.text(incident, name, f"incident.{name}")


def _policy_labels(incident: Mapping[str, Any]) -> dict[str, str]:
    """Return the policy's user labels: ``policy_user_labels`` over ``metadata.user_labels``."""
    metadata = fields.obj(incident, "metadata", "incident.metadata")
    user = fields.labels(metadata, "user_labels", "incident.metadata.user_labels")
    return {**user, **fields.labels(incident, "policy_user_labels", "incident.policy_user_labels")}


def _policy_and_resource(
    policy: str, resource: Mapping[str, Any], labels: Mapping[str, str]
) -> str:
    """Identify what the incident is about when it names no model: the policy and the resource."""
    kind = fields.text(resource, "type", "incident.resource.type")
    described = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
    return f"{policy}|{kind}|{described}"


FORM = Form("Cloud Monitoring incident", ("incident",), parse)
