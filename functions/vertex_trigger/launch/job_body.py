"""Build the PipelineJob REST body for a route, a template and converted parameter values."""

import copy
from collections.abc import Mapping
from typing import Any

from vertex_trigger.config.model import Config, Route
from vertex_trigger.config.template_ref import TemplateKind
from vertex_trigger.launch.parameters import ParameterType
from vertex_trigger.launch.templates import Template


def with_caching(spec: Mapping[str, Any], enable_caching: bool | None) -> Mapping[str, Any]:
    """Return the spec with every task's cache option set as the SDK does (None: as compiled)."""
    if enable_caching is None:
        return spec
    spec = copy.deepcopy(spec)
    for component in [spec["root"], *(spec.get("components") or {}).values()]:
        dag = (component or {}).get("dag") or {}
        for task in (dag.get("tasks") or {}).values():
            task["cachingOptions"] = {"enableCache": enable_caching}
    return spec


def runtime_values(template: Template, parameter_values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the runtimeConfig field for the run's parameters, as the SDK writes it.

    A schemaVersion 2.0.0 spec takes ``parameters`` (aiplatform.v1.Value: intValue as an int64
    string, doubleValue, stringValue); later ones take ``parameterValues`` (protobuf Values).
    """
    values = {**template.defaults, **parameter_values}
    if not template.legacy:
        return {"parameterValues": values}
    return {"parameters": {name: _legacy_value(template, name, v) for name, v in values.items()}}


def _legacy_value(template: Template, name: str, value: Any) -> dict[str, Any]:
    match template.inputs[name].type:
        case ParameterType.NUMBER_INTEGER:
            return {"intValue": str(value)}
        case ParameterType.NUMBER_DOUBLE:
            return {"doubleValue": value}
    return {"stringValue": value}


def pipeline_job_body(
    config: Config,
    *,
    route: Route,
    template: Template,
    display_name: str,
    parameter_values: Mapping[str, Any],
    labels: Mapping[str, str],
    input_artifacts: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the JSON body of ``POST .../pipelineJobs?pipelineJobId=ID`` (the id is not in it)."""
    runtime = {
        "gcsOutputDirectory": config.pipeline_root,
        **runtime_values(template, parameter_values),
    }
    if input_artifacts:
        runtime["inputArtifacts"] = {n: {"artifactId": a} for n, a in input_artifacts.items()}
    body: dict[str, Any] = {
        "displayName": display_name,
        "pipelineSpec": with_caching(template.spec, route.enable_caching),
        "runtimeConfig": runtime,
        "labels": dict(labels),
    }
    if template.ref.kind is TemplateKind.ARTIFACT_REGISTRY:
        body["templateUri"] = template.ref.uri  # as the SDK does: Vertex records it
    if config.service_account:
        body["serviceAccount"] = config.service_account
    if config.network:
        body["network"] = config.network
    if config.kms_key:
        body["encryptionSpec"] = {"kmsKeyName": config.kms_key}
    return body
