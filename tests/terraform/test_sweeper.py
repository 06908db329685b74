"""The sweeper: a third function (HTTP), a Cloud Scheduler job with an OIDC token, its account."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.terraform.hcl_config import TERRAFORM_DIR, attr, nested
from tests.terraform.hcl_eval import Evaluator, Module, ValidationFailedError
from tests.terraform.helpers import PROVIDER_VALUES, plan, rendered_function, with_route

SWEEP_URI = "${module.sweep[0].uri}"
SCHEDULER_EMAIL = "${google_service_account.scheduler[0].email}"
COUNT = "${local.sweep_enabled ? 1 : 0}"


def sweep_function(tf: dict[str, Any]) -> dict[str, Any]:
    return tf["module"]["sweep"]


def test_sweep_function_is_http_from_the_same_archive_as_the_runtime_account(
    tf: dict[str, Any],
) -> None:
    function = sweep_function(tf)
    assert attr(function, "source") == "./modules/cloud_function"
    assert attr(function, "count") == COUNT
    assert "event_trigger" not in function  # HTTP: called, not triggered
    assert attr(function, "entry_point") == "sweep"
    assert attr(function, "source_archive")["object"] == (
        "${google_storage_bucket_object.function_source.name}"
    )
    assert attr(function, "service_account_email") == (
        "${google_service_account.function_runtime.email}"
    )
    assert attr(function, "ingress_settings") == "ALLOW_INTERNAL_ONLY"
    assert attr(function, "max_instance_count") == 1  # never two sweeps at once
    assert attr(function, "timeout_seconds") == "${var.sweep_timeout_seconds}"
    # Cloud Scheduler's identity, and no other, may call it.
    assert attr(function, "invoker_members") == {"scheduler": f"serviceAccount:{SCHEDULER_EMAIL}"}


def test_scheduler_posts_with_an_oidc_token_for_the_function(tf: dict[str, Any]) -> None:
    job = tf["resource"]["google_cloud_scheduler_job"]["sweep"]
    assert attr(job, "count") == COUNT
    assert attr(job, "schedule") == "${var.sweep_schedule}"
    assert attr(job, "time_zone") == "Etc/UTC"
    assert attr(job, "attempt_deadline") == "${var.sweep_timeout_seconds}s"
    target = nested(job, "http_target")[0]
    assert attr(target, "http_method") == "POST"
    assert attr(target, "uri") == SWEEP_URI
    token = nested(target, "oidc_token")[0]
    assert attr(token, "service_account_email") == SCHEDULER_EMAIL
    assert attr(token, "audience") == SWEEP_URI
    assert nested(job, "oauth_token") == [] and nested(target, "oauth_token") == []
    assert "${module.sweep}" in attr(job, "depends_on")  # its invoker grant included


def test_scheduler_api_is_enabled(tf: dict[str, Any]) -> None:
    assert "cloudscheduler.googleapis.com" in attr(tf["locals"], "services")


def batch_example(example: dict[str, Any]) -> dict[str, Any]:
    exports = {
        "name": "prices-export",
        "event": "object_finalized",
        "prefix": "exports/",
        "suffix": ".csv",
        "template": "house_prices",
        "batch": {"complete_when": {"marker": "_SUCCESS"}},
        "parameters": {"data_uri": "{batch_uri}", "reason": "{batch_objects} files"},
        "sweep_lookback": "2h",
        "max_running": 2,
        "max_runs_per_day": 50,
    }
    return {**example, "routes": [*example["routes"], exports]}


def test_without_sweep_lookback_nothing_of_the_sweeper_exists(
    module: Module, example: dict[str, Any]
) -> None:
    evaluator = plan(module, example)
    assert evaluator.local("sweep_enabled") is False
    assert evaluator.local("lists_data_bucket") is False  # so no viewer grant on the data bucket


def test_a_max_running_cap_alone_brings_the_sweeper_for_its_parked_events(
    module: Module, example: dict[str, Any]
) -> None:
    first, *others = example["routes"]
    capped = {**example, "routes": [{**first, "max_running": 1}, *others]}
    evaluator = plan(module, capped)
    assert evaluator.local("sweep_enabled") is True  # only the sweeper re-drives parked events
    assert evaluator.local("lists_data_bucket") is False  # parking is in the state bucket
    parking = yaml.safe_load(evaluator.local("triggers_yaml"))["parking"]
    assert parking == "gs://my-project-trigger-state/parking"  # beside the pauses, not in them
    assert yaml.safe_load(evaluator.local("triggers_yaml"))["state"] == (
        "gs://my-project-trigger-state/triggers"
    )


def test_a_batch_route_with_a_sweep_renders_and_loads(
    module: Module, example: dict[str, Any], tmp_path: Path
) -> None:
    evaluator = plan(module, batch_example(example))
    assert evaluator.local("sweep_enabled") is True
    assert evaluator.local("lists_data_bucket") is True
    rendered = yaml.safe_load(evaluator.local("triggers_yaml"))
    exports = rendered["routes"][-1]
    assert exports["batch"] == {"complete_when": {"marker": "_SUCCESS"}}  # unset rules left out
    assert (exports["sweep_lookback"], exports["max_running"], exports["max_runs_per_day"]) == (
        "2h", 2, 50,
    )  # fmt: skip
    loader = pytest.importorskip("vertex_trigger.config.loader")
    path = tmp_path / "triggers.yaml"
    path.write_text(evaluator.local("triggers_yaml"))
    route = loader.load_config(path).routes[-1]
    assert (route.batch.rule, route.batch.control, route.sweep_lookback) == (
        "marker", "_SUCCESS", 7200,
    )  # fmt: skip


INVALID = {
    "two batch rules": (
        lambda ex: with_route(ex, -1, batch={"complete_when": {"marker": "_SUCCESS",
                                                              "min_objects": 3}}),
        "batch.complete_when takes exactly one rule"),
    "quiet unit": (
        lambda ex: with_route(ex, -1, batch={"complete_when": {"quiet": "10 minutes"}}),
        "must be a whole number followed by s, m, h or d"),
    "lookback unit": (lambda ex: with_route(ex, -1, sweep_lookback="2"), "sweep_lookback and"),
    "batch on a drift route": (
        lambda ex: with_route(ex, 1, batch={"complete_when": {"min_objects": 2}}),
        "batch and partitions belong to object_finalized routes only, sweep_lookback to "
        "object_finalized and run_ended routes"),
    "partitions on a drift route": (
        lambda ex: with_route(ex, 1, partitions="incoming/%Y/"),
        "batch and partitions belong to object_finalized routes only, sweep_lookback to "
        "object_finalized and run_ended routes"),
    "max_running": (lambda ex: with_route(ex, -1, max_running=0), "from 1 to 1000"),
    "max_runs_per_day": (lambda ex: with_route(ex, 1, max_runs_per_day=2.5), "from 1 to 1000"),
    "schedule": (lambda ex: {**ex, "sweep_schedule": "every 10 minutes"}, "five-field cron"),
    "sweep timeout": (lambda ex: {**ex, "sweep_timeout_seconds": 10}, "from 15 to 1800"),
    "retry deadline past the sweep timeout": (
        lambda ex: {**ex, "sweep_timeout_seconds": 30, "launch_retry": {"deadline": "45s"}},
        "shorter than sweep_timeout_seconds"),
}  # fmt: skip


@pytest.mark.parametrize("case", INVALID)
def test_invalid_sweeper_inputs_stop_the_plan_with_a_message(
    module: Module, example: dict[str, Any], case: str
) -> None:
    change, message = INVALID[case]
    with pytest.raises(ValidationFailedError) as failure:
        plan(module, change(batch_example(example)))
    assert message in str(failure.value)


def test_the_sweep_function_and_its_schedule_render_as_before(example: dict[str, Any]) -> None:
    got = rendered_function(batch_example(example), "sweep")
    assert "event_trigger" not in got["function"]
    assert got["function"]["build_config"][0]["entry_point"] == "sweep"
    assert got["function"]["service_config"] == [{
        "available_memory": "256M",
        "timeout_seconds": 300,
        "max_instance_count": 1,
        "service_account_email": "vertex-triggers-fn@my-project.iam.gserviceaccount.com",
        "ingress_settings": "ALLOW_INTERNAL_ONLY",
        "all_traffic_on_latest_revision": True,
        "environment_variables": {"GOOGLE_CLOUD_PROJECT": "my-project"},
        "secret_environment_variables": [{"key": "TRIGGER_RUN_KEY", "project_id": "my-project",
                                          "secret": "vertex-triggers-run-key",
                                          "version": "latest"}],
    }]  # fmt: skip
    assert got["invokers"] == {"scheduler": {
        "project": "my-project", "location": "us-central1", "name": "vertex-triggers-sweep",
        "role": "roles/run.invoker",
        "member": "serviceAccount:vertex-triggers-sweeper@my-project.iam.gserviceaccount.com",
    }}  # fmt: skip
    uri = "https://vertex-triggers-sweep-abc-uc.a.run.app"
    computed = {**PROVIDER_VALUES, ("module.sweep.google_cloudfunctions2_function", "this",
                             "service_config"): lambda _: [{"uri": uri}]}  # fmt: skip
    evaluator = Evaluator(Module.load(TERRAFORM_DIR), batch_example(example), TERRAFORM_DIR,
                          computed=computed)  # fmt: skip
    (job,) = evaluator.render_resource("google_cloud_scheduler_job", "sweep").values()
    (target,) = job["http_target"]
    assert (target["uri"], target["oidc_token"][0]["audience"]) == (uri, uri)


def test_the_sweep_deadline_is_rendered_inside_the_sweep_timeout(
    module: Module, example: dict[str, Any], tmp_path: Path
) -> None:
    with_partitions = with_route(batch_example(example), -1, partitions="exports/%Y/%m/%d/")
    evaluator = plan(module, {**with_partitions, "sweep_timeout_seconds": 900})
    config = yaml.safe_load(evaluator.local("triggers_yaml"))
    assert config["sweep_deadline"] == "890s"  # it stops, logs and answers 500 before the timeout
    assert config["routes"][-1]["partitions"] == "exports/%Y/%m/%d/"
    loader = pytest.importorskip("vertex_trigger.config.loader")
    path = tmp_path / "triggers.yaml"
    path.write_text(evaluator.local("triggers_yaml"))
    loaded = loader.load_config(path)
    assert loaded.sweep_deadline == 890
    assert loaded.routes[-1].partitions.pattern == "exports/%Y/%m/%d/"


def test_without_a_sweep_no_sweep_deadline_is_written(
    module: Module, example: dict[str, Any]
) -> None:
    assert "sweep_deadline" not in yaml.safe_load(plan(module, example).local("triggers_yaml"))


def test_the_failed_events_metric_counts_the_sweep_s_failed_routes(
    module: Module, example: dict[str, Any]
) -> None:
    names = ["vertex-triggers-object-finalized", "vertex-triggers-drift-alert",
             "vertex-triggers-run-state"]  # fmt: skip

    def metric_filter(inputs: dict[str, Any]) -> str:
        (metric,) = plan(module, inputs).render_resource(
            "google_logging_metric", "failed_events").values()  # fmt: skip
        return metric["filter"]

    services = " OR ".join(f'"{name}"' for name in names)
    assert metric_filter(example) == (
        f'resource.type="cloud_run_revision" AND resource.labels.service_name=({services}) '
        'AND jsonPayload.decision="failed"'
    )
    with_sweep = f'{services} OR "vertex-triggers-sweep"'
    assert f"resource.labels.service_name=({with_sweep})" in metric_filter(batch_example(example))
