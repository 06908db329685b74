"""A sweep costs what its lookback holds when names carry the date, and any size works without.

A bucket's history is made in the JSON API stand-in of ``local/storage_stand_in.py`` (one object a
minute, named ``incoming/YYYY/MM/DD/HH/part-N.csv``), which counts the items each sweep listed.
None of the recent objects has a run: each sweep must launch them all, once.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from vertex_trigger.decisions import Outcome
from vertex_trigger.launch.services import Services
from vertex_trigger.startup import Environment, build_services
from vertex_trigger.triggers.sweep import WARN_READ, sweep

from local.storage_stand_in import StorageStandIn, serve_in_thread
from tests.functions.helpers import (
    TYPED_TEMPLATE,
    StartedServers,
    VertexStandIn,
    object_route,
    write_config,
)

BUCKET = "history"
PATTERN = "incoming/%Y/%m/%d/%H/"
PARAMETERS = {"data_uri": "{uri}", "generation": "{size}", "note": "{name}"}
RECENT = 90  # objects in the last 2 hours (one a minute, the newest 30.5 minutes old)


def route(**overrides: Any) -> dict[str, Any]:
    return object_route(bucket=BUCKET, template=str(TYPED_TEMPLATE), sweep_lookback="2h",
                        parameters=PARAMETERS, **overrides)  # fmt: skip


@pytest.fixture(scope="module")
def bucket() -> Iterator[StorageStandIn]:
    stand_in = serve_in_thread()
    # 12,000 minutes of history, about 8 days, the newest object 30.5 minutes old: the first
    # sweep of this module, within 30 s, finds 90 in its last 2 hours.
    newest = datetime.now(UTC) - timedelta(minutes=30, seconds=30)
    stand_in.add_history(BUCKET, "incoming/", WARN_READ + 2_000, every_seconds=60, end=newest,
                         pattern="%Y/%m/%d/%H/")  # fmt: skip
    try:
        yield stand_in
    finally:
        stand_in.stop()


def services_for(
    tmp_path: Path, vertex: VertexStandIn, bucket: StorageStandIn, **top: Any
) -> Services:
    config = write_config(tmp_path, [route(**top.pop("route", {}))], **top)
    env = Environment(config, vertex_emulator_host=vertex.host, storage_emulator_host=bucket.url)
    return build_services(env)


def swept(services: Services) -> tuple[dict[str, Any], list[Outcome], list[str]]:
    lines: list[Outcome] = []
    warnings: list[str] = []
    summary = sweep(services, log=lines.append, report=lambda _: None,
                    warn=lambda _, message: warnings.append(message))  # fmt: skip
    return summary, lines, warnings


def test_with_partitions_a_sweep_lists_only_what_its_lookback_covers(
    bucket: StorageStandIn, clean_vertex: VertexStandIn, tmp_path: Path
) -> None:
    services = services_for(tmp_path, clean_vertex, bucket, route={"partitions": PATTERN})
    bucket.reset_counts()
    summary, lines, warnings = swept(services)
    assert summary["routes"]["arrival"] == {"launched": RECENT}
    assert len(clean_vertex.jobs('labels.trigger-route="arrival"')) == RECENT
    # From the partition (hour) holding the lookback's start: at most an hour more than it holds.
    counts = bucket.counts()
    assert RECENT <= counts["items_listed"] <= RECENT + 60
    assert counts["list_calls"] == 1
    assert warnings == []
    assert {line.decision for line in lines} == {"launched"}
    again, _, _ = swept(services)
    assert again["routes"]["arrival"] == {"duplicate": RECENT}


def test_without_partitions_a_sweep_reads_all_history_page_by_page_and_says_what_to_set(
    bucket: StorageStandIn, clean_vertex: VertexStandIn, tmp_path: Path
) -> None:
    services = services_for(tmp_path, clean_vertex, bucket)
    bucket.reset_counts()
    summary, _, warnings = swept(services)
    assert summary["routes"]["arrival"] == {"launched": RECENT}
    total = WARN_READ + 2_000
    assert bucket.counts()["items_listed"] == total
    assert bucket.counts()["list_calls"] == 12
    assert warnings == [
        f"route 'arrival' read {total:,} objects for {RECENT} in the last 2h: set partitions "
        "on route 'arrival' to list only recent partitions"
    ]


def test_a_sweep_that_runs_out_of_time_answers_500_naming_the_limit(
    servers: StartedServers, bucket: StorageStandIn, tmp_path: Path
) -> None:
    servers.vertex.clean()
    config = write_config(tmp_path, [route()], sweep_deadline="3s")
    server = servers.start("sweep", config, signature="http", STORAGE_EMULATOR_HOST=bucket.url)
    # 12 pages: 6 s, twice what the sweep has, and the first page in time even on a loaded machine
    bucket.slow_listings(delay=0.5)
    try:
        response = requests.post(server.url, timeout=60)
    finally:
        bucket.slow_listings()
        server.stop()
    assert response.status_code == 500
    assert response.json()["routes"] == {"arrival": {"failed": 1}}
    line, report = server.wait_for_records(2)[-2:]
    assert (line["decision"], line["severity"], line["route"]) == ("failed", "ERROR", "arrival")
    assert line["reason"].startswith("cannot sweep: listing gs://history/incoming/ stopped after ")
    assert "of sweep_deadline 3s) ran out while listing gs://history/incoming/: set partitions " \
        "on this route to list only recent objects, or raise sweep_deadline" in line["reason"]
    assert report["severity"] == "ERROR"
    assert servers.vertex.jobs() == []


@pytest.mark.parametrize(("status", "problem"), [(403, "deployment problem: cannot sweep: "),
                                                 (400, "cannot sweep: ")])  # fmt: skip
def test_a_route_whose_listing_is_refused_makes_the_sweep_answer_500(
    servers: StartedServers, bucket: StorageStandIn, tmp_path: Path, status: int, problem: str
) -> None:
    config = write_config(tmp_path, [route(partitions=PATTERN)])
    server = servers.start("sweep", config, signature="http", STORAGE_EMULATOR_HOST=bucket.url)
    bucket.slow_listings(status=status)
    try:
        response = requests.post(server.url, timeout=60)
    finally:
        bucket.slow_listings()
        server.stop()
    assert response.status_code == 500
    line = server.wait_for_records(2)[-2]
    assert (line["decision"], line["severity"]) == ("failed", "ERROR")
    refused = f"Cloud Storage refused to list gs://history/incoming/: HTTP {status}"
    assert line["reason"].startswith(problem + refused)
    assert line["reason"].endswith("the next sweep tries again")
