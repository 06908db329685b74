"""Check and convert a run's values: parameters against the template's inputs, artifact ids."""

import enum
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vertex_trigger.config.input_artifacts import artifact_id, artifact_id_problem
from vertex_trigger.config.placeholders import (
    PLACEHOLDER_IN_KEY,
    keys_with_placeholders,
    placeholders_in,
    substitute,
    substitute_leaves,
)
from vertex_trigger.errors import excerpt


class ParameterType(enum.StrEnum):
    """KFP v2 parameter types (``parameterType`` in the compiled spec)."""

    STRING = "STRING"
    NUMBER_INTEGER = "NUMBER_INTEGER"
    NUMBER_DOUBLE = "NUMBER_DOUBLE"
    BOOLEAN = "BOOLEAN"
    LIST = "LIST"
    STRUCT = "STRUCT"
    TASK_FINAL_STATUS = "TASK_FINAL_STATUS"  # filled by the platform for an exit handler's task
    TASK_CONFIG = "TASK_CONFIG"  # filled by the platform with the task's configuration


# Types whose values the platform supplies: a run never passes them.
PLATFORM_FILLED = frozenset({ParameterType.TASK_FINAL_STATUS, ParameterType.TASK_CONFIG})
# Types whose configured value is a structure: placeholders go into its string leaves only.
STRUCTURED = frozenset({ParameterType.LIST, ParameterType.STRUCT})
# Vertex carries parameterValues as protobuf Value numbers, which are doubles: an integer beyond
# 2**53 would reach the run as a different number, so larger magnitudes are refused.
MAX_INTEGER = 2**53
_MAX_INTEGER_DIGITS = len(str(MAX_INTEGER))


@dataclass(frozen=True)
class InputParameter:
    """One pipeline input: its type (None: unknown here) and whether a run may leave it out."""

    name: str
    type: ParameterType | None
    optional: bool
    type_name: str = ""  # as written in the spec, for messages about unknown types

    @property
    def settable(self) -> bool:
        """Tell whether a route may give this input a value."""
        return self.type is not None and self.type not in PLATFORM_FILLED


class ParameterError(ValueError):
    """A value does not fit its parameter; the message names parameter, value and type."""


_INTEGER = re.compile(r"^[+-]?\d+$")
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}


def _fail(name: str, value: Any, ptype: ParameterType, why: str = "") -> ParameterError:
    suffix = f" ({why})" if why else ""
    return ParameterError(
        f"parameter {name!r}: value {excerpt(value)} is not a valid {ptype}{suffix}"
    )


def _to_string(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # a YAML literal like `version: 3` for a str input is unambiguous
    raise _fail(name, value, ParameterType.STRING)


def _to_integer(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise _fail(name, value, ParameterType.NUMBER_INTEGER)
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _INTEGER.match(value.strip()):
        number = _parse_integer(name, value.strip())
    else:
        raise _fail(name, value, ParameterType.NUMBER_INTEGER)
    if abs(number) > MAX_INTEGER:
        raise _out_of_range(name, value)
    return number


def _parse_integer(name: str, text: str) -> int:
    """Return int(text), range-checked by length first: int() refuses 4,301 digits or more."""
    digits = text.lstrip("+-").lstrip("0") or "0"  # leading zeros count towards that limit too
    if len(digits) > _MAX_INTEGER_DIGITS:
        raise _out_of_range(name, text)
    return -int(digits) if text.startswith("-") else int(digits)


def _out_of_range(name: str, value: Any) -> ParameterError:
    return _fail(
        name,
        value,
        ParameterType.NUMBER_INTEGER,
        "out of range: Vertex passes numbers as doubles, exact only within -2**53..2**53",
    )


def _to_double(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise _fail(name, value, ParameterType.NUMBER_DOUBLE)
    if isinstance(value, int | float):
        result = float(value) if abs(value) < 2**1024 else math.inf  # float() overflows above
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            raise _fail(name, value, ParameterType.NUMBER_DOUBLE) from None
    else:
        raise _fail(name, value, ParameterType.NUMBER_DOUBLE)
    if not math.isfinite(result):
        raise _fail(name, value, ParameterType.NUMBER_DOUBLE, "not finite")
    return result


def _to_boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip() in _TRUE | _FALSE:
        return value.strip() in _TRUE
    raise _fail(name, value, ParameterType.BOOLEAN, "expected true or false")


def _to_json(name: str, value: Any, ptype: ParameterType, kind: type) -> Any:
    parsed = value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            raise _fail(name, value, ptype, "not JSON") from None
    if not isinstance(parsed, kind):
        raise _fail(name, value, ptype)
    return parsed


def convert_input(value: Any, spec: InputParameter) -> Any:
    """Return ``value`` converted for the input ``spec``; raise ParameterError."""
    if spec.type is None:
        raise ParameterError(
            f"parameter {spec.name!r}: the input's type {spec.type_name!r} is unknown to the "
            "trigger, which cannot check or convert a value for it"
        )
    return convert(spec.name, value, spec.type)


def convert(name: str, value: Any, ptype: ParameterType) -> Any:
    """Return ``value`` as the JSON value Vertex expects for ``ptype``; raise ParameterError."""
    match ptype:
        case ParameterType.STRING:
            return _to_string(name, value)
        case ParameterType.NUMBER_INTEGER:
            return _to_integer(name, value)
        case ParameterType.NUMBER_DOUBLE:
            return _to_double(name, value)
        case ParameterType.BOOLEAN:
            return _to_boolean(name, value)
        case ParameterType.LIST:
            return _to_json(name, value, ptype, list)
        case ParameterType.STRUCT:
            return _to_json(name, value, ptype, dict)
    raise ParameterError(f"parameter {name!r}: inputs of type {ptype} are filled by the platform")


def configured_structure(name: str, raw: Any, ptype: ParameterType) -> list[Any] | dict[str, Any]:
    """Return a LIST or STRUCT input's configured value as a structure, before any substitution.

    JSON text is parsed as configured, placeholders still in it, so that event data substituted
    later can only ever be one string value inside the structure, never its syntax.
    """
    parsed = raw
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError):
            inside = (
                ": a placeholder must sit inside a JSON string, where its text is one value"
                if placeholders_in(raw)
                else ""
            )
            raise _fail(name, raw, ptype, f"not JSON{inside}") from None
    if not isinstance(parsed, list if ptype is ParameterType.LIST else dict):
        raise _fail(name, raw, ptype)
    for path in keys_with_placeholders(parsed, name):
        raise ParameterError(f"parameter {path!r}: {PLACEHOLDER_IN_KEY}")
    return parsed


def render_value(name: str, raw: Any, spec: InputParameter, values: Mapping[str, str]) -> Any:
    """Substitute placeholders into one configured value and convert it for its input."""
    if spec.type in STRUCTURED:
        structure = configured_structure(name, raw, spec.type)
        return convert_input(substitute_leaves(structure, values), spec)
    text = substitute(raw, values) if isinstance(raw, str) else raw
    return convert_input(text, spec)


def missing_inputs(
    parameters: Mapping[str, Any], inputs: Mapping[str, InputParameter]
) -> list[str]:
    """Return the names of required inputs that ``parameters`` leaves out, sorted."""
    return sorted(n for n, p in inputs.items() if not p.optional and n not in parameters)


def render(
    parameters: Mapping[str, Any],
    inputs: Mapping[str, InputParameter],
    values: Mapping[str, str],
) -> dict[str, Any]:
    """Substitute placeholders (into string leaves of LIST and STRUCT values), then convert."""
    missing = missing_inputs(parameters, inputs)
    if missing:
        raise ParameterError(f"required pipeline input(s) not supplied: {', '.join(missing)}")
    result = {}
    for name, raw in parameters.items():
        if name not in inputs:
            raise ParameterError(f"parameter {name!r} is not an input of the pipeline")
        result[name] = render_value(name, raw, inputs[name], values)
    return result


def render_input_artifacts(
    artifacts: Mapping[str, str], values: Mapping[str, str]
) -> dict[str, str]:
    """Substitute placeholders; return INPUT -> artifact id; raise ParameterError naming it."""
    rendered = {}
    for name, template in artifacts.items():
        text = substitute(template, values)
        problem = artifact_id_problem(text)
        if problem:
            raise ParameterError(f"input artifact {name!r}: {problem}")
        rendered[name] = artifact_id(text)
    return rendered
