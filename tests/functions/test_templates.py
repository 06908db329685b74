"""Template references and the per-instance cache."""

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from vertex_trigger.config.template_ref import TemplateKind, TemplateRef, resolve_ref
from vertex_trigger.errors import DeploymentError
from vertex_trigger.google.api_calls import ApiCalls
from vertex_trigger.google.artifact_registry import ArtifactRegistry
from vertex_trigger.google.http import HttpClient
from vertex_trigger.google.retries import Retrier, RetryPolicy
from vertex_trigger.google.storage import Storage
from vertex_trigger.launch.parameters import ParameterType
from vertex_trigger.launch.templates import Template, TemplateStore, parse_template

from tests.functions.helpers import DATA, TYPED_TEMPLATE, StorageStandIn


def store(storage_url: str = "http://127.0.0.1:9") -> TemplateStore:
    calls = ApiCalls(Retrier(RetryPolicy(deadline=5.0, request_timeout=2.0)))
    storage = Storage(HttpClient(), storage_url, calls)
    return TemplateStore(storage, ArtifactRegistry(HttpClient(), calls))


def test_references_resolve_by_kind(tmp_path: Path) -> None:
    assert resolve_ref("gs://b/dir/t.yaml", tmp_path).object_name == "dir/t.yaml"
    ar = resolve_ref("https://europe-west4-kfp.pkg.dev/p/repo/house-prices/v3", tmp_path)
    assert ar.kind is TemplateKind.ARTIFACT_REGISTRY
    assert resolve_ref("../t.yaml", tmp_path / "conf").uri == str(tmp_path / "t.yaml")
    for bad in ("gs://bucket-only", "gs://b/dir/", "https://kfp.pkg.dev/p/r/p/v", "ftp://x/y"):
        with pytest.raises(ValueError):
            resolve_ref(bad, tmp_path)


def test_changed_local_file_is_re_read(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_bytes(TYPED_TEMPLATE.read_bytes())
    templates = store()
    ref = resolve_ref("t.yaml", tmp_path)
    first = templates.get(ref)
    assert templates.get(ref) is first
    before = path.stat().st_mtime_ns
    path.write_bytes((DATA / "typed_pipeline_v2.yaml").read_bytes())
    os.utime(path, ns=(before, before + 10**9))  # a coarse filesystem clock could hide the write
    assert templates.get(ref).spec["pipelineInfo"]["name"] == "typed-trigger-v2"


def test_unchanged_gcs_generation_is_served_from_the_cache(gcs: StorageStandIn) -> None:
    gcs.upload("cache-templates", "t.yaml", TYPED_TEMPLATE.read_bytes())
    templates = store(gcs.url)
    ref = resolve_ref("gs://cache-templates/t.yaml", Path("."))
    first = templates.get(ref)
    assert templates.get(ref) is first
    gcs.upload("cache-templates", "t.yaml", (DATA / "typed_pipeline_v2.yaml").read_bytes())
    second = templates.get(ref)
    assert second is not first
    assert second.version != first.version
    assert second.spec["pipelineInfo"]["name"] == "typed-trigger-v2"


def test_deleted_local_template_is_a_deployment_problem(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_bytes(TYPED_TEMPLATE.read_bytes())
    templates = store()
    ref = resolve_ref("t.yaml", tmp_path)
    templates.get(ref)
    path.unlink()
    with pytest.raises(DeploymentError, match="is unreadable"):
        templates.get(ref)


def typed_spec(**changes: Any) -> dict[str, Any]:
    """The typed fixture's spec with top-level keys changed (None deletes one)."""
    spec = yaml.safe_load(TYPED_TEMPLATE.read_text())
    spec.update(changes)
    return {k: v for k, v in spec.items() if v is not None}


def with_inputs(definitions: Any) -> dict[str, Any]:
    spec = typed_spec()
    spec["root"]["inputDefinitions"] = definitions
    return spec


def parsed(document: Any) -> Template:
    text = json.dumps(document) if not isinstance(document, str) else document
    return parse_template(TemplateRef(TemplateKind.LOCAL, "/t.yaml"), text, "1")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (typed_spec(pipelineInfo={"name": ""}),
         "template /t.yaml: pipelineInfo.name must be a non-empty string (Vertex AI requires it)"),
        (typed_spec(pipelineInfo={}), "pipelineInfo.name must be a non-empty string"),
        (typed_spec(pipelineInfo="typed"), "pipelineInfo.name must be a non-empty string"),
        (typed_spec(schemaVersion=None),
         "template /t.yaml: schemaVersion None is not a KFP v2 pipeline spec (2.0.0 or 2.1.0 "
         "expected)"),
        (typed_spec(schemaVersion="1.0.0"), "schemaVersion '1.0.0' is not a KFP v2 pipeline spec"),
        (typed_spec(root=[]), "template /t.yaml: root must be a mapping, got list"),
        (with_inputs([]), "template /t.yaml: root.inputDefinitions must be a mapping, got list"),
        (with_inputs({"parameters": "x"}), "parameters must be a mapping, got str"),
        (with_inputs({"parameters": {"x": {"parameterType": "QUANTUM"}}}),
         "template /t.yaml: required input 'x' has type 'QUANTUM', which the trigger does not "
         "know and so cannot supply (an optional input of an unknown type is accepted)"),
        (with_inputs({"parameters": {"x": None}}), "required input 'x' has type None"),
        (with_inputs({"artifacts": {"a": []}}), "artifact input 'a' must be a mapping, got list"),
        (typed_spec(schemaVersion="2.0.0"),
         "template /t.yaml: input 'data_uri' of this schemaVersion 2.0.0 spec has type None; "
         "expected one of INT, DOUBLE, STRING"),
        ({"pipelineSpec": typed_spec(), "runtimeConfig": {"parameterValues": {"colour": 1}}},
         "template /t.yaml: runtimeConfig sets colour, not inputs of the pipeline"),
        ("generation: " + "1" * 4301, "template /t.yaml is not valid YAML: Exceeds the limit"),
        ({"hello": "world"}, "not a compiled KFP v2 pipeline spec (no root or pipelineInfo)"),
    ],
)  # fmt: skip
def test_a_bad_spec_is_named_clearly(document: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parsed(document)
    assert message in str(caught.value)


def test_null_input_definitions_mean_none_as_in_protobuf_json() -> None:
    template = parsed(with_inputs(None))
    assert (dict(template.inputs), dict(template.artifacts)) == ({}, {})
    nulls = parsed(with_inputs({"parameters": None, "artifacts": None}))
    assert (dict(nulls.inputs), dict(nulls.artifacts)) == ({}, {})


def test_an_optional_input_of_an_unknown_type_is_accepted() -> None:
    spec = with_inputs({"parameters": {"future": {"parameterType": "QUANTUM", "isOptional": True},
                                       "config": {"parameterType": "TASK_CONFIG"}}})  # fmt: skip
    template = parsed(spec)
    assert template.inputs["future"].type is None
    assert template.inputs["future"].type_name == "QUANTUM"
    assert template.inputs["config"].type is ParameterType.TASK_CONFIG
    assert template.inputs["config"].optional  # filled by the platform
