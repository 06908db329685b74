"""Real compiled pipelines (KFP's own test data, Google Cloud Pipeline Components) as templates.

Each one goes through the functions' start-up check, one object event handled end to end (the
Vertex emulator records the create, validating it with the official PipelineJob type), and the
body is parsed with aiplatform_v1.PipelineJob. Sources and licences: data/templates/README.md.
"""

from pathlib import Path
from typing import Any

import pytest
from vertex_trigger.config.template_ref import TemplateKind, TemplateRef
from vertex_trigger.decisions import Decision
from vertex_trigger.errors import ConfigError
from vertex_trigger.launch.parameters import ParameterType
from vertex_trigger.launch.templates import Template, parse_template
from vertex_trigger.startup import Environment, build_services
from vertex_trigger.triggers.objects import handle_object_event
from vertex_trigger.triggers.serving import serve

from tests.functions.helpers import DATA, VertexStandIn, object_route, storage_event, write_config

CORPUS = DATA / "templates"
TEMPLATES = sorted(p.name for p in CORPUS.iterdir() if p.suffix in {".yaml", ".json"})
ARTIFACT_ID = "4113952348137684992"  # an ML Metadata artifact id, as Vertex generates them
# A value for each required input, placeholders where the type allows one.
SAMPLES = {
    ParameterType.STRING: "{uri}",
    ParameterType.NUMBER_INTEGER: "{generation}",
    ParameterType.NUMBER_DOUBLE: 0.5,
    ParameterType.BOOLEAN: True,
    ParameterType.LIST: [],
    ParameterType.STRUCT: {},
}


def template(name: str) -> Template:
    path = CORPUS / name
    return parse_template(TemplateRef(TemplateKind.LOCAL, str(path)), path.read_bytes(), "1")


def route_for(name: str, **overrides: Any) -> dict[str, Any]:
    """An object route giving every required input and artifact of the template a value."""
    spec = template(name)
    parameters = {n: SAMPLES[p.type] for n, p in spec.inputs.items() if not p.optional}
    artifacts = {n: ARTIFACT_ID for n, a in spec.artifacts.items() if not a.optional}
    route = object_route(template=str(CORPUS / name), parameters=parameters)
    if artifacts:
        route["input_artifacts"] = artifacts
    return {**route, **overrides}


def launch_one(tmp_path: Path, vertex: VertexStandIn, route: dict[str, Any]) -> dict[str, Any]:
    """Start the functions with ``route``, handle one object event, return the create body."""
    services = build_services(
        Environment(write_config(tmp_path, [route]), vertex_emulator_host=vertex.host)
    )
    outcome = serve(
        handle_object_event, storage_event("incoming/corpus.csv"), services, log=lambda _: None
    )
    assert outcome.decision is Decision.LAUNCHED, outcome.reason
    (request,) = vertex.create_requests()
    assert request["status"] == 200
    return request["body"]


@pytest.mark.parametrize("name", TEMPLATES)
def test_a_real_template_starts_and_launches(
    tmp_path: Path, clean_vertex: VertexStandIn, name: str
) -> None:
    from google.cloud import aiplatform_v1
    from google.protobuf import json_format

    body = launch_one(tmp_path, clean_vertex, route_for(name))
    job = aiplatform_v1.PipelineJob.pb(aiplatform_v1.PipelineJob())
    json_format.ParseDict(body, job)  # the official type accepts the body
    spec = template(name)
    runtime = body["runtimeConfig"]
    assert set(runtime) <= {"gcsOutputDirectory", "parameterValues", "parameters", "inputArtifacts"}
    assert ("parameters" in runtime) is spec.legacy
    required = {n for n, a in spec.artifacts.items() if not a.optional}
    assert runtime.get("inputArtifacts", {}) == {n: {"artifactId": ARTIFACT_ID} for n in required}


def test_a_required_artifact_input_without_a_binding_stops_start_up(tmp_path: Path) -> None:
    route = route_for("input_artifact.yaml")
    del route["input_artifacts"]
    with pytest.raises(ConfigError) as caught:
        build_services(Environment(write_config(tmp_path, [route]), vertex_emulator_host="x:1"))
    assert str(caught.value) == (
        f"{tmp_path / 'triggers.yaml'}: route 'arrival': key 'input_artifacts': required "
        f"artifact input(s) of {CORPUS / 'input_artifact.yaml'} not supplied: data (bind each "
        "to a Vertex ML Metadata artifact id)"
    )


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        ({"input_artifacts": {"data": "a", "model": "1234"}}, "input_artifacts.data",
         "'a' is not an artifact id (4-128 characters: a-z, 0-9, -)"),
        ({"input_artifacts": {"data": "1234", "model": "1234"}}, "input_artifacts.model",
         "not an artifact input of"),
        ({"input_artifacts": {"data": "{url}"}}, "input_artifacts.data",
         "unknown placeholder {url} for object_finalized routes"),
        ({"input_artifacts": ["data"]}, "input_artifacts",
         "expected a mapping of artifact input name to artifact id, got ['data']"),
        ({"parameters": {"data": "1234"}}, "parameters.data",
         "'data' is an artifact input of"),
    ],
)  # fmt: skip
def test_input_artifacts_errors_name_the_key(
    tmp_path: Path, change: dict[str, Any], key: str, message: str
) -> None:
    route = {**route_for("input_artifact.yaml"), **change}
    with pytest.raises(ConfigError) as caught:
        build_services(Environment(write_config(tmp_path, [route]), vertex_emulator_host="x:1"))
    assert f"route 'arrival': key '{key}': " in str(caught.value)
    assert message in str(caught.value)


def test_an_artifact_resource_name_or_a_placeholder_is_sent_as_the_artifact_id(
    tmp_path: Path, clean_vertex: VertexStandIn
) -> None:
    """RuntimeConfig.InputArtifact.artifact_id is the last part of the artifact's name."""
    name = f"projects/p/locations/us-central1/metadataStores/default/artifacts/{ARTIFACT_ID}"
    route = route_for("wide_and_deep_trainer_pipeline.yaml")
    route["input_artifacts"] = {"vertex_dataset": name, "parent_model": "model-{generation}"}
    body = launch_one(tmp_path, clean_vertex, route)
    assert body["runtimeConfig"]["inputArtifacts"] == {
        "vertex_dataset": {"artifactId": ARTIFACT_ID},
        "parent_model": {"artifactId": "model-1700000000000001"},
    }


def test_an_artifact_id_the_event_makes_invalid_rejects_the_event(
    tmp_path: Path, clean_vertex: VertexStandIn
) -> None:
    route = {**route_for("input_artifact.yaml"), "input_artifacts": {"data": "{name}"}}
    services = build_services(
        Environment(write_config(tmp_path, [route]), vertex_emulator_host=clean_vertex.host)
    )
    outcome = serve(
        handle_object_event, storage_event("incoming/Not An Id.csv"), services, log=lambda _: None
    )
    assert outcome.decision is Decision.REJECTED
    assert outcome.reason.startswith(
        "input artifact 'data': 'incoming/Not An Id.csv' is not an artifact id"
    )
    assert clean_vertex.create_requests() == []


def test_a_task_final_status_input_is_filled_by_the_platform(tmp_path: Path) -> None:
    spec = template("component_with_task_final_status_GH-12033.yaml")
    assert spec.inputs["status"].type is ParameterType.TASK_FINAL_STATUS
    assert spec.inputs["status"].optional
    route = route_for("component_with_task_final_status_GH-12033.yaml", parameters={"status": "x"})
    with pytest.raises(ConfigError) as caught:
        build_services(Environment(write_config(tmp_path, [route]), vertex_emulator_host="x:1"))
    assert str(caught.value).endswith(
        "key 'parameters.status': input of type TASK_FINAL_STATUS is filled by the platform"
    )


def test_a_schema_2_0_0_spec_is_launched_with_typed_runtime_parameters(
    tmp_path: Path, clean_vertex: VertexStandIn
) -> None:
    """As the Vertex SDK does for schemaVersion 2.0.0: runtimeConfig.parameters of Values."""
    body = launch_one(tmp_path, clean_vertex, route_for("hello_world_schema_2_0_0.yaml"))
    assert body["runtimeConfig"]["parameters"] == {
        "text": {"stringValue": "gs://data/incoming/corpus.csv"}
    }
    assert "parameterValues" not in body["runtimeConfig"]


def test_a_pipeline_job_file_sends_its_runtime_defaults_with_the_route_values(
    tmp_path: Path, clean_vertex: VertexStandIn
) -> None:
    """GCPC's deprecated AutoML Tabular job file: {pipelineSpec, runtimeConfig} of KFP 1.8."""
    name = "automl_tabular_default_pipeline.json"
    spec = template(name)
    assert spec.legacy and len(spec.defaults) == 32
    route = route_for(name)
    route["parameters"]["stage_1_num_parallel_trials"] = 7
    values = launch_one(tmp_path, clean_vertex, route)["runtimeConfig"]["parameters"]
    assert values["stage_1_num_parallel_trials"] == {"intValue": "7"}
    assert values["evaluation_dataflow_disk_size_gb"] == {"intValue": "50"}  # a default, as is
    assert values["distill_stage_1_deadline_hours"] == {"doubleValue": 1.0}
    assert values["location"] == {"stringValue": "gs://data/incoming/corpus.csv"}
