"""The failed-events alerting policy: the metric's lines, told to the operator's channels."""

from typing import Any

import pytest

from tests.terraform.hcl_eval import Module, ValidationFailedError
from tests.terraform.helpers import plan, with_route

CHANNEL = "projects/p/notificationChannels/123"
FUNCTIONS = ["vertex-triggers-object-finalized", "vertex-triggers-drift-alert",
             "vertex-triggers-run-state"]  # fmt: skip


def rendered(module: Module, inputs: dict[str, Any], rtype: str, name: str) -> list[Any]:
    return list(plan(module, inputs).render_resource(rtype, name).values())


def test_by_default_an_incident_opens_on_the_lines_the_metric_counts(
    module: Module, example: dict[str, Any]
) -> None:
    (policy,) = rendered(module, example, "google_monitoring_alert_policy", "failed_events")
    (metric,) = rendered(module, example, "google_logging_metric", "failed_events")
    ((condition,),) = [c["condition_matched_log"] for c in policy["conditions"]]
    services = " OR ".join(f'"{name}"' for name in FUNCTIONS)
    assert condition["filter"] == metric["filter"] == (
        f'resource.type="cloud_run_revision" AND resource.labels.service_name=({services}) '
        'AND jsonPayload.decision="failed"'
    )
    assert condition["label_extractors"] == {
        "route": "EXTRACT(jsonPayload.route)",
        "function": "EXTRACT(resource.labels.service_name)",
    }
    ((strategy,),) = [policy["alert_strategy"]]
    assert strategy["auto_close"] == "1800s"
    assert strategy["notification_rate_limit"] == [{"period": "300s"}]
    assert (policy["combiner"], policy["severity"]) == ("OR", "ERROR")
    assert policy.get("notification_channels", []) == []  # incidents in the console, no one told
    # The documentation's variables reach Cloud Monitoring as written ($$ is Terraform's escape).
    (documentation,) = policy["documentation"]
    assert "${log.extracted_label.route}" in documentation["subject"]
    assert "${log.extracted_label.function}" in documentation["content"]
    (api,) = rendered(module, example, "google_project_service", "monitoring")
    assert api["service"] == "monitoring.googleapis.com"


def test_the_sweep_s_failed_routes_are_alerted_on_once_there_is_a_sweep(
    module: Module, example: dict[str, Any]
) -> None:
    swept = with_route(example, 0, sweep_lookback="2h")
    (policy,) = rendered(module, swept, "google_monitoring_alert_policy", "failed_events")
    (condition,) = policy["conditions"][0]["condition_matched_log"]
    assert '"vertex-triggers-run-state" OR "vertex-triggers-sweep")' in condition["filter"]


def test_channels_and_timing_are_the_operator_s(module: Module, example: dict[str, Any]) -> None:
    inputs = {**example, "failed_events_alert": {
        "notification_channels": [CHANNEL], "notification_period": "3600s",
        "auto_close": "604800s"}}  # fmt: skip
    (policy,) = rendered(module, inputs, "google_monitoring_alert_policy", "failed_events")
    assert policy["notification_channels"] == [CHANNEL]
    (strategy,) = policy["alert_strategy"]
    assert (strategy["auto_close"], strategy["notification_rate_limit"]) == (
        "604800s",
        [{"period": "3600s"}],
    )


def test_null_leaves_the_metric_and_no_policy(module: Module, example: dict[str, Any]) -> None:
    inputs = {**example, "failed_events_alert": None}
    assert rendered(module, inputs, "google_monitoring_alert_policy", "failed_events") == []
    assert len(rendered(module, inputs, "google_logging_metric", "failed_events")) == 1
    # The Monitoring API stays for the example's drift notification channel, and only for it.
    assert len(rendered(module, inputs, "google_project_service", "monitoring")) == 1
    alone = {**inputs, "enable_monitoring_notification_channel": False}
    assert rendered(module, alone, "google_project_service", "monitoring") == []


@pytest.mark.parametrize(
    ("alert", "message"),
    [
        ({"notification_channels": ["ops@example.com"]}, "must be channel names"),
        ({"notification_period": "5m"}, "are whole seconds"),
        ({"notification_period": "60s"}, "must be at least 300s"),
        ({"auto_close": "600s"}, "must be between 1800s (30 minutes) and 604800s"),
        ({"auto_close": "691200s"}, "must be between 1800s (30 minutes) and 604800s"),
    ],
)
def test_what_cloud_monitoring_would_refuse_stops_the_plan(
    module: Module, example: dict[str, Any], alert: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationFailedError) as failure:
        plan(module, {**example, "failed_events_alert": alert})
    assert message in str(failure.value)
