"""IAM: four accounts, each with only what it uses; nothing public, basic or keyed.

The root module's IAM resources, and the invoker grants each function's module call makes
(modules/cloud_function's google_cloud_run_v2_service_iam_member.invoker, one per invoker_members
entry, on that function's Cloud Run service).
"""

import re
from functools import cache
from typing import Any

import pytest

from tests.terraform.hcl_config import MODULE_DIR, TERRAFORM_DIR, attr, merge_config

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
# Created or existing (var.existing_buckets), the same grants on them.
DATA = "bucket:${local.data_bucket}"
TEMPLATES = "bucket:${local.templates_bucket}"
# The Cloud Run service of a module call's function.
OBJECT_FUNCTION = "module.on_object_finalized"
DRIFT_FUNCTION = "module.on_drift_alert"
SWEEP_FUNCTION = "module.sweep"
RUN_STATE_FUNCTION = "module.on_run_state"
PIPELINE_ROOT = "bucket:${local.pipeline_root_bucket}"
MODELS = "bucket:${google_storage_bucket.models.name}"
STATE = "bucket:${google_storage_bucket.state.name}"
PIPELINE_SA = "sa:${google_service_account.pipeline.name}"
KMS_KEY = "key:${local.kms_key_id}"
KMS_USER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"

LAUNCHER = "${google_project_iam_custom_role.trigger_launcher.name}"
RUN_KEY_SECRET = "secret:${local.run_key_secret}"
STATE = "bucket:${google_storage_bucket.state.name}"
EXPECTED_GRANTS = {
    (RUNTIME, LAUNCHER, PROJECT),
    (RUNTIME, "roles/storage.objectUser", STATE),
    (RUNTIME, "roles/secretmanager.secretAccessor", RUN_KEY_SECRET),
    (OUTCOMES, "roles/secretmanager.secretAccessor", RUN_KEY_SECRET),
    (RUNTIME, "roles/storage.objectViewer", DATA),
    (RUNTIME, "roles/storage.objectViewer", TEMPLATES),
    (RUNTIME, "roles/iam.serviceAccountUser", PIPELINE_SA),
    (RUNTIME, "roles/storage.objectViewer", STATE),
    ("${each.value}", "roles/storage.objectUser", STATE),  # var.pausers
    (RUNTIME, "roles/artifactregistry.reader", 'repository:${split("/", each.value)[5]}'),
    (PIPELINE, "roles/aiplatform.user", PROJECT),
    (PIPELINE, "roles/storage.objectAdmin", PIPELINE_ROOT),
    (PIPELINE, "roles/storage.objectAdmin", MODELS),
    (PIPELINE, "roles/storage.objectViewer", DATA),
    # What else the pipelines read (var.pipeline_read_access), read-only, each by itself.
    (PIPELINE, "roles/storage.objectViewer", "bucket:${each.value}"),
    (PIPELINE, "roles/bigquery.dataViewer", 'dataset:${split(".", each.value)[1]}'),
    (PIPELINE, "roles/bigquery.jobUser", PROJECT),
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
    # run_ended routes or retry_failed: on_run_state launches runs (the launcher role).
    (OUTCOMES, LAUNCHER, PROJECT),
    (OUTCOMES, "roles/iam.serviceAccountUser", PIPELINE_SA),
    # run_ended routes: it reads their templates; retry_failed: it reads the route pauses.
    (OUTCOMES, "roles/storage.objectViewer", TEMPLATES),
    (OUTCOMES, "roles/artifactregistry.reader", 'repository:${split("/", each.value)[5]}'),
    (OUTCOMES, "roles/storage.objectViewer", STATE),
    (OUTCOMES, "roles/pubsub.publisher", "topic:${google_pubsub_topic.outcomes.name}"),
    (OUTCOMES, "roles/secretmanager.secretAccessor", "secret:${each.value}"),
    (SCHEDULER, "roles/run.invoker", f"run:{SWEEP_FUNCTION}"),
}
# Grants that exist only with batch routes or a sweep (count on a local): what each depends on.
CONDITIONAL = {
    "function_runtime_data_viewer": "${local.lists_data_bucket ? 1 : 0}",
    # on_run_state reads runs, unless it launches them (run_ended routes, retry_failed).
    "outcomes_aiplatform_viewer": "${local.outcomes_launch_runs ? 0 : 1}",
    "outcomes_launcher": "${local.outcomes_launch_runs ? 1 : 0}",
    "outcomes_acts_as_pipeline": "${local.outcomes_launch_runs ? 1 : 0}",
    "outcomes_templates_viewer": "${local.launches_chains ? 1 : 0}",
    "outcomes_state_viewer": "${local.retries_enabled ? 1 : 0}",
    "pipeline_bigquery_job_user": (
        "${length(var.pipeline_read_access.bigquery_datasets) > 0 ? 1 : 0}"
    ),
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
    "google_bigquery_dataset_iam_member": ("dataset", "dataset_id"),
}


@cache
def function_module() -> dict[str, Any]:
    """modules/cloud_function, merged."""
    return merge_config(sorted(MODULE_DIR.glob("*.tf")))


@pytest.fixture
def tf_fn() -> dict[str, Any]:
    return function_module()


def grants(tf: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(member, role, target) of every IAM member the root module makes, its module calls' too."""
    found = set()
    for rtype, resources in tf["resource"].items():
        if not rtype.endswith("_iam_member"):
            continue
        assert rtype in TARGETS, f"unexpected IAM resource type {rtype}"
        kind, key = TARGETS[rtype]
        for body in resources.values():
            found.add((attr(body, "member"), attr(body, "role"), f"{kind}:{attr(body, key)}"))
    return found | invoker_grants(tf)


def invoker_grants(tf: dict[str, Any]) -> set[tuple[str, str, str]]:
    """The roles/run.invoker grants the function module makes for each call's invoker_members."""
    invoker = function_module()["resource"]["google_cloud_run_v2_service_iam_member"]["invoker"]
    return {
        (member, attr(invoker, "role"), f"run:module.{name}")
        for name, call in tf["module"].items()
        for member in call.get("invoker_members", {}).values()
    }


def test_grants_are_exactly_the_specified_ones(tf: dict[str, Any]) -> None:
    assert grants(tf) == EXPECTED_GRANTS


def test_runtime_account_has_nothing_project_wide_but_the_launcher_role(
    tf: dict[str, Any],
) -> None:
    project_roles = {
        role for member, role, target in grants(tf) if member == RUNTIME and target == PROJECT
    }
    assert project_roles == {LAUNCHER}


# What the functions' account calls, and what Vertex checks on the caller of a create: the
# create's own permission; aiplatform.metadataStores.get on the project's default metadata store
# ("Failed to create pipeline job. Error: Permission 'aiplatform.metadataStores.get' denied on
# resource '//aiplatform.googleapis.com/projects/.../metadataStores/default'", quoted in
# googleapis/python-aiplatform#1880); aiplatform.artifacts.get for input_artifacts, which name
# Vertex ML Metadata artifacts. iam.serviceAccounts.actAs on the pipeline account is its own grant.
LAUNCHER_PERMISSIONS = [
    "aiplatform.pipelineJobs.create",  # launches
    "aiplatform.pipelineJobs.get",  # the run behind a 409; a former name's ids (renamed_from)
    "aiplatform.pipelineJobs.list",  # limits, the cooldown, batches, the sweeper
    "aiplatform.pipelineJobs.cancel",  # the cooldown race's losers
    "aiplatform.metadataStores.get",
    "aiplatform.artifacts.get",
]


def test_the_launcher_role_holds_only_the_vertex_calls_the_functions_make(
    tf: dict[str, Any],
) -> None:
    role = tf["resource"]["google_project_iam_custom_role"]["trigger_launcher"]
    assert attr(role, "permissions") == LAUNCHER_PERMISSIONS
    assert attr(role, "role_id") == '${replace(var.name_prefix, "-", "_")}_launcher'
    # Neither account that launches runs holds roles/aiplatform.user (on_run_state's included).
    assert "roles/aiplatform.user" not in {role for member, role, _ in grants(tf)
                                            if member in (RUNTIME, OUTCOMES)}  # fmt: skip


def test_no_authoritative_iam_resources(tf: dict[str, Any], tf_fn: dict[str, Any]) -> None:
    for config in (tf, tf_fn):
        authoritative = ("_iam_binding", "_iam_policy")
        assert [t for t in config["resource"] if t.endswith(authoritative)] == []


def test_no_keys_for_any_account(tf: dict[str, Any], tf_fn: dict[str, Any]) -> None:
    for config in (tf, tf_fn):
        assert "google_service_account_key" not in config["resource"]
        assert "google_service_account_key" not in config["data"]


def test_no_basic_roles_or_public_members() -> None:
    for path in sorted(TERRAFORM_DIR.rglob("*.tf")):
        text = path.read_text()
        assert re.findall(r"roles/(?:owner|editor|viewer)\b", text) == [], path
        # The function module names them only to refuse them (invoker_members' validation).
        public = re.findall(r"allUsers|allAuthenticatedUsers", text)
        assert public == [] or path == MODULE_DIR / "variables.tf", path


def test_the_function_module_grants_only_run_invoker_on_its_own_service(
    tf_fn: dict[str, Any],
) -> None:
    iam = {t: set(r) for t, r in tf_fn["resource"].items() if "_iam_" in t}
    assert iam == {"google_cloud_run_v2_service_iam_member": {"invoker"}}
    invoker = tf_fn["resource"]["google_cloud_run_v2_service_iam_member"]["invoker"]
    assert attr(invoker, "role") == "roles/run.invoker"
    assert attr(invoker, "name") == "${google_cloudfunctions2_function.this.name}"


def test_grants_only_some_routes_need_exist_only_with_them(tf: dict[str, Any]) -> None:
    counted = {
        name: attr(body, "count")
        for resources in tf["resource"].values()
        for name, body in resources.items()
        if name in CONDITIONAL
    }
    assert counted == CONDITIONAL
    # The scheduler's invoker grant belongs to the sweep function's call, counted on the sweep.
    assert attr(tf["module"]["sweep"], "count") == "${local.sweep_enabled ? 1 : 0}"


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
    assert ("roles/aiplatform.viewer", PROJECT) in held  # read-only: it launches nothing...
    # ...unless a route follows runs or retries failed ones (each counted on a local).
    launching = {(LAUNCHER, PROJECT), ("roles/iam.serviceAccountUser", PIPELINE_SA),
                 ("roles/storage.objectViewer", STATE), ("roles/storage.objectViewer", TEMPLATES)}
    assert launching <= held  # fmt: skip
    assert not {target for _, target in held - launching} & {DATA, TEMPLATES, STATE}
    accessor = tf["resource"]["google_secret_manager_secret_iam_member"]
    accessor = accessor["outcomes_webhook_accessor"]
    assert attr(accessor, "for_each") == (
        "${toset([for secret in values(local.webhook_secrets) : secret if secret != null])}"
    )


def test_outcomes_account_may_launch_only_when_a_run_ended_route_exists(
    tf: dict[str, Any],
) -> None:
    """What launching needs (create, act as the pipeline account, read templates) is counted on
    run_ended routes: without one, on_run_state stays read-only on Vertex AI and the buckets."""
    assert attr(tf["locals"], "launches_chains") == (
        '${anytrue([for r in local.routes : r.event == "run_ended"])}'
    )
    assert attr(tf["locals"], "outcomes_launch_runs") == (
        "${local.launches_chains || local.retries_enabled}"
    )
    launching = {"google_project_iam_member": "outcomes_launcher",
                 "google_service_account_iam_member": "outcomes_acts_as_pipeline"}  # fmt: skip
    for rtype, name in launching.items():
        assert attr(tf["resource"][rtype][name], "count") == "${local.outcomes_launch_runs ? 1 : 0}"
    viewer = tf["resource"]["google_storage_bucket_iam_member"]["outcomes_templates_viewer"]
    assert attr(viewer, "count") == "${local.launches_chains ? 1 : 0}"
    reader = tf["resource"]["google_artifact_registry_repository_iam_member"]
    assert attr(reader["outcomes_template_reader"], "for_each") == (
        "${local.launches_chains ? local.template_repositories : toset([])}"
    )


def test_five_service_accounts(tf: dict[str, Any]) -> None:
    accounts = tf["resource"]["google_service_account"]
    assert set(accounts) == {"function_runtime", "pipeline", "trigger", "outcomes", "scheduler"}
    assert attr(accounts["scheduler"], "count") == "${local.sweep_enabled ? 1 : 0}"
    for body in accounts.values():
        assert attr(body, "description")

