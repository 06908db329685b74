"""Placeholder types at start-up: one that can never fit its input stops the instance, one that
may not fit is a warning; `check` and the deployed instance say the same (launch/route_fit.py)."""

import json
from pathlib import Path
from typing import Any

import pytest
from vertex_trigger.config.loader import load_config
from vertex_trigger.config.model import EventKind
from vertex_trigger.config.placeholder_samples import placeholder_samples
from vertex_trigger.config.placeholders import (
    BATCH_PLACEHOLDERS,
    DRIFT_PLACEHOLDERS,
    MANIFEST_PLACEHOLDERS,
    OBJECT_PLACEHOLDERS,
)
from vertex_trigger.config.template_ref import TemplateKind, TemplateRef
from vertex_trigger.launch.route_fit import doubtful_parameters, first_misfit
from vertex_trigger.launch.templates import parse_template

from local.function_server import launch_function_server
from tests.functions.helpers import TYPED_TEMPLATE, drift_route, object_route, write_config

TEMPLATE = parse_template(TemplateRef(TemplateKind.LOCAL, str(TYPED_TEMPLATE)),
                          TYPED_TEMPLATE.read_bytes(), "1")  # fmt: skip
OBJECT = {"data_uri": "{uri}", "generation": "{generation}"}


def fit(tmp_path: Path, route: dict[str, Any]) -> tuple[Any, list[Any]]:
    [loaded] = load_config(write_config(tmp_path, [route])).routes
    return first_misfit(loaded, TEMPLATE), doubtful_parameters(loaded, TEMPLATE)


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("generation", "{name}"),  # an object name under incoming/ ending .csv: never digits
        ("generation", "{uri}"),
        ("generation", "{time_created}"),
        ("flag", "{size}"),
        ("ratio", "{content_type}"),
    ],
)
def test_an_object_placeholder_that_can_never_fit_is_a_start_up_error(tmp_path, parameter, value):
    misfit, _ = fit(tmp_path, object_route(parameters={**OBJECT, parameter: value}))

    assert misfit.key == f"parameters.{parameter}"
    assert f"value {value!r} can never be a valid " in misfit.problem
    assert f"whatever {value} stand(s) for" in misfit.problem


def test_a_placeholder_as_a_whole_structure_is_a_start_up_error(tmp_path):
    """STRUCT and LIST values are structures whose string leaves events fill (issue 22): a
    placeholder standing for the whole structure is refused at start-up, naming the parameter."""
    misfit, _ = fit(tmp_path, object_route(parameters={**OBJECT, "options": "{name}"}))

    assert misfit.key == "parameters.options"
    assert "is not a valid STRUCT" in misfit.problem
    assert "a placeholder must sit inside a JSON string" in misfit.problem


def test_features_into_a_boolean_can_never_fit(tmp_path):
    route = drift_route(parameters={"data_uri": "gs://d/x.csv", "generation": 0,
                                    "flag": "{features}"})  # fmt: skip
    misfit, _ = fit(tmp_path, route)

    assert misfit.key == "parameters.flag"
    assert misfit.problem.startswith("value '{features}' can never be a valid BOOLEAN")


@pytest.mark.parametrize(
    ("route", "parameter", "value", "example"),
    [
        (object_route(), "generation", "{event_id}", "{event_id} = 'text'"),
        # Without a prefix or suffix an object may be named 42: a string that may be an integer.
        (object_route(prefix="", suffix=""), "generation", "{name}", "{name} = 'text'"),
        (object_route(), "ratio", "{size}", "{size} = ''"),  # a size may be unknown
        (drift_route(), "ratio", "{max_deviation}", "{max_deviation} = ''"),
    ],
)
def test_a_placeholder_that_may_not_fit_is_a_warning_with_an_example(
    tmp_path, route, parameter, value, example
):
    parameters = {**route["parameters"], parameter: value}
    misfit, doubts = fit(tmp_path, {**route, "parameters": parameters})

    assert misfit is None
    [doubt] = [d for d in doubts if d.key == f"parameters.{parameter}"]
    assert f"value {value!r} may not be a valid " in doubt.problem
    assert f"with {example} it is " in doubt.problem


@pytest.mark.parametrize(
    ("parameter", "value"),
    [("generation", "{generation}"), ("note", "{name} at {time_created}"), ("ratio", "{size}.5"),
     ("data_uri", "{uri}"), ("tags", '["{bucket}"]')],
)  # fmt: skip
def test_placeholders_that_always_fit_say_nothing(tmp_path, parameter, value):
    route = object_route(parameters={**OBJECT, parameter: value, "ratio": "0.5"})
    route["parameters"][parameter] = value
    misfit, doubts = fit(tmp_path, route)

    assert misfit is None
    assert [d for d in doubts if d.key == f"parameters.{parameter}"] == []


def test_every_placeholder_has_samples(tmp_path):
    routes = {
        EventKind.OBJECT_FINALIZED: (object_route(), OBJECT_PLACEHOLDERS),
        EventKind.DRIFT_ALERT: (drift_route(), DRIFT_PLACEHOLDERS),
    }
    for route, names in routes.values():
        [loaded] = load_config(write_config(tmp_path, [route])).routes
        assert names <= set(placeholder_samples(loaded))
    batch = object_route(parameters={"data_uri": "{batch_uri}", "generation": 1},
                         batch={"complete_when": {"manifest": "m.json"}})  # fmt: skip
    [loaded] = load_config(write_config(tmp_path, [batch])).routes
    assert set(placeholder_samples(loaded)) >= BATCH_PLACEHOLDERS | MANIFEST_PLACEHOLDERS


def test_the_instance_stops_naming_file_route_parameter_and_placeholder(tmp_path):
    config = write_config(tmp_path, [object_route(parameters={**OBJECT, "flag": "{name}"})])
    env = {"TRIGGERS_CONFIG": str(config), "VERTEX_AI_EMULATOR_HOST": "127.0.0.1:9"}
    server = launch_function_server("on_object_finalized", env)
    with pytest.raises(RuntimeError) as stopped:
        server.wait_ready()
    expected = (f"vertex_trigger.errors.ConfigError: {config}: route 'arrival': key "
                "'parameters.flag': value '{name}' can never be a valid BOOLEAN")  # fmt: skip
    assert expected in str(stopped.value)


def test_warnings_are_json_lines_cloud_logging_reads(tmp_path, capsys):
    from vertex_trigger.startup import log_warning

    log_warning("route 'x': key 'parameters.y': may not fit")

    assert json.loads(capsys.readouterr().out) == {
        "severity": "WARNING", "message": "route 'x': key 'parameters.y': may not fit"}
