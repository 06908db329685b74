"""Route pauses are read at most once per pause_check per route, a generation check first.

gcp-storage-emulator holds the records; a counting proxy in front of it shows what each read costs.
"""

import uuid
from collections.abc import Iterator

import pytest
from vertex_trigger.config.state_location import StateLocation
from vertex_trigger.errors import DeploymentError
from vertex_trigger.google.api_calls import ApiCalls
from vertex_trigger.google.http import HttpClient
from vertex_trigger.google.retries import Retrier, RetryPolicy
from vertex_trigger.google.state_objects import StateObjects
from vertex_trigger.launch.pauses import PauseBoard, PauseRecord, resumed

from tests.functions.helpers import FaultyProxy, StorageStandIn


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def objects(url: str) -> StateObjects:
    return StateObjects(HttpClient(), url, ApiCalls(Retrier(RetryPolicy())))


@pytest.fixture
def location(gcs: StorageStandIn) -> StateLocation:
    bucket = f"pauses-{uuid.uuid4().hex[:8]}"
    gcs.upload(bucket, "README", b"x")
    return StateLocation(bucket, "ops")


@pytest.fixture
def proxy(gcs: StorageStandIn) -> Iterator[FaultyProxy]:
    counting = FaultyProxy(gcs.url)
    yield counting
    counting.stop()


def test_a_route_is_read_once_per_pause_check_and_the_record_only_when_it_changed(
    gcs: StorageStandIn, proxy: FaultyProxy, location: StateLocation
) -> None:
    clock = Clock()
    board = PauseBoard(objects(proxy.url), location, ttl=30.0, clock=clock)
    writer = PauseBoard(objects(gcs.url), location, ttl=30.0)

    assert board.paused("arrival") is None
    assert proxy.requests == 1  # the generation: none, never paused
    clock.now = 10.0
    assert board.paused("arrival") is None
    assert proxy.requests == 1  # cached: no read at all within pause_check

    record = PauseRecord("arrival", True, "ops", "2026-12-01T10:00:00.000000Z", "migration")
    writer.write(record)
    clock.now = 31.0  # pause_check has passed: every instance sees the pause now
    assert board.paused("arrival") == record
    assert proxy.requests == 3  # a new generation, so the record itself
    clock.now = 62.0
    assert board.paused("arrival") == record
    assert proxy.requests == 4  # the same generation: the cached record, one cheap read

    writer.write(resumed(record, "ops", "2026-12-01T11:00:00.000000Z", "skip_missed"))
    clock.now = 93.0
    assert board.paused("arrival") is None
    assert board.record("arrival").skip_windows[0].start == record.at


def test_a_record_that_is_not_one_is_a_deployment_problem(
    gcs: StorageStandIn, location: StateLocation
) -> None:
    gcs.upload(location.bucket, location.pause_object("arrival"), b"paused: yes")
    board = PauseBoard(objects(gcs.url), location, ttl=30.0)
    with pytest.raises(DeploymentError) as caught:
        board.paused("arrival")
    assert str(caught.value).startswith(
        f"pause record gs://{location.bucket}/ops/pauses/arrival.json is not a pause record: "
    )


def test_routes_lists_the_routes_that_have_a_record(
    gcs: StorageStandIn, location: StateLocation
) -> None:
    board = PauseBoard(objects(gcs.url), location, ttl=30.0)
    for route in ("b-route", "a-route"):
        board.write(PauseRecord(route, True, "ops", "2026-12-01T10:00:00Z", "why"))
    assert board.routes() == ["a-route", "b-route"]
