"""IAM: four accounts, each with only what it uses; nothing public, basic or keyed."""

import re
from pathlib import Path
from typing import Any

from tests.terraform.hcl_config import attr

RUNTIME = "serviceAccount:${google_service_account.function_runtime.email}"
PIPELINE = "serviceAccount:${google_service_account.pipeline.email}"
TRIGGER = "serviceAccount:${google_service_account.trigger.email}"
OUTCOMES = "serviceAccount:${google_service_account.outcomes.email}"
STORAGE_AGENT = "serviceAccount:${data.google_storage_project_service_account.this.email_address}"
PUBSUB_AGENT = "serviceAccount:${local.pubsub_service_agent}"
VERTEX_AGENT = "serviceAccount:${google_project_service_identity.aiplatform[0].email}"
SINK_WRITER = "${google_logging_project_sink.model_monitoring[0].writer_identity}"
SCHEDULER = "serviceAccount:${google_service_account.scheduler[0].email}"
MONITORING_AGENT = "serviceAccount:${local.monitoring_notification_agent}"
RUN_STATES_WRITER = "${google_logging_project_sink.run_states.writer_identity}"

PROJECT = "project:${var.project_id}"
DATA = "bucket:${google_storage_bucket.data.name}"
TEMPLATES = "bucket:${google_storage_bucket.templates.name}"
OBJECT_FUNCTION = "${google_cloudfunctions2_function.on_object_finalized.name}"
DRIFT_FUNCTION = "${google_cloudfunctions2_function.on_drift_alert.name}"
SWEEP_FUNCTION = "${google_cloudfunctions2_function.sweep[0].name}"
RUN_STATE_FUNCTION = "${google_cloudfunctions2_function.on_run_state.name}"
PIPELINE_ROOT = "bucket:${google_storage_bucket.pipeline_root.name}"
MODELS = "bucket:${google_storage_bucket.models.name}"
KMS_KEY = "key:${local.kms_key_id}"
KMS_USER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"

EXPECTED_GRANTS = {
    (RUNTIME, "roles/aiplatform.user", PROJECT),
    (RUNTIME, "roles/storage.objectViewer", DATA),
    (RUNTIME, "roles/storage.objectViewer", TEMPLATES),
    (RUNTIME, "roles/iam.serviceAccountUser", "sa:${google_service_account.pipeline.name}"),
    (RUNTIME, "roles/artifactregistry.reader", 'repository:${split("/", each.value)[5]}'),
    (PIPELINE, "roles/aiplatform.user", PROJECT),
    (PIPELINE, "roles/storage.objectAdmin", PIPELINE_ROOT),
    (PIPELINE, "roles/storage.objectAdmin", MODELS),
    (PIPELINE, "roles/storage.objectViewer", DATA),
    (TRIGGER, "roles/eventarc.eventReceiver", PROJECT),
    (TRIGGER, "roles/run.invoker", f"run:{OBJECT_FUNCTION}"),
    (TRIGGER, "roles/run.invoker", f"run:{DRIFT_FUNCTION}"),
    (STORAGE_AGENT, "roles/pubsub.publisher", PROJECT),
    (PUBSUB_AGENT, "roles/pubsub.publisher", "topic:${google_pubsub_topic.dead_letter.name}"),
    (SINK_WRITER, "roles/pubsub.publisher", "topic:${google_pubsub_topic.drift.name}"),
    (VERTEX_AGENT, KMS_USER, KMS_KEY),
    (STORAGE_AGENT, KMS_USER, KMS_KEY),
    (MONITORING_AGENT, "roles/pubsub.publisher", "topic:${google_pubsub_topic.drift.name}"),
    (TRIGGER, "roles/run.invoker", f"run:{RUN_STATE_FUNCTION}"),
    (RUN_STATES_WRITER, "roles/pubsub.publisher", "topic:${google_pubsub_topic.run_states.name}"),
    (OUTCOMES, "roles/aiplatform.viewer", PROJECT),
    (OUTCOMES, "roles/pubsub.publisher", "topic:${google_pubsub_topic.outcomes.name}"),
    (OUTCOMES, "roles/secretmanager.secretAccessor", "secret:${each.value}"),
    (SCHEDULER, "roles/run.invoker", f"run:{SWEEP_FUNCTION}"),
}
# Grants that exist only with batch routes or a sweep (count on a local): what each depends on.
CONDITIONAL = {
    "function_runtime_data_viewer": "${local.lists_data_bucket ? 1 : 0}",
    "scheduler_invokes_sweep": "${local.sweep_enabled ? 1 : 0}",
}

# Which attribute names the granted resource, per IAM member resource type.
TARGETS = {
    "google_project_iam_member": ("project", "project"),
    "google_storage_bucket_iam_member": ("bucket", "bucket"),
    "google_service_account_iam_member": ("sa", "service_account_id"),
    "google_cloud_run_v2_service_iam_member": ("run", "name"),
    "google_pubsub_topic_iam_member": ("topic", "topic"),
    "google_artifact_registry_repository_iam_member": ("repository", "repository"),
    "google_kms_crypto_key_iam_member": ("key", "crypto_key_id"),
    "google_secret_manager_secret_iam_member": ("secret", "secret_id"),
}


def grants(tf: dict[str, Any]) -> set[tuple[str, str, str]]:
    found = set()
    for rtype, resources in tf["resource"].items():
        if not rtype.endswith("_iam_member"):
            continue
        assert rtype in TARGETS, f"unexpected IAM resource type {rtype}"
        kind, key = TARGETS[rtype]
        for body in resources.values():
            found.add((attr(body, "member"), attr(body, "role"), f"{kind}:{attr(body, key)}"))
    return found


def test_grants_are_exactly_the_specified_ones(tf: dict[str, Any]) -> None:
    assert grants(tf) == EXPECTED_GRANTS


def test_runtime_account_has_nothing_project_wide_but_aiplatform_user(tf: dict[str, Any]) -> None:
    project_roles = {
        role for member, role, target in grants(tf) if member == RUNTIME and target == PROJECT
    }
    assert project_roles == {"roles/aiplatform.user"}


def test_no_authoritative_iam_resources(tf: dict[str, Any]) -> None:
    authoritative = [t for t in tf["resource"] if t.endswith(("_iam_binding", "_iam_policy"))]
    assert authoritative == []


def test_no_keys_for_any_account(tf: dict[str, Any]) -> None:
    assert "google_service_account_key" not in tf["resource"]
    assert "google_service_account_key" not in tf["data"]


def test_no_basic_roles_or_public_members(tf_files: list[Path]) -> None:
    text = "\n".join(path.read_text() for path in tf_files)
    assert re.findall(r"roles/(?:owner|editor|viewer)\b", text) == []
    assert re.findall(r"allUsers|allAuthenticatedUsers", text) == []


def test_grants_only_some_routes_need_exist_only_with_them(tf: dict[str, Any]) -> None:
    counted = {
        name: attr(body, "count")
        for resources in tf["resource"].values()
        for name, body in resources.items()
        if name in CONDITIONAL
    }
    assert counted == CONDITIONAL


def test_scheduler_account_may_invoke_the_sweep_function_and_nothing_else(
    tf: dict[str, Any],
) -> None:
    assert {(r, t) for m, r, t in grants(tf) if m == SCHEDULER} == {
        ("roles/run.invoker", f"run:{SWEEP_FUNCTION}")
    }


def test_outcomes_account_reads_runs_publishes_outcomes_and_reads_only_named_secrets(
    tf: dict[str, Any],
) -> None:
    held = {(role, target) for member, role, target in grants(tf) if member == OUTCOMES}
    assert ("roles/aiplatform.viewer", PROJECT) in held  # read-only: it launches nothing
    assert not {role for role, _ in held} & {"roles/aiplatform.user", "roles/storage.objectViewer"}
    accessor = tf["resource"]["google_secret_manager_secret_iam_member"]
    accessor = accessor["outcomes_webhook_accessor"]
    assert attr(accessor, "for_each") == "${toset(values(local.webhook_secrets))}"


def test_five_service_accounts(tf: dict[str, Any]) -> None:
    accounts = tf["resource"]["google_service_account"]
    assert set(accounts) == {"function_runtime", "pipeline", "trigger", "outcomes", "scheduler"}
    assert attr(accounts["scheduler"], "count") == "${local.sweep_enabled ? 1 : 0}"
    for body in accounts.values():
        assert attr(body, "description")

