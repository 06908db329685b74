"""``partitions``: how a route's names carry the date, checked at start-up, and the names it spans.

The span is what a sweep's lookback, or a backfill's --since/--until, lists.
"""

import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from vertex_trigger.config.loader import load_config
from vertex_trigger.config.partitions import parse_partitions
from vertex_trigger.errors import ConfigError
from vertex_trigger.google.storage import Span
from vertex_trigger.triggers.sweep import route_span

from tests.functions.helpers import drift_route, object_route, write_config

MOMENT = datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("pattern", "since", "after"),
    [
        ("incoming/%Y/%m/%d/", "incoming/2026/12/31/", "incoming/2027/01/01/"),
        ("incoming/dt=%Y-%m-%d/", "incoming/dt=2026-12-31/", "incoming/dt=2027-01-01/"),
        ("incoming/%Y-%m-%dT%H", "incoming/2026-12-31T23", "incoming/2027-01-01T00"),
        ("incoming/%Y%m%d%H%M_", "incoming/202612312359_", "incoming/202701010000_"),
        ("incoming/%Y/%m/", "incoming/2026/12/", "incoming/2027/01/"),
        ("incoming/year=%Y/", "incoming/year=2026/", "incoming/year=2027/"),
        ("incoming/100%%/%Y/", "incoming/100%/2026/", "incoming/100%/2027/"),
    ],
)
def test_a_pattern_names_a_moment_s_partition_and_the_next(
    pattern: str, since: str, after: str
) -> None:
    partitions = parse_partitions(pattern, "incoming/")
    assert partitions.name_at(MOMENT) == since
    assert partitions.name_after(MOMENT) == after


def test_moments_in_other_time_zones_are_named_in_utc() -> None:
    partitions = parse_partitions("incoming/%Y/%m/%d/%H/", "incoming/")
    tokyo = MOMENT.astimezone(timezone(timedelta(hours=9)))
    assert partitions.name_at(tokyo) == "incoming/2026/12/31/23/"


def test_a_span_runs_from_the_lookback_s_partition_on() -> None:
    route = load_route(object_route(partitions="incoming/%Y/%m/%d/"))
    assert route_span(route, MOMENT, None) == Span("incoming/", "incoming/2026/12/31/")
    assert route_span(route, None, MOMENT) == Span("incoming/", "", "incoming/2027/01/01/")
    assert route_span(load_route(object_route()), MOMENT, MOMENT) == Span("incoming/")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("incoming/%d/%m/%Y/", "'incoming/%d/%m/%Y/' must name the date from the year down, "
                               "each part once and in order (%Y, then %m, %d, %H, %M), so that "
                               "names sort as their dates do"),
        ("incoming/%Y/%d/", "'incoming/%Y/%d/' must name the date from the year down"),
        ("incoming/%Y/%Y/", "'incoming/%Y/%Y/' must name the date from the year down"),
        ("incoming/", "'incoming/' must name the date from the year down"),
        ("incoming/%Y/%j/", "unknown code %j in 'incoming/%Y/%j/' (known: %Y %m %d %H %M; %% for "
                            "a %)"),
        ("other/%Y/", "'other/%Y/' must start with the route's prefix 'incoming/': it describes "
                      "the names under it"),
        (7, "expected a pattern such as 'incoming/%Y/%m/%d/', got 7"),
    ],
)  # fmt: skip
def test_a_bad_pattern_stops_start_up_naming_route_and_key(
    tmp_path: Path, value: Any, expected: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(write_config(tmp_path, [object_route(partitions=value)]))
    assert f"route 'arrival': key 'partitions': {expected}" in str(error.value)


def test_partitions_belong_to_object_routes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(write_config(tmp_path, [drift_route(partitions="%Y/")]))
    assert "route 'drift': key 'partitions': unknown key" in str(error.value)


@pytest.mark.parametrize(("value", "seconds"), [(None, 240.0), ("20m", 1200.0), (90, 90.0)])
def test_sweep_deadline_is_a_duration(tmp_path: Path, value: Any, seconds: float) -> None:
    top = {} if value is None else {"sweep_deadline": value}
    assert load_config(write_config(tmp_path, [object_route()], **top)).sweep_deadline == seconds


def test_a_bad_sweep_deadline_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(write_config(tmp_path, [object_route()], sweep_deadline="soon"))
    assert "key 'sweep_deadline': expected a duration such as 30s" in str(error.value)


def load_route(route: dict[str, Any]) -> Any:
    with tempfile.TemporaryDirectory() as directory:
        return load_config(write_config(Path(directory), [route])).routes[0]
