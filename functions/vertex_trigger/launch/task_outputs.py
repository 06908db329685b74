"""What each task of a compiled pipeline outputs: parameter types and artifact schema titles."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from vertex_trigger.launch.parameters import ParameterType
from vertex_trigger.launch.pipeline_spec import LEGACY_TYPES


@dataclass(frozen=True)
class TaskOutputs:
    """One task's outputs: parameter name to type (None: unknown here), artifact to schema title."""

    parameters: Mapping[str, ParameterType | None] = field(default_factory=dict)
    artifacts: Mapping[str, str] = field(default_factory=dict)


def task_outputs(spec: Mapping[str, Any]) -> dict[str, TaskOutputs]:
    """Return the outputs of every task of the spec, nested DAGs (conditions, loops) included."""
    components = _mapping(spec.get("components"))
    legacy = spec.get("schemaVersion") == "2.0.0"
    return {
        name: _outputs(_mapping(components.get(reference)), legacy)
        for name, reference in _tasks(_mapping(spec.get("root")), components)
    }


def _tasks(
    component: Mapping[str, Any], components: Mapping[str, Any], seen: frozenset[str] = frozenset()
) -> Iterator[tuple[str, str]]:
    """Yield (task name, component name) of a DAG component's tasks, depth first."""
    for name, task in _mapping(_mapping(component.get("dag")).get("tasks")).items():
        reference = str(_mapping(_mapping(task).get("componentRef")).get("name", ""))
        yield name, reference
        inner = _mapping(components.get(reference))
        if "dag" in inner and reference not in seen:
            yield from _tasks(inner, components, seen | {reference})


def _outputs(component: Mapping[str, Any], legacy: bool) -> TaskOutputs:
    definitions = _mapping(component.get("outputDefinitions"))
    parameters = {
        name: _parameter_type(_mapping(raw), legacy)
        for name, raw in _mapping(definitions.get("parameters")).items()
    }
    artifacts = {
        name: str(_mapping(_mapping(raw).get("artifactType")).get("schemaTitle", ""))
        for name, raw in _mapping(definitions.get("artifacts")).items()
    }
    return TaskOutputs(parameters, artifacts)


def _parameter_type(definition: Mapping[str, Any], legacy: bool) -> ParameterType | None:
    name = definition.get("type" if legacy else "parameterType")
    if not isinstance(name, str):
        return None
    if legacy:
        return LEGACY_TYPES.get(name)
    try:
        return ParameterType(name)
    except ValueError:
        return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}
