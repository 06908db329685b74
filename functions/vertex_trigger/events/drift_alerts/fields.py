"""Lenient readers for alert fields: either spelling of a key, numbers as text, bounded errors."""

import math
import re
from collections.abc import Mapping
from typing import Any

from vertex_trigger.errors import RejectedEvent, excerpt

_CAMEL_HUMP = re.compile(r"_([a-z0-9])")
_UPPER = re.compile(r"([A-Z])")


def other_spelling(name: str) -> str:
    """Return ``name`` in the other JSON spelling: snake_case <-> lowerCamelCase."""
    if "_" in name:
        return _CAMEL_HUMP.sub(lambda m: m.group(1).upper(), name)
    return _UPPER.sub(lambda m: "_" + m.group(1).lower(), name)


def has(mapping: Mapping[str, Any], name: str) -> bool:
    """Tell whether ``mapping`` holds ``name`` in either spelling."""
    return name in mapping or other_spelling(name) in mapping


def pick(mapping: Mapping[str, Any], name: str) -> Any:
    """Return the value of ``name`` in either spelling (protobuf JSON and proto names differ)."""
    if name in mapping:
        return mapping[name]
    return mapping.get(other_spelling(name))


def rejected(where: str, problem: str, value: Any) -> RejectedEvent:
    """Build the rejection for one field, showing a bounded excerpt of what arrived."""
    return RejectedEvent(f"drift alert field {where!r} {problem}, got {excerpt(value)}")


def text(
    mapping: Mapping[str, Any],
    name: str,
    where: str = "",
    *,
    required: bool = False,
    numeric_id: bool = False,
) -> str:
    """Return a string field ('' when absent and optional); int64 ids may arrive as numbers."""
    value = pick(mapping, name)
    place = where or name
    if value is None and not required:
        return ""
    if numeric_id and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if not isinstance(value, str) or (required and not value):
        raise rejected(place, "must be a non-empty string", value)
    return value


def obj(
    mapping: Mapping[str, Any], name: str, where: str = "", *, required: bool = False
) -> dict[str, Any]:
    """Return an object field ({} when absent and optional)."""
    value = pick(mapping, name)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise rejected(where or name, "must be an object", value)
    return value


def items(
    mapping: Mapping[str, Any], name: str, where: str = "", *, required: bool = True
) -> list[Any]:
    """Return a list field ([] when absent and optional)."""
    value = pick(mapping, name)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise rejected(where or name, "must be a list", value)
    return value


def entry(raw: Any, where: str) -> dict[str, Any]:
    """Return one element of a list that must be an object."""
    if not isinstance(raw, dict):
        raise rejected(where, "must be an object", raw)
    return raw


def labels(mapping: Mapping[str, Any], name: str, where: str = "") -> dict[str, str]:
    """Return a label map (string keys and values); absent means none."""
    value = obj(mapping, name, where)
    for key, label in value.items():
        if not isinstance(label, str):
            raise rejected(f"{where or name}.{key}", "must be a string label value", label)
    return value


def number(value: Any, where: str) -> float:
    """Return a finite number; JSON numbers and numeric strings (protobuf JSON quotes some)."""
    try:
        result = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError, OverflowError):
        result = math.nan
    if not math.isfinite(result):
        raise rejected(where, "must be a finite number", value)
    return result


def optional_number(value: Any, where: str) -> float | None:
    """Return a finite number, or None when the field is absent or empty."""
    return None if value is None or value == "" else number(value, where)
