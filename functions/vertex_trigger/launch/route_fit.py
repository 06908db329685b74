"""Check a route against its template: at start-up, and again for each new template version."""

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from vertex_trigger.config.input_artifacts import KEY as INPUT_ARTIFACTS
from vertex_trigger.config.model import Route
from vertex_trigger.config.output_refs import output_ref
from vertex_trigger.config.placeholder_samples import placeholder_samples
from vertex_trigger.config.placeholders import placeholders_in, substitute
from vertex_trigger.launch.parameters import (
    STRUCTURED,
    InputParameter,
    ParameterError,
    configured_structure,
    convert_input,
    missing_inputs,
)
from vertex_trigger.launch.templates import Template

# Beyond this many sample combinations, each placeholder is varied alone (the others at their
# typical sample): a value with many placeholders must not slow an instance's start.
MAX_COMBINATIONS = 512


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
        if _text_with_placeholders(value, spec):
            never = _never_fits(route, name, value, spec)
            if never:
                return Misfit(f"parameters.{name}", never)
            continue  # checked per event, once the placeholder has a value
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


def _text_with_placeholders(value: Any, spec: InputParameter) -> bool:
    """Tell whether a scalar input's value is text an event completes (structures: their leaves).

    A run_ended route's output references are not: their types are checked against the upstream's
    template (launch/chain_fit.py).
    """
    if spec.type in STRUCTURED or not isinstance(value, str):
        return False
    used = placeholders_in(value)
    return bool(used) and not any(output_ref(name) for name in used)


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


def doubtful_parameters(route: Route, template: Template) -> list[Misfit]:
    """Return the parameters whose placeholders fit their input's type for some values only."""
    doubtful = []
    for name, value in route.parameters.items():
        spec = template.inputs.get(name)
        if not (spec and spec.settable and _text_with_placeholders(value, spec)):
            continue
        failing = _failing_example(route, value, spec, want_failure=True)
        if failing is not None:
            doubtful.append(Misfit(f"parameters.{name}", _may_not_fit(value, spec, failing)))
    return doubtful


def fitting_placeholders(route: Route, spec: InputParameter) -> list[str]:
    """Return the placeholders that fit ``spec`` whatever they stand for (for scaffolding)."""
    if not spec.settable:
        return []
    return [
        p
        for p in placeholder_samples(route)
        if _failing_example(route, f"{{{p}}}", spec, want_failure=True) is None
    ]


def _never_fits(route: Route, name: str, value: str, spec: InputParameter) -> str:
    """Say why no value of the placeholders makes ``value`` fit ``spec``; '' when some may."""
    if not spec.settable or _failing_example(route, value, spec, want_failure=False) is not None:
        return ""
    used = ", ".join(f"{{{p}}}" for p in sorted(placeholders_in(value)))
    typical = substitute(value, _typical(route, value))
    return (
        f"value {value!r} can never be a valid {spec.type}, whatever {used} stand(s) for "
        f"(e.g. {typical!r}); launching would reject every event"
    )


def _may_not_fit(value: str, spec: InputParameter, failing: Mapping[str, str]) -> str:
    shown = ", ".join(f"{{{p}}} = {text!r}" for p, text in sorted(failing.items()))
    return (
        f"value {value!r} may not be a valid {spec.type}: with {shown} it is "
        f"{substitute(value, failing)!r}, and such an event would be rejected"
    )


def _failing_example(
    route: Route, value: str, spec: InputParameter, *, want_failure: bool
) -> dict[str, str] | None:
    """Return sample values for which ``value`` fails (or fits, without ``want_failure``)."""
    for values in _combinations(route, value):
        if _converts(substitute(value, values), spec) is not want_failure:
            return values
    return None


def _converts(text: str, spec: InputParameter) -> bool:
    try:
        convert_input(text, spec)
    except ParameterError:
        return False
    return True


def _typical(route: Route, value: str) -> dict[str, str]:
    samples = placeholder_samples(route)
    return {p: samples[p][0] for p in placeholders_in(value)}


def _combinations(route: Route, value: str) -> Iterator[dict[str, str]]:
    """Yield every combination of the samples of the placeholders in ``value`` (bounded)."""
    samples = placeholder_samples(route)
    used = sorted(placeholders_in(value))
    options: list[Any] = [samples[p] for p in used]
    if _product(options) <= MAX_COMBINATIONS:
        for chosen in itertools.product(*options):
            yield dict(zip(used, chosen, strict=True))
        return
    typical = _typical(route, value)
    for placeholder in used:
        for text in samples[placeholder]:
            yield {**typical, placeholder: text}


def _product(options: list[Any]) -> int:
    total = 1
    for choices in options:
        total *= len(choices)
    return total
