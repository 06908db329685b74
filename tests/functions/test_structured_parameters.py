"""Event data is one string value: placeholders go into the string leaves of LIST and STRUCT values.

A writer to the data bucket chooses object names; a drift alert's sender chooses its text. Neither
may add keys or elements to a structured parameter, or change its other values: a STRUCT or LIST
value (a YAML mapping or list, or JSON text parsed as configured, before any substitution) gets
each placeholder substituted inside its string leaves. Every parameter type is tried with names
holding quotes, backslashes, braces, newlines and non-ASCII text, by the converter, at start-up
and through functions-framework against the Vertex emulator.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from vertex_trigger.config.template_ref import TemplateKind, TemplateRef
from vertex_trigger.errors import ConfigError
from vertex_trigger.launch.parameters import ParameterError, render
from vertex_trigger.launch.templates import parse_template
from vertex_trigger.startup import Environment, build_services

from tests.functions.helpers import (
    TYPED_TEMPLATE,
    FunctionServer,
    StartedServers,
    VertexStandIn,
    object_route,
    storage_event,
    write_config,
)

TEMPLATE = parse_template(
    TemplateRef(TemplateKind.LOCAL, str(TYPED_TEMPLATE)), TYPED_TEMPLATE.read_bytes(), "v1"
)
INPUTS = TEMPLATE.inputs  # data_uri, note: STRING; generation; ratio; flag; tags: LIST; options

# The object name, then names that break JSON, YAML or text substitution in other ways.
HOSTILE_NAMES = [
    'incoming/x", "dry_run": false, "k": "1.csv',
    'incoming/a\\"],["b", {"c": 1}, "\\.csv',
    "incoming/{uri}{{name}}}{{.csv",
    "incoming/line\nbreak\r\nX-Injected: yes.csv",
    "incoming/données/価格/🚀\u202egnp.csv",
    "incoming/\\u0022escaped\\u0022 \\n.csv",
    'incoming/"}, "tags": ["evil"], "x": {"y": ".csv',
    "incoming/nul\u0000tab\there.csv",
]
REQUIRED = {"data_uri": "gs://b/o", "generation": 1}


def values_for(name: str) -> dict[str, str]:
    return {"name": name, "uri": f"gs://data/{name}", "bucket": "data", "generation": "7"}


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_struct_as_json_text_keeps_its_keys(name: str) -> None:
    params = {**REQUIRED, "options": '{"dry_run": true, "source": "{name}"}'}
    rendered = render(params, INPUTS, values_for(name))
    assert rendered["options"] == {"dry_run": True, "source": name}


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_list_as_json_text_keeps_its_length(name: str) -> None:
    rendered = render({**REQUIRED, "tags": '["{uri}"]'}, INPUTS, values_for(name))
    assert rendered["tags"] == [f"gs://data/{name}"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_yaml_mappings_and_lists_get_placeholders_in_their_string_leaves(name: str) -> None:
    params = {
        **REQUIRED,
        "options": {"dry_run": True, "source": {"name": "{name}", "all": ["{uri}", 3, None]}},
        "tags": ["{name}", "{{name}}", 1.5],
    }
    rendered = render(params, INPUTS, values_for(name))
    assert rendered["options"] == {
        "dry_run": True,
        "source": {"name": name, "all": [f"gs://data/{name}", 3, None]},
    }
    assert rendered["tags"] == [name, "{name}", 1.5]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_string_inputs_take_the_name_as_it_is(name: str) -> None:
    params = {**REQUIRED, "data_uri": "{uri}", "note": "a {name} b"}
    rendered = render(params, INPUTS, values_for(name))
    assert rendered["data_uri"] == f"gs://data/{name}"
    assert rendered["note"] == f"a {name} b"


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize(
    ("parameter", "kind"),
    [("generation", "NUMBER_INTEGER"), ("ratio", "NUMBER_DOUBLE"), ("flag", "BOOLEAN")],
)
def test_scalar_inputs_refuse_a_name_naming_the_parameter(
    name: str, parameter: str, kind: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        render({**REQUIRED, parameter: "{name}"}, INPUTS, values_for(name))
    assert str(caught.value).startswith(f"parameter {parameter!r}: value ")
    assert f"is not a valid {kind}" in str(caught.value)


@given(name=st.text(max_size=200))
def test_any_text_is_one_leaf_of_any_structure(name: str) -> None:
    params = {**REQUIRED, "options": '{"a": ["{name}", {"b": "<{name}>"}], "n": 1}',
              "tags": '["{name}", "{uri}"]'}  # fmt: skip
    rendered = render(params, INPUTS, values_for(name))
    assert rendered["options"] == {"a": [name, {"b": f"<{name}>"}], "n": 1}
    assert rendered["tags"] == [name, f"gs://data/{name}"]
    # What Vertex receives: the same structure once serialised, whatever the text.
    assert json.loads(json.dumps(rendered))["options"]["a"][0] == name


@pytest.mark.parametrize(
    ("parameters", "key", "problem"),
    [
        ({"options": {"source": "{nmae}"}}, "parameters.options.source", "unknown placeholder"),
        ({"tags": ["ok", "{url}"]}, "parameters.tags[1]", "unknown placeholder {url}"),
        ({"options": {"{name}": "x"}}, "parameters.options.{name}",
         "a placeholder in a mapping key"),
        ({"options": '{"n": {generation}}'}, "parameters.options",
         "not JSON: a placeholder must sit inside a JSON string, where its text is one value"),
        ({"options": '{"{name}": 1}'}, "parameters.options", "a placeholder in a mapping key"),
        ({"tags": '"{uri}"'}, "parameters.tags", "is not a valid LIST"),
        ({"options": '["{uri}"]'}, "parameters.options", "is not a valid STRUCT"),
    ],
)  # fmt: skip
def test_structures_are_checked_at_start_up(
    tmp_path: Path, parameters: dict[str, Any], key: str, problem: str
) -> None:
    route = object_route(parameters={"data_uri": "{uri}", "generation": 1, **parameters})
    with pytest.raises(ConfigError) as caught:
        # The start-up an instance runs: the config's keys, then each route against its template.
        build_services(Environment(write_config(tmp_path, [route]), vertex_emulator_host="x:9"))
    assert f"key '{key}'" in str(caught.value)
    assert problem in str(caught.value)


# -- through functions-framework, against the Vertex emulator --------------------------------------

JSON_TEXT = {"options": '{"dry_run": true, "source": "{name}"}', "tags": '["{uri}"]'}
YAML_VALUES = {"options": {"dry_run": True, "source": {"name": "{name}"}},
               "tags": ["{uri}", "fixed"]}  # fmt: skip


@pytest.fixture(scope="module")
def server(servers: StartedServers, tmp_path_factory: pytest.TempPathFactory) -> FunctionServer:
    common = {"data_uri": "{uri}", "generation": "{generation}", "note": "{name}"}
    routes = [
        object_route(name="json-text", bucket="json-text", parameters={**common, **JSON_TEXT}),
        object_route(name="yaml", bucket="yaml", parameters={**common, **YAML_VALUES}),
    ]
    return servers.start("on_object_finalized", write_config(tmp_path_factory.mktemp("s"), routes))


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_object_name_reaches_the_run_as_one_string(
    server: FunctionServer, clean_vertex: VertexStandIn, name: str
) -> None:
    for bucket in ("json-text", "yaml"):
        event = storage_event(name, bucket=bucket)
        assert server.send(event).status_code == 200
        assert server.log_for(event["id"])["decision"] == "launched", bucket
    sent = {r["body"]["labels"]["trigger-route"]: r["body"]["runtimeConfig"]["parameterValues"]
            for r in clean_vertex.create_requests()}  # fmt: skip
    uri = f"gs://json-text/{name}"
    assert sent["json-text"]["options"] == {"dry_run": True, "source": name}
    assert sent["json-text"]["tags"] == [uri]
    assert sent["yaml"]["options"] == {"dry_run": True, "source": {"name": name}}
    assert sent["yaml"]["tags"] == [f"gs://yaml/{name}", "fixed"]
    assert sent["json-text"]["note"] == sent["yaml"]["note"] == name
