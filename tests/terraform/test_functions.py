"""The functions: four calls of modules/cloud_function, their archive, entry points, size, triggers.

Structure tests read the calls' arguments as written; the rendering tests evaluate each call
through the module (hcl_eval) and compare the function the provider would receive.
"""

from typing import Any

import pytest

from tests.terraform.hcl_config import MODULE_DIR, TERRAFORM_DIR, attr, nested, parse_file
from tests.terraform.hcl_eval import Module, type_constraint
from tests.terraform.helpers import ARCHIVE_SHA, plan, rendered_function

MODULE_SOURCE = "./modules/cloud_function"
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
ARCHIVE = {
    "bucket": "${google_storage_bucket.source.name}",
    "object": "${google_storage_bucket_object.function_source.name}",
}

LAUNCHER_START_UP = {
    "${google_secret_manager_secret_iam_member.function_runtime_run_key_accessor}",
    "${google_storage_bucket_object.templates}",
    "${google_storage_bucket_iam_member.function_runtime_templates_viewer}",
    "${google_artifact_registry_repository_iam_member.function_runtime_template_reader}",
    "${google_kms_crypto_key_iam_member.vertex_agent_uses_kms_key}",
}


def call(tf: dict[str, Any], name: str) -> dict[str, Any]:
    return tf["module"][name]


def test_each_function_is_a_call_of_the_cloud_function_module(tf: dict[str, Any]) -> None:
    # The sweep function (HTTP, sweeper.tf) is checked in test_sweeper.py.
    assert set(tf["module"]) == {*FUNCTIONS, "sweep"}
    for name, body in tf["module"].items():
        assert attr(body, "source") == MODULE_SOURCE, name
        assert attr(body, "entry_point") == name


def test_no_function_resource_is_declared_outside_the_module() -> None:
    declared = {}
    for path in sorted(TERRAFORM_DIR.rglob("*.tf")):
        for entry in parse_file(path).get("resource", []):
            for rtype, named in entry.items():
                if rtype.startswith("google_cloudfunctions"):  # 2nd gen, and 1st gen never
                    declared[str(path.relative_to(TERRAFORM_DIR))] = (rtype, sorted(named))
    assert declared == {
        "modules/cloud_function/main.tf": ("google_cloudfunctions2_function", ["this"]),
    }
    assert MODULE_DIR == TERRAFORM_DIR / MODULE_SOURCE


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_builds_python_from_the_hashed_archive(tf: dict[str, Any], name: str) -> None:
    assert attr(call(tf, name), "runtime") == "${var.function_runtime}"
    assert attr(call(tf, name), "source_archive") == ARCHIVE


def test_runtime_variable_is_a_python_runtime(tf: dict[str, Any]) -> None:
    runtime = tf["variable"]["function_runtime"]
    assert attr(runtime, "default").startswith("python3")


# A launcher's start-up reads every route's template: an instance that cannot read one does not
# start. on_run_state's reads the webhook secrets, and the templates of the run_ended routes it
# launches (with their grants, which exist only with such a route).
START_UP_READS = {
    "on_object_finalized": LAUNCHER_START_UP,
    "on_drift_alert": LAUNCHER_START_UP,
    "on_run_state": {
        "${google_secret_manager_secret_iam_member.outcomes_webhook_accessor}",
        "${google_secret_manager_secret_iam_member.outcomes_run_key_accessor}",
        "${google_storage_bucket_object.templates}",
        "${google_storage_bucket_iam_member.outcomes_templates_viewer}",
        "${google_artifact_registry_repository_iam_member.outcomes_template_reader}",
    },
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_waits_for_what_its_start_up_reads(tf: dict[str, Any], name: str) -> None:
    # A module call's depends_on holds back every resource of the call: the function included.
    after = set(attr(call(tf, name), "depends_on"))
    assert START_UP_READS[name] <= after
    assert "${google_project_iam_member.trigger_event_receiver}" in after


PIPELINE_MEMBER = "serviceAccount:${google_service_account.pipeline.email}"
RUNS_AS = {  # the account each launching function runs as
    "on_object_finalized": "serviceAccount:${google_service_account.function_runtime.email}",
    "on_drift_alert": "serviceAccount:${google_service_account.function_runtime.email}",
    "sweep": "serviceAccount:${google_service_account.function_runtime.email}",
    "on_run_state": "serviceAccount:${google_service_account.outcomes.email}",
}


def grants_a_launch_needs(tf: dict[str, Any], member: str) -> set[str]:
    """The runtime's actAs on the pipeline account, and every bucket grant of that account.

    Without them Vertex answers a create with 400 (INVALID_ARGUMENT "You do not have permission
    to act as service_account", FAILED_PRECONDITION "Service account ... does not have
    [storage.objects.get, storage.objects.create] IAM permission(s) to the bucket"): the first
    events of a new deployment would wait in redelivery for grants still being applied.
    """
    resources = tf["resource"]
    acts_as = {
        f"${{google_service_account_iam_member.{name}}}"
        for name, grant in resources["google_service_account_iam_member"].items()
        if attr(grant, "service_account_id") == "${google_service_account.pipeline.name}"
        and attr(grant, "role") == "roles/iam.serviceAccountUser"
        and attr(grant, "member") == member
    }
    buckets = {
        f"${{google_storage_bucket_iam_member.{name}}}"
        for name, grant in resources["google_storage_bucket_iam_member"].items()
        # pipeline_reads: the user's other buckets a pipeline reads as it runs (a create
        # does not need them).
        if attr(grant, "member") == PIPELINE_MEMBER and name != "pipeline_reads"
    }
    return acts_as | buckets


@pytest.mark.parametrize("name", ["on_object_finalized", "on_drift_alert", "sweep", "on_run_state"])
def test_a_launching_function_waits_for_act_as_and_the_pipeline_accounts_grants(
    tf: dict[str, Any], name: str
) -> None:
    """on_run_state launches too, when a route chains or retries (its grants are counted then)."""
    needed = grants_a_launch_needs(tf, RUNS_AS[name])
    acts_as = "outcomes" if name == "on_run_state" else "function_runtime"
    assert needed == {
        f"${{google_service_account_iam_member.{acts_as}_acts_as_pipeline}}",
        "${google_storage_bucket_iam_member.pipeline_root_admin}",
        "${google_storage_bucket_iam_member.pipeline_models_admin}",
        "${google_storage_bucket_iam_member.pipeline_data_viewer}",
    }
    assert needed <= set(attr(call(tf, name), "depends_on"))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_service_size_identity_and_ingress(tf: dict[str, Any], name: str) -> None:
    function = call(tf, name)
    assert attr(function, "available_memory") == "${local.function_memory}"
    assert attr(function, "max_instance_count") == "${var.function_max_instance_count}"
    assert attr(function, "timeout_seconds") == "${var.function_timeout_seconds}"
    assert attr(function, "service_account_email") == RUNTIME_ACCOUNTS[name]
    assert attr(function, "ingress_settings") == "ALLOW_INTERNAL_ONLY"
    assert attr(function, "environment_variables") == "${local.function_environment}"


def test_memory_is_the_256m_default_instance(tf: dict[str, Any]) -> None:
    assert attr(tf["locals"], "function_memory") == "256M"
    assert attr(tf["locals"], "function_environment") == {
        "GOOGLE_CLOUD_PROJECT": "${var.project_id}"
    }


@pytest.mark.parametrize("name", FUNCTIONS)
def test_trigger_event_type_retry_identity_and_invoker(tf: dict[str, Any], name: str) -> None:
    trigger = attr(call(tf, name), "event_trigger")
    assert trigger["event_type"] == FUNCTIONS[name]
    assert trigger["retry_policy"] == "RETRY_POLICY_RETRY"
    assert trigger["service_account_email"] == "${google_service_account.trigger.email}"
    # The identity that delivers the events is the one allowed to invoke the function.
    assert attr(call(tf, name), "invoker_members") == {
        "trigger": "serviceAccount:${google_service_account.trigger.email}"
    }


def test_storage_trigger_watches_the_data_bucket_in_its_location(tf: dict[str, Any]) -> None:
    trigger = attr(call(tf, "on_object_finalized"), "event_trigger")
    assert trigger["trigger_region"] == "${local.storage_trigger_region}"
    assert attr(tf["locals"], "storage_trigger_region") == "${lower(local.data_bucket_location)}"
    # The created bucket's location, or an existing bucket's as the provider reads it.
    assert attr(tf["locals"], "data_bucket_location") == (
        "${var.existing_buckets.data == null ? local.bucket_location : "
        "data.google_storage_bucket.existing_data[0].location}"
    )
    assert trigger["event_filters"] == [{"attribute": "bucket", "value": "${local.data_bucket}"}]


def test_drift_trigger_listens_to_the_drift_topic(tf: dict[str, Any]) -> None:
    trigger = attr(call(tf, "on_drift_alert"), "event_trigger")
    assert trigger["pubsub_topic"] == "${google_pubsub_topic.drift.id}"
    assert trigger["trigger_region"] == "${var.region}"


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
        # A base64 round trip (the identity) that checkov cannot render: test_checkov says why.
        {"content": "${base64decode(base64encode(local.triggers_yaml))}",
         "filename": "triggers.yaml"}
    ]
    # An explicit set: the entry points, the requirements and the package's modules; the shipped
    # triggers.yaml is replaced by the rendered one, never doubled.
    assert attr(tf["locals"], "function_files") == (
        '${toset(concat(["main.py", "requirements.txt"], '
        'tolist(fileset(local.functions_dir, "vertex_trigger/**/*.py"))))}'
    )


def test_archive_object_is_named_by_content_hash(tf: dict[str, Any]) -> None:
    obj = tf["resource"]["google_storage_bucket_object"]["function_source"]
    assert "${data.archive_file.function_source.output_sha256}" in attr(obj, "name")
    assert attr(obj, "source") == "${data.archive_file.function_source.output_path}"
    assert attr(obj, "bucket") == "${google_storage_bucket.source.name}"


# -- each call rendered through the module, as the provider receives it --------------------------

PROJECT = "my-project"
RUN_KEY = {"key": "TRIGGER_RUN_KEY", "project_id": PROJECT, "secret": "vertex-triggers-run-key",
           "version": "latest"}  # fmt: skip


def account(name: str) -> str:
    return f"vertex-triggers-{name}@{PROJECT}.iam.gserviceaccount.com"


def expected(name: str, entry_point: str, description: str, runs_as: str,
             trigger: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """What the root module's resources declared for each function before the module."""
    return {
        "function": {
            "name": f"vertex-triggers-{name}",
            "project": PROJECT,
            "location": "us-central1",
            "description": description,
            "labels": {"app": "vertex-triggers"},
            "build_config": [{
                "runtime": "python311",
                "entry_point": entry_point,
                "source": [{"storage_source": [{
                    "bucket": f"{PROJECT}-function-source",
                    "object": f"function-source-{ARCHIVE_SHA}.zip",
                }]}],
            }],
            "service_config": [{
                "available_memory": "256M",
                "timeout_seconds": 120,
                "max_instance_count": 10,
                "service_account_email": account(runs_as),
                "ingress_settings": "ALLOW_INTERNAL_ONLY",
                "all_traffic_on_latest_revision": True,
                "environment_variables": {"GOOGLE_CLOUD_PROJECT": PROJECT},
                # The run key (TRIGGER_RUN_KEY), in every function, from Secret Manager.
                "secret_environment_variables": [RUN_KEY],
            }],
            "event_trigger": [{
                "retry_policy": "RETRY_POLICY_RETRY",
                "service_account_email": account("trigger"),
                **trigger,
            }],
        },
        "invokers": {"trigger": {
            "project": PROJECT,
            "location": "us-central1",
            "name": f"vertex-triggers-{name}",
            "role": "roles/run.invoker",
            "member": f"serviceAccount:{account('trigger')}",
        }},
    }  # fmt: skip


def test_on_object_finalized_renders_as_before(example: dict[str, Any]) -> None:
    assert rendered_function(example, "on_object_finalized") == expected(
        "object-finalized", "on_object_finalized",
        "Launches a Vertex AI pipeline run for each new object in the data bucket that a route "
        "matches.", "fn",
        {"trigger_region": "us-central1", "event_type": "google.cloud.storage.object.v1.finalized",
         "event_filters": [{"attribute": "bucket", "value": f"{PROJECT}-data"}]},
    )  # fmt: skip


def test_on_drift_alert_renders_as_before(example: dict[str, Any]) -> None:
    assert rendered_function(example, "on_drift_alert") == expected(
        "drift-alert", "on_drift_alert",
        "Launches a retraining pipeline run for a model drift alert on the drift topic that a "
        "route matches.", "fn",
        {"trigger_region": "us-central1", "event_type": FUNCTIONS["on_drift_alert"],
         "pubsub_topic": f"projects/{PROJECT}/topics/vertex-triggers-drift-alerts"},
    )  # fmt: skip


def test_on_run_state_renders_as_before_with_its_webhook_secrets(example: dict[str, Any]) -> None:
    example["routes"][1]["notify"] = {"webhook_secret": "drift-hook"}
    example["routes"][0]["notify"] = {"webhook_secret": "arrival-hook", "on": ["SUCCEEDED"]}
    want = expected(
        "run-state", "on_run_state",
        "Reports how each pipeline run a route launched ended: publishes it to the outcomes "
        "topic, posts it to the route's webhook.", "outcomes",
        {"trigger_region": "us-central1", "event_type": FUNCTIONS["on_run_state"],
         "pubsub_topic": f"projects/{PROJECT}/topics/vertex-triggers-run-states"},
    )  # fmt: skip
    # One per notifying route, in route-name order, each read from its secret's latest version.
    want["function"]["service_config"][0]["secret_environment_variables"] = [
        {"key": "WEBHOOK_URL_PRICES_ARRIVAL", "project_id": PROJECT, "secret": "arrival-hook",
         "version": "latest"},
        {"key": "WEBHOOK_URL_PRICES_DRIFT", "project_id": PROJECT, "secret": "drift-hook",
         "version": "latest"},
        RUN_KEY,
    ]  # fmt: skip
    assert rendered_function(example, "on_run_state") == want


def test_a_storage_trigger_follows_a_multi_region_bucket(example: dict[str, Any]) -> None:
    example["bucket_location"] = "US"
    trigger = rendered_function(example, "on_object_finalized")["function"]["event_trigger"][0]
    assert trigger["trigger_region"] == "us"  # Eventarc wants the bucket's location, lower-case


def test_module_outputs_feed_the_root(tf: dict[str, Any]) -> None:
    triggers = attr(tf["locals"], "eventarc_triggers")
    assert triggers == {name: f"${{module.{name}.eventarc_trigger}}" for name in FUNCTIONS}
    functions = attr(tf["output"]["functions"], "value")
    assert {name: body["name"] for name, body in functions.items()} == {
        name: f"${{module.{name}.name}}" for name in FUNCTIONS
    }


def test_the_example_passes_through_the_calls(example: dict[str, Any]) -> None:
    evaluator = plan(Module.load(TERRAFORM_DIR), example)
    names = {n: evaluator.module_output(n, "name") for n in FUNCTIONS}
    assert names == {
        "on_object_finalized": "vertex-triggers-object-finalized",
        "on_drift_alert": "vertex-triggers-drift-alert",
        "on_run_state": "vertex-triggers-run-state",
    }
    assert evaluator.module_instances("sweep") == []  # no route sets sweep_lookback
