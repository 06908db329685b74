"""Route key ``after`` of a ``run_ended`` route: which runs' ends launch it, in which end states."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vertex_trigger.config.notify import SettingError
from vertex_trigger.config.template_ref import TemplateRef, resolve_ref
from vertex_trigger.google.pipeline_states import EndState

KEY = "after"
AFTER_KEYS = frozenset({"route", "pipeline", "states", "template"})
DEFAULT_STATES = frozenset({EndState.SUCCEEDED})
# A compiled pipeline's name (pipelineInfo.name), as KFP writes it; quoted in list filters.
PIPELINE_NAME = re.compile(r"^[a-z0-9](?:[-a-z0-9]{0,126}[a-z0-9])?$")


@dataclass(frozen=True)
class Upstream:
    """The runs a ``run_ended`` route follows: a route's, or any run of a compiled pipeline."""

    route: str = ""  # a route of this configuration
    pipeline: str = ""  # or: pipelineInfo.name of the runs, ours or not
    states: frozenset[EndState] = DEFAULT_STATES
    template: TemplateRef | None = None  # pipeline: the upstream's template, to check references

    def describe(self) -> str:
        """Return ``route 'R'`` or ``pipeline 'P'``."""
        return f"route {self.route!r}" if self.route else f"pipeline {self.pipeline!r}"


def parse_after(raw: Any, base_dir: Path) -> Upstream:
    """Read ``after: {route: R | pipeline: P, states: [...], template: T}``; raise SettingError."""
    if not isinstance(raw, dict):
        raise SettingError(KEY, f"expected a mapping with 'route' or 'pipeline', got {raw!r}")
    unknown = sorted(str(key) for key in raw if key not in AFTER_KEYS)
    if unknown:
        raise SettingError(
            f"{KEY}.{unknown[0]}", f"unknown key (allowed: {', '.join(sorted(AFTER_KEYS))})"
        )
    if ("route" in raw) == ("pipeline" in raw):
        raise SettingError(
            KEY, "name exactly one upstream: route (a route of this file) or pipeline (a name)"
        )
    states = _states(raw.get("states", sorted(DEFAULT_STATES)))
    if "route" in raw:
        if "template" in raw:
            raise SettingError(f"{KEY}.template", "only for pipeline: a route has its template")
        return Upstream(route=_text(raw["route"], "route"), states=states)
    pipeline = _text(raw["pipeline"], "pipeline")
    if not PIPELINE_NAME.match(pipeline):
        raise SettingError(
            f"{KEY}.pipeline",
            f"expected a compiled pipeline's name (pipelineInfo.name, {PIPELINE_NAME.pattern}), "
            f"got {pipeline!r}",
        )
    return Upstream(pipeline=pipeline, states=states, template=_template(raw, base_dir))


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise SettingError(f"{KEY}.{key}", f"expected a non-empty string, got {value!r}")
    return value


def _states(value: Any) -> frozenset[EndState]:
    allowed = ", ".join(state.value for state in EndState)
    if not isinstance(value, list) or not value:
        raise SettingError(
            f"{KEY}.states", f"expected a non-empty list of {allowed}, got {value!r}"
        )
    try:
        return frozenset(EndState(state) for state in value)
    except ValueError:
        raise SettingError(f"{KEY}.states", f"states must be {allowed}, got {value!r}") from None


def _template(raw: dict[str, Any], base_dir: Path) -> TemplateRef | None:
    if raw.get("template") is None:
        return None
    try:
        return resolve_ref(_text(raw["template"], "template"), base_dir)
    except ValueError as exc:
        raise SettingError(f"{KEY}.template", str(exc)) from None
