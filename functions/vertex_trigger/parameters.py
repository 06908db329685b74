"""Check and convert run parameters against a template's ``root.inputDefinitions.parameters``."""

import enum
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vertex_trigger.errors import excerpt
from vertex_trigger.placeholders import substitute


class ParameterType(enum.StrEnum):
    """KFP v2 parameter types (``parameterType`` in the compiled spec)."""

    STRING = "STRING"
    NUMBER_INTEGER = "NUMBER_INTEGER"
    NUMBER_DOUBLE = "NUMBER_DOUBLE"
    BOOLEAN = "BOOLEAN"
    LIST = "LIST"
    STRUCT = "STRUCT"


@dataclass(frozen=True)
class InputParameter:
    """One pipeline input: its type and whether a run may leave it out."""

    name: str
    type: ParameterType
    optional: bool


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
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    raise _fail(name, value, ParameterType.NUMBER_INTEGER)


def _to_double(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise _fail(name, value, ParameterType.NUMBER_DOUBLE)
    if isinstance(value, int | float):
        result = float(value)
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
    raise AssertionError(ptype)  # unreachable: the enum is closed


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
    """Substitute placeholders in string parameters, then convert each to its input's type."""
    missing = missing_inputs(parameters, inputs)
    if missing:
        raise ParameterError(f"required pipeline input(s) not supplied: {', '.join(missing)}")
    result = {}
    for name, raw in parameters.items():
        if name not in inputs:
            raise ParameterError(f"parameter {name!r} is not an input of the pipeline")
        text = substitute(raw, values) if isinstance(raw, str) else raw
        result[name] = convert(name, text, inputs[name].type)
    return result
