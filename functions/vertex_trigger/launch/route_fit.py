"""Check a route against its template: at start-up, and again for each new template version."""

from dataclasses import dataclass
from typing import Any

from vertex_trigger.config.input_artifacts import KEY as INPUT_ARTIFACTS
from vertex_trigger.config.model import Route
from vertex_trigger.config.placeholders import placeholders_in
from vertex_trigger.launch.parameters import (
    STRUCTURED,
    InputParameter,
    ParameterError,
    configured_structure,
    convert_input,
    missing_inputs,
)
from vertex_trigger.launch.templates import Template


@dataclass(frozen=True)
class Misfit:
    """The route key that does not fit the template, and why."""

    key: str
    problem: str


def first_misfit(route: Route, template: Template) -> Misfit | None:
    """Return the first route key that the template cannot take, or None."""
    return _parameter_misfit(route, template) or _artifact_misfit(route, template)


def _parameter_misfit(route: Route, template: Template) -> Misfit | None:
    uri = route.template.uri
    for name, value in route.parameters.items():
        spec = template.inputs.get(name)
        if spec is None:
            return Misfit(f"parameters.{name}", _not_an_input(name, template, uri))
        if not spec.settable and spec.type is not None:
            return Misfit(
                f"parameters.{name}", f"input of type {spec.type} is filled by the platform"
            )
        try:
            _check_configured(name, value, spec)
        except ParameterError as exc:
            return Misfit(f"parameters.{name}", str(exc))
    missing = missing_inputs(route.parameters, template.inputs)
    if missing:
        return Misfit(
            "parameters", f"required input(s) of {uri} not supplied: {', '.join(missing)}"
        )
    return None


def _check_configured(name: str, value: Any, spec: InputParameter) -> None:
    """Convert a configured value as far as it is known before an event gives placeholders."""
    if spec.type in STRUCTURED:
        # The structure is whole at start-up: events only fill string leaves of it.
        convert_input(configured_structure(name, value, spec.type), spec)
    elif not (isinstance(value, str) and placeholders_in(value)):
        convert_input(value, spec)  # with a placeholder: checked per event, once it has a value


def _not_an_input(name: str, template: Template, uri: str) -> str:
    if name in template.artifacts:
        return f"{name!r} is an artifact input of {uri}: bind it under {INPUT_ARTIFACTS}"
    known = ", ".join(sorted(template.inputs)) or "none"
    return f"not an input of {uri} (inputs: {known})"


def _artifact_misfit(route: Route, template: Template) -> Misfit | None:
    uri = route.template.uri
    for name in route.input_artifacts:
        if name not in template.artifacts:
            known = ", ".join(sorted(template.artifacts)) or "none"
            return Misfit(
                f"{INPUT_ARTIFACTS}.{name}",
                f"not an artifact input of {uri} (artifact inputs: {known})",
            )
    missing = sorted(
        name
        for name, artifact in template.artifacts.items()
        if not artifact.optional and name not in route.input_artifacts
    )
    if missing:
        return Misfit(
            INPUT_ARTIFACTS,
            f"required artifact input(s) of {uri} not supplied: {', '.join(missing)} "
            "(bind each to a Vertex ML Metadata artifact id)",
        )
    return None
