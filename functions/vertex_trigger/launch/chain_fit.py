"""Check a run_ended route's output references against its upstream's compiled template."""

from collections.abc import Iterable

from vertex_trigger.config.input_artifacts import KEY as INPUT_ARTIFACTS
from vertex_trigger.config.model import Route
from vertex_trigger.config.output_refs import OutputKind, OutputRef, output_ref
from vertex_trigger.config.placeholders import placeholders_in
from vertex_trigger.launch.parameters import ParameterType
from vertex_trigger.launch.route_fit import Misfit
from vertex_trigger.launch.task_outputs import TaskOutputs, task_outputs
from vertex_trigger.launch.templates import Template

# Which output parameter types an input takes when the reference is its whole value; a STRING
# input takes the text of any of them.
_FITS = {
    ParameterType.NUMBER_INTEGER: {ParameterType.NUMBER_INTEGER},
    ParameterType.NUMBER_DOUBLE: {ParameterType.NUMBER_DOUBLE, ParameterType.NUMBER_INTEGER},
    ParameterType.BOOLEAN: {ParameterType.BOOLEAN},
    ParameterType.LIST: {ParameterType.LIST},
    ParameterType.STRUCT: {ParameterType.STRUCT},
}
ANY_ARTIFACT = "system.Artifact"  # an input of this type takes an artifact of any type


def references(route: Route) -> list[tuple[str, str, OutputRef]]:
    """Return (key, value, reference) for every output reference of the route, in key order."""
    found = []
    values = [(f"parameters.{n}", v) for n, v in route.parameters.items()]
    values += [(f"{INPUT_ARTIFACTS}.{n}", v) for n, v in route.input_artifacts.items()]
    for key, value in values:
        if isinstance(value, str):
            for name in sorted(placeholders_in(value)):
                ref = output_ref(name)
                if ref:
                    found.append((key, value, ref))
    return found


def chain_misfit(route: Route, template: Template, upstream: Template | None) -> Misfit | None:
    """Return the first output reference the upstream cannot supply or the input cannot take."""
    after = route.after
    if after and after.pipeline and upstream and upstream.pipeline_name != after.pipeline:
        return Misfit(
            "after.template",
            f"{upstream.ref.uri} is pipeline {upstream.pipeline_name!r}, not {after.pipeline!r}",
        )
    refs = references(route)
    if refs and upstream is None:
        return Misfit(
            "after.template",
            f"required to check {refs[0][2].written} against the upstream pipeline: its compiled "
            "template (gs://, Artifact Registry or a path)",
        )
    if upstream is None:
        return None
    outputs = task_outputs(upstream.spec)
    for key, value, ref in refs:
        problem = _missing(ref, outputs, upstream) or _unfit(key, value, ref, outputs, template)
        if problem:
            return Misfit(key, problem)
    return None


def _missing(ref: OutputRef, outputs: dict[str, TaskOutputs], upstream: Template) -> str:
    """Return why the upstream has no such task or output, or ''."""
    uri = upstream.ref.uri
    task = outputs.get(ref.task)
    if task is None:
        return f"{ref.written}: {uri} has no task {ref.task!r} (tasks: {_listed(outputs)})"
    parameter = ref.kind is OutputKind.PARAMETER
    known = task.parameters if parameter else task.artifacts
    if ref.output not in known:
        what = "output parameter" if parameter else "output artifact"
        return (
            f"{ref.written}: task {ref.task!r} of {uri} has no {what} {ref.output!r} "
            f"({what}s: {_listed(known)})"
        )
    return ""


def _unfit(
    key: str, value: str, ref: OutputRef, outputs: dict[str, TaskOutputs], template: Template
) -> str:
    """Return why the route's input cannot take the referenced output, or ''."""
    name = key.split(".", 1)[1]
    task = outputs[ref.task]
    if ref.kind is OutputKind.ARTIFACT:
        wanted = template.artifacts[name].schema_title if name in template.artifacts else ""
        given = task.artifacts[ref.output]
        if wanted in ("", ANY_ARTIFACT, given):
            return ""
        return f"{ref.written} is a {given} artifact; input artifact {name!r} takes {wanted}"
    spec = template.inputs.get(name)
    if spec is None or spec.type in (None, ParameterType.STRING) or value != ref.written:
        return ""  # a text input takes any text; references inside text are checked per run
    given_type = task.parameters[ref.output] if ref.kind is OutputKind.PARAMETER else None
    if given_type in _FITS.get(spec.type, set()):
        return ""
    given_text = f"an output parameter of type {given_type}" if given_type else "a URI (text)"
    return f"{ref.written} is {given_text}; input {name!r} is {spec.type}"


def _listed(names: Iterable[str]) -> str:
    return ", ".join(sorted(names)) or "none"
