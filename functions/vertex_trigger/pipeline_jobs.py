"""Build the PipelineJob REST body for a route, a template and converted parameter values."""

import copy
from collections.abc import Mapping
from typing import Any

from vertex_trigger.config import Config, Route
from vertex_trigger.templates import Template, TemplateKind


def with_caching(spec: Mapping[str, Any], enable_caching: bool | None) -> Mapping[str, Any]:
    """Return the spec with every task's cache option set as the SDK does (None: as compiled)."""
    if enable_caching is None:
        return spec
    spec = copy.deepcopy(spec)
    for component in [spec["root"], *spec.get("components", {}).values()]:
        for task in component.get("dag", {}).get("tasks", {}).values():
            task["cachingOptions"] = {"enableCache": enable_caching}
    return spec


def job_id_of(run: Mapping[str, Any]) -> str:
    """Return the job id of a listed run (the last part of its resource name)."""
    return str(run.get("name", "")).rsplit("/", 1)[-1]


def pipeline_job_body(
    config: Config,
    *,
    route: Route,
    template: Template,
    job_id: str,
    parameter_values: Mapping[str, Any],
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """Return the JSON body of ``POST .../pipelineJobs?pipelineJobId=job_id``."""
    body: dict[str, Any] = {
        "displayName": job_id,
        "pipelineSpec": with_caching(template.spec, route.enable_caching),
        "runtimeConfig": {
            "gcsOutputDirectory": config.pipeline_root,
            "parameterValues": dict(parameter_values),
        },
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
