"""A new run like an existing one: its body copied from the PipelineJob Vertex returns.

Retries and reruns launch "the same template and parameters": the spec the run was sent (not the
route's template of today), its runtime values, display name, service account, network and key,
and the labels that name its trigger, plus one label naming the run it follows. Vertex's own
labels and an earlier retry's or rerun's label are left out.
"""

from collections.abc import Mapping
from typing import Any

from vertex_trigger.config.labels import LIFECYCLE_LABELS, VERTEX_LABELS
from vertex_trigger.launch.identity import event_label

# What the launcher writes into a create body (launch/job_body.py); everything else of a returned
# PipelineJob is Vertex's output (state, times, jobDetail, error, name...).
COPIED = (
    "displayName",
    "pipelineSpec",
    "templateUri",
    "runtimeConfig",
    "serviceAccount",
    "network",
    "encryptionSpec",
)


def relaunch_body(job: Mapping[str, Any], label: str, follows: str) -> dict[str, Any]:
    """Return the create body of a run like ``job``, labelled ``label`` = the run it follows."""
    body = {key: job[key] for key in COPIED if key in job}
    labels = {
        key: value
        for key, value in (job.get("labels") or {}).items()
        if key not in VERTEX_LABELS and key not in LIFECYCLE_LABELS
    }
    body["labels"] = {**labels, label: event_label(follows)}
    return body
