"""The run lifecycle in Terraform: its route keys, the state bucket, who may do what.

``overlap``, ``max_duration`` and ``retry_failed`` render into triggers.yaml as the functions read
them; ``max_duration`` or ``retry_failed`` creates the sweep function; ``retry_failed`` gives
on_run_state what launching needs, and nothing more without it.
"""

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.terraform.hcl_eval import Module, ValidationFailedError
from tests.terraform.helpers import plan, with_route

OVERLAP = {"with": "route", "then": "replace"}


def lifecycle_example(example: dict[str, Any]) -> dict[str, Any]:
    """The example with the arrival route replacing, watched and retried."""
    return with_route(example, 0, overlap={"then": "replace"}, max_duration="6h",
                      retry_failed={"attempts": 3})  # fmt: skip


def test_the_lifecycle_keys_render_and_load_as_the_functions_read_them(
    module: Module, example: dict[str, Any], tmp_path: Path
) -> None:
    evaluator = plan(module, lifecycle_example(example))
    rendered = yaml.safe_load(evaluator.local("triggers_yaml"))
    arrival = rendered["routes"][0]
    # Unset optionals are left out, as the functions' defaults apply then.
    assert arrival["overlap"] == {"then": "replace"}
    assert arrival["retry_failed"] == {"attempts": 3}
    assert arrival["max_duration"] == "6h"
    assert rendered["state"] == "gs://my-project-trigger-state/triggers"
    assert "overlap" not in rendered["routes"][1]
    loader = pytest.importorskip("vertex_trigger.config.loader")
    path = tmp_path / "triggers.yaml"
    path.write_text(evaluator.local("triggers_yaml"))
    config = loader.load_config(path)
    route = config.routes[0]
    assert (route.overlap.action, route.max_duration, route.retry_failed.attempts) == (
        "replace", 21600, 3,
    )  # fmt: skip
    assert (config.state.bucket, config.state.prefix) == ("my-project-trigger-state", "triggers")


def test_max_duration_or_retry_failed_creates_the_sweeper(
    module: Module, example: dict[str, Any]
) -> None:
    assert plan(module, example).local("sweep_enabled") is False
    watched = plan(module, with_route(example, 1, max_duration="6h"))
    retried = plan(module, with_route(example, 1, retry_failed={"attempts": 2, "after": "10m"}))
    assert watched.local("sweep_enabled") is True
    assert watched.local("retries_enabled") is False
    assert retried.local("sweep_enabled") is True
    assert retried.local("retries_enabled") is True


def test_on_run_state_may_launch_only_when_a_route_retries_or_chains(
    module: Module, example: dict[str, Any]
) -> None:
    def counts(inputs: dict[str, Any]) -> dict[str, int]:
        evaluator = plan(module, inputs)
        names = {
            "google_project_iam_member": ("outcomes_aiplatform_viewer", "outcomes_launcher"),
            "google_service_account_iam_member": ("outcomes_acts_as_pipeline",),
            "google_storage_bucket_iam_member": ("outcomes_state_viewer",),
        }
        return {name: evaluator.evaluate(module.resources[(rtype, name)]["attributes"]["count"], {})
                for rtype, group in names.items() for name in group}  # fmt: skip

    # Without a route that launches from on_run_state (run_ended routes launch too: not here).
    unchained = {**example, "routes": [r for r in example["routes"] if r["event"] != "run_ended"]}
    assert counts(unchained) == {"outcomes_aiplatform_viewer": 1, "outcomes_launcher": 0,
                                 "outcomes_acts_as_pipeline": 0, "outcomes_state_viewer": 0}
    assert counts(lifecycle_example(example)) == {
        "outcomes_aiplatform_viewer": 0, "outcomes_launcher": 1,
        "outcomes_acts_as_pipeline": 1, "outcomes_state_viewer": 1,
    }  # fmt: skip


def test_pausers_may_write_the_state_bucket_and_nothing_else(
    module: Module, example: dict[str, Any]
) -> None:
    evaluator = plan(module, {**example, "pausers": ["group:oncall@example.com"]})
    grants = evaluator.render_resource("google_storage_bucket_iam_member", "pausers_state_user")
    assert list(grants.values()) == [{
        "bucket": "my-project-trigger-state",
        "role": "roles/storage.objectUser",
        "member": "group:oncall@example.com",
    }]  # fmt: skip
    runtime = evaluator.render_resource(
        "google_storage_bucket_iam_member", "function_runtime_state_viewer"
    )
    assert [g["role"] for g in runtime.values()] == ["roles/storage.objectViewer"]


INVALID = {
    "overlap then": (lambda ex: with_route(ex, 0, overlap={"then": "cancel"}),
                     "overlap.then must be queue, skip or replace"),
    "overlap with": (lambda ex: with_route(ex, 0, overlap={"with": "bucket", "then": "skip"}),
                     "overlap.with same_source or route"),
    "replace with a cooldown": (lambda ex: with_route(ex, 1, overlap={"then": "replace"}),
                                "replace keeps the newest run and a cooldown the earliest"),
    "max_duration unit": (lambda ex: with_route(ex, 0, max_duration="6 hours"),
                          "max_duration and retry_failed.after must be a whole number"),
    "after unit": (lambda ex: with_route(ex, 0, retry_failed={"attempts": 2, "after": "soon"}),
                   "max_duration and retry_failed.after must be a whole number"),
    "attempts": (lambda ex: with_route(ex, 0, retry_failed={"attempts": 1}),
                 "retry_failed.attempts must be a whole number from 2 to 10"),
    "pauser": (lambda ex: {**ex, "pausers": ["alice@example.com"]},
               "Each of pausers must be an IAM member"),
}  # fmt: skip


@pytest.mark.parametrize("case", INVALID)
def test_invalid_lifecycle_inputs_stop_the_plan_with_a_message(
    module: Module, example: dict[str, Any], case: str
) -> None:
    change, message = INVALID[case]
    with pytest.raises(ValidationFailedError) as failure:
        plan(module, change(example))
    assert message in str(failure.value)
