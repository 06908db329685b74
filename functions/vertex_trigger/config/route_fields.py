"""Read one route's keys: the common ones, then those of its kind of event."""

import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from vertex_trigger.config.batch import BatchRule, BatchSpec, BatchSpecError, parse_batch
from vertex_trigger.config.cooldown_counts import KEY as COOLDOWN_COUNTS
from vertex_trigger.config.cooldown_counts import parse_cooldown_counts
from vertex_trigger.config.durations import parse_duration
from vertex_trigger.config.input_artifacts import KEY as INPUT_ARTIFACTS
from vertex_trigger.config.input_artifacts import InputArtifactError, parse_input_artifacts
from vertex_trigger.config.labels import (
    CHAIN_LABELS,
    CHAIN_ROUTE_LABEL_ROOM,
    MAX_LABELS,
    RESERVED_PREFIX,
    RETRY_OF_LABEL,
    ROUTE_LABEL_ROOM,
    TRIGGER_LABELS,
    VERTEX_LABELS,
    check_label,
)
from vertex_trigger.config.lifecycle import KEYS as LIFECYCLE_KEYS
from vertex_trigger.config.lifecycle import (
    MAX_DURATION,
    OVERLAP,
    RETRY_FAILED,
    OverlapAction,
    parse_max_duration,
    parse_overlap,
    parse_retry_failed,
)
from vertex_trigger.config.model import EventKind, Route
from vertex_trigger.config.notify import parse_notify
from vertex_trigger.config.output_refs import OutputKind
from vertex_trigger.config.partitions import parse_partitions
from vertex_trigger.config.placeholders import (
    BATCH_PLACEHOLDERS,
    DRIFT_PLACEHOLDERS,
    MANIFEST_PLACEHOLDERS,
    OBJECT_PLACEHOLDERS,
    PLACEHOLDER_IN_KEY,
    RUN_PLACEHOLDERS,
    keys_with_placeholders,
    string_leaves,
    unknown_placeholder,
)
from vertex_trigger.config.template_ref import TemplateRef, resolve_ref
from vertex_trigger.config.upstream import KEY as AFTER
from vertex_trigger.config.upstream import parse_after
from vertex_trigger.config.where import (
    Where,
    optional_bool,
    reject_unknown,
    setting,
    string,
)
from vertex_trigger.events.drift_alerts.match_fields import MATCH_FIELDS

ROUTE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")

# max_running and max_runs_per_day are counted with one page of the route's runs.
MAX_LIMIT = 1000

_COMMON_ROUTE_KEYS = frozenset(
    {
        "name",
        "event",
        "template",
        "parameters",
        "labels",
        "enable_caching",
        INPUT_ARTIFACTS,
        "notify",
        "max_running",
        "max_runs_per_day",
        *LIFECYCLE_KEYS,
        "renamed_from",
    }
)

_ROUTE_KEYS = {
    EventKind.OBJECT_FINALIZED: (
        _COMMON_ROUTE_KEYS | {"bucket", "prefix", "suffix", "batch", "sweep_lookback", "partitions"}
    ),
    EventKind.DRIFT_ALERT: (
        _COMMON_ROUTE_KEYS
        | {"match", "policy_labels", "min_deviation", "cooldown", COOLDOWN_COUNTS}
    ),
    EventKind.RUN_ENDED: _COMMON_ROUTE_KEYS | {AFTER, "sweep_lookback"},
}
# The output references each key of a run_ended route may hold (config/output_refs.py).
_PARAMETER_REFS = frozenset({OutputKind.PARAMETER, OutputKind.ARTIFACT_URI})
_ARTIFACT_REFS = frozenset({OutputKind.ARTIFACT})
_NO_REFS: frozenset[OutputKind] = frozenset()


def read_route(path: Path, index: int, raw: Any) -> Route:
    where = Where(path, f"routes[{index}]")
    if not isinstance(raw, dict):
        raise where.error("routes", f"route {index} must be a mapping, got {raw!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not ROUTE_NAME.match(name):
        raise where.error("name", f"expected a name matching {ROUTE_NAME.pattern}, got {name!r}")
    where.route = f"route {name!r}"
    try:
        event = EventKind(str(raw.get("event")))
    except ValueError:
        kinds = " or ".join(e.value for e in EventKind)
        raise where.error("event", f"expected {kinds}, got {raw.get('event')!r}") from None
    reject_unknown(where, raw, _ROUTE_KEYS[event], f"an {event} route")
    kind = _kind_fields(where, path, event, raw)
    allowed, routes = _placeholders_for(event, kind.get("batch"))
    chained = event is EventKind.RUN_ENDED
    parameter_refs = _PARAMETER_REFS if chained else _NO_REFS
    artifact_refs = _ARTIFACT_REFS if chained else _NO_REFS
    return Route(
        name=name,
        event=event,
        template=_template(where, path, raw.get("template")),
        parameters=_parameters(where, allowed, routes, raw.get("parameters", {}), parameter_refs),
        labels=_labels(where, raw.get("labels", {}), chained),
        enable_caching=optional_bool(where, "enable_caching", raw.get("enable_caching")),
        input_artifacts=_input_artifacts(
            where, allowed, routes, raw.get(INPUT_ARTIFACTS, {}), artifact_refs
        ),
        notify=setting(where, parse_notify, raw.get("notify")),
        max_running=_limit(where, "max_running", raw.get("max_running")),
        max_runs_per_day=_limit(where, "max_runs_per_day", raw.get("max_runs_per_day")),
        **_lifecycle_fields(where, raw, kind),
        renamed_from=_former_names(where, name, raw.get("renamed_from", [])),
        **kind,
    )


def _kind_fields(where: Where, path: Path, event: EventKind, raw: Any) -> dict[str, Any]:
    """Read the keys of the route's kind of event."""
    if event is EventKind.OBJECT_FINALIZED:
        return _object_fields(where, raw)
    if event is EventKind.DRIFT_ALERT:
        return _drift_fields(where, raw)
    return _run_fields(where, path, raw)


def _lifecycle_fields(
    where: Where, raw: Mapping[str, Any], kind: Mapping[str, Any]
) -> dict[str, Any]:
    """Read ``overlap``, ``max_duration`` and ``retry_failed``, checked against the route."""
    fields = {
        "overlap": setting(where, parse_overlap, raw.get(OVERLAP)),
        "max_duration": setting(where, parse_max_duration, raw.get(MAX_DURATION)),
        "retry_failed": setting(where, parse_retry_failed, raw.get(RETRY_FAILED)),
    }
    replace = fields["overlap"] and fields["overlap"].action is OverlapAction.REPLACE
    if replace and kind.get("cooldown") is not None:
        raise where.error(
            f"{OVERLAP}.then",
            "replace keeps the newest run, a cooldown the earliest of its window: choose one",
        )
    # A retry carries one more label, the run it retries (and a chained run its upstream).
    room = ROUTE_LABEL_ROOM - 1 - (1 if kind.get("after") is not None else 0)
    labels = raw.get("labels")
    if fields["retry_failed"] and isinstance(labels, dict) and len(labels) > room:
        raise where.error(
            "labels",
            f"{len(labels)} labels, at most {room} with {RETRY_FAILED}: a retry also carries "
            f"{RETRY_OF_LABEL}, and Vertex AI allows {MAX_LABELS} per run",
        )
    return fields


def _placeholders_for(event: EventKind, batch: BatchSpec | None) -> tuple[frozenset[str], str]:
    """Return the placeholders a route may use and how to name its kind of route in an error."""
    if event is EventKind.DRIFT_ALERT:
        return DRIFT_PLACEHOLDERS, str(event)
    if event is EventKind.RUN_ENDED:
        return RUN_PLACEHOLDERS, str(event)
    if batch is None:
        return OBJECT_PLACEHOLDERS, str(event)
    if batch.rule is BatchRule.MANIFEST:
        return MANIFEST_PLACEHOLDERS, "manifest batch"
    return BATCH_PLACEHOLDERS, "batch"


def _former_names(where: Where, name: str, raw: Any) -> tuple[str, ...]:
    """Return the names the route had before (its runs under them are its own)."""
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise where.error(
            "renamed_from", f"expected a list of the route's former names, got {raw!r}"
        )
    for former in raw:
        if not isinstance(former, str) or not ROUTE_NAME.match(former):
            raise where.error(
                "renamed_from", f"expected names matching {ROUTE_NAME.pattern}, got {former!r}"
            )
        if former == name:
            raise where.error("renamed_from", f"{former!r} is the route's own name")
    return tuple(dict.fromkeys(raw))


def _limit(where: Where, key: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise where.error(key, f"expected a whole number from 1 to {MAX_LIMIT}, got {value!r}")
    return value


def _template(where: Where, path: Path, value: Any) -> TemplateRef:
    text = string(where, "template", value)
    try:
        return resolve_ref(text, path.parent)
    except ValueError as exc:
        raise where.error("template", str(exc)) from None


def _parameters(
    where: Where, allowed: frozenset[str], routes: str, raw: Any, refs: frozenset[OutputKind]
) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise where.error("parameters", f"expected a mapping of input name to value, got {raw!r}")
    for name, value in raw.items():
        if not isinstance(name, str):
            raise where.error("parameters", f"input names must be strings, got {name!r}")
        for path, text in string_leaves(value, name):
            problem = unknown_placeholder(text, allowed, routes, refs)
            if problem:
                raise where.error(f"parameters.{path}", problem)
        for path in keys_with_placeholders(value, name):
            raise where.error(f"parameters.{path}", PLACEHOLDER_IN_KEY)
    return MappingProxyType(dict(raw))


def _input_artifacts(
    where: Where, allowed: frozenset[str], routes: str, raw: Any, refs: frozenset[OutputKind]
) -> Mapping[str, str]:
    try:
        return parse_input_artifacts(raw, allowed, routes, refs)
    except InputArtifactError as exc:
        raise where.error(exc.key, str(exc)) from None


def _labels(where: Where, raw: Any, chained: bool) -> Mapping[str, str]:
    if not isinstance(raw, dict):
        raise where.error("labels", f"expected a mapping, got {raw!r}")
    for key, value in raw.items():
        problem = check_label(key, value)
        if problem:
            raise where.error(f"labels.{key}", problem)
        if str(key).startswith(RESERVED_PREFIX):
            raise where.error(f"labels.{key}", f"keys starting {RESERVED_PREFIX!r} are reserved")
        if key in VERTEX_LABELS:
            raise where.error(f"labels.{key}", "reserved by Vertex AI, which overrides it")
    room, own = ROUTE_LABEL_ROOM, list(TRIGGER_LABELS)
    if chained:  # a chained run also carries the upstream's label
        room, own = CHAIN_ROUTE_LABEL_ROOM, list(CHAIN_LABELS)
    if len(raw) > room:
        raise where.error(
            "labels",
            f"{len(raw)} labels, at most {room}: Vertex AI allows {MAX_LABELS} per "
            f"run, including its own {', '.join(VERTEX_LABELS)} and the trigger's "
            f"{', '.join(own)}",
        )
    return MappingProxyType(dict(raw))


def _object_fields(where: Where, raw: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {"bucket": string(where, "bucket", raw.get("bucket"))}
    if fields["bucket"].startswith("gs://"):
        raise where.error("bucket", "expected a bucket name without gs://")
    for key in ("prefix", "suffix"):
        value = raw.get(key, "")
        if not isinstance(value, str):
            raise where.error(key, f"expected a string, got {value!r}")
        fields[key] = value
    if raw.get("batch") is not None:
        try:
            fields["batch"] = parse_batch(raw["batch"])
        except BatchSpecError as exc:
            raise where.error(exc.key, str(exc)) from None
    fields["sweep_lookback"] = _sweep_lookback(where, raw.get("sweep_lookback"), fields)
    if raw.get("partitions") is not None:
        try:
            fields["partitions"] = parse_partitions(raw["partitions"], fields["prefix"])
        except ValueError as exc:
            raise where.error("partitions", str(exc)) from None
    return fields


def _sweep_lookback(where: Where, value: Any, fields: Mapping[str, Any]) -> float | None:
    """Parse the sweeper's lookback; a quiet batch needs it, since only the sweeper launches it."""
    quiet = fields.get("batch") and fields["batch"].rule is BatchRule.QUIET
    if value is None:
        if quiet:
            raise where.error(
                "sweep_lookback", "a quiet batch is launched by the sweeper only: set it"
            )
        return None
    try:
        lookback = parse_duration(value)
    except ValueError as exc:
        raise where.error("sweep_lookback", str(exc)) from None
    if quiet and lookback <= fields["batch"].quiet:
        raise where.error(
            "sweep_lookback",
            f"must be longer than the quiet period {fields['batch'].quiet:g}s, or the sweeper "
            "never sees a batch become quiet",
        )
    return lookback


def _run_fields(where: Where, path: Path, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Read a run_ended route's ``after`` and its sweeper lookback (lost links)."""
    if raw.get(AFTER) is None:
        raise where.error(AFTER, "required: the route or pipeline whose runs' ends launch this one")
    after = setting(where, lambda value: parse_after(value, path.parent), raw[AFTER])
    fields: dict[str, Any] = {"after": after}
    if raw.get("sweep_lookback") is not None:
        try:
            fields["sweep_lookback"] = parse_duration(raw["sweep_lookback"])
        except ValueError as exc:
            raise where.error("sweep_lookback", str(exc)) from None
    return fields


def _drift_fields(where: Where, raw: Mapping[str, Any]) -> dict[str, Any]:
    match = _globs(where, "match", raw.get("match", {}), "alert field")
    for key in match:
        if key not in MATCH_FIELDS:
            raise where.error(
                f"match.{key}", f"unknown alert field (known: {', '.join(sorted(MATCH_FIELDS))})"
            )
    fields: dict[str, Any] = {
        "match": match,
        "policy_labels": _globs(where, "policy_labels", raw.get("policy_labels", {}), "label key"),
    }
    deviation = raw.get("min_deviation")
    if deviation is not None and (
        isinstance(deviation, bool)
        or not isinstance(deviation, int | float)
        or not 0 <= deviation < 2**1024  # float() overflows above; NaN fails too
    ):
        raise where.error("min_deviation", f"expected a number >= 0, got {deviation!r}")
    fields["min_deviation"] = None if deviation is None else float(deviation)
    if raw.get("cooldown") is not None:
        try:
            fields["cooldown"] = parse_duration(raw["cooldown"])
        except ValueError as exc:
            raise where.error("cooldown", str(exc)) from None
    if COOLDOWN_COUNTS in raw:
        if raw.get("cooldown") is None:
            raise where.error(COOLDOWN_COUNTS, "applies only to a route with a cooldown")
        try:
            fields["cooldown_counts"] = parse_cooldown_counts(raw[COOLDOWN_COUNTS])
        except ValueError as exc:
            raise where.error(COOLDOWN_COUNTS, str(exc)) from None
    return fields


def _globs(where: Where, key: str, raw: Any, what: str) -> Mapping[str, str]:
    """Check a mapping of names to glob strings (`match`, `policy_labels`)."""
    if not isinstance(raw, dict):
        raise where.error(key, f"expected a mapping of {what} to glob, got {raw!r}")
    for name, glob in raw.items():
        if not isinstance(name, str) or not name:
            raise where.error(key, f"expected {what}s as non-empty strings, got {name!r}")
        if not isinstance(glob, str):
            raise where.error(f"{key}.{name}", f"expected a glob string, got {glob!r}")
    return MappingProxyType(dict(raw))
