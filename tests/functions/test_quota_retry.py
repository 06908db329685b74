"""A create answered 429 with a RetryInfo delay is retried once, after that delay.

The retry loop (functions/vertex_trigger/google/retries.py, under google/api_calls.py) honours
the delay; without it the function
backs off on its own schedule and spends several 429s before the window admits the create.
Vertex's own quota answers carry no RetryInfo; the emulator adds one when asked (`retry_info`).
"""

from collections.abc import Iterator

import pytest

from tests.functions.helpers import (
    FAST_RETRY,
    FunctionServer,
    StartedServers,
    VertexStandIn,
    object_route,
    storage_event,
    write_config,
)


@pytest.fixture(scope="module")
def server(servers: StartedServers, tmp_path_factory: pytest.TempPathFactory) -> FunctionServer:
    retry = {**FAST_RETRY, "deadline": "5s"}  # longer than the quota window below
    config = write_config(tmp_path_factory.mktemp("quota"), [object_route()], retry=retry)
    return servers.start("on_object_finalized", config)


@pytest.fixture
def one_create_per_two_seconds(clean_vertex: VertexStandIn) -> Iterator[VertexStandIn]:
    clean_vertex.set_create_quota(1, retry_info=True, window_seconds=2.0)
    try:
        yield clean_vertex
    finally:
        clean_vertex.clear_create_quota()


def test_a_quota_429_with_retry_info_is_retried_once_after_its_delay(
    server: FunctionServer, one_create_per_two_seconds: VertexStandIn
) -> None:
    first, second = storage_event("incoming/a.csv"), storage_event("incoming/b.csv")
    assert server.send(first).status_code == 200
    assert server.send(second).status_code == 200
    assert server.log_for(second["id"])["decision"] == "launched"
    job = server.log_for(second["id"])["job"]
    statuses = [r["status"] for r in one_create_per_two_seconds.create_requests()
                if r["job_id"] == job]  # fmt: skip
    assert statuses == [429, 200]
