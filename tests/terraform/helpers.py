"""Helpers shared by the Terraform tests: the contract's keys, a plan's checks, example edits."""

import copy
import json
import subprocess
from collections.abc import Callable
from typing import Any

from tests.terraform.hcl_config import TERRAFORM_DIR
from tests.terraform.hcl_eval import Evaluator, Module

# Keys of the configuration contract (design.md, "Configuration contract"), plus `retry`, the
# functions' backoff budget for Google API calls (functions/vertex_trigger/config/loader.py), and
# the run outcomes' `outcomes_topic` and a route's `notify` (vertex_trigger/config/notify.py), and
# the run lifecycle's `state` and route keys (vertex_trigger/config/lifecycle.py and
# state_location.py).
TOP_LEVEL_KEYS = {
    "project", "region", "pipeline_root", "service_account", "network", "kms_key", "retry",
    "routes", "outcomes_topic", "state", "sweep_deadline", "parking",
}
ROUTE_KEYS = {
    "name", "event", "bucket", "prefix", "suffix", "template", "parameters", "labels",
    "enable_caching", "match", "policy_labels", "min_deviation", "cooldown", "notify", "batch",
    "sweep_lookback", "partitions", "max_running", "max_runs_per_day", "after", "overlap",
    "max_duration", "retry_failed", "renamed_from",
}


def plan(module: Module, inputs: dict[str, Any]) -> Evaluator:
    """What `terraform plan` checks before anything is created: validations, then preconditions."""
    evaluator = Evaluator(module, inputs, TERRAFORM_DIR, computed=PROVIDER_VALUES)
    evaluator.validate_variables()
    evaluator.check_preconditions()
    assert evaluator.deferred == []  # with those values, nothing waits for apply
    return evaluator


def account_email(name: str) -> Callable[[Evaluator], str]:
    """Return how the provider computes an account's email: ACCOUNT_ID@PROJECT.iam..."""

    def email(evaluator: Evaluator) -> str:
        account = evaluator.resource_attribute("google_service_account", name, "account_id")
        return f"{account}@{evaluator.vars['project_id']}.iam.gserviceaccount.com"

    return email


def topic_id(topic: str) -> Callable[[Evaluator], str]:
    """Return how the provider computes a topic's id: projects/PROJECT/topics/NAME."""

    def value(evaluator: Evaluator) -> str:
        name = evaluator.resource_attribute("google_pubsub_topic", topic, "name")
        return f"projects/{evaluator.vars['project_id']}/topics/{name}"

    return value


class ExternalProgramError(Exception):
    """The external provider's program failed: `terraform plan` stops with its stderr."""


def external_program(name: str) -> Callable[[Evaluator], dict[str, str]]:
    """Return how the external provider reads data.external.NAME at plan time: it runs `program`
    with `query` as JSON on stdin; a non-zero exit fails the plan with the program's stderr, else
    stdout is the result, a JSON object of strings (hashicorp/terraform-provider-external)."""

    def result(evaluator: Evaluator) -> dict[str, str]:
        program = evaluator.resource_attribute("data.external", name, "program", 0)
        query = evaluator.resource_attribute("data.external", name, "query", 0)
        ran = subprocess.run(program, input=json.dumps(query), capture_output=True, text=True,
                             cwd=evaluator.module_path, timeout=300, check=False)  # fmt: skip
        if ran.returncode != 0:
            raise ExternalProgramError(
                f"data.external.{name}: External Program Execution Failed: {ran.stderr.strip()}"
            )
        answer = json.loads(ran.stdout)
        assert all(isinstance(v, str) for v in answer.values()), answer  # the protocol's rule
        return answer

    return result


EXISTING_DATA_LOCATION = "EUROPE-WEST4"  # what data.google_storage_bucket reads of one, in tests
ARCHIVE_SHA = "0f3c"  # data.archive_file's output_sha256, which Terraform reads at plan time
PROVIDER_VALUES = {
    **{("google_service_account", name, "email"): account_email(name)
       for name in ("function_runtime", "pipeline", "trigger", "outcomes", "scheduler")},
    **{("google_pubsub_topic", name, "id"): topic_id(name) for name in ("drift", "run_states")},
    ("data.archive_file", "function_source", "output_sha256"): lambda _: ARCHIVE_SHA,
    ("data.external", "routes_check", "result"): external_program("routes_check"),
    ("data.google_storage_bucket", "existing_data", "location"): lambda _: EXISTING_DATA_LOCATION,
}  # fmt: skip


def rendered_function(example: dict[str, Any], name: str) -> dict[str, Any]:
    """The function and invoker grants one module call makes, evaluated for the given inputs."""
    evaluator = plan(Module.load(TERRAFORM_DIR), example)  # every check holds, none deferred
    (instance,) = evaluator.module_instances(name)
    child = instance.evaluator
    (function,) = child.render_resource("google_cloudfunctions2_function", "this").values()
    invokers = child.render_resource("google_cloud_run_v2_service_iam_member", "invoker")
    return {"function": function, "invokers": invokers}


def with_route(example: dict[str, Any], index: int, **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(example)
    changed["routes"][index].update(changes)
    return changed
