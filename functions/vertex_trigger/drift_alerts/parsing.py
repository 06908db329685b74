"""The dispatcher over the accepted forms, tried in order, and the order itself."""

from vertex_trigger.cloud_events import json_object
from vertex_trigger.drift_alerts import canonical, incident, log_entry
from vertex_trigger.drift_alerts.alert import DriftAlert
from vertex_trigger.drift_alerts.forms import NO_CONTEXT, parse_first

# Tried in this order: the first form whose marking key the message carries parses it.
FORMS = (incident.FORM, log_entry.FORM, *log_entry.PAYLOAD_FORMS, canonical.FORM)


def parse(data: bytes) -> DriftAlert:
    """Parse Pub/Sub message data into a DriftAlert; raise RejectedEvent naming the problem."""
    return parse_first(json_object(data, "drift alert"), FORMS, "a drift alert", NO_CONTEXT)
