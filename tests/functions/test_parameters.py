"""Placeholders are plain text; values are converted by the template's declared types."""

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from vertex_trigger.config.placeholders import placeholders_in, substitute
from vertex_trigger.config.template_ref import TemplateKind, TemplateRef
from vertex_trigger.launch.parameters import (
    MAX_INTEGER,
    InputParameter,
    ParameterError,
    ParameterType,
    convert,
    convert_input,
    render,
)
from vertex_trigger.launch.templates import parse_template

from tests.functions.helpers import DATA, TYPED_TEMPLATE

TEMPLATE = parse_template(
    TemplateRef(TemplateKind.LOCAL, str(TYPED_TEMPLATE)), TYPED_TEMPLATE.read_bytes(), "v1"
)


def test_template_inputs_are_read_from_root_input_definitions() -> None:
    types = {name: p.type for name, p in TEMPLATE.inputs.items()}
    assert types == {
        "data_uri": ParameterType.STRING,
        "generation": ParameterType.NUMBER_INTEGER,
        "ratio": ParameterType.NUMBER_DOUBLE,
        "flag": ParameterType.BOOLEAN,
        "tags": ParameterType.LIST,
        "options": ParameterType.STRUCT,
        "note": ParameterType.STRING,
    }
    assert {n for n, p in TEMPLATE.inputs.items() if not p.optional} == {"data_uri", "generation"}


@pytest.mark.parametrize(
    ("ptype", "value", "expected"),
    [
        (ParameterType.STRING, "x", "x"),
        (ParameterType.STRING, 3, "3"),
        (ParameterType.NUMBER_INTEGER, "1587627537231057", 1587627537231057),
        (ParameterType.NUMBER_INTEGER, 7, 7),
        (ParameterType.NUMBER_INTEGER, 7.0, 7),
        (ParameterType.NUMBER_DOUBLE, "0.25", 0.25),
        (ParameterType.NUMBER_DOUBLE, 2, 2.0),
        (ParameterType.BOOLEAN, "true", True),
        (ParameterType.BOOLEAN, "False", False),
        (ParameterType.BOOLEAN, True, True),
        (ParameterType.LIST, '[1, "b"]', [1, "b"]),
        (ParameterType.LIST, [1], [1]),
        (ParameterType.STRUCT, '{"a": {"b": 2}}', {"a": {"b": 2}}),
        (ParameterType.STRUCT, {"a": 1}, {"a": 1}),
    ],
)
def test_convert_by_type(ptype: ParameterType, value: Any, expected: Any) -> None:
    result = convert("p", value, ptype)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("ptype", "value"),
    [
        (ParameterType.STRING, True),
        (ParameterType.STRING, [1]),
        (ParameterType.NUMBER_INTEGER, "12.5"),
        (ParameterType.NUMBER_INTEGER, True),
        (ParameterType.NUMBER_INTEGER, "gs://b/o"),
        (ParameterType.NUMBER_DOUBLE, "nan"),
        (ParameterType.NUMBER_DOUBLE, "abc"),
        (ParameterType.BOOLEAN, "yes"),
        (ParameterType.BOOLEAN, 1),
        (ParameterType.LIST, '{"a": 1}'),
        (ParameterType.LIST, "not json"),
        (ParameterType.STRUCT, "[1]"),
    ],
)
def test_unconvertible_values_name_parameter_value_and_type(
    ptype: ParameterType, value: Any
) -> None:
    with pytest.raises(ParameterError) as caught:
        convert("p", value, ptype)
    assert f"parameter 'p': value {value!r} is not a valid {ptype}" in str(caught.value)


@pytest.mark.parametrize(
    "name",
    [
        "{0.__class__}",
        "{uri}",
        "{name}{{generation}}",
        "x" * 1000,
        "données/été/価格.csv",
        "{",
        "}{",
    ],
)
def test_substitution_is_plain_text_and_never_rescans(name: str) -> None:
    values = {"name": name, "uri": f"gs://b/{name}", "generation": "5"}
    assert substitute("{name}", values) == name
    assert substitute("{uri}|{generation}", values) == f"gs://b/{name}|5"


def test_escaped_placeholder_is_literal_and_json_braces_are_text() -> None:
    assert substitute("{{uri}} {uri}", {"uri": "gs://b/o"}) == "{uri} gs://b/o"
    assert placeholders_in('{"a": {"b": 1}} {uri} {{name}}') == {"uri"}


def test_render_converts_substituted_text_and_rejects_with_the_value() -> None:
    params = {"data_uri": "{uri}", "generation": "{generation}", "flag": True}
    values = {"uri": "gs://b/o.csv", "generation": "42"}
    assert render(params, TEMPLATE.inputs, values) == {
        "data_uri": "gs://b/o.csv",
        "generation": 42,
        "flag": True,
    }
    with pytest.raises(
        ParameterError, match=r"parameter 'generation': value 'gs://b/o\.csv' is not"
    ):
        render({"data_uri": "x", "generation": "{uri}"}, TEMPLATE.inputs, values)


def test_render_refuses_missing_required_and_unknown_inputs() -> None:
    with pytest.raises(ParameterError, match=r"required pipeline input.*generation"):
        render({"data_uri": "x"}, TEMPLATE.inputs, {})
    with pytest.raises(ParameterError, match="'colour' is not an input"):
        render({"data_uri": "x", "generation": 1, "colour": "red"}, TEMPLATE.inputs, {})


def test_parameter_values_equal_what_the_vertex_sdk_builds() -> None:
    """Our converted values are what aiplatform.PipelineJob puts in runtimeConfig."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform
    from google.protobuf import json_format

    typed = {"data_uri": "gs://b/o.csv", "generation": 42, "ratio": 0.25, "flag": True,
             "tags": [1, "b"], "options": {"a": {"b": 2}}, "note": "n"}  # fmt: skip
    textual = {"data_uri": "{uri}", "generation": "{generation}", "ratio": "0.25",
               "flag": "true", "tags": '[1, "b"]', "options": json.dumps({"a": {"b": 2}}),
               "note": "n"}  # fmt: skip
    ours = render(textual, TEMPLATE.inputs, {"uri": "gs://b/o.csv", "generation": "42"})
    job = aiplatform.PipelineJob(
        display_name="parity",
        template_path=str(TYPED_TEMPLATE),
        parameter_values=typed,
        pipeline_root="gs://r/runs",
        project="p",
        location="us-central1",
        credentials=AnonymousCredentials(),
    )
    sdk = json_format.MessageToDict(job._gca_resource._pb.runtime_config)["parameterValues"]
    assert ours == sdk


@given(name=st.text(min_size=1, max_size=300))
def test_any_object_name_substitutes_as_itself(name: str) -> None:
    values = {"name": name, "uri": f"gs://b/{name}", "bucket": "b"}
    assert substitute("{uri}", values) == f"gs://b/{name}"
    assert substitute("{bucket}/{name}", values) == f"b/{name}"
    rendered = render(
        {"data_uri": "{uri}", "generation": 1, "note": "{name}"}, TEMPLATE.inputs, values
    )
    assert rendered["note"] == name


def test_fixture_templates_are_real_kfp_output(tmp_path: Path) -> None:
    """Recompiling tests/functions/data/typed_pipeline.py reproduces the committed fixtures."""
    spec = importlib.util.spec_from_file_location("typed_pipeline", DATA / "typed_pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from kfp import compiler

    for name, pipeline_name in [
        ("typed_pipeline.yaml", None),
        ("typed_pipeline_v2.yaml", "typed-trigger-v2"),
    ]:
        out = tmp_path / name
        compiler.Compiler().compile(module.typed_pipeline, str(out), pipeline_name=pipeline_name)
        fresh, committed = (yaml.safe_load(p.read_text()) for p in (out, DATA / name))
        fresh.pop("sdkVersion")
        committed.pop("sdkVersion")
        assert fresh == committed


def test_integers_beyond_2_53_would_reach_the_run_changed() -> None:
    """The evidence for the limit: parameterValues are protobuf Values, numbers are doubles."""
    from google.cloud import aiplatform_v1
    from google.protobuf import json_format

    def through_vertex(number: int) -> float:
        job = aiplatform_v1.PipelineJob.pb(aiplatform_v1.PipelineJob())
        json_format.ParseDict({"runtimeConfig": {"parameterValues": {"n": number}}}, job)
        return job.runtime_config.parameter_values["n"].number_value

    assert through_vertex(MAX_INTEGER) == MAX_INTEGER == 2**53
    assert through_vertex(-MAX_INTEGER) == -MAX_INTEGER
    assert through_vertex(MAX_INTEGER + 1) != MAX_INTEGER + 1  # silently 2**53


@pytest.mark.parametrize(
    "value", [2**53, -(2**53), str(2**53), f"-{2**53}", f"+{2**53}", "0" * 5000 + "7"]
)
def test_integers_within_2_53_are_accepted(value: Any) -> None:
    assert abs(convert("n", value, ParameterType.NUMBER_INTEGER)) in {2**53, 7}


@pytest.mark.parametrize(
    "value",
    [2**53 + 1, -(2**53) - 1, str(2**53 + 1), 1e16, "1" * 4301, "-" + "9" * 10_000, 10**400],
    ids=["2**53+1", "-2**53-1", "text", "float", "4301 digits", "10000 digits", "10**400"],
)
def test_integers_out_of_range_name_the_parameter_before_any_conversion(value: Any) -> None:
    with pytest.raises(ParameterError) as caught:
        convert("generation", value, ParameterType.NUMBER_INTEGER)
    assert str(caught.value).startswith("parameter 'generation': value ")
    assert str(caught.value).endswith(
        "is not a valid NUMBER_INTEGER (out of range: Vertex passes numbers as doubles, exact "
        "only within -2**53..2**53)"
    )


def test_a_huge_integer_literal_for_a_double_input_is_not_finite() -> None:
    with pytest.raises(ParameterError, match=r"is not a valid NUMBER_DOUBLE \(not finite\)"):
        convert("ratio", 10**400, ParameterType.NUMBER_DOUBLE)


def test_platform_filled_and_unknown_types_are_never_set() -> None:
    with pytest.raises(ParameterError, match="inputs of type TASK_CONFIG are filled by the"):
        convert("config", "{}", ParameterType.TASK_CONFIG)
    unknown = InputParameter("future", None, optional=True, type_name="QUANTUM")
    with pytest.raises(ParameterError, match="the input's type 'QUANTUM' is unknown"):
        convert_input("x", unknown)
