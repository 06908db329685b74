"""Evaluate the module for real inputs: the rendered triggers.yaml, validations and preconditions.

hcl_eval evaluates config.tf, variables.tf and the preconditions themselves (no restatement), the
function module's calls included, with the values only the provider computes (the service
accounts' emails, the topics' ids, the archive's hash) supplied the way it computes them.
"""

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.terraform.hcl_config import TERRAFORM_DIR
from tests.terraform.hcl_eval import Evaluator, Module, ValidationFailedError
from tests.terraform.helpers import (
    PROVIDER_VALUES,
    ROUTE_KEYS,
    TOP_LEVEL_KEYS,
    account_email,
    plan,
    with_route,
)

EXAMPLE_PIPELINE_ACCOUNT = "vertex-triggers-pipeline@my-project.iam.gserviceaccount.com"


pipeline_email = account_email("pipeline")


def rendered(module: Module, inputs: dict[str, Any]) -> dict[str, Any]:
    return yaml.safe_load(plan(module, inputs).local("triggers_yaml"))


def by_name(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {route["name"]: route for route in config["routes"]}


def route_index(example: dict[str, Any], name: str) -> int:
    return [route["name"] for route in example["routes"]].index(name)


def test_example_renders_the_contract(module: Module, example: dict[str, Any]) -> None:
    config = rendered(module, example)
    assert set(config) <= TOP_LEVEL_KEYS
    assert config["project"] == "my-project"
    assert config["pipeline_root"] == "gs://my-project-pipeline-root/runs"
    assert config["service_account"] == EXAMPLE_PIPELINE_ACCOUNT
    routes = by_name(config)
    assert all(set(route) <= ROUTE_KEYS for route in routes.values())
    arrival, drift = routes["prices-arrival"], routes["prices-drift"]
    monitoring, incident = routes["prices-drift-monitoring"], routes["prices-drift-incident"]
    assert arrival["bucket"] == "my-project-data"  # defaulted to the watched bucket
    assert arrival["template"] == "gs://my-project-templates/house_prices.yaml"
    assert arrival["enable_caching"] is False
    assert arrival["parameters"]["data_uri"] == "{uri}"
    assert arrival["parameters"]["deploy_target"] == "vertex"
    assert drift["template"] == "gs://my-project-templates/house_prices.yaml"
    assert drift["min_deviation"] == 0.3 and drift["cooldown"] == "6h"
    images = routes["images-jsonl"]
    assert images["template"] == "gs://my-project-templates/automl_image.yaml"
    assert (images["prefix"], images["suffix"]) == ("images/", ".jsonl")
    assert images["parameters"]["gcs_source"] == "{uri}"
    assert monitoring["match"] == {"form": "monitoring_*"}
    assert incident["policy_labels"] == {"retrain": "house-prices"}
    assert "match" not in incident and "min_deviation" not in incident


def test_unset_keys_are_left_out(module: Module, example: dict[str, Any]) -> None:
    config = rendered(module, example)
    assert {"network", "kms_key", "retry"}.isdisjoint(config)
    routes = by_name(config)
    assert {"match", "policy_labels", "min_deviation", "cooldown"}.isdisjoint(
        routes["prices-arrival"]
    )
    for name in ("prices-drift", "prices-drift-monitoring", "prices-drift-incident"):
        assert {"bucket", "prefix", "suffix", "labels", "enable_caching"}.isdisjoint(routes[name])
    assert None not in [v for route in config["routes"] for v in route.values()]


def test_optional_settings_are_rendered_when_set(module: Module, example: dict[str, Any]) -> None:
    example["network"] = "projects/123/global/networks/vpc"
    example["kms_key"] = "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k"
    example["launch_retry"] = {"deadline": "90s", "max_delay": "5s"}
    drift = route_index(example, "prices-drift")
    example["routes"][drift]["template"] = "https://us-central1-kfp.pkg.dev/p/repo/house-prices/v1"
    config = rendered(module, example)
    assert config["network"] == "projects/123/global/networks/vpc"
    assert config["kms_key"].endswith("/cryptoKeys/k")
    assert config["retry"] == {"deadline": "90s", "max_delay": "5s"}
    assert by_name(config)["prices-drift"]["template"] == (
        "https://us-central1-kfp.pkg.dev/p/repo/house-prices/v1"
    )


def test_rendered_example_loads_with_the_functions_config_loader(
    module: Module, example: dict[str, Any], tmp_path: Path
) -> None:
    loader = pytest.importorskip("vertex_trigger.config.loader")
    path = tmp_path / "triggers.yaml"
    path.write_text(plan(module, example).local("triggers_yaml"))
    config = loader.load_config(path)
    routes = {r.name: r for r in config.routes}
    assert [r.name for r in config.routes] == [r["name"] for r in example["routes"]]
    assert routes["prices-arrival"].bucket == "my-project-data"
    assert routes["prices-drift"].cooldown == 6 * 3600
    assert dict(routes["prices-drift-incident"].policy_labels) == {"retrain": "house-prices"}
    assert config.service_account == EXAMPLE_PIPELINE_ACCOUNT


INVALID = {
    "duplicate route names": (
        lambda ex: with_route(ex, 1, name="prices-arrival"), "Route names must be unique."),
    "route name": (lambda ex: with_route(ex, 0, name="Prices"), "match ^[a-z][a-z0-9-]{0,39}$"),
    "event": (lambda ex: with_route(ex, 0, event="object_deleted"),
              "be object_finalized, drift_alert or run_ended"),
    "after on an object route": (
        lambda ex: with_route(ex, 0, after={"route": "prices-drift"}),
        "after is required on run_ended routes and belongs to them only"),
    "run_ended route without after": (
        lambda ex: with_route(ex, 0, event="run_ended", bucket=None, prefix=None, suffix=None),
        "after is required on run_ended routes"),
    "after with route and pipeline": (
        lambda ex: with_route(ex, route_index(ex, "prices-score"),
                              after={"route": "prices-arrival", "pipeline": "house-prices"}),
        "after names exactly one of route or pipeline"),
    "after state": (
        lambda ex: with_route(ex, route_index(ex, "prices-score"),
                              after={"route": "prices-arrival", "states": ["DONE"]}),
        "its states are SUCCEEDED, FAILED or CANCELLED"),
    "prefix on a drift route": (
        lambda ex: with_route(ex, 1, prefix="x/"), "belong to object_finalized routes only"),
    "cooldown on an object route": (
        lambda ex: with_route(ex, 0, cooldown="1h"), "belong to drift_alert routes only"),
    "policy labels on an object route": (
        lambda ex: with_route(ex, 0, policy_labels={"retrain": "x"}),
        "match, policy_labels, min_deviation and cooldown belong to drift_alert routes only"),
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
        lambda ex: {**ex, "launch_retry": {"deadline": "3m"}},
        "launch_retry.deadline (one event's total for all its Google API calls: template read, "
        "list, create, list, cancels) must be shorter than function_timeout_seconds"),
    "runtime older than the code": (
        lambda ex: {**ex, "function_runtime": "python310"},
        "function_runtime must be python311, python312, python313 or python314"),
    "kms key outside the run region": (
        lambda ex: {**ex, "kms_key": "projects/k/locations/europe-west4/keyRings/r/cryptoKeys/k"},
        "kms_key must be in var.region: Vertex AI requires"),
    "kms key outside the buckets' location": (
        lambda ex: {**ex, "bucket_location": "US",
                    "kms_key": "projects/k/locations/us-central1/keyRings/r/cryptoKeys/k"},
        "Cloud Storage needs a bucket's key in the bucket's own location"),
    "notify state": (
        lambda ex: with_route(ex, 0, notify={"webhook_secret": "hook", "on": ["RUNNING"]}),
        "notify.on a non-empty list of SUCCEEDED, FAILED or CANCELLED"),
    "notify secret id": (
        lambda ex: with_route(ex, 0, notify={"webhook_secret": "projects/p/secrets/hook"}),
        "notify.webhook_secret must be a Secret Manager secret id"),
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


@pytest.mark.parametrize("runtime", ["python311", "python312", "python313"])
def test_runtimes_the_code_supports_pass(
    module: Module, example: dict[str, Any], runtime: str
) -> None:
    evaluator = plan(module, {**example, "function_runtime": runtime})
    assert evaluator.vars["function_runtime"] == runtime


def test_a_kms_key_in_the_run_region_is_granted_to_both_service_agents(
    module: Module, example: dict[str, Any]
) -> None:
    example["kms_key"] = "projects/keys/locations/us-central1/keyRings/ml/cryptoKeys/runs"
    evaluator = plan(module, example)
    assert evaluator.local("kms_key_location") == "us-central1"
    for grant in ("vertex_agent_uses_kms_key", "storage_agent_uses_kms_key"):
        # The form google_kms_crypto_key_iam_member documents: PROJECT/LOCATION/RING/KEY.
        key = evaluator.resource_attribute("google_kms_crypto_key_iam_member", grant,
                                           "crypto_key_id")
        assert key == "keys/us-central1/ml/runs"
        count = evaluator.resource_attribute("google_kms_crypto_key_iam_member", grant, "count")
        assert count == 1
    assert evaluator.resource_attribute("google_project_service_identity", "aiplatform",
                                        "count") == 1


def test_without_a_kms_key_nothing_is_granted_on_keys(
    module: Module, example: dict[str, Any]
) -> None:
    evaluator = plan(module, example)
    for rtype, name in (("google_kms_crypto_key_iam_member", "vertex_agent_uses_kms_key"),
                        ("google_kms_crypto_key_iam_member", "storage_agent_uses_kms_key"),
                        ("google_project_service_identity", "aiplatform")):
        assert evaluator.resource_attribute(rtype, name, "count") == 0


def test_artifact_registry_templates_name_their_repositories_once(
    module: Module, example: dict[str, Any]
) -> None:
    assert plan(module, example).local("template_repositories") == set()
    for index in (0, 1):
        example["routes"][index]["template"] = (
            f"https://europe-west4-kfp.pkg.dev/tools/kfp-repo/house-prices/v{index}"
        )
    evaluator = plan(module, example)
    (repository,) = evaluator.local("template_repositories")
    assert repository == "projects/tools/locations/europe-west4/repositories/kfp-repo"
    attributes = module.resources[
        ("google_artifact_registry_repository_iam_member", "function_runtime_template_reader")
    ]["attributes"]
    each = {"each": {"value": repository}}  # the grant's for_each instance for that repository
    assert {key: evaluator.evaluate(attributes[key], each)
            for key in ("project", "location", "repository")} == {
        "project": "tools", "location": "europe-west4", "repository": "kfp-repo"}


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
        for name, region in (
            ("on_object_finalized", "us"), ("on_drift_alert", "us-central1"),
            ("on_run_state", "us-central1"),
        )
    }  # fmt: skip
    computed = {
        **PROVIDER_VALUES,
        ("data.google_project", "this", "number"): lambda _: "123456789",
        ("google_pubsub_topic", "dead_letter", "id"): (
            lambda _: "projects/my-project/topics/vertex-triggers-dead-letter"
        ),
        # The provider's trigger names, read back through each function module's output.
        **{
            (f"module.{name}.google_cloudfunctions2_function", "this", "event_trigger"): (
                lambda _, v=value: v
            )
            for name, value in triggers.items()
        },
    }
    evaluator = Evaluator(module, example, TERRAFORM_DIR, computed=computed)
    commands = evaluator.local("dead_letter_setup_commands").split("\n")
    assert len(commands) == 9
    describe, update, grant = commands[3:6]  # on_object_finalized sorts after on_drift_alert
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
    assert "triggers describe on_run_state-abc" in commands[6]


def test_notify_renders_the_variable_name_never_a_url_and_the_loader_agrees(
    module: Module, example: dict[str, Any], tmp_path: Path
) -> None:
    startup = pytest.importorskip("vertex_trigger.startup")
    errors = pytest.importorskip("vertex_trigger.errors")
    example["routes"][0]["notify"] = {"webhook_secret": "prices-arrival-webhook"}
    evaluator = plan(module, example)
    config = yaml.safe_load(evaluator.local("triggers_yaml"))
    assert config["outcomes_topic"] == "projects/my-project/topics/vertex-triggers-run-outcomes"
    arrival, *others = config["routes"]
    assert arrival["name"] == "prices-arrival"
    assert arrival["notify"] == {"webhook": "${WEBHOOK_URL_PRICES_ARRIVAL}", "on": ["FAILED"]}
    assert not any("notify" in route for route in others)
    assert evaluator.local("webhook_secrets") == {"prices-arrival": "prices-arrival-webhook"}
    assert evaluator.local("webhook_variables") == {"prices-arrival": "WEBHOOK_URL_PRICES_ARRIVAL"}
    path = tmp_path / "triggers.yaml"
    # on_run_state also reads run_ended routes' templates at start-up (from the templates bucket:
    # test_example_deploys.py serves them); this checks its webhook variables only.
    config["routes"] = [route for route in config["routes"] if route["event"] != "run_ended"]
    path.write_text(yaml.safe_dump(config))
    # on_run_state reads exactly the variable Terraform fills from the secret, and stops without it.
    def start(**variables: str) -> Any:
        env = startup.Environment(path, vertex_emulator_host="127.0.0.1:9",
                                  function_target="on_run_state", variables=variables)  # fmt: skip
        return startup.build_services(env)

    with pytest.raises(errors.ConfigError, match="WEBHOOK_URL_PRICES_ARRIVAL is not set"):
        start()
    services = start(WEBHOOK_URL_PRICES_ARRIVAL="https://hooks.slack.com/services/T/B/X")
    assert services.config.outcomes_topic.endswith("/topics/vertex-triggers-run-outcomes")


def test_a_run_ended_route_renders_its_upstream_and_resolves_template_stems(
    module: Module, example: dict[str, Any], tmp_path: Path
) -> None:
    score = by_name(rendered(module, example))["prices-score"]
    assert score["after"] == {"route": "prices-arrival", "states": ["SUCCEEDED"]}
    assert score["template"] == "gs://my-project-templates/batch_score.yaml"
    assert "bucket" not in score  # only object routes default to the data bucket
    index = route_index(example, "prices-score")
    example["routes"][index]["after"] = {"pipeline": "house-prices", "template": "house_prices"}
    config = rendered(module, example)
    assert by_name(config)["prices-score"]["after"] == {
        "pipeline": "house-prices", "template": "gs://my-project-templates/house_prices.yaml"
    }
    loader = pytest.importorskip("vertex_trigger.config.loader")
    path = tmp_path / "triggers.yaml"
    path.write_text(yaml.safe_dump(config))
    after = {r.name: r for r in loader.load_config(path).routes}["prices-score"].after
    assert (after.pipeline, after.template.uri) == (
        "house-prices", "gs://my-project-templates/house_prices.yaml"
    )


def test_a_renamed_route_keeps_its_former_names(module: Module, example: dict[str, Any]) -> None:
    first, *others = example["routes"]
    renamed = {**first, "name": "prices-landing", "renamed_from": [first["name"]]}
    config = rendered(module, {**example, "routes": [renamed, *others]})
    assert by_name(config)["prices-landing"]["renamed_from"] == [first["name"]]
    assert "renamed_from" not in by_name(config)[others[0]["name"]]  # unset: left out
