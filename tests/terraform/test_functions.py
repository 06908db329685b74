"""The three functions: source archive, entry points, size, triggers and retry policies."""

from typing import Any

import pytest

from tests.terraform.hcl_config import attr, nested
from tests.terraform.hcl_eval import Module, type_constraint

FUNCTIONS = {
    "on_object_finalized": "google.cloud.storage.object.v1.finalized",
    "on_drift_alert": "google.cloud.pubsub.topic.v1.messagePublished",
    "on_run_state": "google.cloud.pubsub.topic.v1.messagePublished",
}
# The launchers share one runtime account; on_run_state, which launches nothing, has its own.
RUNTIME_ACCOUNTS = {
    "on_object_finalized": "${google_service_account.function_runtime.email}",
    "on_drift_alert": "${google_service_account.function_runtime.email}",
    "on_run_state": "${google_service_account.outcomes.email}",
}


LAUNCHER_START_UP = {
    "${google_storage_bucket_object.templates}",
    "${google_storage_bucket_iam_member.function_runtime_templates_viewer}",
    "${google_artifact_registry_repository_iam_member.function_runtime_template_reader}",
    "${google_kms_crypto_key_iam_member.vertex_agent_uses_kms_key}",
}


def function(tf: dict[str, Any], name: str) -> dict[str, Any]:
    return tf["resource"]["google_cloudfunctions2_function"][name]


def test_exactly_the_three_event_functions_and_the_sweeper(tf: dict[str, Any]) -> None:
    # The sweep function (HTTP, sweeper.tf) is checked in test_sweeper.py.
    assert set(tf["resource"]["google_cloudfunctions2_function"]) == {*FUNCTIONS, "sweep"}
    assert "google_cloudfunctions_function" not in tf["resource"]  # 1st gen


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_builds_python_from_the_hashed_archive(tf: dict[str, Any], name: str) -> None:
    build = nested(function(tf, name), "build_config")[0]
    assert attr(build, "entry_point") == name
    assert attr(build, "runtime") == "${var.function_runtime}"
    storage = nested(nested(build, "source")[0], "storage_source")[0]
    assert attr(storage, "bucket") == "${google_storage_bucket.source.name}"
    assert attr(storage, "object") == "${google_storage_bucket_object.function_source.name}"


def test_runtime_variable_is_a_python_runtime(tf: dict[str, Any]) -> None:
    runtime = tf["variable"]["function_runtime"]
    assert attr(runtime, "default").startswith("python3")


# A launcher's start-up reads every route's template: an instance that cannot read one does not
# start. on_run_state's reads the webhook secrets instead (it launches nothing, reads no template).
START_UP_READS = {
    "on_object_finalized": LAUNCHER_START_UP,
    "on_drift_alert": LAUNCHER_START_UP,
    "on_run_state": {"${google_secret_manager_secret_iam_member.outcomes_webhook_accessor}"},
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_waits_for_what_its_start_up_reads(tf: dict[str, Any], name: str) -> None:
    after = set(attr(function(tf, name), "depends_on"))
    assert START_UP_READS[name] <= after


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_service_size_identity_and_ingress(tf: dict[str, Any], name: str) -> None:
    service = nested(function(tf, name), "service_config")[0]
    assert attr(service, "available_memory") == "${local.function_memory}"
    assert attr(service, "max_instance_count") == "${var.function_max_instance_count}"
    assert attr(service, "timeout_seconds") == "${var.function_timeout_seconds}"
    assert attr(service, "service_account_email") == RUNTIME_ACCOUNTS[name]
    assert attr(service, "ingress_settings") == "ALLOW_INTERNAL_ONLY"


def test_memory_is_the_256m_default_instance(tf: dict[str, Any]) -> None:
    assert attr(tf["locals"], "function_memory") == "256M"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_trigger_event_type_retry_and_identity(tf: dict[str, Any], name: str) -> None:
    triggers = nested(function(tf, name), "event_trigger")
    assert len(triggers) == 1
    trigger = triggers[0]
    assert attr(trigger, "event_type") == FUNCTIONS[name]
    assert attr(trigger, "retry_policy") == "RETRY_POLICY_RETRY"
    assert attr(trigger, "service_account_email") == "${google_service_account.trigger.email}"


def test_storage_trigger_watches_the_data_bucket_in_its_location(tf: dict[str, Any]) -> None:
    trigger = nested(function(tf, "on_object_finalized"), "event_trigger")[0]
    assert attr(trigger, "trigger_region") == "${local.storage_trigger_region}"
    assert attr(tf["locals"], "storage_trigger_region") == (
        "${lower(google_storage_bucket.data.location)}"
    )
    filters = [(attr(f, "attribute"), attr(f, "value")) for f in nested(trigger, "event_filters")]
    assert filters == [("bucket", "${google_storage_bucket.data.name}")]


def test_drift_trigger_listens_to_the_drift_topic(tf: dict[str, Any]) -> None:
    trigger = nested(function(tf, "on_drift_alert"), "event_trigger")[0]
    assert attr(trigger, "pubsub_topic") == "${google_pubsub_topic.drift.id}"
    assert attr(trigger, "trigger_region") == "${var.region}"


def test_variables_bound_instances_and_timeout(tf: dict[str, Any], tf_module: Module) -> None:
    for name in ("function_max_instance_count", "function_timeout_seconds"):
        variable = tf["variable"][name]
        assert attr(variable, "type") == "number"
        # the type keyword, not a quoted "number" (which the dictionary form reads the same)
        assert type_constraint(tf_module.variables[name]["attributes"]["type"]) == "number"
        assert attr(variable, "description")
        assert nested(variable, "validation"), f"{name} has no validation"
    assert attr(tf["variable"]["function_timeout_seconds"], "default") <= 540


def test_archive_is_functions_dir_plus_rendered_config(tf: dict[str, Any]) -> None:
    archive = tf["data"]["archive_file"]["function_source"]
    assert attr(archive, "type") == "zip"
    dynamic = nested(archive, "dynamic")[0]["source"]
    assert attr(dynamic, "for_each") == "${local.function_files}"
    assert nested(archive, "source") == [
        {"content": "${local.triggers_yaml}", "filename": "triggers.yaml"}
    ]
    files = attr(tf["locals"], "function_files")
    assert "fileset(local.functions_dir" in files
    assert 'f != "triggers.yaml"' in files  # the shipped one is replaced, never doubled


def test_archive_object_is_named_by_content_hash(tf: dict[str, Any]) -> None:
    obj = tf["resource"]["google_storage_bucket_object"]["function_source"]
    assert "${data.archive_file.function_source.output_sha256}" in attr(obj, "name")
    assert attr(obj, "source") == "${data.archive_file.function_source.output_path}"
    assert attr(obj, "bucket") == "${google_storage_bucket.source.name}"
