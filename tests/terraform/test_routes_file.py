"""One routes file from laptop to cloud: Terraform deploys the triggers.yaml you checked and ran.

The module is evaluated as `terraform plan` evaluates it (hcl_eval): validations, preconditions and
the plan-time check, data.external.routes_check, run the way the external provider runs it (the
project's own `python -m triggers_cli.terraform_check`: `vertex-triggers check` on the file).
"""

import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from kfp import compiler, dsl

from tests.terraform.hcl_config import REPO_ROOT, TERRAFORM_DIR, parse_file
from tests.terraform.hcl_eval import ValidationFailedError
from tests.terraform.helpers import ExternalProgramError, plan

PIPELINE_EMAIL = "vertex-triggers-pipeline@acme-prod.iam.gserviceaccount.com"


@dsl.component(base_image="python:3.11")
def count_rows(data_uri: str, min_rows: int) -> int:
    """Count the rows of a file (never run here: compiled only)."""
    return min_rows


@dsl.pipeline(name="row-count")
def row_count(data_uri: str, min_rows: int = 1):
    count_rows(data_uri=data_uri, min_rows=min_rows)


def routes_file(folder: Path, **route_changes: Any) -> Path:
    """A newcomer's routes file, as `make up CONFIG=` and `vertex-triggers check` take it."""
    compiler.Compiler().compile(row_count, str(folder / "row_count.yaml"))
    arrival = {"name": "rows-arrival", "event": "object_finalized", "bucket": "acme-raw",
               "prefix": "incoming/", "suffix": ".csv", "template": "row_count.yaml",
               "parameters": {"data_uri": "{uri}", "min_rows": 10},
               "labels": {"team": "ml"}, **route_changes}  # fmt: skip
    drift = {"name": "rows-drift", "event": "drift_alert", "match": {"model": "*rows*"},
             "cooldown": "6h", "template": "row_count.yaml",
             "parameters": {"data_uri": "gs://acme-raw/training/latest.csv"}}  # fmt: skip
    document = {"project": "local-project", "region": "us-central1",
                "pipeline_root": "gs://local-pipelines/runs",
                "outcomes_topic": "projects/local-project/topics/run-outcomes",
                "retry": {"deadline": "30s"}, "routes": [arrival, drift]}  # fmt: skip
    path = folder / "triggers.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def inputs(path: Path, **more: Any) -> dict[str, Any]:
    return {"project_id": "acme-prod", "routes_file": str(path), **more}


def rendered(evaluator: Any) -> dict[str, Any]:
    return yaml.safe_load(evaluator.local("triggers_yaml"))


def test_a_routes_file_is_deployed_as_written_with_the_deployments_values(tmp_path, module):
    path = routes_file(tmp_path)

    evaluator = plan(module, inputs(path))
    config = rendered(evaluator)

    # The deployment's values replace the local stack's.
    assert config["project"] == "acme-prod"
    assert config["region"] == "us-central1"
    assert config["pipeline_root"] == "gs://acme-prod-pipeline-root/runs"
    assert config["service_account"] == PIPELINE_EMAIL
    assert config["outcomes_topic"] == "projects/acme-prod/topics/vertex-triggers-run-outcomes"
    assert config["retry"] == {"deadline": "30s"}  # the file's own setting
    arrival, drift = config["routes"]
    # The routes as written, but for the watched bucket and the uploaded template.
    assert arrival == {
        "name": "rows-arrival", "event": "object_finalized", "bucket": "acme-prod-data",
        "prefix": "incoming/", "suffix": ".csv", "template": "gs://acme-prod-templates/row_count.yaml",
        "parameters": {"data_uri": "{uri}", "min_rows": 10}, "labels": {"team": "ml"},
    }  # fmt: skip
    assert drift["template"] == "gs://acme-prod-templates/row_count.yaml"
    assert "bucket" not in drift and drift["match"] == {"model": "*rows*"}
    template = str(tmp_path / "row_count.yaml")
    assert evaluator.local("template_uploads") == {"row_count.yaml": template}
    objects = evaluator.render_resource("google_storage_bucket_object", "templates")
    assert objects == {"row_count.yaml": {"bucket": "acme-prod-templates", "name": "row_count.yaml",
                                          "source": str(tmp_path / "row_count.yaml"),
                                          "content_type": "application/yaml"}}  # fmt: skip


def test_the_deployed_file_starts_an_instance_as_the_local_one_did(tmp_path, module):
    from vertex_trigger.config.loader import load_config

    path = routes_file(tmp_path)
    deployed = tmp_path / "deployed" / "triggers.yaml"
    deployed.parent.mkdir()
    deployed.write_text(plan(module, inputs(path)).local("triggers_yaml"))

    local, cloud = load_config(path), load_config(deployed)

    assert [(r.name, dict(r.parameters), dict(r.labels)) for r in cloud.routes] == [
        (r.name, dict(r.parameters), dict(r.labels)) for r in local.routes
    ]
    assert cloud.routes[0].template.uri == "gs://acme-prod-templates/row_count.yaml"


def test_the_plan_check_refuses_a_file_vertex_triggers_check_refuses(tmp_path, module):
    path = routes_file(tmp_path, parameters={"data_uri": "{uri}", "min_rows": "{name}"})

    with pytest.raises(ExternalProgramError) as refused:
        plan(module, inputs(path))

    message = str(refused.value)
    assert message.startswith(
        "data.external.routes_check: External Program Execution Failed: vertex-triggers check "
        f"{path}: vertex_trigger.errors.ConfigError: {path}: route 'rows-arrival': key "
        "'parameters.min_rows': value '{name}' can never be a valid NUMBER_INTEGER"
    )


def test_the_check_is_the_projects_own_command(tmp_path, module):
    evaluator = plan(module, inputs(routes_file(tmp_path)))

    assert evaluator.local("routes_check_program") == [
        str(REPO_ROOT / ".venv" / "bin" / "python"), "-m", "triggers_cli.terraform_check"]
    [check] = evaluator.render_resource("data.external", "routes_check").values()
    assert check["query"] == {"routes_file": str(tmp_path / "triggers.yaml")}


def test_without_a_routes_file_nothing_is_checked_or_read(module, example):
    evaluator = plan(module, example)  # the HCL routes of terraform.tfvars.example

    assert evaluator.render_resource("data.external", "routes_check") == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda path, ex: {**inputs(path), "routes": ex["routes"]}, "Give the routes one way"),
        (lambda path, ex: {"project_id": "acme-prod"}, "Give the routes one way"),
        (lambda path, ex: inputs(path.with_name("missing.yaml")), "file"),
    ],
)
def test_routes_come_one_way(tmp_path, module, example, change, message):
    path = routes_file(tmp_path)

    with pytest.raises(Exception, match=message):
        plan(module, change(path, example))


def test_a_template_file_that_does_not_exist_is_named_before_the_check(tmp_path, module):
    path = routes_file(tmp_path, template="missing/row_count.yaml")
    # A check that finds nothing (the real one stops at the missing file too, in its own words).
    answer = "import sys; sys.stdin.read(); print('{\"ok\": \"true\"}')"
    module_inputs = inputs(path, routes_check_program=[sys.executable, "-c", answer])

    with pytest.raises(ValidationFailedError, match="names a template file that does not exist"):
        plan(module, module_inputs)


def test_two_templates_of_one_name_in_two_folders_are_refused(tmp_path, module):
    path = routes_file(tmp_path, template="other/row_count.yaml")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "row_count.yaml").write_text((tmp_path / "row_count.yaml").read_text())

    with pytest.raises(ValidationFailedError, match="Two templates of the routes file share a"):
        plan(module, inputs(path))


def test_object_routes_on_two_buckets_are_refused(tmp_path, module):
    path = routes_file(tmp_path)
    document = yaml.safe_load(path.read_text())
    document["routes"].append({**document["routes"][0], "name": "other", "bucket": "elsewhere"})
    path.write_text(yaml.safe_dump(document))

    with pytest.raises(ValidationFailedError, match="must all name one bucket"):
        plan(module, inputs(path))


def test_a_webhook_variable_is_read_from_the_secret_the_deployment_names(tmp_path, module):
    path = routes_file(tmp_path, notify={"webhook": "${ROWS_HOOK}", "on": ["FAILED"]})

    with pytest.raises(ValidationFailedError, match="routes_file_webhook_secrets does not map"):
        plan(module, inputs(path))
    evaluator = plan(module, inputs(path, routes_file_webhook_secrets={"ROWS_HOOK": "rows-hook"}))

    notify = rendered(evaluator)["routes"][0]["notify"]
    assert notify == {"webhook": "${ROWS_HOOK}", "on": ["FAILED"]}
    run_state = evaluator.module_instance("on_run_state")
    assert run_state.vars["secret_environment_variables"] == [
        {"key": "ROWS_HOOK", "project_id": "acme-prod", "secret": "rows-hook", "version": "latest"},
        # Every function verifies and signs runs with the run key (docs/design.md).
        {"key": "TRIGGER_RUN_KEY", "secret": "vertex-triggers-run-key", "project_id": "acme-prod",
         "version": "latest"},
    ]
    accessors = evaluator.render_resource("google_secret_manager_secret_iam_member",
                                          "outcomes_webhook_accessor")  # fmt: skip
    assert list(accessors) == ["rows-hook"]


def test_the_hcl_routes_render_the_same_yaml_as_a_routes_file(module, example, tmp_path):
    """The documented alternative: the example's HCL routes, and the same routes as a file."""
    compiled = Path(example["compiled_templates_dir"])
    routes = []
    for route in example["routes"]:
        written = {k: v for k, v in route.items() if v not in (None, {}, [])}
        written["template"] = os.path.relpath(compiled / f"{route['template']}.yaml", tmp_path)
        if route["event"] == "object_finalized":
            written["bucket"] = "my-project-data"
        routes.append(written)
    document = {"project": "my-project", "region": "us-central1",
                "pipeline_root": "gs://local-pipelines/runs", "routes": routes}  # fmt: skip
    (tmp_path / "triggers.yaml").write_text(yaml.safe_dump(document))
    from_file = {k: v for k, v in example.items() if k != "routes"}
    from_file["routes_file"] = str(tmp_path / "triggers.yaml")

    assert plan(module, from_file).local("triggers_yaml") == plan(module, example).local(
        "triggers_yaml")


def test_the_example_names_a_routes_file_as_the_way_to_deploy() -> None:
    text = (TERRAFORM_DIR / "terraform.tfvars.example").read_text()
    assert '# routes_file = "../my-pipeline/triggers.yaml"' in text
    assert "routes_file" not in parse_file(TERRAFORM_DIR / "terraform.tfvars.example")

