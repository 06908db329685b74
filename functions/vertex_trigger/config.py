"""Read ``triggers.yaml`` once into frozen dataclasses; every problem names its route and key."""

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from vertex_trigger.batches import BatchRule, BatchSpec, BatchSpecError, parse_batch
from vertex_trigger.cooldown_counts import DEFAULT as DEFAULT_COOLDOWN_COUNTS
from vertex_trigger.cooldown_counts import KEY as COOLDOWN_COUNTS
from vertex_trigger.cooldown_counts import CooldownCounts, parse_cooldown_counts
from vertex_trigger.drift_alerts.alert import MATCH_FIELDS
from vertex_trigger.durations import parse_duration
from vertex_trigger.errors import ConfigError
from vertex_trigger.input_artifacts import KEY as INPUT_ARTIFACTS
from vertex_trigger.input_artifacts import InputArtifactError, parse_input_artifacts
from vertex_trigger.labels import (
    MAX_LABELS,
    RESERVED_PREFIX,
    ROUTE_LABEL_ROOM,
    TRIGGER_LABELS,
    VERTEX_LABELS,
    check_label,
)
from vertex_trigger.notifications import Notify, SettingError, parse_notify, parse_topic
from vertex_trigger.placeholders import (
    BATCH_PLACEHOLDERS,
    DRIFT_PLACEHOLDERS,
    MANIFEST_PLACEHOLDERS,
    OBJECT_PLACEHOLDERS,
    unknown_placeholder,
)
from vertex_trigger.retrying import RetryPolicy
from vertex_trigger.templates import YAML_LOADER, TemplateRef, resolve_ref

ROUTE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
# max_running and max_runs_per_day are counted with one page of the route's runs.
MAX_LIMIT = 1000


class EventKind(enum.StrEnum):
    """The event a route listens to."""

    OBJECT_FINALIZED = "object_finalized"
    DRIFT_ALERT = "drift_alert"


_TOP_KEYS = frozenset(
    {
        "project",
        "region",
        "pipeline_root",
        "service_account",
        "network",
        "kms_key",
        "routes",
        "retry",
        "outcomes_topic",
    }
)
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
    }
)
_ROUTE_KEYS = {
    EventKind.OBJECT_FINALIZED: (
        _COMMON_ROUTE_KEYS | {"bucket", "prefix", "suffix", "batch", "sweep_lookback"}
    ),
    EventKind.DRIFT_ALERT: (
        _COMMON_ROUTE_KEYS
        | {"match", "policy_labels", "min_deviation", "cooldown", COOLDOWN_COUNTS}
    ),
}
_RETRY_KEYS = frozenset({"initial_delay", "max_delay", "deadline", "request_timeout"})


@dataclass(frozen=True)
class Route:
    """One configured trigger: which events, which template, which parameters."""

    name: str
    event: EventKind
    template: TemplateRef
    parameters: Mapping[str, Any]
    labels: Mapping[str, str]
    enable_caching: bool | None
    input_artifacts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    bucket: str = ""
    prefix: str = ""
    suffix: str = ""
    match: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    policy_labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    min_deviation: float | None = None
    cooldown: float | None = None  # seconds
    cooldown_counts: CooldownCounts = DEFAULT_COOLDOWN_COUNTS
    notify: Notify | None = None
    batch: BatchSpec | None = None
    sweep_lookback: float | None = None  # seconds; None: the sweeper leaves the route alone
    max_running: int | None = None
    max_runs_per_day: int | None = None


@dataclass(frozen=True)
class Config:
    """The whole configuration of one instance."""

    path: Path
    project: str
    region: str
    pipeline_root: str
    service_account: str | None
    network: str | None
    kms_key: str | None
    routes: tuple[Route, ...]
    retry: RetryPolicy
    outcomes_topic: str | None = None  # where on_run_state publishes how runs ended

    def route_named(self, name: str) -> Route | None:
        """Return the route called ``name``, if this configuration has one."""
        return next((r for r in self.routes if r.name == name), None)

    def routes_for(self, event: EventKind) -> tuple[Route, ...]:
        """Return the routes listening to ``event``, in file order."""
        return tuple(r for r in self.routes if r.event is event)


class _Where:
    """Builds error messages that name the file, the route and the key."""

    def __init__(self, path: Path, route: str = "") -> None:
        self.path = path
        self.route = route

    def error(self, key: str, problem: str) -> ConfigError:
        place = f"{self.route}: " if self.route else ""
        return ConfigError(f"{self.path}: {place}key {key!r}: {problem}")


def load_config(path: Path, default_project: str | None = None) -> Config:
    """Read and check the file at ``path``; raise ConfigError naming route and key."""
    where = _Where(path)
    document = _read_yaml(path)
    _reject_unknown(where, document, _TOP_KEYS, "top level")
    project = document.get("project") or default_project
    if not project:
        raise where.error("project", "missing (set it here or in $GOOGLE_CLOUD_PROJECT)")
    raw_routes = document.get("routes")
    if not isinstance(raw_routes, list) or not raw_routes:
        raise where.error("routes", "expected a non-empty list of routes")
    routes = tuple(_route(path, i, raw) for i, raw in enumerate(raw_routes))
    _check_unique(path, routes)
    return Config(
        path=path,
        project=_string(where, "project", project),
        region=_string(where, "region", document.get("region")),
        pipeline_root=_gcs_uri(where, "pipeline_root", document.get("pipeline_root")),
        service_account=_optional_string(where, "service_account", document),
        network=_optional_string(where, "network", document),
        kms_key=_optional_string(where, "kms_key", document),
        routes=routes,
        retry=_retry(where, document.get("retry", {})),
        outcomes_topic=_setting(where, parse_topic, document.get("outcomes_topic")),
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror}") from None
    try:
        document = yaml.load(text, Loader=YAML_LOADER)  # the C safe loader when libyaml is there
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: an integer of 4,301+ digits
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping with 'project', 'region', 'routes', ...")
    return document


def _reject_unknown(
    where: _Where, mapping: Mapping[str, Any], allowed: frozenset, what: str
) -> None:
    unknown = sorted(str(k) for k in mapping if k not in allowed)
    if unknown:
        raise where.error(
            unknown[0], f"unknown key at {what} (allowed: {', '.join(sorted(allowed))})"
        )


def _string(where: _Where, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise where.error(key, f"expected a non-empty string, got {value!r}")
    return value


def _optional_string(where: _Where, key: str, mapping: Mapping[str, Any]) -> str | None:
    return _string(where, key, mapping[key]) if mapping.get(key) is not None else None


def _gcs_uri(where: _Where, key: str, value: Any) -> str:
    text = _string(where, key, value)
    if not text.startswith("gs://") or len(text) <= len("gs://"):
        raise where.error(key, f"expected a gs://BUCKET[/PREFIX] URI, got {text!r}")
    return text.rstrip("/")


def _retry(where: _Where, raw: Any) -> RetryPolicy:
    if not isinstance(raw, dict):
        raise where.error("retry", f"expected a mapping, got {raw!r}")
    _reject_unknown(where, raw, _RETRY_KEYS, "retry")
    values = {}
    for key, value in raw.items():
        try:
            values[key] = parse_duration(value)
        except ValueError as exc:
            raise where.error(f"retry.{key}", str(exc)) from None
    return RetryPolicy(**values)


def _route(path: Path, index: int, raw: Any) -> Route:
    where = _Where(path, f"routes[{index}]")
    if not isinstance(raw, dict):
        raise where.error("routes", f"route {index} must be a mapping, got {raw!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not ROUTE_NAME.match(name):
        raise where.error("name", f"expected a name matching {ROUTE_NAME.pattern}, got {name!r}")
    where.route = f"route {name!r}"
    try:
        event = EventKind(raw.get("event"))
    except ValueError:
        allowed = " or ".join(e.value for e in EventKind)
        raise where.error("event", f"expected {allowed}, got {raw.get('event')!r}") from None
    _reject_unknown(where, raw, _ROUTE_KEYS[event], f"an {event} route")
    object_route = event is EventKind.OBJECT_FINALIZED
    kind = _object_fields(where, raw) if object_route else _drift_fields(where, raw)
    allowed, routes = _placeholders_for(event, kind.get("batch"))
    return Route(
        name=name,
        event=event,
        template=_template(where, path, raw.get("template")),
        parameters=_parameters(where, allowed, routes, raw.get("parameters", {})),
        labels=_labels(where, raw.get("labels", {})),
        enable_caching=_optional_bool(where, "enable_caching", raw.get("enable_caching")),
        input_artifacts=_input_artifacts(where, allowed, routes, raw.get(INPUT_ARTIFACTS, {})),
        notify=_setting(where, parse_notify, raw.get("notify")),
        max_running=_limit(where, "max_running", raw.get("max_running")),
        max_runs_per_day=_limit(where, "max_runs_per_day", raw.get("max_runs_per_day")),
        **kind,
    )


def _placeholders_for(event: EventKind, batch: BatchSpec | None) -> tuple[frozenset, str]:
    """Return the placeholders a route may use and how to name its kind of route in an error."""
    if event is EventKind.DRIFT_ALERT:
        return DRIFT_PLACEHOLDERS, str(event)
    if batch is None:
        return OBJECT_PLACEHOLDERS, str(event)
    if batch.rule is BatchRule.MANIFEST:
        return MANIFEST_PLACEHOLDERS, "manifest batch"
    return BATCH_PLACEHOLDERS, "batch"


def _limit(where: _Where, key: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise where.error(key, f"expected a whole number from 1 to {MAX_LIMIT}, got {value!r}")
    return value


def _template(where: _Where, path: Path, value: Any) -> TemplateRef:
    text = _string(where, "template", value)
    try:
        return resolve_ref(text, path.parent)
    except ValueError as exc:
        raise where.error("template", str(exc)) from None


def _parameters(where: _Where, allowed: frozenset, routes: str, raw: Any) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise where.error("parameters", f"expected a mapping of input name to value, got {raw!r}")
    for name, value in raw.items():
        if not isinstance(name, str):
            raise where.error("parameters", f"input names must be strings, got {name!r}")
        problem = unknown_placeholder(value, allowed, routes) if isinstance(value, str) else ""
        if problem:
            raise where.error(f"parameters.{name}", problem)
    return MappingProxyType(dict(raw))


def _input_artifacts(
    where: _Where, allowed: frozenset, routes: str, raw: Any
) -> Mapping[str, str]:
    try:
        return parse_input_artifacts(raw, allowed, routes)
    except InputArtifactError as exc:
        raise where.error(exc.key, str(exc)) from None


def _labels(where: _Where, raw: Any) -> Mapping[str, str]:
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
    if len(raw) > ROUTE_LABEL_ROOM:
        raise where.error(
            "labels",
            f"{len(raw)} labels, at most {ROUTE_LABEL_ROOM}: Vertex AI allows {MAX_LABELS} per "
            f"run, including its own {', '.join(VERTEX_LABELS)} and the trigger's "
            f"{', '.join(TRIGGER_LABELS)}",
        )
    return MappingProxyType(dict(raw))


def _setting(where: _Where, parse: Callable[[Any], Any], value: Any) -> Any:
    """Parse an optional setting with its feature's parser; its SettingError names the key."""
    if value is None:
        return None
    try:
        return parse(value)
    except SettingError as exc:
        raise where.error(exc.key, str(exc)) from None


def _optional_bool(where: _Where, key: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise where.error(key, f"expected true or false, got {value!r}")
    return value


def _object_fields(where: _Where, raw: Mapping[str, Any]) -> dict[str, Any]:
    fields = {"bucket": _string(where, "bucket", raw.get("bucket"))}
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
    return fields


def _sweep_lookback(where: _Where, value: Any, fields: Mapping[str, Any]) -> float | None:
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


def _drift_fields(where: _Where, raw: Mapping[str, Any]) -> dict[str, Any]:
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


def _globs(where: _Where, key: str, raw: Any, what: str) -> Mapping[str, str]:
    """Check a mapping of names to glob strings (`match`, `policy_labels`)."""
    if not isinstance(raw, dict):
        raise where.error(key, f"expected a mapping of {what} to glob, got {raw!r}")
    for name, glob in raw.items():
        if not isinstance(name, str) or not name:
            raise where.error(key, f"expected {what}s as non-empty strings, got {name!r}")
        if not isinstance(glob, str):
            raise where.error(f"{key}.{name}", f"expected a glob string, got {glob!r}")
    return MappingProxyType(dict(raw))


def _check_unique(path: Path, routes: tuple[Route, ...]) -> None:
    seen = set()
    for route in routes:
        if route.name in seen:
            raise _Where(path, f"route {route.name!r}").error("name", "duplicate route name")
        seen.add(route.name)
