"""Validate a PipelineJob create request the way Vertex AI does, before anything is stored."""

from __future__ import annotations

import re
from typing import Any

from google.cloud.aiplatform_v1 import PipelineJob
from google.protobuf import json_format

from local.vertex_emulator.errors import invalid_argument
from triggers_cli.kfp_spec import spec_problems

JOB_ID_RE = re.compile(r"^[a-z][-a-z0-9]{0,127}$")
LABEL_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE_RE = re.compile(r"^[a-z0-9_-]{0,63}$")
NETWORK_RE = re.compile(r"^projects/\d+/global/networks/[^/]+$")
KMS_KEY_RE = re.compile(r"^projects/[^/]+/locations/([^/]+)/keyRings/[^/]+/cryptoKeys/[^/]+$")
SERVICE_ACCOUNT_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_LABELS = 64
MAX_DISPLAY_NAME = 128
LIGHTWEIGHT_EXECUTOR_MODULE = "kfp.dsl.executor_main"
# KFP SDK 1.x lightweight Python components (schemaVersion 2.0.0) run these instead, or embed
# their executor in the program; all of them install KFP 1.x first.
KFP1_EXECUTOR_MODULES = ("kfp.components.executor_main", "kfp.v2.components.executor_main")
KFP1_INSTALL = re.compile(r"""['"]?kfp==1\.""")
CONTAINERIZED_PYTHON_COMMAND = ["python3", "-m", "kfp.dsl.executor_main"]

# Legacy (schema 2.0.0) `type` names mapped to today's `parameterType` names.
LEGACY_TYPES = {"STRING": "STRING", "INT": "NUMBER_INTEGER", "DOUBLE": "NUMBER_DOUBLE"}


def parse_pipeline_job(body: Any) -> dict[str, Any]:
    """Parse a request body with the official PipelineJob type; return it as normalized JSON."""
    if not isinstance(body, dict):
        raise invalid_argument("Invalid JSON payload: the request body must be a JSON object.")
    message = PipelineJob.pb(PipelineJob())
    try:
        json_format.ParseDict(body, message, ignore_unknown_fields=False)
    except json_format.ParseError as err:
        raise invalid_argument(f"Invalid JSON payload received. {err}") from err
    return json_format.MessageToDict(message)


def check_job_id(job_id: str) -> None:
    """Reject a job id outside Vertex's rule."""
    if not JOB_ID_RE.match(job_id):
        raise invalid_argument(
            f"pipelineJobId {job_id!r} is invalid: it must match {JOB_ID_RE.pattern} "
            "(a lowercase letter, then up to 127 lowercase letters, digits or hyphens)."
        )


def check_labels(labels: dict[str, str]) -> None:
    """Reject labels that break Google Cloud's label rules."""
    if len(labels) > MAX_LABELS:
        raise invalid_argument(
            f"labels: at most {MAX_LABELS} labels are allowed, got {len(labels)}."
        )
    for key, value in labels.items():
        if not LABEL_KEY_RE.match(key):
            raise invalid_argument(
                f"labels: key {key!r} is invalid: keys must match {LABEL_KEY_RE.pattern}."
            )
        if not LABEL_VALUE_RE.match(value):
            raise invalid_argument(
                f"labels: value {value!r} of key {key!r} is invalid: values must match "
                f"{LABEL_VALUE_RE.pattern}."
            )


def check_display_name(job: dict[str, Any]) -> None:
    """Reject a display name longer than Vertex allows."""
    name = job.get("displayName", "")
    if len(name) > MAX_DISPLAY_NAME:
        raise invalid_argument(
            f"displayName is {len(name)} characters long; at most {MAX_DISPLAY_NAME} are allowed."
        )


def check_placement(job: dict[str, Any], location: str) -> None:
    """Check serviceAccount, network and encryptionSpec against their documented formats."""
    account = job.get("serviceAccount")
    if account and not SERVICE_ACCOUNT_RE.match(account):
        raise invalid_argument(f"serviceAccount {account!r} is not a service account email.")
    network = job.get("network")
    if network and not NETWORK_RE.match(network):
        raise invalid_argument(
            f"network {network!r} is invalid: use projects/PROJECT_NUMBER/global/networks/NAME."
        )
    key = job.get("encryptionSpec", {}).get("kmsKeyName", "")
    if "encryptionSpec" in job and not (match := KMS_KEY_RE.match(key)):
        raise invalid_argument(
            f"encryptionSpec.kmsKeyName {key!r} is invalid: use "
            "projects/P/locations/L/keyRings/R/cryptoKeys/K."
        )
    if "encryptionSpec" in job and match.group(1) != location:
        raise invalid_argument(
            f"encryptionSpec.kmsKeyName {key!r} is in {match.group(1)!r}; the key must be in "
            f"the job's region {location!r}."
        )


def check_spec_present(job: dict[str, Any]) -> None:
    """Require a pipelineSpec or a templateUri, and a well-formed spec when given."""
    spec = job.get("pipelineSpec")
    if spec is None and not job.get("templateUri"):
        raise invalid_argument("PipelineJob must set pipelineSpec or templateUri.")
    if spec is None:
        return
    if not spec.get("pipelineInfo", {}).get("name"):
        raise invalid_argument("pipelineSpec.pipelineInfo.name is required.")
    if "root" not in spec:
        raise invalid_argument("pipelineSpec.root is required.")
    problems = spec_problems(spec)  # what KFP's own PipelineSpec proto and references refuse
    if problems:
        raise invalid_argument(f"pipelineSpec is not a valid PipelineSpec: {problems[0]}")


def container_components(spec: dict[str, Any], *, kfp1: bool = False) -> list[str]:
    """Name the components kfp.local cannot run: container ones (``kfp1``: KFP 1.x Python ones)."""
    executors = spec.get("deploymentSpec", {}).get("executors", {})
    by_executor: dict[str, list[str]] = {}
    for component, component_spec in spec.get("components", {}).items():
        label = component_spec.get("executorLabel")
        if label:
            by_executor.setdefault(label, []).append(component)
    refused = []
    for label, executor in sorted(executors.items()):
        if _is_runnable_locally(executor) or _is_kfp1_python(executor) is not kfp1:
            continue
        image = executor.get("container", {}).get("image", "no container image")
        for component in by_executor.get(label, [label]):
            refused.append(f"{component} (executor {label}, {image})")
    return refused


def _is_runnable_locally(executor: dict[str, Any]) -> bool:
    """Tell whether kfp.local's SubprocessRunner can run this executor."""
    if "importer" in executor:
        return True
    container = executor.get("container")
    if container is None:
        return False
    command = list(container.get("command", [])) + list(container.get("args", []))
    if command[: len(CONTAINERIZED_PYTHON_COMMAND)] == CONTAINERIZED_PYTHON_COMMAND:
        return False
    return any(LIGHTWEIGHT_EXECUTOR_MODULE in part for part in command)


def _is_kfp1_python(executor: dict[str, Any]) -> bool:
    """Tell a KFP SDK 1.x lightweight Python component (its own executor module) apart."""
    container = executor.get("container") or {}
    command = list(container.get("command", [])) + list(container.get("args", []))
    return any(
        KFP1_INSTALL.search(part) or any(module in part for module in KFP1_EXECUTOR_MODULES)
        for part in command
    )


def check_runnable(spec: dict[str, Any]) -> None:
    """Refuse a pipeline kfp.local cannot run, naming the components and why."""
    older = container_components(spec, kfp1=True)
    if older:
        raise invalid_argument(
            "The Vertex AI emulator runs KFP 2 lightweight Python components with kfp.local; "
            "this pipeline's Python components were compiled by KFP SDK 1.x (schemaVersion "
            f"{spec.get('schemaVersion')}, {spec.get('sdkVersion', 'no sdkVersion')}: they "
            f"install and run KFP 1.x), which kfp.local cannot run: {', '.join(older)}. "
            "Recompile it with KFP SDK 2 to run it here (Vertex AI runs it as compiled; the "
            "emulator records it with --no-execute)."
        )
    refused = container_components(spec)
    if refused:
        raise invalid_argument(
            "The Vertex AI emulator runs only lightweight Python components with kfp.local; "
            f"this pipeline has container components: {', '.join(refused)}."
        )


def input_parameters(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return the spec's root input parameter definitions."""
    return spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {})


def parameter_type(definition: dict[str, Any]) -> str:
    """Return the KFP parameterType of one input definition (legacy `type` understood)."""
    if "parameterType" in definition:
        return definition["parameterType"]
    return LEGACY_TYPES.get(definition.get("type", ""), "STRING")


def check_parameter_values(spec: dict[str, Any], values: dict[str, Any]) -> None:
    """Check runtimeConfig.parameterValues against root.inputDefinitions.parameters."""
    definitions = input_parameters(spec)
    unknown = sorted(set(values) - set(definitions))
    if unknown:
        raise invalid_argument(
            f"runtimeConfig.parameterValues has unknown parameter(s) {', '.join(unknown)}; "
            f"the pipeline's inputs are: {', '.join(sorted(definitions)) or '(none)'}."
        )
    missing = sorted(
        name
        for name, definition in definitions.items()
        if name not in values and _is_required(definition)
    )
    if missing:
        raise invalid_argument(
            f"runtimeConfig.parameterValues is missing required parameter(s): {', '.join(missing)}."
        )
    for name, value in values.items():
        expected = parameter_type(definitions[name])
        if not _fits(expected, value):
            raise invalid_argument(
                f"runtimeConfig.parameterValues[{name!r}]: expected {expected}, "
                f"got {type(value).__name__} {value!r}."
            )


def _is_required(definition: dict[str, Any]) -> bool:
    """Tell whether an input must be given (not optional, no default)."""
    return not definition.get("isOptional") and "defaultValue" not in definition


def _fits(expected: str, value: Any) -> bool:
    """Tell whether a JSON value fits a KFP parameter type."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    checks = {
        "STRING": isinstance(value, str),
        "NUMBER_INTEGER": is_number and float(value).is_integer(),
        "NUMBER_DOUBLE": is_number,
        "BOOLEAN": isinstance(value, bool),
        "LIST": isinstance(value, list),
        "STRUCT": isinstance(value, dict),
        "TASK_FINAL_STATUS": isinstance(value, dict),
    }
    return checks.get(expected, True)


def is_legacy_schema(spec: dict[str, Any]) -> bool:
    """Tell whether a spec is schemaVersion 2.0.0 or lower (KFP SDK 1.8 or lower)."""
    parts = str(spec.get("schemaVersion", "")).split(".")
    return all(p.isdigit() for p in parts) and tuple(map(int, parts)) <= (2, 0, 0)


def legacy_values(parameters: dict[str, Any]) -> dict[str, Any]:
    """Return runtimeConfig.parameters (aiplatform.v1.Value messages) as plain values."""
    readers = {"intValue": int, "doubleValue": float, "stringValue": str}
    values = {}
    for name, value in parameters.items():
        kind = next(iter(value), "") if isinstance(value, dict) else ""
        if kind not in readers:
            raise invalid_argument(f"runtimeConfig.parameters[{name!r}] must set a value.")
        values[name] = readers[kind](value[kind])
    return values


def check_runtime_config(job: dict[str, Any]) -> None:
    """Check the runtime config: parameterValues, or parameters for a schemaVersion 2.0.0 spec."""
    runtime = job.get("runtimeConfig", {})
    spec = job.get("pipelineSpec")
    legacy = spec is not None and is_legacy_schema(spec)
    if runtime.get("parameters") and not legacy:
        raise invalid_argument(
            "runtimeConfig.parameters is for pipelines of schemaVersion 2.0.0 or lower "
            "(KFP SDK 1.8 or lower); use runtimeConfig.parameterValues."
        )
    if spec is None:
        return
    if legacy and runtime.get("parameters"):
        check_parameter_values(spec, legacy_values(runtime["parameters"]))
    else:
        check_parameter_values(spec, runtime.get("parameterValues", {}))


def validate_create(
    job: dict[str, Any], job_id: str, location: str, *, require_runnable: bool
) -> None:
    """Run every create-time check on a parsed PipelineJob."""
    check_job_id(job_id)
    check_labels(job.get("labels", {}))
    check_display_name(job)
    check_placement(job, location)
    check_spec_present(job)
    check_runtime_config(job)
    if require_runnable and job.get("pipelineSpec") is not None:
        check_runnable(job["pipelineSpec"])
