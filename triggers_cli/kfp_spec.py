"""Read a compiled template as KFP does: its PipelineSpec proto, and what its tasks refer to.

Tools only (``check``, the Vertex AI emulator): the functions read a template's inputs and send it
as it is, and never load KFP on their cold path.
"""

from collections.abc import Iterator, Mapping
from typing import Any

# What happens to a YAML document after the first (kfp-kubernetes writes `platforms:` there).
SECOND_DOCUMENT = (
    "Vertex AI does not apply it: the functions send the first document as pipelineSpec, and "
    "kfp-kubernetes settings (`platforms: kubernetes`) are for Kubeflow Pipelines on Kubernetes; "
    "the aiplatform SDK refuses such a file (PipelineJob(template_path=...): 'expected a single "
    "document in the stream')"
)


def spec_problems(spec: Mapping[str, Any]) -> list[str]:
    """Return what KFP's PipelineSpec proto refuses in ``spec``, then references to nothing."""
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    try:
        json_format.ParseDict(dict(spec), pipeline_spec_pb2.PipelineSpec())
    except json_format.ParseError as exc:
        return [f"KFP's PipelineSpec proto refuses it: {str(exc).splitlines()[0]}"]
    return dangling_references(spec)


def dangling_references(spec: Mapping[str, Any]) -> list[str]:
    """Return each task naming a component the spec lacks, each component naming no executor."""
    components = _mapping(spec.get("components"))
    executors = _mapping(_mapping(spec.get("deploymentSpec")).get("executors"))
    problems = []
    for where, tasks in _task_lists(spec, components):
        for task, definition in tasks.items():
            name = _mapping(_mapping(definition).get("componentRef")).get("name")
            if name not in components:
                known = ", ".join(sorted(components)) or "none"
                problems.append(
                    f"task {task!r} of {where} names component {name!r}, which the spec does not "
                    f"define (components: {known})"
                )
    for name, component in components.items():
        label = _mapping(component).get("executorLabel")
        if label is not None and label not in executors:
            problems.append(f"component {name!r} names executor {label!r}, which is not defined")
    return problems


def _task_lists(
    spec: Mapping[str, Any], components: Mapping[str, Any]
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Yield (where, tasks) of the root DAG and of every component that is a DAG."""
    yield "root", _mapping(_mapping(_mapping(spec.get("root")).get("dag")).get("tasks"))
    for name, component in components.items():
        dag = _mapping(_mapping(component).get("dag"))
        if dag:
            yield f"component {name!r}", _mapping(dag.get("tasks"))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
