"""Read ``triggers.yaml`` once into the frozen model; every problem names its route and key."""

from pathlib import Path
from typing import Any

import yaml

from vertex_trigger.config.durations import parse_duration
from vertex_trigger.config.model import DEFAULT_MAX_CHAIN_DEPTH, SWEEP_DEADLINE, Config, Route
from vertex_trigger.config.notify import parse_topic
from vertex_trigger.config.route_fields import read_route
from vertex_trigger.config.state_location import (
    DEFAULT_PAUSE_CHECK,
    PAUSE_CHECK,
    STATE,
    parse_pause_check,
    parse_state,
)
from vertex_trigger.config.where import Where, optional_string, reject_unknown, setting, string
from vertex_trigger.errors import ConfigError
from vertex_trigger.google.retries import RetryPolicy

YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster at cold start


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
        "max_chain_depth",
        STATE,
        PAUSE_CHECK,
        "sweep_deadline",
        "parking",
    }
)
# A chain of more links than this is refused whatever max_chain_depth says.
MAX_CHAIN_DEPTH_LIMIT = 20

_RETRY_KEYS = frozenset({"initial_delay", "max_delay", "deadline", "request_timeout"})


def load_config(path: Path, default_project: str | None = None) -> Config:
    """Read and check the file at ``path``; raise ConfigError naming route and key."""
    where = Where(path)
    document = _read_yaml(path)
    reject_unknown(where, document, _TOP_KEYS, "top level")
    project = document.get("project") or default_project
    if not project:
        raise where.error("project", "missing (set it here or in $GOOGLE_CLOUD_PROJECT)")
    raw_routes = document.get("routes")
    if not isinstance(raw_routes, list) or not raw_routes:
        raise where.error("routes", "expected a non-empty list of routes")
    routes = tuple(read_route(path, i, raw) for i, raw in enumerate(raw_routes))
    _check_unique(path, routes)
    max_chain_depth = _max_chain_depth(where, document.get("max_chain_depth"))
    check_chain_graph(path, routes, max_chain_depth)
    _check_parking_is_not_watched(where, document.get("parking"), routes)
    config = Config(
        path=path,
        project=string(where, "project", project),
        region=string(where, "region", document.get("region")),
        pipeline_root=_gcs_uri(where, "pipeline_root", document.get("pipeline_root")),
        service_account=optional_string(where, "service_account", document),
        network=optional_string(where, "network", document),
        kms_key=optional_string(where, "kms_key", document),
        routes=routes,
        retry=_retry(where, document.get("retry", {})),
        outcomes_topic=setting(where, parse_topic, document.get("outcomes_topic")),
        max_chain_depth=max_chain_depth,
        state=setting(where, parse_state, document.get(STATE)),
        pause_check=setting(where, parse_pause_check, document.get(PAUSE_CHECK))
        or DEFAULT_PAUSE_CHECK,
        sweep_deadline=_sweep_deadline(where, document.get("sweep_deadline")),
        parking=_parking(where, document.get("parking")),
    )
    _check_parking_is_apart_from_pauses(where, config)
    return config


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


def _gcs_uri(where: Where, key: str, value: Any) -> str:
    text = string(where, key, value)
    if not text.startswith("gs://") or len(text) <= len("gs://"):
        raise where.error(key, f"expected a gs://BUCKET[/PREFIX] URI, got {text!r}")
    return text.rstrip("/")


def _sweep_deadline(where: Where, value: Any) -> float:
    if value is None:
        return SWEEP_DEADLINE
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise where.error("sweep_deadline", str(exc)) from None


def _parking(where: Where, value: Any) -> str | None:
    """Return ``gs://BUCKET/PREFIX`` (a prefix is required: the sweeper lists under it)."""
    if value is None:
        return None
    uri = _gcs_uri(where, "parking", value)
    if "/" not in uri.removeprefix("gs://"):
        raise where.error(
            "parking", f"expected gs://BUCKET/PREFIX (a folder for parked events), got {uri!r}"
        )
    return uri


def parking_place(uri: str) -> tuple[str, str]:
    """Split ``gs://BUCKET/PREFIX`` into the bucket and the prefix (with its trailing ``/``)."""
    bucket, _, prefix = uri.removeprefix("gs://").partition("/")
    return bucket, prefix.rstrip("/") + "/"


def _check_parking_is_not_watched(where: Where, value: Any, routes: tuple[Route, ...]) -> None:
    """Parked events must not land in a watched bucket: each would be an event of its own."""
    bucket = str(value or "").removeprefix("gs://").split("/", 1)[0]
    watching = [r.name for r in routes if r.bucket and r.bucket == bucket]
    if value is not None and watching:
        raise where.error(
            "parking", f"bucket {bucket!r} is watched by route {watching[0]!r}: use another bucket"
        )


def _check_parking_is_apart_from_pauses(where: Where, config: Config) -> None:
    """Refuse a parking place holding the pauses: the sweeper deletes what it cannot re-drive."""
    if config.parking is None or config.state is None:
        return
    (bucket, parked), pauses = parking_place(config.parking), config.state.pauses_folder
    if bucket == config.state.bucket and (parked.startswith(pauses) or pauses.startswith(parked)):
        raise where.error(
            "parking",
            f"{config.parking} holds or lies within the route pauses, gs://{bucket}/{pauses}: "
            "use another prefix (e.g. gs://STATE_BUCKET/parking)",
        )


def _retry(where: Where, raw: Any) -> RetryPolicy:
    if not isinstance(raw, dict):
        raise where.error("retry", f"expected a mapping, got {raw!r}")
    reject_unknown(where, raw, _RETRY_KEYS, "retry")
    values = {}
    for key, value in raw.items():
        try:
            values[key] = parse_duration(value)
        except ValueError as exc:
            raise where.error(f"retry.{key}", str(exc)) from None
    return RetryPolicy(**values)


def _max_chain_depth(where: Where, value: Any) -> int:
    if value is None:
        return DEFAULT_MAX_CHAIN_DEPTH
    whole = isinstance(value, int) and not isinstance(value, bool)
    if not whole or not 1 <= value <= MAX_CHAIN_DEPTH_LIMIT:
        raise where.error(
            "max_chain_depth",
            f"expected a whole number from 1 to {MAX_CHAIN_DEPTH_LIMIT}, got {value!r}",
        )
    return int(value)


def check_chain_graph(
    path: Path, routes: tuple[Route, ...], max_depth: int, pipelines: dict[str, str] | None = None
) -> None:
    """Raise ConfigError naming the route and key if the chain graph is wrong (see chain_graph)."""
    if not any(route.after is not None for route in routes):
        return  # no run_ended route: no chain, and the graph's module stays off the cold path
    from vertex_trigger.config.chain_graph import chain_problem

    problem = chain_problem(routes, max_depth, pipelines)
    if problem:
        raise Where(path, f"route {problem.route!r}").error(problem.key, problem.problem)


def _check_unique(path: Path, routes: tuple[Route, ...]) -> None:
    seen = set()
    for route in routes:
        if route.name in seen:
            raise Where(path, f"route {route.name!r}").error("name", "duplicate route name")
        seen.add(route.name)
    # A former name names one route's runs: neither another route's name nor another's past.
    owner: dict[str, str] = {}
    for route in routes:
        for former in route.renamed_from:
            where = Where(path, f"route {route.name!r}")
            if former in seen:
                raise where.error("renamed_from", f"{former!r} is the name of a route")
            if former in owner:
                raise where.error(
                    "renamed_from", f"{former!r} is a former name of route {owner[former]!r} too"
                )
            owner[former] = route.name
