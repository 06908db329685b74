"""Drift alerts in every accepted form: the dispatcher over the forms, tried in order.

One small module per form; the alert types they all build are in alert.py, which config and
routing use in every instance, while this module and the form parsers load only in an instance
that receives drift alerts.
"""

from vertex_trigger.events.cloud_events import json_object
from vertex_trigger.events.drift_alerts import canonical, incident, log_entry
from vertex_trigger.events.drift_alerts.alert import DriftAlert
from vertex_trigger.events.drift_alerts.forms import NO_CONTEXT, parse_first

# Tried in this order: the first form whose marking key the message carries parses it.
FORMS = (incident.FORM, log_entry.FORM, *log_entry.PAYLOAD_FORMS, canonical.FORM)


def parse_drift_alert(data: bytes) -> DriftAlert:
    """Parse Pub/Sub message data into a DriftAlert; raise RejectedEvent naming the problem."""
    return parse_first(json_object(data, "drift alert"), FORMS, "a drift alert", NO_CONTEXT)
