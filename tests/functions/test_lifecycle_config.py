"""The run lifecycle keys (overlap, max_duration, retry_failed, state), checked at start-up."""

from pathlib import Path
from typing import Any

import pytest
from vertex_trigger.config.lifecycle import OverlapAction, OverlapScope, RetryFailed
from vertex_trigger.config.loader import load_config
from vertex_trigger.config.state_location import StateLocation
from vertex_trigger.errors import ConfigError

from tests.functions.helpers import drift_route, object_route, write_config


def load(tmp_path: Path, routes: list[dict[str, Any]], **top: Any) -> Any:
    return load_config(write_config(tmp_path, routes, **top))


def error(tmp_path: Path, routes: list[dict[str, Any]], **top: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, routes, **top)
    return str(caught.value)


def test_every_lifecycle_key_is_read_into_the_route(tmp_path: Path) -> None:
    routes = [
        object_route(overlap={"with": "route", "then": "replace"}, max_duration="6h",
                     retry_failed={"attempts": 3, "after": "10m"}),
        drift_route(overlap={"then": "queue"}, retry_failed={"attempts": 2}),
    ]  # fmt: skip
    config = load(tmp_path, routes, state="gs://ops-state/triggers/", pause_check="15s")
    arrival, drift = config.routes
    assert (arrival.overlap.scope, arrival.overlap.action) == (
        OverlapScope.ROUTE,
        OverlapAction.REPLACE,
    )
    assert arrival.max_duration == 6 * 3600
    assert arrival.retry_failed == RetryFailed(attempts=3, after=600.0)
    assert drift.overlap.scope is OverlapScope.SAME_SOURCE  # the default
    assert drift.retry_failed == RetryFailed(attempts=2, after=0.0)  # at once, by on_run_state
    assert config.state == StateLocation("ops-state", "triggers")
    assert config.state.pause_object("arrival") == "triggers/pauses/arrival.json"
    assert config.pause_check == 15.0


def test_without_the_keys_nothing_changes(tmp_path: Path) -> None:
    config = load(tmp_path, [object_route()])
    [route] = config.routes
    assert (route.overlap, route.max_duration, route.retry_failed) == (None, None, None)
    assert (config.state, config.pause_check) == (None, 30.0)


@pytest.mark.parametrize(
    ("overrides", "key", "problem"),
    [
        ({"overlap": "replace"}, "overlap", "expected {with: ..., then: ...}, got 'replace'"),
        ({"overlap": {"with": "route"}}, "overlap.then", "missing: queue, skip or replace"),
        ({"overlap": {"then": "cancel"}}, "overlap.then",
         "expected queue or skip or replace, got 'cancel'"),
        ({"overlap": {"with": "bucket", "then": "skip"}}, "overlap.with",
         "expected same_source or route, got 'bucket'"),
        ({"overlap": {"then": "skip", "when": "always"}}, "overlap.when",
         "unknown key (allowed: then, with)"),
        ({"max_duration": "six hours"}, "max_duration",
         "expected a duration such as 30s, 15m, 6h or 1d, got 'six hours'"),
        ({"max_duration": 0}, "max_duration", "a duration must be positive and finite, got 0"),
        ({"retry_failed": {"attempts": 1}}, "retry_failed.attempts",
         "expected 2 to 10 (runs in all, the first one included), got 1"),
        ({"retry_failed": {"attempts": "2"}}, "retry_failed.attempts",
         "expected a whole number from 2 to 10 (the first run counts), got '2'"),
        ({"retry_failed": {"attempts": 2, "after": "soon"}}, "retry_failed.after",
         "expected a duration such as 30s, 15m, 6h or 1d, got 'soon'"),
        ({"retry_failed": {"attempts": 2, "backoff": "1m"}}, "retry_failed.backoff",
         "unknown key (allowed: after, attempts)"),
        ({"retry_failed": 3}, "retry_failed", "expected {attempts: N, after: DURATION}, got 3"),
    ],
)  # fmt: skip
def test_a_bad_lifecycle_key_names_the_route_and_the_key(
    tmp_path: Path, overrides: dict[str, Any], key: str, problem: str
) -> None:
    message = error(tmp_path, [object_route(**overrides)])
    assert message == f"{tmp_path / 'triggers.yaml'}: route 'arrival': key {key!r}: {problem}"


def test_replace_and_a_cooldown_contradict_each_other(tmp_path: Path) -> None:
    message = error(tmp_path, [drift_route(cooldown="1h", overlap={"then": "replace"})])
    assert message.endswith(
        "route 'drift': key 'overlap.then': replace keeps the newest run, a cooldown the earliest "
        "of its window: choose one"
    )


def test_queue_and_skip_go_with_a_cooldown(tmp_path: Path) -> None:
    config = load(tmp_path, [drift_route(cooldown="1h", overlap={"then": "skip"})])
    assert config.routes[0].overlap.action is OverlapAction.SKIP


def test_a_retried_route_leaves_room_for_the_retry_label(tmp_path: Path) -> None:
    # 64 = Vertex's billing label + the trigger's five (route, kind, source, event, auth) + 58.
    labels = {f"k{n}": "v" for n in range(58)}
    assert load(tmp_path, [object_route(labels=labels)]).routes[0].labels == labels
    message = error(tmp_path, [object_route(labels=labels, retry_failed={"attempts": 2})])
    assert message.endswith(
        "key 'labels': 58 labels, at most 57 with retry_failed: a retry also carries "
        "trigger-retry-of, and Vertex AI allows 64 per run"
    )
    fewer = {f"k{n}": "v" for n in range(57)}
    loaded = load(tmp_path, [object_route(labels=fewer, retry_failed={"attempts": 2})])
    assert loaded.routes[0].labels == fewer


@pytest.mark.parametrize(
    ("top", "key", "problem"),
    [
        ({"state": "ops-state"}, "state", "expected a gs://BUCKET[/PREFIX] URI, got 'ops-state'"),
        ({"state": "gs:///x"}, "state", "expected a gs://BUCKET[/PREFIX] URI, got 'gs:///x'"),
        ({"pause_check": "5m"}, "pause_check",
         "at most 60s, so that a pause takes effect within a minute, got '5m'"),
    ],
)  # fmt: skip
def test_a_bad_state_setting_names_the_key(
    tmp_path: Path, top: dict[str, Any], key: str, problem: str
) -> None:
    assert error(tmp_path, [object_route()], **top) == (
        f"{tmp_path / 'triggers.yaml'}: key {key!r}: {problem}"
    )
