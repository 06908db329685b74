"""modules/cloud_function: its layout, interface, README, and what it makes of its inputs.

The module is evaluated on its own here (hcl_eval, as `terraform plan` would with these inputs);
test_functions.py checks what the root module's four calls make of it.
"""

import re
from typing import Any

import pytest

from tests.terraform.hcl_config import (
    MODULE_DIR,
    attr,
    format_errors,
    merge_config,
    nested,
    parse_file,
    parse_text,
)
from tests.terraform.hcl_eval import Evaluator, Module, ValidationFailedError, type_constraint

FILES = {"main.tf", "variables.tf", "outputs.tf", "versions.tf"}
BOUNDED = re.compile(r"^>= ?\d+(\.\d+)*, ?< ?\d+(\.\d+)*$")
SOURCE = {"bucket": "my-project-function-source", "object": "function-source-abc.zip"}
TRIGGER_SA = "vertex-triggers-trigger@my-project.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def tf_fn() -> dict[str, Any]:
    return merge_config(sorted(MODULE_DIR.glob("*.tf")))


@pytest.fixture(scope="module")
def fn_module() -> Module:
    return Module.load(MODULE_DIR)


def http_function(**changes: Any) -> dict[str, Any]:
    """The required inputs of an HTTP function, and the given changes."""
    return {
        "project_id": "my-project",
        "location": "us-central1",
        "name": "vertex-triggers-sweep",
        "runtime": "python311",
        "entry_point": "sweep",
        "source_archive": SOURCE,
        "service_account_email": "vertex-triggers-fn@my-project.iam.gserviceaccount.com",
        **changes,
    }


def event_function(**changes: Any) -> dict[str, Any]:
    """A Pub/Sub-triggered function with a secret, and the given changes."""
    trigger = {
        "event_type": "google.cloud.pubsub.topic.v1.messagePublished",
        "pubsub_topic": "projects/my-project/topics/run-states",
        "retry_policy": "RETRY_POLICY_RETRY",
        "service_account_email": TRIGGER_SA,
    }
    inputs = http_function(
        name="vertex-triggers-run-state", entry_point="on_run_state", event_trigger=trigger,
        secret_environment_variables=[{"key": "WEBHOOK_URL_A", "secret": "a-hook"}],
        invoker_members={"trigger": f"serviceAccount:{TRIGGER_SA}"},
    )  # fmt: skip
    return {**inputs, **changes}


def plan(module: Module, inputs: dict[str, Any]) -> Evaluator:
    evaluator = Evaluator(module, inputs, MODULE_DIR)
    evaluator.validate_variables()
    evaluator.check_preconditions()
    return evaluator


# -- layout and interface ------------------------------------------------------------------------


def test_module_has_the_standard_files() -> None:
    assert {p.name for p in MODULE_DIR.glob("*.tf")} == FILES
    assert (MODULE_DIR / "README.md").is_file()


@pytest.mark.parametrize("name", sorted(FILES))
def test_module_file_parses_and_is_fmt_clean(name: str) -> None:
    assert parse_file(MODULE_DIR / name)
    assert format_errors((MODULE_DIR / name).read_text()) == []


def test_every_variable_is_typed_and_described(tf_fn: dict[str, Any], fn_module: Module) -> None:
    for name, variable in tf_fn["variable"].items():
        assert attr(variable, "description"), name
        type_constraint(fn_module.variables[name]["attributes"]["type"])  # a type, not a string


def test_closed_or_formatted_inputs_are_validated(tf_fn: dict[str, Any]) -> None:
    validated = {name for name, v in tf_fn["variable"].items() if nested(v, "validation")}
    assert validated >= {
        "project_id", "location", "name", "labels", "runtime", "entry_point", "available_memory",
        "timeout_seconds", "max_instance_count", "ingress_settings", "secret_environment_variables",
        "event_trigger", "invoker_members", "preconditions",
    }  # fmt: skip


def test_every_output_is_described(tf_fn: dict[str, Any]) -> None:
    assert set(tf_fn["output"]) == {"id", "name", "location", "uri", "eventarc_trigger"}
    for name, output in tf_fn["output"].items():
        assert attr(output, "description"), name


def test_versions_are_bounded_and_no_provider_is_configured(tf_fn: dict[str, Any]) -> None:
    (terraform,) = parse_file(MODULE_DIR / "versions.tf")["terraform"]
    assert BOUNDED.match(attr(terraform, "required_version"))
    (providers,) = nested(terraform, "required_providers")
    assert set(providers) == {"google"}
    assert attr(providers, "google")["source"] == "hashicorp/google"
    assert BOUNDED.match(attr(providers, "google")["version"])
    for path in MODULE_DIR.glob("*.tf"):
        assert "provider" not in parse_file(path), f"{path.name} configures a provider"


def test_the_module_declares_one_function_and_its_invokers(tf_fn: dict[str, Any]) -> None:
    assert {t: set(r) for t, r in tf_fn["resource"].items()} == {
        "google_cloudfunctions2_function": {"this"},
        "google_cloud_run_v2_service_iam_member": {"invoker"},
    }
    invoker = tf_fn["resource"]["google_cloud_run_v2_service_iam_member"]["invoker"]
    assert attr(invoker, "for_each") == "${var.invoker_members}"
    assert attr(invoker, "role") == "roles/run.invoker"
    assert attr(invoker, "name") == "${google_cloudfunctions2_function.this.name}"
    assert attr(invoker, "member") == "${each.value}"


# -- README: inputs and outputs tables, example ----------------------------------------------------


def readme_table(heading: str) -> dict[str, list[str]]:
    """Name -> the other cells of each row of the table under a README heading."""
    text = (MODULE_DIR / "README.md").read_text()
    body = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in body.splitlines():
        match = re.match(r"^\| `([a-z_]+)` \| (.*) \|$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split(" | ")]
    return rows


def test_readme_lists_exactly_the_inputs_with_type_default_and_required(
    tf_fn: dict[str, Any],
) -> None:
    rows = readme_table("Inputs")
    assert list(rows) == list(tf_fn["variable"])  # same names, same order as variables.tf
    for name, variable in tf_fn["variable"].items():
        description, type_, default, required = rows[name]
        assert description, name
        declared = attr(variable, "type")
        assert type_.strip("`") == declared.removeprefix("${").removesuffix("}"), name
        assert required == ("no" if "default" in variable else "yes"), name
        if "default" in variable:
            assert parse_text(f"x = {default.strip('`')}\n")["x"] == variable["default"], name
        else:
            assert default == "n/a", name


def test_readme_lists_exactly_the_outputs(tf_fn: dict[str, Any]) -> None:
    rows = readme_table("Outputs")
    assert list(rows) == list(tf_fn["output"])
    assert all(cells[0] for cells in rows.values())


def test_readme_example_calls_the_module_with_declared_inputs(tf_fn: dict[str, Any]) -> None:
    text = (MODULE_DIR / "README.md").read_text()
    example = re.search(r"## Usage\n\n```hcl\n(.*?)```", text, re.S)
    assert example, "README has no Usage example"
    ((_, call),) = parse_text(example.group(1))["module"][0].items()
    arguments = {k for k in call if not k.startswith("__")} - {"source", "depends_on"}
    required = {n for n, v in tf_fn["variable"].items() if "default" not in v}
    assert call["source"] == "./modules/cloud_function"
    assert arguments <= set(tf_fn["variable"]), arguments - set(tf_fn["variable"])
    assert required <= arguments, required - arguments


# -- what it makes of its inputs -----------------------------------------------------------------


def test_an_http_function_with_the_defaults(fn_module: Module) -> None:
    evaluator = plan(fn_module, http_function())
    assert evaluator.render_resource("google_cloudfunctions2_function", "this") == {None: {
        "name": "vertex-triggers-sweep",
        "project": "my-project",
        "location": "us-central1",
        "labels": {},
        "build_config": [{
            "runtime": "python311", "entry_point": "sweep",
            "source": [{"storage_source": [SOURCE]}],
        }],
        "service_config": [{
            "available_memory": "256M",
            "timeout_seconds": 60,
            "service_account_email": "vertex-triggers-fn@my-project.iam.gserviceaccount.com",
            "ingress_settings": "ALLOW_INTERNAL_ONLY",
            "all_traffic_on_latest_revision": True,
            "environment_variables": {},
        }],
    }}  # fmt: skip
    assert evaluator.render_resource("google_cloud_run_v2_service_iam_member", "invoker") == {}
    assert evaluator.module_path == MODULE_DIR
    computed = {("google_cloudfunctions2_function", "this", "service_config"): lambda _: [
        {"uri": "https://vertex-triggers-sweep-123.a.run.app"}]}  # fmt: skip
    outputs = Evaluator(fn_module, http_function(), MODULE_DIR, computed=computed)
    assert outputs.evaluate(fn_module.outputs["uri"], {}).endswith(".a.run.app")
    assert outputs.evaluate(fn_module.outputs["eventarc_trigger"], {}) is None


def test_an_event_function_with_a_secret_and_its_invoker(fn_module: Module) -> None:
    evaluator = plan(fn_module, event_function())
    (function,) = evaluator.render_resource("google_cloudfunctions2_function", "this").values()
    assert function["event_trigger"] == [{
        "event_type": "google.cloud.pubsub.topic.v1.messagePublished",
        "pubsub_topic": "projects/my-project/topics/run-states",
        "retry_policy": "RETRY_POLICY_RETRY",
        "service_account_email": TRIGGER_SA,
    }]  # fmt: skip
    # trigger_region left null: the provider's default, the function's own location.
    assert function["service_config"][0]["secret_environment_variables"] == [
        {"key": "WEBHOOK_URL_A", "project_id": "my-project", "secret": "a-hook",
         "version": "latest"},
    ]  # fmt: skip
    assert evaluator.render_resource("google_cloud_run_v2_service_iam_member", "invoker") == {
        "trigger": {"project": "my-project", "location": "us-central1",
                    "name": "vertex-triggers-run-state", "role": "roles/run.invoker",
                    "member": f"serviceAccount:{TRIGGER_SA}"},
    }  # fmt: skip


def test_event_filters_keep_their_order_and_leave_out_a_null_operator(fn_module: Module) -> None:
    trigger = {
        "event_type": "google.cloud.storage.object.v1.finalized",
        "trigger_region": "us",
        "retry_policy": "RETRY_POLICY_DO_NOT_RETRY",
        "service_account_email": TRIGGER_SA,
        "event_filters": [{"attribute": "bucket", "value": "my-project-data"},
                          {"attribute": "x", "value": "y", "operator": "match-path-pattern"}],
    }  # fmt: skip
    evaluator = plan(fn_module, http_function(event_trigger=trigger))
    (function,) = evaluator.render_resource("google_cloudfunctions2_function", "this").values()
    assert function["event_trigger"][0]["event_filters"] == [
        {"attribute": "bucket", "value": "my-project-data"},
        {"attribute": "x", "value": "y", "operator": "match-path-pattern"},
    ]
    assert function["event_trigger"][0]["trigger_region"] == "us"


def failing_check(message: str, holds: bool = False) -> dict[str, Any]:
    return {"condition": holds, "error_message": message}


INVALID = {
    "an underscore in the name (Cloud Run would rename the service)": (
        http_function(name="on_run_state"), "name must be 1-63 lowercase letters"),
    "public ingress setting typo": (
        http_function(ingress_settings="ALLOW_EVERYONE"), "ingress_settings must be"),
    "memory without a unit": (http_function(available_memory="256"), "available_memory must be"),
    "timeout past the HTTP limit": (http_function(timeout_seconds=3601), "from 1 to 3600"),
    "timeout past the event limit": (
        event_function(timeout_seconds=600), "at most 540 for an event-driven function"),
    "instances": (http_function(max_instance_count=0), "from 1 to 1000"),
    "retry policy": (
        event_function(event_trigger={
            "event_type": "google.cloud.pubsub.topic.v1.messagePublished",
            "retry_policy": "RETRY", "service_account_email": TRIGGER_SA}),
        "retry_policy must be RETRY_POLICY_RETRY or RETRY_POLICY_DO_NOT_RETRY"),
    "public invoker": (
        http_function(invoker_members={"everyone": "allUsers"}),
        "allUsers and allAuthenticatedUsers are refused"),
    "a secret set twice": (
        http_function(secret_environment_variables=[{"key": "A", "secret": "x"},
                                                    {"key": "A", "secret": "y"}]),
        "must not set one key twice"),
    "a secret version": (
        http_function(secret_environment_variables=[{"key": "A", "secret": "x", "version": "v1"}]),
        "latest or a version number"),
    "the caller's check": (
        http_function(preconditions=[failing_check("ok", holds=True), failing_check("routes!")]),
        "this: routes!"),
    "a check without a message": (http_function(preconditions=[failing_check("")]),
                                  "needs an error_message"),
}  # fmt: skip


@pytest.mark.parametrize("case", INVALID)
def test_invalid_inputs_stop_the_plan_with_a_message(fn_module: Module, case: str) -> None:
    inputs, message = INVALID[case]
    with pytest.raises(ValidationFailedError) as failure:
        plan(fn_module, inputs)
    assert message in str(failure.value)


def test_every_failing_caller_check_is_reported(fn_module: Module) -> None:
    checks = [failing_check("first"), failing_check("fine", holds=True), failing_check("second")]
    with pytest.raises(ValidationFailedError) as failure:
        plan(fn_module, http_function(preconditions=checks))
    assert str(failure.value).endswith("google_cloudfunctions2_function.this: first\nsecond")

