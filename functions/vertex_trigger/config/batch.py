"""A route's ``batch:`` key: when a folder of objects is complete, by one rule."""

import enum
from dataclasses import dataclass
from typing import Any

from vertex_trigger.config.durations import parse_duration


class BatchRule(enum.StrEnum):
    """When a folder is complete."""

    MARKER = "marker"  # the marker exists and no data object is newer
    MIN_OBJECTS = "min_objects"  # at least N data objects exist
    MANIFEST = "manifest"  # every object the manifest lists exists
    QUIET = "quiet"  # no object newer than the quiet period (decided by the sweeper)


@dataclass(frozen=True)
class BatchSpec:
    """A route's ``batch:`` key."""

    rule: BatchRule
    control: str = ""  # the marker's or the manifest's name in the folder
    min_objects: int = 0
    quiet: float = 0.0  # seconds


def is_control(spec: BatchSpec | None, name: str) -> bool:
    """Tell whether ``name`` is its folder's marker or manifest (routed whatever its suffix)."""
    return spec is not None and bool(spec.control) and name[name.rfind("/") + 1 :] == spec.control


class BatchSpecError(ValueError):
    """A bad ``batch:`` key; ``key`` is the dotted key to name in the ConfigError."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key


def parse_batch(raw: Any) -> BatchSpec:
    """Parse ``{complete_when: {RULE: VALUE}}``; raise BatchSpecError naming the key."""
    rules = ", ".join(r.value for r in BatchRule)
    if not isinstance(raw, dict) or set(raw) != {"complete_when"}:
        raise BatchSpecError("batch", f"expected {{complete_when: {{RULE: VALUE}}}} ({rules})")
    when = raw["complete_when"]
    if not isinstance(when, dict) or len(when) != 1:
        raise BatchSpecError(
            "batch.complete_when", f"expected exactly one rule of {rules}, got {when!r}"
        )
    ((key, value),) = when.items()
    where = f"batch.complete_when.{key}"
    try:
        rule = BatchRule(key)
    except ValueError:
        raise BatchSpecError(where, f"unknown rule (known: {rules})") from None
    if rule in (BatchRule.MARKER, BatchRule.MANIFEST):
        if not isinstance(value, str) or not value or "/" in value:
            raise BatchSpecError(where, f"expected an object name in the folder, got {value!r}")
        return BatchSpec(rule, control=value)
    if rule is BatchRule.MIN_OBJECTS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BatchSpecError(where, f"expected a whole number >= 1, got {value!r}")
        return BatchSpec(rule, min_objects=value)
    try:
        return BatchSpec(rule, quiet=parse_duration(value))
    except ValueError as exc:
        raise BatchSpecError(where, str(exc)) from None
