"""Drift alerts in every accepted form: one dispatcher (parsing.py), one small module per form.

The package itself holds the alert types: config and routing use them in every instance, while
the form parsers load with the first alert, so instances serving other events never import them.
"""

from vertex_trigger.drift_alerts.alert import (
    AlertForm,
    DriftAlert,
    FeatureDeviation,
    Incident,
    IncidentState,
    VertexNames,
)

__all__ = [
    "AlertForm",
    "DriftAlert",
    "FeatureDeviation",
    "Incident",
    "IncidentState",
    "VertexNames",
    "parse_drift_alert",
]


def parse_drift_alert(data: bytes) -> DriftAlert:
    """Parse Pub/Sub message data into a DriftAlert; raise RejectedEvent naming the problem."""
    from vertex_trigger.drift_alerts import parsing

    return parsing.parse(data)
