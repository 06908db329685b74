"""The rendered triggers.yaml and the routes variable follow the design's configuration contract."""

import re
from typing import Any

from tests.terraform.hcl_config import (
    REPO_ROOT,
    TERRAFORM_DIR,
    attr,
    nested,
    parse_file,
    parse_text,
)
from tests.terraform.helpers import ROUTE_KEYS, TOP_LEVEL_KEYS

REQUIRED_ROUTE_KEYS = {"name", "event", "template"}
OBJECT_ONLY = {"bucket", "prefix", "suffix", "batch", "sweep_lookback", "partitions"}
DRIFT_ONLY = {"match", "policy_labels", "min_deviation", "cooldown"}
RUN_ENDED_ONLY = {"after"}
ROUTE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
EVENTS = {"object_finalized", "drift_alert", "run_ended"}
# What each kind of route may not carry (sweep_lookback also belongs to run_ended routes).
FORBIDDEN = {
    "object_finalized": DRIFT_ONLY | RUN_ENDED_ONLY,
    "drift_alert": OBJECT_ONLY | RUN_ENDED_ONLY,
    "run_ended": (OBJECT_ONLY - {"sweep_lookback"}) | DRIFT_ONLY,
}


def braced_literal(expression: str, after: str) -> dict[str, Any]:
    """The `{...}` object literal that follows `after` in an hcl2 expression string, parsed."""
    start = expression.index(after) + len(after)
    depth = 0
    for end, ch in enumerate(expression[start:], start):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth == 0:
            return parse_text(f"literal = {expression[start : end + 1]}\n")["literal"]
    raise AssertionError(f"no literal after {after!r} in {expression}")


def route_attributes(tf: dict[str, Any]) -> dict[str, str]:
    """Attribute name -> type of the routes variable's object type."""
    return braced_literal(attr(tf["variable"]["routes"], "type"), "object(")


def example_routes() -> list[dict[str, Any]]:
    return parse_file(TERRAFORM_DIR / "terraform.tfvars.example")["routes"]


def test_rendered_config_has_exactly_the_contract_top_level_keys(tf: dict[str, Any]) -> None:
    config = braced_literal(attr(tf["locals"], "triggers_config"), " in ")
    assert set(config) == TOP_LEVEL_KEYS
    assert config["routes"] == "${local.rendered_routes}"
    assert config["service_account"] == "${google_service_account.pipeline.email}"
    assert config["pipeline_root"] == "gs://${local.pipeline_root_bucket}/${var.pipeline_root_path}"


def test_rendered_config_leaves_out_unset_keys(tf: dict[str, Any]) -> None:
    # An absent key means "as compiled" (enable_caching) or "no filter" (prefix): never write null.
    assert attr(tf["locals"], "triggers_config").endswith("if value != null}}")
    for routes in ("hcl_rendered_routes", "file_rendered_routes"):  # var.routes, a routes file
        assert attr(tf["locals"], routes).endswith("if value != null}]}")
    assert attr(tf["locals"], "rendered_routes") == (
        "${jsondecode(var.routes_file == null ? jsonencode(local.hcl_rendered_routes) : "
        "jsonencode(local.file_rendered_routes))}"
    )


def test_rendered_config_is_yaml_in_the_archive(tf: dict[str, Any]) -> None:
    assert attr(tf["locals"], "triggers_yaml") == "${yamlencode(local.triggers_config)}"


def test_routes_variable_mirrors_the_contract_route(tf: dict[str, Any]) -> None:
    attributes = route_attributes(tf)
    assert set(attributes) == ROUTE_KEYS
    required = {name for name, type_ in attributes.items() if "optional(" not in type_}
    assert required == REQUIRED_ROUTE_KEYS


def test_object_routes_default_to_the_data_bucket(tf: dict[str, Any]) -> None:
    rendered = attr(tf["locals"], "hcl_rendered_routes")
    assert "coalesce(r.bucket, local.data_bucket)" in rendered
    # A routes file's object routes watch the data bucket, whatever bucket they named locally.
    assert 'r.event == "object_finalized" ? local.data_bucket : null' in (
        attr(tf["locals"], "file_rendered_routes"))


def test_template_stems_resolve_to_the_uploaded_objects(tf: dict[str, Any]) -> None:
    resolution = attr(tf["locals"], "route_templates")
    assert '"gs://${local.templates_bucket}/${r.template}.yaml"' in resolution  # var.routes' stems
    assert '"gs://${local.templates_bucket}/${basename(r.template)}"' in resolution  # file paths
    assert attr(tf["locals"], "template_files") == '${fileset(local.compiled_dir, "*.yaml")}'


def test_routes_variable_validates_the_contract_rules(tf: dict[str, Any]) -> None:
    conditions = " ".join(
        attr(v, "condition") for v in nested(tf["variable"]["routes"], "validation")
    )
    assert ROUTE_NAME.pattern in conditions
    assert "distinct(" in conditions
    events = r"contains\(\[.object_finalized.,\s*.drift_alert.,\s*.run_ended.\]"
    assert re.search(events, conditions)
    assert "[smhd]" in conditions


def test_example_routes_fit_the_contract() -> None:
    routes = example_routes()
    assert {r["event"] for r in routes} == EVENTS  # the example shows every kind
    assert len({r["name"] for r in routes}) == len(routes)
    for route in routes:
        assert REQUIRED_ROUTE_KEYS <= set(route) <= ROUTE_KEYS, route["name"]
        assert ROUTE_NAME.match(route["name"]), route["name"]
        assert not FORBIDDEN[route["event"]] & set(route), route["name"]
        assert all(isinstance(v, str) for v in route.get("parameters", {}).values())


def test_example_templates_name_compiled_files() -> None:
    compiled = {p.stem for p in (REPO_ROOT / "compiled").glob("*.yaml")}
    stems = {r["template"] for r in example_routes() if "://" not in r["template"]}
    # compiled/ is produced on the pipelines branch; the stem is its documented output name.
    assert stems <= (compiled or {"house_prices"})

