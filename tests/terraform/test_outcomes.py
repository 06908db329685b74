"""Run outcomes: the PipelineJob log sink, its topic, on_run_state, the outcomes topic, secrets."""

from typing import Any

from tests.terraform.hcl_config import attr

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
    function = tf["module"]["on_run_state"]
    trigger = attr(function, "event_trigger")
    assert trigger["pubsub_topic"] == "${google_pubsub_topic.run_states.id}"
    assert trigger["trigger_region"] == "${var.region}"
    assert attr(function, "entry_point") == "on_run_state"


def test_webhook_urls_come_from_secret_manager_into_on_run_state_only(tf: dict[str, Any]) -> None:
    functions = tf["module"]
    secrets = attr(functions["on_run_state"], "secret_environment_variables")
    # One per variable the notifying routes name, from its secret's latest version (the
    # rendering of real values is in test_functions.py).
    # Then the run key, which every function reads.
    assert secrets == (
        "${concat([for variable in local.webhook_environment : {key = variable.key, "
        'project_id = var.project_id, secret = variable.secret, version = "latest"}], '
        'local.run_key_environment)}'
    )
    for others in ("on_object_finalized", "on_drift_alert", "sweep"):
        assert attr(functions[others], "secret_environment_variables") == (
            "${local.run_key_environment}"  # the run key only: never a webhook URL
        )
    # Neither a URL nor the run key in the state: the operator creates the secrets (README).
    assert "google_secret_manager_secret_version" not in tf["resource"]


def test_outcomes_topic_is_rendered_into_the_configuration(tf: dict[str, Any]) -> None:
    assert attr(tf["locals"], "outcomes_topic") == (
        "projects/${var.project_id}/topics/${google_pubsub_topic.outcomes.name}"
    )
    assert attr(tf["output"]["run_outcomes_topic"], "value") == "${google_pubsub_topic.outcomes.id}"


def test_secret_manager_api_is_enabled(tf: dict[str, Any]) -> None:
    assert "secretmanager.googleapis.com" in attr(tf["locals"], "services")
