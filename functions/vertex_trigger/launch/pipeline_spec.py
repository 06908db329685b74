"""Read a compiled KFP pipeline: its schema version, parameter inputs and artifact inputs."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from vertex_trigger.launch.parameters import PLATFORM_FILLED, InputParameter, ParameterType

_SCHEMA_VERSION = re.compile(r"^2\.(\d+)\.(\d+)$")
# schemaVersion 2.0.0 (KFP SDK 1.8 and older) declares `type` instead of `parameterType`.
LEGACY_TYPES = {
    "INT": ParameterType.NUMBER_INTEGER,
    "DOUBLE": ParameterType.NUMBER_DOUBLE,
    "STRING": ParameterType.STRING,
}
# aiplatform.v1.Value fields of a legacy runtimeConfig.parameters entry, read as the SDK does.
_LEGACY_VALUE_READERS = {"intValue": int, "doubleValue": float, "stringValue": str}
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class ArtifactInput:
    """One artifact input of the pipeline (``root.inputDefinitions.artifacts``)."""

    name: str
    schema_title: str
    optional: bool


@dataclass(frozen=True)
class PipelineSpec:
    """What a run needs to know about a compiled pipeline."""

    spec: Mapping[str, Any]  # the PipelineSpec sent as pipelineSpec
    inputs: Mapping[str, InputParameter]
    artifacts: Mapping[str, ArtifactInput] = field(default_factory=lambda: _EMPTY)
    legacy: bool = False  # schemaVersion 2.0.0: values go in runtimeConfig.parameters
    defaults: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)  # sent with every run


def read_spec(document: Any) -> PipelineSpec:
    """Read a PipelineSpec, or a PipelineJob JSON around one; raise ValueError saying what."""
    spec, runtime = _unwrap(document)
    legacy = _is_legacy(spec.get("schemaVersion"))
    info = spec.get("pipelineInfo")
    if not isinstance(info, dict) or not isinstance(info.get("name"), str) or not info["name"]:
        raise ValueError("pipelineInfo.name must be a non-empty string (Vertex AI requires it)")
    definitions = _mapping(spec["root"], "root")
    declared = _mapping(definitions.get("inputDefinitions"), "root.inputDefinitions")
    defaults = _defaults(runtime, legacy)
    inputs = _parameters(_mapping(declared.get("parameters"), "parameters"), legacy, defaults)
    unknown = sorted(set(defaults) - set(inputs))
    if unknown:
        raise ValueError(f"runtimeConfig sets {', '.join(unknown)}, not inputs of the pipeline")
    return PipelineSpec(
        spec=spec,
        inputs=MappingProxyType(inputs),
        artifacts=MappingProxyType(_artifacts(_mapping(declared.get("artifacts"), "artifacts"))),
        legacy=legacy,
        defaults=MappingProxyType(defaults),
    )


def _unwrap(document: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (spec, runtimeConfig): the SDK also accepts {pipelineSpec, runtimeConfig} files."""
    runtime: Any = {}
    if isinstance(document, dict) and "pipelineSpec" in document:
        document, runtime = document["pipelineSpec"], document.get("runtimeConfig") or {}
    if not isinstance(document, dict) or "root" not in document or "pipelineInfo" not in document:
        raise ValueError("not a compiled KFP v2 pipeline spec (no root or pipelineInfo)")
    return document, _mapping(runtime, "runtimeConfig")


def _is_legacy(version: Any) -> bool:
    """Tell schemaVersion 2.0.0 (legacy types) from 2.1.0 and later 2.x; refuse anything else."""
    match = _SCHEMA_VERSION.match(version) if isinstance(version, str) else None
    if not match:
        raise ValueError(
            f"schemaVersion {version!r} is not a KFP v2 pipeline spec (2.0.0 or 2.1.0 expected)"
        )
    return (int(match.group(1)), int(match.group(2))) == (0, 0)


def _mapping(value: Any, where: str) -> dict[str, Any]:
    """Return a mapping; null counts as empty, as an absent message does in protobuf JSON."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a mapping, got {type(value).__name__}")
    return value


def _parameters(
    declared: dict[str, Any], legacy: bool, defaults: Mapping[str, Any]
) -> dict[str, InputParameter]:
    inputs = {}
    for name, raw in declared.items():
        definition = _mapping(raw, f"input {name!r}")
        type_name = definition.get("type" if legacy else "parameterType")
        ptype = _parameter_type(type_name, legacy)
        optional = (
            "defaultValue" in definition
            or bool(definition.get("isOptional"))
            or name in defaults
            or ptype in PLATFORM_FILLED
        )
        if ptype is None and not optional:
            raise ValueError(_unknown_type(name, type_name, legacy))
        inputs[name] = InputParameter(name, ptype, optional, str(type_name))
    return inputs


def _parameter_type(type_name: Any, legacy: bool) -> ParameterType | None:
    if legacy:
        return LEGACY_TYPES.get(type_name) if isinstance(type_name, str) else None
    try:
        return ParameterType(type_name)
    except ValueError:
        return None


def _unknown_type(name: str, type_name: Any, legacy: bool) -> str:
    if legacy:
        return (
            f"input {name!r} of this schemaVersion 2.0.0 spec has type {type_name!r}; "
            f"expected one of {', '.join(LEGACY_TYPES)}"
        )
    return (
        f"required input {name!r} has type {type_name!r}, which the trigger does not know "
        "and so cannot supply (an optional input of an unknown type is accepted)"
    )


def _artifacts(declared: dict[str, Any]) -> dict[str, ArtifactInput]:
    artifacts = {}
    for name, raw in declared.items():
        definition = _mapping(raw, f"artifact input {name!r}")
        artifact_type = _mapping(definition.get("artifactType"), f"artifact input {name!r} type")
        title = artifact_type.get("schemaTitle")
        artifacts[name] = ArtifactInput(
            name, title if isinstance(title, str) else "", bool(definition.get("isOptional"))
        )
    return artifacts


def _defaults(runtime: dict[str, Any], legacy: bool) -> dict[str, Any]:
    """Return a PipelineJob JSON's runtime values as plain values (the SDK sends them too)."""
    if not legacy:
        return dict(_mapping(runtime.get("parameterValues"), "runtimeConfig.parameterValues"))
    values = {}
    for name, raw in _mapping(runtime.get("parameters"), "runtimeConfig.parameters").items():
        value = _mapping(raw, f"runtimeConfig.parameters.{name}")
        kind = next((k for k in _LEGACY_VALUE_READERS if k in value), None)
        if kind is None:
            raise ValueError(
                f"runtimeConfig.parameters.{name} sets no intValue, doubleValue or stringValue"
            )
        try:
            values[name] = _LEGACY_VALUE_READERS[kind](value[kind])
        except (TypeError, ValueError):
            raise ValueError(
                f"runtimeConfig.parameters.{name}.{kind} is not a valid value"
            ) from None
    return values
