"""Output references: a ``run_ended`` route's values read from its upstream run's task outputs.

Written as placeholders with a dotted name (the words of KFP's and Argo's own references):

- ``{tasks.TASK.outputs.parameters.NAME}``: the value of an output parameter, as text;
- ``{tasks.TASK.outputs.artifacts.NAME.uri}``: the URI of an output artifact;
- ``{tasks.TASK.outputs.artifacts.NAME}``: the artifact itself, its Vertex ML Metadata resource,
  only as the whole value of an ``input_artifacts`` entry.
"""

import enum
import re
from collections.abc import Collection
from dataclasses import dataclass

# KFP task names are sanitized Kubernetes names; output names are Python identifiers.
TASK = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
OUTPUT = r"[A-Za-z_][A-Za-z0-9_]*"
# What the placeholder syntax accepts as a reference's name (config/placeholders.py).
REFERENCE = rf"tasks\.{TASK}\.outputs\.(?:parameters\.{OUTPUT}|artifacts\.{OUTPUT}(?:\.uri)?)"
_PARTS = re.compile(rf"^tasks\.({TASK})\.outputs\.(parameters|artifacts)\.({OUTPUT})(\.uri)?$")


class OutputKind(enum.StrEnum):
    """What of an upstream task's output a reference takes."""

    PARAMETER = "parameter"  # an output parameter's value
    ARTIFACT_URI = "artifact_uri"  # an output artifact's uri
    ARTIFACT = "artifact"  # the output artifact itself (input_artifacts)


@dataclass(frozen=True)
class OutputRef:
    """One reference: its name as written (without braces), the task, the output, the kind."""

    name: str
    task: str
    output: str
    kind: OutputKind

    @property
    def written(self) -> str:
        """Return the reference as it is written in a value."""
        return "{" + self.name + "}"


def output_ref(name: str) -> OutputRef | None:
    """Return the reference a placeholder name stands for, or None for a plain placeholder."""
    match = _PARTS.match(name)
    if match is None:
        return None
    task, group, output, uri = match.groups()
    if group == "parameters":
        kind = OutputKind.PARAMETER
    else:
        kind = OutputKind.ARTIFACT_URI if uri else OutputKind.ARTIFACT
    return OutputRef(name, task, output, kind)


def ref_problem(ref: OutputRef, allowed: Collection[OutputKind]) -> str:
    """Return why ``ref`` cannot stand where only ``allowed`` kinds may, or ''."""
    if ref.kind in allowed:
        return ""
    if not allowed:
        return (
            f"{ref.written} reads an upstream run's output: output references are for "
            "run_ended routes"
        )
    if ref.kind is OutputKind.ARTIFACT:
        return (
            f"{ref.written} is the artifact itself: a parameter takes its URI, "
            f"{{tasks.{ref.task}.outputs.artifacts.{ref.output}.uri}}, and input_artifacts "
            "binds the artifact"
        )
    return (
        f"{ref.written} is not an artifact: an input artifact is bound to an upstream output "
        "artifact, {tasks.TASK.outputs.artifacts.NAME}"
    )
