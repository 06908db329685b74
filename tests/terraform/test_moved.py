"""moved.tf: every address the functions and their invoker grants had before modules/cloud_function
moves to its address in the module, so an existing deployment's objects move, not get replaced.

What Terraform checks of a moved block (internal/refactoring, move_validate.go: the `from` object
must no longer be declared, one destination per source and one source per destination) and what
it takes to land on a declared object (the resource type kept, the module call and resource
declared, instance keys that match their count and for_each) are checked here against the
configuration, as `terraform plan` would against a state holding the old addresses.
"""

import re
from typing import Any

import pytest

from tests.terraform.hcl_config import MODULE_DIR, TERRAFORM_DIR, attr, merge_config, parse_file

# The addresses in terraform/ before the function module (commit ede7653), and where each went.
MOVES = {
    "google_cloudfunctions2_function.on_object_finalized":
        "module.on_object_finalized.google_cloudfunctions2_function.this",
    "google_cloud_run_v2_service_iam_member.trigger_invokes_object_finalized":
        'module.on_object_finalized.google_cloud_run_v2_service_iam_member.invoker["trigger"]',
    "google_cloudfunctions2_function.on_drift_alert":
        "module.on_drift_alert.google_cloudfunctions2_function.this",
    "google_cloud_run_v2_service_iam_member.trigger_invokes_drift_alert":
        'module.on_drift_alert.google_cloud_run_v2_service_iam_member.invoker["trigger"]',
    "google_cloudfunctions2_function.on_run_state":
        "module.on_run_state.google_cloudfunctions2_function.this",
    "google_cloud_run_v2_service_iam_member.trigger_invokes_run_state":
        'module.on_run_state.google_cloud_run_v2_service_iam_member.invoker["trigger"]',
    # Counted on sweep_lookback, before and after: instance 0 to the call's instance 0.
    "google_cloudfunctions2_function.sweep[0]":
        "module.sweep[0].google_cloudfunctions2_function.this",
    "google_cloud_run_v2_service_iam_member.scheduler_invokes_sweep[0]":
        'module.sweep[0].google_cloud_run_v2_service_iam_member.invoker["scheduler"]',
}  # fmt: skip

# module.CALL[KEY]. (optional) then TYPE.NAME[KEY] (optional); keys are numbers or quoted strings.
ADDRESS = re.compile(
    r"^(?:module\.(?P<call>[a-z0-9_]+)(?:\[(?P<call_key>\d+)\])?\.)?"
    r'(?P<type>[a-z0-9_]+)\.(?P<name>[a-z0-9_]+)(?:\[(?P<key>\d+|"[^"]+")\])?$'
)


@pytest.fixture(scope="module")
def tf_fn() -> dict[str, Any]:
    return merge_config(sorted(MODULE_DIR.glob("*.tf")))


def moves(tf: dict[str, Any]) -> list[tuple[str, str]]:
    """(from, to) of every moved block, as written (a bare traversal, without ${ })."""
    return [
        (attr(block, "from").removeprefix("${").removesuffix("}"),
         attr(block, "to").removeprefix("${").removesuffix("}"))
        for block in tf["moved"]
    ]  # fmt: skip


def parts(address: str) -> dict[str, str | None]:
    match = ADDRESS.match(address)
    assert match, f"{address} is not a resource (instance) address"
    return match.groupdict()


def test_every_old_address_moves_to_its_new_address(tf: dict[str, Any]) -> None:
    assert dict(moves(tf)) == MOVES
    assert len(moves(tf)) == len(MOVES)  # no source listed twice


def test_moved_blocks_live_in_moved_tf() -> None:
    for path in sorted(TERRAFORM_DIR.rglob("*.tf")):
        if path != TERRAFORM_DIR / "moved.tf":
            assert "moved" not in parse_file(path), f"{path}: keep moved blocks in moved.tf"


def test_each_destination_has_one_source(tf: dict[str, Any]) -> None:
    destinations = [to for _, to in moves(tf)]
    assert len(set(destinations)) == len(destinations)


def test_no_old_address_is_still_declared(tf: dict[str, Any]) -> None:
    for source, _ in moves(tf):
        old = parts(source)
        assert old["call"] is None  # they were the root module's own resources
        assert old["name"] not in tf["resource"].get(old["type"], {}), (
            f"{source} is still declared: Terraform refuses a move from an object that exists"
        )


def test_each_move_keeps_the_resource_type(tf: dict[str, Any]) -> None:
    for source, destination in moves(tf):
        assert parts(source)["type"] == parts(destination)["type"], (source, destination)


def test_each_destination_is_declared_with_matching_instance_keys(
    tf: dict[str, Any], tf_fn: dict[str, Any]
) -> None:
    for source, destination in moves(tf):
        new, old = parts(destination), parts(source)
        call = tf["module"][new["call"]]
        assert attr(call, "source") == "./modules/cloud_function"
        # A counted call is addressed with its index, an uncounted one never; the old resource
        # was counted exactly when the call is, on the same condition.
        assert (new["call_key"] is not None) == ("count" in call), destination
        assert (old["key"] is not None) == ("count" in call), source
        if "count" in call:
            assert new["call_key"] == old["key"] == "0"
            assert attr(call, "count") == "${local.sweep_enabled ? 1 : 0}"
        resource = tf_fn["resource"][new["type"]][new["name"]]
        if "for_each" in resource:  # the invoker grants: the key must be one the call passes
            assert attr(resource, "for_each") == "${var.invoker_members}"
            key = (new["key"] or "").strip('"')
            assert key in attr(call, "invoker_members"), destination
        else:
            assert new["key"] is None and "count" not in resource, destination


def test_moves_need_a_terraform_that_has_them() -> None:
    (terraform,) = parse_file(TERRAFORM_DIR / "versions.tf")["terraform"]
    lowest = re.match(r">= ?(\d+)\.(\d+)", attr(terraform, "required_version"))
    assert lowest and (int(lowest.group(1)), int(lowest.group(2))) >= (1, 1)  # moved: 1.1
