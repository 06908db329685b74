"""Run outcomes: the PipelineJob log sink, its topic, on_run_state, the outcomes topic, secrets."""

from typing import Any

from tests.terraform.hcl_config import attr, nested

RUN_STATE_FILTER = (
    'resource.type="aiplatform.googleapis.com/PipelineJob" AND '
    'logName="projects/${var.project_id}/logs/aiplatform.googleapis.com%2Fpipeline_job_events"'
)


def test_sink_sends_pipeline_job_entries_to_the_run_states_topic(tf: dict[str, Any]) -> None:
    sink = tf["resource"]["google_logging_project_sink"]["run_states"]
    assert attr(sink, "filter") == "${local.run_state_filter}"
    assert attr(tf["locals"], "run_state_filter") == RUN_STATE_FILTER
    assert attr(sink, "destination") == "pubsub.googleapis.com/${google_pubsub_topic.run_states.id}"
    assert attr(sink, "unique_writer_identity") is True
    grant = tf["resource"]["google_pubsub_topic_iam_member"]["run_states_sink_publisher"]
    assert attr(grant, "member") == "${google_logging_project_sink.run_states.writer_identity}"
    assert attr(grant, "topic") == "${google_pubsub_topic.run_states.name}"


def test_on_run_state_listens_to_the_run_states_topic(tf: dict[str, Any]) -> None:
    function = tf["resource"]["google_cloudfunctions2_function"]["on_run_state"]
    trigger = nested(function, "event_trigger")[0]
    assert attr(trigger, "pubsub_topic") == "${google_pubsub_topic.run_states.id}"
    assert attr(trigger, "trigger_region") == "${var.region}"
    assert attr(nested(function, "build_config")[0], "entry_point") == "on_run_state"


def test_webhook_urls_come_from_secret_manager_into_on_run_state_only(tf: dict[str, Any]) -> None:
    functions = tf["resource"]["google_cloudfunctions2_function"]
    service = nested(functions["on_run_state"], "service_config")[0]
    secrets = nested(service, "dynamic")[0]["secret_environment_variables"]
    assert attr(secrets, "for_each") == "${local.webhook_secrets}"
    content = nested(secrets, "content")[0]
    assert attr(content, "key") == (
        "${local.webhook_variables[secret_environment_variables.key]}"
    )
    assert attr(content, "secret") == "${secret_environment_variables.value}"
    assert attr(content, "version") == "latest"
    for launcher in ("on_object_finalized", "on_drift_alert"):
        assert "dynamic" not in nested(functions[launcher], "service_config")[0]
    assert "google_secret_manager_secret_version" not in tf["resource"]  # no URL in the state


def test_outcomes_topic_is_rendered_into_the_configuration(tf: dict[str, Any]) -> None:
    assert attr(tf["locals"], "outcomes_topic") == (
        "projects/${var.project_id}/topics/${google_pubsub_topic.outcomes.name}"
    )
    assert attr(tf["output"]["run_outcomes_topic"], "value") == "${google_pubsub_topic.outcomes.id}"


def test_secret_manager_api_is_enabled(tf: dict[str, Any]) -> None:
    assert "secretmanager.googleapis.com" in attr(tf["locals"], "services")
