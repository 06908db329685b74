"""Vertex AI label rules, and the label keys the trigger reserves for its own runs."""

import re

LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
RESERVED_PREFIX = "trigger-"
ROUTE_LABEL = "trigger-route"
KIND_LABEL = "trigger-kind"
SOURCE_LABEL = "trigger-source"
EVENT_LABEL = "trigger-event"
# run_ended routes' runs also name the run whose end launched them (its job id).
UPSTREAM_LABEL = "trigger-upstream"
# A retry names the run it retries, a rerun the run it repeats: at most one of these per run.
RETRY_OF_LABEL = "trigger-retry-of"
RERUN_OF_LABEL = "trigger-rerun-of"
LIFECYCLE_LABELS = (RETRY_OF_LABEL, RERUN_OF_LABEL)
# The HMAC of the job id under the run key: which runs the service made (launch/run_key.py).
AUTH_LABEL = "trigger-auth"
# Every label the trigger puts on a run itself: a new one goes here, so the count stays right.
TRIGGER_LABELS = (ROUTE_LABEL, KIND_LABEL, SOURCE_LABEL, EVENT_LABEL, AUTH_LABEL)
CHAIN_LABELS = (*TRIGGER_LABELS, UPSTREAM_LABEL)
# Vertex AI sets this one on every PipelineJob (aiplatform v1 PipelineJob.labels) and allows
# at most MAX_LABELS in all ("There can be no more than 64 labels attached to a single resource").
VERTEX_LABELS = ("vertex-ai-pipelines-run-billing-id",)
MAX_LABELS = 64
ROUTE_LABEL_ROOM = MAX_LABELS - len(TRIGGER_LABELS) - len(VERTEX_LABELS)
CHAIN_ROUTE_LABEL_ROOM = MAX_LABELS - len(CHAIN_LABELS) - len(VERTEX_LABELS)


def check_label(key: object, value: object) -> str:
    """Return what is wrong with one label, or an empty string."""
    if not isinstance(key, str) or not LABEL_KEY.match(key):
        return f"label keys must match {LABEL_KEY.pattern}"
    if not isinstance(value, str) or not LABEL_VALUE.match(value):
        return f"label values must be strings matching {LABEL_VALUE.pattern}, got {value!r}"
    return ""
