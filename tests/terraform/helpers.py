"""Helpers shared by the Terraform tests: the contract's keys, a plan's checks, example edits."""

import copy
from collections.abc import Callable
from typing import Any

from tests.terraform.hcl_config import TERRAFORM_DIR
from tests.terraform.hcl_eval import Evaluator, Module

# Keys of the configuration contract (design.md, "Configuration contract"), plus `retry`, the
# functions' backoff budget for Vertex AI calls (functions/vertex_trigger/config.py), and the run
# outcomes' `outcomes_topic` and a route's `notify` (functions/vertex_trigger/notifications.py).
TOP_LEVEL_KEYS = {
    "project", "region", "pipeline_root", "service_account", "network", "kms_key", "retry",
    "routes", "outcomes_topic",
}
ROUTE_KEYS = {
    "name", "event", "bucket", "prefix", "suffix", "template", "parameters", "labels",
    "enable_caching", "match", "policy_labels", "min_deviation", "cooldown", "notify", "batch",
    "sweep_lookback", "max_running", "max_runs_per_day",
}


def plan(module: Module, inputs: dict[str, Any]) -> Evaluator:
    """What `terraform plan` checks before anything is created: validations, then preconditions."""
    evaluator = Evaluator(module, inputs, TERRAFORM_DIR, computed=ACCOUNT_EMAILS)
    evaluator.validate_variables()
    evaluator.check_preconditions()
    return evaluator


def account_email(name: str) -> Callable[[Evaluator], str]:
    """Return how the provider computes an account's email: ACCOUNT_ID@PROJECT.iam..."""

    def email(evaluator: Evaluator) -> str:
        account = evaluator.resource_attribute("google_service_account", name, "account_id")
        return f"{account}@{evaluator.vars['project_id']}.iam.gserviceaccount.com"

    return email


ACCOUNT_EMAILS = {
    ("google_service_account", name, "email"): account_email(name)
    for name in ("function_runtime", "pipeline", "trigger")
}


def with_route(example: dict[str, Any], index: int, **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(example)
    changed["routes"][index].update(changes)
    return changed
