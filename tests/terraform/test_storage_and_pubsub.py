"""Buckets, the templates upload, the drift and dead-letter topics and the optional log sink."""

from typing import Any

import pytest

from tests.terraform.hcl_config import attr, nested
from tests.terraform.hcl_eval import Module, type_constraint

BUCKETS = ("data", "templates", "pipeline_root", "models", "source", "state")


@pytest.mark.parametrize("name", BUCKETS)
def test_bucket_is_private_with_uniform_access(tf: dict[str, Any], name: str) -> None:
    bucket = tf["resource"]["google_storage_bucket"][name]
    assert attr(bucket, "uniform_bucket_level_access") is True
    assert attr(bucket, "public_access_prevention") == "enforced"


def test_exactly_six_buckets(tf: dict[str, Any]) -> None:
    assert set(tf["resource"]["google_storage_bucket"]) == set(BUCKETS)


@pytest.mark.parametrize("name", ["templates", "models", "state"])
def test_overwritten_buckets_are_versioned(tf: dict[str, Any], name: str) -> None:
    bucket = tf["resource"]["google_storage_bucket"][name]
    assert [attr(v, "enabled") for v in nested(bucket, "versioning")] == [True]


def test_parked_events_go_to_the_state_bucket_never_the_watched_one(tf: dict[str, Any]) -> None:
    config = attr(tf["locals"], "triggers_config")
    # One state bucket: the route pauses under triggers/, the parked events under parking/.
    assert 'state = "gs://${google_storage_bucket.state.name}/triggers"' in config
    assert 'parking = "gs://${google_storage_bucket.state.name}/parking"' in config
    state = tf["resource"]["google_storage_bucket"]["state"]
    assert attr(state, "name") == "${local.bucket_names.state}"
    # Versioned for the pauses' record; a parked event's deleted version is kept a week only.
    [rule] = state["lifecycle_rule"]
    assert attr(rule["condition"][0], "matches_prefix") == ["parking/"]
    assert attr(rule["action"][0], "type") == "Delete"


def test_pipeline_root_is_not_the_data_bucket(tf: dict[str, Any]) -> None:
    buckets = tf["resource"]["google_storage_bucket"]
    assert attr(buckets["pipeline_root"], "name") == "${local.bucket_names.pipeline_root}"
    assert attr(buckets["data"], "name") == "${local.bucket_names.data}"
    names = attr(tf["locals"], "bucket_names")
    assert names["pipeline_root"] != names["data"]


def test_compiled_templates_are_uploaded_to_the_templates_bucket(tf: dict[str, Any]) -> None:
    upload = tf["resource"]["google_storage_bucket_object"]["templates"]
    # Object name => file: every compiled file with var.routes, a routes file's templates else.
    assert attr(upload, "for_each") == "${local.template_uploads}"
    assert attr(upload, "bucket") == "${local.templates_bucket}"
    assert attr(upload, "name") == "${each.key}"
    assert attr(upload, "source") == "${each.value}"
    assert "for f in local.template_files : f => \"${local.compiled_dir}/${f}\"" in attr(
        tf["locals"], "template_uploads")
    assert attr(tf["locals"], "compiled_dir") == (
        '${coalesce(var.compiled_templates_dir, "${path.module}/../compiled")}'
    )


def test_required_apis_are_enabled(tf: dict[str, Any]) -> None:
    services = attr(tf["locals"], "services")
    for api in ("cloudfunctions", "run", "eventarc", "pubsub", "aiplatform", "cloudbuild"):
        assert f"{api}.googleapis.com" in services
    assert attr(tf["resource"]["google_project_service"]["required"], "disable_on_destroy") is False


def test_dead_letter_topic_has_a_keeping_subscription(tf: dict[str, Any]) -> None:
    assert {"drift", "dead_letter", "run_states", "outcomes"} == set(
        tf["resource"]["google_pubsub_topic"]
    )
    keep = tf["resource"]["google_pubsub_subscription"]["dead_letter"]
    assert attr(keep, "topic") == "${google_pubsub_topic.dead_letter.id}"
    assert attr(keep, "message_retention_duration") == "604800s"
    assert "push_config" not in keep  # pulled by an operator, never auto-acknowledged
    assert [attr(p, "ttl") for p in nested(keep, "expiration_policy")] == [""]


def test_dead_letter_setup_commands_attach_the_topic(tf: dict[str, Any]) -> None:
    commands = attr(tf["locals"], "dead_letter_setup_commands")
    assert "--dead-letter-topic=${google_pubsub_topic.dead_letter.id}" in commands
    assert "--max-delivery-attempts=${var.dead_letter_max_delivery_attempts}" in commands
    assert "transport.pubsub.subscription" in commands
    assert "--role=roles/pubsub.subscriber" in commands  # forwarding needs it on the source
    output = tf["output"]["dead_letter_setup_commands"]
    assert attr(output, "value") == "${local.dead_letter_setup_commands}"


def test_gcloud_attachment_is_opt_in_and_reruns_for_new_triggers(tf: dict[str, Any]) -> None:
    attach = tf["resource"]["terraform_data"]["attach_dead_letter"]
    assert attr(attach, "count") == "${var.attach_dead_letter_with_gcloud ? 1 : 0}"
    assert "${local.eventarc_triggers}" in attr(attach, "triggers_replace")
    provisioner = nested(attach, "provisioner")[0]["local-exec"]
    assert attr(provisioner, "command") == "${local.dead_letter_setup_commands}"
    assert attr(provisioner, "interpreter")[:3] == ["bash", "-euo", "pipefail"]
    assert attr(tf["variable"]["attach_dead_letter_with_gcloud"], "default") is False


def test_model_monitoring_sink_is_optional_and_filters_the_anomaly_log(
    tf: dict[str, Any], tf_module: Module
) -> None:
    sink = tf["resource"]["google_logging_project_sink"]["model_monitoring"]
    assert attr(sink, "count") == "${var.enable_model_monitoring_sink ? 1 : 0}"
    assert attr(sink, "filter") == (
        'logName="projects/${var.project_id}/logs/aiplatform.googleapis.com%2Fmodel_monitoring_anomaly"'
    )
    assert attr(sink, "destination") == "pubsub.googleapis.com/${google_pubsub_topic.drift.id}"
    assert attr(sink, "unique_writer_identity") is True
    assert attr(tf["variable"]["enable_model_monitoring_sink"], "type") == "bool"
    declared = tf_module.variables["enable_model_monitoring_sink"]["attributes"]["type"]
    assert type_constraint(declared) == "bool"  # the keyword, not the string "bool"


@pytest.mark.parametrize("name", BUCKETS)
def test_buckets_runs_write_default_to_the_kms_key(tf: dict[str, Any], name: str) -> None:
    bucket = tf["resource"]["google_storage_bucket"][name]
    encryption = [d["encryption"] for d in nested(bucket, "dynamic") if "encryption" in d]
    if name in ("pipeline_root", "models"):
        assert [attr(e, "for_each") for e in encryption] == ["${local.run_bucket_default_key}"]
        assert attr(tf["locals"], "run_bucket_default_key") == (
            "${var.kms_key == null ? [] : [var.kms_key]}"
        )
        assert "${google_kms_crypto_key_iam_member.storage_agent_uses_kms_key}" in (
            attr(bucket, "depends_on")
        )
    else:
        assert encryption == [] and "encryption" not in bucket


def test_monitoring_notification_channel_is_optional_and_publishes_to_the_drift_topic(
    tf: dict[str, Any], tf_module: Module
) -> None:
    enabled = "${var.enable_monitoring_notification_channel ? 1 : 0}"
    channel = tf["resource"]["google_monitoring_notification_channel"]["drift"]
    assert attr(channel, "count") == enabled
    assert attr(channel, "type") == "pubsub"
    assert attr(channel, "labels") == {"topic": "${google_pubsub_topic.drift.id}"}
    api = tf["resource"]["google_project_service"]["monitoring"]
    # The Monitoring API also serves the failed-events alerting policy (test_alerting.py).
    assert attr(api, "count") == (
        "${var.enable_monitoring_notification_channel || var.failed_events_alert != null ? 1 : 0}"
    )
    assert attr(api, "service") == "monitoring.googleapis.com"
    assert attr(api, "disable_on_destroy") is False
    grant = tf["resource"]["google_pubsub_topic_iam_member"]["monitoring_channel_publisher"]
    assert attr(grant, "count") == enabled
    # The notification service agent is created with the project's first Pub/Sub channel.
    assert attr(grant, "depends_on") == ["${google_monitoring_notification_channel.drift}"]
    assert attr(tf["locals"], "monitoring_notification_agent") == (
        "service-${data.google_project.this.number}"
        "@gcp-sa-monitoring-notification.iam.gserviceaccount.com"
    )
    output = tf["output"]["drift_notification_channel"]
    assert "google_monitoring_notification_channel.drift[0].name" in attr(output, "value")
    declared = tf_module.variables["enable_monitoring_notification_channel"]["attributes"]["type"]
    assert type_constraint(declared) == "bool"
    assert attr(tf["variable"]["enable_monitoring_notification_channel"], "default") is False
