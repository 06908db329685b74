"""What a batch event costs Cloud Storage, counted by a stand-in, and that every folder runs once.

The events go through the functions' own handler (``serve``) against the Vertex emulator and the
JSON API stand-in of ``local/storage_stand_in.py``, which counts list calls, items listed and
metadata reads (gcp-storage-emulator pages nothing and counts nothing). The events carry the
object's real ``timeCreated``, as Cloud Storage's do.
"""

import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cloudevents.http import CloudEvent
from vertex_trigger.decisions import Outcome
from vertex_trigger.launch.services import Services
from vertex_trigger.startup import Environment, build_services
from vertex_trigger.triggers.objects import handle_object_event
from vertex_trigger.triggers.serving import serve

from local.storage_stand_in import StorageStandIn, serve_in_thread
from tests.functions.helpers import (
    TYPED_TEMPLATE,
    VertexStandIn,
    object_route,
    storage_event,
    write_config,
)

BUCKET = "exports"
PARAMETERS = {"data_uri": "{batch_uri}", "generation": "{batch_objects}", "note": "{batch_bytes}"}
ROUTES = [
    object_route(name="marker", bucket=BUCKET, prefix="marker/", template=str(TYPED_TEMPLATE),
                 batch={"complete_when": {"marker": "_SUCCESS"}}, parameters=PARAMETERS),
    object_route(name="manifest", bucket=BUCKET, prefix="manifest/", suffix="",
                 template=str(TYPED_TEMPLATE), parameters=PARAMETERS,
                 batch={"complete_when": {"manifest": "manifest.json"}}),
    object_route(name="count", bucket=BUCKET, prefix="count/", template=str(TYPED_TEMPLATE),
                 batch={"complete_when": {"min_objects": 5}}, parameters=PARAMETERS),
]  # fmt: skip
# Listing 12,000 objects takes a dozen pages: a budget that a loaded machine cannot break.
RETRY = {"initial_delay": "0.05s", "max_delay": "0.2s", "deadline": "60s"}


@pytest.fixture(scope="module")
def bucket() -> Iterator[StorageStandIn]:
    stand_in = serve_in_thread()
    try:
        yield stand_in
    finally:
        stand_in.stop()


@pytest.fixture
def services(bucket: StorageStandIn, clean_vertex: VertexStandIn, tmp_path: Path) -> Services:
    config = write_config(tmp_path, ROUTES, retry=RETRY)
    return connect(config, clean_vertex, bucket)


def connect(config: Path, vertex: VertexStandIn, bucket: StorageStandIn) -> Services:
    env = Environment(config, vertex_emulator_host=vertex.host, storage_emulator_host=bucket.url)
    return build_services(env)


def folder(route: str) -> str:
    return f"{route}/{uuid.uuid4().hex[:8]}/"


def put(bucket: StorageStandIn, name: str, content: bytes = b"a,b\n1,2\n") -> CloudEvent:
    """Write an object and return its finalize event, as Cloud Storage sends it."""
    written = bucket.upload(BUCKET, name, content)
    return storage_event(name, bucket=BUCKET, generation=written["generation"],
                         size=written["size"], timeCreated=written["timeCreated"])  # fmt: skip


def later() -> None:
    """Let a millisecond pass: Cloud Storage's times have milliseconds, and so do the rules."""
    time.sleep(0.002)


def decide(services: Services, bucket: StorageStandIn, event: CloudEvent) -> tuple[Outcome, dict]:
    """Handle one event; return its outcome and what it asked of Cloud Storage."""
    bucket.reset_counts()
    lines: list[Outcome] = []
    with contextlib.suppress(Exception):  # raised for redelivery: its one line says why
        serve(handle_object_event, event, services, log=lines.append)
    return lines[-1], bucket.counts()


def runs(vertex: VertexStandIn, route: str) -> list[dict[str, Any]]:
    return vertex.jobs(f'labels.trigger-route="{route}"')


NOTHING_LISTED = {"list_calls": 0, "items_listed": 0, "metadata_reads": 1, "media_reads": 0}


def test_data_events_before_the_marker_read_one_object_s_metadata_and_list_nothing(
    services: Services, bucket: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    where = folder("marker")
    for n in range(30):
        outcome, asked = decide(services, bucket, put(bucket, f"{where}part-{n:03d}.csv"))
        assert outcome.reason == f"batch gs://{BUCKET}/{where} incomplete: no marker _SUCCESS yet"
        assert asked == NOTHING_LISTED
    launched, asked = decide(services, bucket, put(bucket, f"{where}_SUCCESS", b"\n"))
    assert launched.decision == "launched"
    # The marker's event lists the folder once: every part and the marker, one page.
    assert asked == {"list_calls": 1, "items_listed": 31, "metadata_reads": 1, "media_reads": 0}
    [run] = runs(clean_vertex, "marker")
    assert run["runtimeConfig"]["parameterValues"]["generation"] == 30


def test_a_data_event_that_arrives_after_the_marker_still_launches_once(
    services: Services, bucket: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    where = folder("marker")
    parts = [put(bucket, f"{where}part-{n}.csv") for n in range(3)]
    marker = put(bucket, f"{where}_SUCCESS", b"\n")
    # The marker's event is late (or lost): the first data event delivered now finds the marker,
    # written after it, and launches the whole folder.
    first, asked = decide(services, bucket, parts[1])
    assert first.decision == "launched"
    assert asked["list_calls"] == 1 and asked["items_listed"] == 4
    # Every other event of the batch meets its run without listing the folder.
    for event in (parts[0], marker, parts[2]):
        outcome, asked = decide(services, bucket, event)
        assert (outcome.decision, outcome.job) == ("duplicate", first.job)
        assert asked == NOTHING_LISTED
    [run] = runs(clean_vertex, "marker")
    assert run["runtimeConfig"]["parameterValues"]["generation"] == 3


def test_a_marker_that_arrives_before_its_data_still_waits(
    services: Services, bucket: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    where = folder("marker")
    put(bucket, f"{where}part-0.csv")
    early = put(bucket, f"{where}_SUCCESS", b"\n")
    later()
    late_part = put(bucket, f"{where}part-1.csv")  # written after the marker
    waits, asked = decide(services, bucket, late_part)
    assert waits.reason == (
        f"batch gs://{BUCKET}/{where} incomplete: {where}part-1.csv is newer than the marker "
        "_SUCCESS; waiting for a marker written after the data"
    )
    assert asked == NOTHING_LISTED  # its own time and the marker's decide it
    # The marker's own event lists the folder and finds the same newer data object.
    marker_waits, _ = decide(services, bucket, early)
    assert marker_waits.reason == waits.reason
    assert runs(clean_vertex, "marker") == []
    later()
    again = put(bucket, f"{where}_SUCCESS", b"\n")  # written again, last
    assert decide(services, bucket, again)[0].decision == "launched"
    [run] = runs(clean_vertex, "marker")
    assert run["runtimeConfig"]["parameterValues"]["generation"] == 2


def test_a_manifest_naming_more_than_10_000_objects_launches_once(
    services: Services, bucket: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    where = folder("manifest")
    names = [f"part-{n:05d}.csv" for n in range(12_000)]
    bucket.add_objects(BUCKET, [{"name": where + n, "content": f"{n}\n"} for n in names])
    manifest = json.dumps(names).encode()
    assert len(manifest) < 4 * 2**20
    outcome, asked = decide(services, bucket, put(bucket, f"{where}manifest.json", manifest))
    assert outcome.decision == "launched", outcome.reason
    # One metadata read, the manifest read once, the folder listed once (pages of 10, 100,
    # then 1,000: 12,001 objects).
    assert asked == {"list_calls": 14, "items_listed": 12_001, "metadata_reads": 1,
                     "media_reads": 1}  # fmt: skip
    [run] = runs(clean_vertex, "manifest")
    values = run["runtimeConfig"]["parameterValues"]
    assert values["generation"] == 12_000
    assert values["note"] == str(sum(len(f"{n}\n") for n in names))
    # A data event of the batch, delivered late, is a duplicate of that run, nothing listed.
    late, asked = decide(services, bucket, storage_event(
        where + names[7], bucket=BUCKET, generation="1", timeCreated="2026-01-01T00:00:00.000Z"))
    assert (late.decision, asked["list_calls"]) == ("duplicate", 0)


def test_a_manifest_written_first_costs_each_data_event_a_page_or_two(
    services: Services, bucket: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    where = folder("manifest")
    names = [f"{where}part-{n:03d}.csv" for n in range(200)]
    put(bucket, f"{where}manifest.json", "\n".join(names).encode())
    costs = []
    for name in names:  # written in name order, as writers mostly do
        outcome, asked = decide(services, bucket, put(bucket, name))
        costs.append(asked)
    assert outcome.decision == "launched"
    assert len(runs(clean_vertex, "manifest")) == 1
    # Each event before the last looks at the name after its own first: one small page.
    assert {c["list_calls"] for c in costs[:-1]} == {1}
    assert max(c["items_listed"] for c in costs[:-1]) <= 10
    assert {c["media_reads"] for c in costs[1:]} == {0}  # the manifest was read once


def test_min_objects_lists_until_the_count_and_counts_exactly_when_it_launches(
    services: Services, bucket: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    where = folder("count")
    bucket.add_objects(BUCKET, [{"name": f"{where}part-{n:04d}.csv", "content": "x"}
                                for n in range(2_000)])  # fmt: skip
    first, asked = decide(services, bucket, put(bucket, f"{where}part-9999.csv", b"yy"))
    assert first.decision == "launched"
    [run] = runs(clean_vertex, "count")
    assert run["runtimeConfig"]["parameterValues"]["generation"] == 2_001
    assert run["runtimeConfig"]["parameterValues"]["note"] == "2002"  # 2,000 x 1 + 2 bytes
    for n in (3, 1_500):
        again, asked = decide(services, bucket, storage_event(
            f"{where}part-{n:04d}.csv", bucket=BUCKET, generation="1"))  # fmt: skip
        assert again.decision == "duplicate"
        # One page of min_objects (5) entries: the count is reached, its run exists.
        assert (asked["list_calls"], asked["items_listed"]) == (1, 5)


def test_a_folder_too_large_for_the_time_budget_fails_naming_the_limit(
    bucket: StorageStandIn, clean_vertex: VertexStandIn, tmp_path: Path
) -> None:
    # Generous enough that the first page is read even on a loaded machine (its timeout is half
    # of what is left), far too short for 20 pages of 0.3 s: the limit is the folder's size.
    retry = {"initial_delay": "0.01s", "max_delay": "0.02s", "deadline": "3s"}
    config = write_config(tmp_path, ROUTES, retry=retry)
    services = connect(config, clean_vertex, bucket)
    where = folder("marker")
    bucket.add_objects(BUCKET, [{"name": f"{where}part-{n:05d}.csv"} for n in range(20_000)])
    marker = put(bucket, f"{where}_SUCCESS", b"\n")
    bucket.slow_listings(delay=0.3)
    try:
        outcome, _ = decide(services, bucket, marker)
    finally:
        bucket.slow_listings()
    assert outcome.decision == "failed"  # raised: Eventarc redelivers it, nothing is lost
    assert outcome.reason.startswith(f"listing gs://{BUCKET}/{where} stopped after ")
    assert (
        f"the event's time for Google API calls (retry.deadline) ran out while listing "
        f"gs://{BUCKET}/{where}: raise retry.deadline (and the function's timeout above it) "
        "for folders this large; raising so the event is redelivered"
    ) in outcome.reason
    assert runs(clean_vertex, "marker") == []
