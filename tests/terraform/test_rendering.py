"""Evaluate the module for real inputs: the rendered triggers.yaml, validations and preconditions.

hcl_eval evaluates config.tf, variables.tf and the preconditions themselves (no restatement), with
the only plan-time value Terraform cannot know here, the pipeline account's email, supplied the way
the provider computes it.
"""

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.terraform.hcl_config import REPO_ROOT, TERRAFORM_DIR
from tests.terraform.hcl_eval import Evaluator, Module, ValidationFailedError
from tests.terraform.test_config_contract import ROUTE_KEYS, TOP_LEVEL_KEYS

PIPELINE_EMAIL = ("google_service_account", "pipeline", "email")
EXAMPLE_PIPELINE_ACCOUNT = "vertex-triggers-pipeline@my-project.iam.gserviceaccount.com"


def plan(module: Module, inputs: dict[str, Any]) -> Evaluator:
    """What `terraform plan` checks before anything is created: validations, then preconditions."""
    evaluator = Evaluator(
        module, inputs, TERRAFORM_DIR,
        computed={PIPELINE_EMAIL: pipeline_email},
    )
    evaluator.validate_variables()
    evaluator.check_preconditions()
    return evaluator


def pipeline_email(evaluator: Evaluator) -> str:
    account = evaluator.resource_attribute("google_service_account", "pipeline", "account_id")
    return f"{account}@{evaluator.vars['project_id']}.iam.gserviceaccount.com"


def rendered(module: Module, inputs: dict[str, Any]) -> dict[str, Any]:
    return yaml.safe_load(plan(module, inputs).local("triggers_yaml"))


def test_example_renders_the_contract(module: Module, example: dict[str, Any]) -> None:
    config = rendered(module, example)
    assert set(config) <= TOP_LEVEL_KEYS
    assert config["project"] == "my-project"
    assert config["pipeline_root"] == "gs://my-project-pipeline-root/runs"
    assert config["service_account"] == EXAMPLE_PIPELINE_ACCOUNT
    arrival, drift = config["routes"]
    assert set(arrival) | set(drift) <= ROUTE_KEYS
    assert arrival["bucket"] == "my-project-data"  # defaulted to the watched bucket
    assert arrival["template"] == "gs://my-project-templates/house_prices.yaml"
    assert arrival["enable_caching"] is False
    assert arrival["parameters"] == {"data_uri": "{uri}", "deploy_target": "vertex"}
    assert drift["template"] == "gs://my-project-templates/house_prices.yaml"
    assert drift["min_deviation"] == 0.3 and drift["cooldown"] == "6h"


def test_unset_keys_are_left_out(module: Module, example: dict[str, Any]) -> None:
    config = rendered(module, example)
    assert {"network", "kms_key", "retry"}.isdisjoint(config)
    arrival, drift = config["routes"]
    assert {"match", "min_deviation", "cooldown"}.isdisjoint(arrival)
    assert {"bucket", "prefix", "suffix", "labels", "enable_caching"}.isdisjoint(drift)
    assert None not in [v for route in config["routes"] for v in route.values()]


def test_optional_settings_are_rendered_when_set(module: Module, example: dict[str, Any]) -> None:
    example["network"] = "projects/123/global/networks/vpc"
    example["kms_key"] = "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k"
    example["launch_retry"] = {"deadline": "90s", "max_delay": "5s"}
    example["routes"][1]["template"] = "https://us-central1-kfp.pkg.dev/p/repo/house-prices/v1"
    config = rendered(module, example)
    assert config["network"] == "projects/123/global/networks/vpc"
    assert config["kms_key"].endswith("/cryptoKeys/k")
    assert config["retry"] == {"deadline": "90s", "max_delay": "5s"}
    assert config["routes"][1]["template"] == "https://us-central1-kfp.pkg.dev/p/repo/house-prices/v1"


def test_rendered_example_loads_with_the_functions_config_loader(
    module: Module, example: dict[str, Any], tmp_path: Path
) -> None:
    loader = pytest.importorskip("vertex_trigger.config")
    path = tmp_path / "triggers.yaml"
    path.write_text(plan(module, example).local("triggers_yaml"))
    config = loader.load_config(path)
    assert [r.name for r in config.routes] == ["prices-arrival", "prices-drift"]
    assert config.routes[0].bucket == "my-project-data"
    assert config.routes[1].cooldown == 6 * 3600
    assert config.service_account == EXAMPLE_PIPELINE_ACCOUNT


def test_example_parameters_fit_the_compiled_template(
    module: Module, example: dict[str, Any], tmp_path: Path
) -> None:
    loader = pytest.importorskip("vertex_trigger.config")
    startup = pytest.importorskip("vertex_trigger.startup")
    templates = pytest.importorskip("vertex_trigger.templates")
    compiled = REPO_ROOT / "compiled" / "house_prices.yaml"
    if not compiled.is_file():
        pytest.skip("compiled/house_prices.yaml is built on the pipelines branch")
    path = tmp_path / "triggers.yaml"
    path.write_text(plan(module, example).local("triggers_yaml"))
    config = loader.load_config(path)
    for route in config.routes:
        template = templates.parse_template(route.template, compiled.read_bytes(), "1")
        startup.check_route(config, route, template)  # raises ConfigError naming the key


def with_route(example: dict[str, Any], index: int, **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(example)
    changed["routes"][index].update(changes)
    return changed


INVALID = {
    "duplicate route names": (
        lambda ex: with_route(ex, 1, name="prices-arrival"), "Route names must be unique."),
    "route name": (lambda ex: with_route(ex, 0, name="Prices"), "match ^[a-z][a-z0-9-]{0,39}$"),
    "event": (lambda ex: with_route(ex, 0, event="object_deleted"), "be object_finalized or"),
    "prefix on a drift route": (
        lambda ex: with_route(ex, 1, prefix="x/"), "belong to object_finalized routes only"),
    "cooldown on an object route": (
        lambda ex: with_route(ex, 0, cooldown="1h"), "belong to drift_alert routes only"),
    "cooldown unit": (lambda ex: with_route(ex, 1, cooldown="6 hours"), "cooldown must be"),
    "reserved label": (
        lambda ex: with_route(ex, 0, labels={"trigger-route": "x"}), "not start with trigger-"),
    "label value": (lambda ex: with_route(ex, 0, labels={"team": "Pricing"}), "values must match"),
    "match field": (lambda ex: with_route(ex, 1, match={"modell": "x"}), "must be alert fields"),
    "template scheme": (lambda ex: with_route(ex, 0, template="ftp://x/y"), "template must be"),
    "negative deviation": (
        lambda ex: with_route(ex, 1, min_deviation=-0.1), "min_deviation must not be negative"),
    "timeout": (lambda ex: {**ex, "function_timeout_seconds": 600}, "from 1 to 540"),
    "instances": (lambda ex: {**ex, "function_max_instance_count": 0}, "from 1 to 1000"),
    "project id": (lambda ex: {**ex, "project_id": "My_Project"}, "project_id must be"),
    "name prefix": (lambda ex: {**ex, "name_prefix": "vt"}, "name_prefix must be 3-20"),
    "resource labels": (lambda ex: {**ex, "labels": {"Team": "x"}}, "Label keys must match"),
    "delivery attempts": (
        lambda ex: {**ex, "dead_letter_max_delivery_attempts": 3}, "from 5 to 100"),
    "retry duration": (
        lambda ex: {**ex, "launch_retry": {"deadline": "45 seconds"}}, "durations such as"),
    "unknown template stem": (
        lambda ex: with_route(ex, 0, template="no_such_pipeline"), "names no file in the compiled"),
    "object route on another bucket": (
        lambda ex: with_route(ex, 0, bucket="someone-elses-bucket"), "Only the data bucket"),
    "retry deadline past the timeout": (
        lambda ex: {**ex, "launch_retry": {"deadline": "3m"}}, "shorter than function_timeout"),
}


@pytest.mark.parametrize("case", INVALID)
def test_invalid_inputs_stop_the_plan_with_a_message(
    module: Module, example: dict[str, Any], case: str
) -> None:
    change, message = INVALID[case]
    with pytest.raises(ValidationFailedError) as failure:
        plan(module, change(example))
    assert message in str(failure.value)


def test_the_example_passes_every_validation_and_precondition(
    module: Module, example: dict[str, Any]
) -> None:
    evaluator = plan(module, example)
    assert evaluator.local("retry_deadline_seconds") == 45
    assert evaluator.vars["routes"][1]["bucket"] is None  # optional() left unset
    assert evaluator.vars["routes"][1]["labels"] == {}  # optional() default


def test_archive_takes_the_source_but_not_caches_or_the_shipped_config(
    module: Module, example: dict[str, Any], tmp_path: Path
) -> None:
    source = tmp_path / "functions"
    for name in ("main.py", "requirements.txt", "triggers.yaml", "vertex_trigger/__init__.py",
                 "vertex_trigger/__pycache__/config.cpython-311.pyc", "vertex_trigger/x.pyc"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("")
    example["functions_source_dir"] = str(source)
    files = plan(module, example).local("function_files")
    assert files == {"main.py", "requirements.txt", "vertex_trigger/__init__.py"}


def test_dead_letter_commands_address_each_trigger_subscription(
    module: Module, example: dict[str, Any]
) -> None:
    triggers = {
        name: [{"trigger": f"projects/my-project/locations/{region}/triggers/{name}-abc"}]
        for name, region in (("on_object_finalized", "us"), ("on_drift_alert", "us-central1"))
    }
    computed = {
        PIPELINE_EMAIL: pipeline_email,
        ("data.google_project", "this", "number"): lambda _: "123456789",
        ("google_pubsub_topic", "dead_letter", "id"): (
            lambda _: "projects/my-project/topics/vertex-triggers-dead-letter"
        ),
        **{
            ("google_cloudfunctions2_function", name, "event_trigger"): (lambda _, v=value: v)
            for name, value in triggers.items()
        },
    }
    evaluator = Evaluator(module, example, TERRAFORM_DIR, computed=computed)
    commands = evaluator.local("dead_letter_setup_commands").split("\n")
    assert len(commands) == 6
    describe, update, grant = commands[3:]  # on_object_finalized sorts after on_drift_alert
    assert describe == (
        "SUB=$(gcloud eventarc triggers describe on_object_finalized-abc --project=my-project "
        "--location=us --format='value(transport.pubsub.subscription)')"
    )
    assert update == (
        'gcloud pubsub subscriptions update "$SUB" '
        "--dead-letter-topic=projects/my-project/topics/vertex-triggers-dead-letter "
        "--max-delivery-attempts=15"
    )
    assert grant == (
        'gcloud pubsub subscriptions add-iam-policy-binding "$SUB" '
        "--member=serviceAccount:service-123456789@gcp-sa-pubsub.iam.gserviceaccount.com "
        "--role=roles/pubsub.subscriber"
    )
    assert "--location=us-central1" in commands[0]
