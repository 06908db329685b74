"""The rendered triggers.yaml and the routes variable follow the design's configuration contract."""

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.terraform.hcl_config import REPO_ROOT, TERRAFORM_DIR, attr, nested, parse_file

# Keys of the configuration contract (design.md, "Configuration contract"), plus `retry`, the
# functions' backoff budget for Vertex AI calls (functions/vertex_trigger/config.py).
TOP_LEVEL_KEYS = {
    "project", "region", "pipeline_root", "service_account", "network", "kms_key", "retry",
    "routes",
}
ROUTE_KEYS = {
    "name", "event", "bucket", "prefix", "suffix", "template", "parameters", "labels",
    "enable_caching", "match", "min_deviation", "cooldown",
}
REQUIRED_ROUTE_KEYS = {"name", "event", "template"}
OBJECT_ONLY = {"bucket", "prefix", "suffix"}
DRIFT_ONLY = {"match", "min_deviation", "cooldown"}
ROUTE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
EVENTS = {"object_finalized", "drift_alert"}


def braced_literal(expression: str, after: str) -> dict[str, Any]:
    """The `{...}` literal that follows `after` in an hcl2 expression string."""
    start = expression.index(after) + len(after)
    depth = 0
    for end, ch in enumerate(expression[start:], start):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth == 0:
            return ast.literal_eval(expression[start : end + 1])
    raise AssertionError(f"no literal after {after!r} in {expression}")


def route_attributes(tf: dict[str, Any]) -> dict[str, str]:
    """Attribute name -> type of the routes variable's object type."""
    return braced_literal(attr(tf["variable"]["routes"], "type"), "object(")


def example_routes() -> list[dict[str, Any]]:
    return parse_file(TERRAFORM_DIR / "terraform.tfvars.example")["routes"][0]


def test_rendered_config_has_exactly_the_contract_top_level_keys(tf: dict[str, Any]) -> None:
    config = braced_literal(attr(tf["locals"], "triggers_config"), " in ")
    assert set(config) == TOP_LEVEL_KEYS
    assert config["routes"] == "${local.rendered_routes}"
    assert config["service_account"] == "${google_service_account.pipeline.email}"
    assert config["pipeline_root"] == (
        "gs://${google_storage_bucket.pipeline_root.name}/${var.pipeline_root_path}"
    )


def test_rendered_config_leaves_out_unset_keys(tf: dict[str, Any]) -> None:
    # An absent key means "as compiled" (enable_caching) or "no filter" (prefix): never write null.
    assert attr(tf["locals"], "triggers_config").endswith("if value != None}}")
    assert attr(tf["locals"], "rendered_routes").endswith("if value != None}]}")


def test_rendered_config_is_yaml_in_the_archive(tf: dict[str, Any]) -> None:
    assert attr(tf["locals"], "triggers_yaml") == "${yamlencode(local.triggers_config)}"


def test_routes_variable_mirrors_the_contract_route(tf: dict[str, Any]) -> None:
    attributes = route_attributes(tf)
    assert set(attributes) == ROUTE_KEYS
    required = {name for name, type_ in attributes.items() if "optional(" not in type_}
    assert required == REQUIRED_ROUTE_KEYS


def test_object_routes_default_to_the_data_bucket(tf: dict[str, Any]) -> None:
    rendered = attr(tf["locals"], "rendered_routes")
    assert "coalesce(r.bucket,google_storage_bucket.data.name)" in rendered


def test_template_stems_resolve_to_the_uploaded_objects(tf: dict[str, Any]) -> None:
    resolution = attr(tf["locals"], "route_templates")
    assert '"gs://${google_storage_bucket.templates.name}/${r.template}.yaml"' in resolution
    assert attr(tf["locals"], "template_files") == '${fileset(local.compiled_dir,"*.yaml")}'


def test_routes_variable_validates_the_contract_rules(tf: dict[str, Any]) -> None:
    conditions = " ".join(
        attr(v, "condition") for v in nested(tf["variable"]["routes"], "validation")
    )
    assert ROUTE_NAME.pattern in conditions
    assert "distinct(" in conditions
    assert re.search(r"contains\(\[.object_finalized.,\s*.drift_alert.\]", conditions)
    assert "[smhd]" in conditions


def test_example_routes_fit_the_contract() -> None:
    routes = example_routes()
    assert {r["event"] for r in routes} == EVENTS  # the example shows both kinds
    assert len({r["name"] for r in routes}) == len(routes)
    for route in routes:
        assert REQUIRED_ROUTE_KEYS <= set(route) <= ROUTE_KEYS, route["name"]
        assert ROUTE_NAME.match(route["name"]), route["name"]
        forbidden = DRIFT_ONLY if route["event"] == "object_finalized" else OBJECT_ONLY
        assert not forbidden & set(route), route["name"]
        assert all(isinstance(v, str) for v in route.get("parameters", {}).values())


def test_example_templates_name_compiled_files() -> None:
    compiled = {p.stem for p in (REPO_ROOT / "compiled").glob("*.yaml")}
    stems = {r["template"] for r in example_routes() if "://" not in r["template"]}
    # compiled/ is produced on the pipelines branch; the stem is its documented output name.
    assert stems <= (compiled or {"house_prices"})


def render_example(tf: dict[str, Any]) -> dict[str, Any]:
    """triggers.yaml as config.tf renders it for terraform.tfvars.example, with default names.

    Terraform cannot run here, so config.tf's three rules are restated: unset keys are left out,
    object routes default to the data bucket, template stems become the uploaded objects' URIs.
    """
    tfvars = parse_file(TERRAFORM_DIR / "terraform.tfvars.example")
    project = attr(tfvars, "project_id")
    stems = {p.stem for p in (REPO_ROOT / "compiled").glob("*.yaml")} or {"house_prices"}
    routes = []
    for route in example_routes():
        rendered = {key: value for key, value in route.items() if value is not None}
        if route["event"] == "object_finalized":
            rendered.setdefault("bucket", f"{project}-data")
        if route["template"] in stems:
            rendered["template"] = f"gs://{project}-templates/{route['template']}.yaml"
        routes.append(rendered)
    values = {
        "project": project,
        "region": attr(tfvars, "region"),
        "pipeline_root": f"gs://{project}-pipeline-root/runs",
        "service_account": f"vertex-triggers-pipeline@{project}.iam.gserviceaccount.com",
        "network": tfvars.get("network", [None])[0],
        "kms_key": tfvars.get("kms_key", [None])[0],
        "retry": tfvars.get("launch_retry", [None])[0],
        "routes": routes,
    }
    keys = braced_literal(attr(tf["locals"], "triggers_config"), " in ")
    return {key: values[key] for key in keys if values[key] is not None}


def test_rendered_example_loads_with_the_functions_config_loader(
    tf: dict[str, Any], tmp_path: Path
) -> None:
    config_module = pytest.importorskip("vertex_trigger.config")
    path = tmp_path / "triggers.yaml"
    path.write_text(yaml.safe_dump(render_example(tf), sort_keys=False))
    config = config_module.load_config(path)
    assert [r.name for r in config.routes] == ["prices-arrival", "prices-drift"]
    assert config.pipeline_root == "gs://my-project-pipeline-root/runs"
    arrival, drift = config.routes
    assert arrival.bucket == "my-project-data"
    assert arrival.enable_caching is False
    assert drift.cooldown == 6 * 3600
    assert {r.template.uri for r in config.routes} == {
        "gs://my-project-templates/house_prices.yaml"
    }


def test_example_parameters_fit_the_compiled_templates(tf: dict[str, Any], tmp_path: Path) -> None:
    config_module = pytest.importorskip("vertex_trigger.config")
    startup = pytest.importorskip("vertex_trigger.startup")
    templates = pytest.importorskip("vertex_trigger.templates")
    path = tmp_path / "triggers.yaml"
    path.write_text(yaml.safe_dump(render_example(tf), sort_keys=False))
    config = config_module.load_config(path)
    for route in config.routes:
        compiled = REPO_ROOT / "compiled" / route.template.object_name
        if not compiled.is_file():
            pytest.skip(f"{compiled} is built on the pipelines branch")
        template = templates.parse_template(route.template, compiled.read_bytes(), "1")
        startup.check_route(config, route, template)  # raises ConfigError naming the key
