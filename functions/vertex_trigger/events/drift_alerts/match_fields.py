"""The alert fields a drift route's ``match`` globs and placeholders may name.

Apart from the alert's parser so that reading a configuration (every instance's start) does not
load the alert's classes.
"""

# Incident fields a drift alert exposes to `match` and placeholders ('' for other forms).
INCIDENT_FIELDS = (
    "policy",
    "condition",
    "incident_id",
    "summary",
    "observed_value",
    "threshold_value",
)
# Every field a route's `match` globs can test.
MATCH_FIELDS = frozenset(
    {"model", "endpoint", "monitoring_job", "deployed_model_id", "objective", "form"}
    | set(INCIDENT_FIELDS)
)
