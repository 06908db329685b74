"""Read an upstream run's task outputs, as Vertex AI returns them, for its output references.

An output parameter is the task's ``execution.metadata["output:NAME"]``; an output artifact is
``outputs[NAME].artifacts[0]`` (its ``uri``, and its ML Metadata resource ``name``): where Vertex
AI keeps them and where its own SDK reads them (tests/functions/data/run_state/README.md).
"""

import json
from collections.abc import Iterable, Mapping
from typing import Any

from vertex_trigger.config.output_refs import OutputKind, OutputRef
from vertex_trigger.errors import RejectedEvent, excerpt
from vertex_trigger.google.resource_names import job_id_of

# A task that ran, or whose outputs a cache hit reused (SKIPPED), has outputs.
WITH_OUTPUTS = frozenset({"SUCCEEDED", "SKIPPED"})
PARAMETER_KEY = "output:{name}"


def output_values(job: Mapping[str, Any], refs: Iterable[OutputRef]) -> dict[str, str]:
    """Return each reference's text (its name as the key); RejectedEvent names a missing one."""
    tasks = _tasks(job)
    values = {}
    for ref in refs:
        task = tasks.get(ref.task)
        if task is None:
            raise RejectedEvent(
                f"{ref.written}: upstream run {job_id_of(job)} has no task {ref.task!r} "
                f"(tasks: {', '.join(sorted(tasks)) or 'none'})"
            )
        state = str(task.get("state", ""))
        if state not in WITH_OUTPUTS:
            raise RejectedEvent(
                f"{ref.written}: task {ref.task!r} of upstream run {job_id_of(job)} is {state}, "
                "so it has no outputs"
            )
        values[ref.name] = _value(job, task, ref)
    return values


def _tasks(job: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    detail = job.get("jobDetail")
    details = detail.get("taskDetails") if isinstance(detail, dict) else None
    if not isinstance(details, list):
        return {}
    return {str(t.get("taskName")): t for t in details if isinstance(t, dict)}


def _value(job: Mapping[str, Any], task: Mapping[str, Any], ref: OutputRef) -> str:
    """Return the text of one referenced output of ``task``."""
    where = f"{ref.written}: task {ref.task!r} of upstream run {job_id_of(job)}"
    if ref.kind is OutputKind.PARAMETER:
        execution = task.get("execution")
        metadata = execution.get("metadata") if isinstance(execution, dict) else None
        key = PARAMETER_KEY.format(name=ref.output)
        if not isinstance(metadata, dict) or key not in metadata:
            raise RejectedEvent(f"{where} has no output parameter {ref.output!r}")
        return as_text(metadata[key])
    artifact = _first_artifact(task, ref.output)
    if artifact is None:
        raise RejectedEvent(f"{where} has no output artifact {ref.output!r}")
    field = "uri" if ref.kind is OutputKind.ARTIFACT_URI else "name"
    value = artifact.get(field)
    if not isinstance(value, str) or not value:
        raise RejectedEvent(f"{where}: its output artifact {ref.output!r} has no {field}")
    return value


def _first_artifact(task: Mapping[str, Any], output: str) -> Mapping[str, Any] | None:
    outputs = task.get("outputs")
    listed = outputs.get(output) if isinstance(outputs, dict) else None
    artifacts = listed.get("artifacts") if isinstance(listed, dict) else None
    if isinstance(artifacts, list) and artifacts and isinstance(artifacts[0], dict):
        return artifacts[0]
    return None


def as_text(value: Any) -> str:
    """Return a metadata value as the text a placeholder inserts.

    Numbers come back from protobuf Struct as doubles: a whole one is written without ``.0``, so
    an integer input takes it. Lists and mappings are JSON; true and false are lowercase.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return str(int(value))
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return excerpt(value)
