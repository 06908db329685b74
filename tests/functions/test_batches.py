"""Batch routes over HTTP: functions-framework, gcp-storage-emulator and the Vertex emulator."""

import json
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cloudevents.http import CloudEvent
from vertex_trigger.launch.identity import job_id, short_hash

from tests.functions.helpers import (
    TYPED_TEMPLATE,
    FunctionServer,
    StartedServers,
    StorageStandIn,
    VertexStandIn,
    object_route,
    storage_event,
    write_config,
)

BUCKET = "batches"
BATCH_PARAMETERS = {
    "data_uri": "{batch_uri}",
    "generation": "{batch_objects}",
    "note": "{batch_bytes} bytes in {batch_folder} of {bucket}",
}


def batch_route(name: str, complete_when: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    route = {
        "name": name,
        "bucket": BUCKET,
        "prefix": f"{name}/",
        "template": str(TYPED_TEMPLATE),
        "batch": {"complete_when": complete_when},
        "parameters": BATCH_PARAMETERS,
    }
    return object_route(**{**route, **overrides})


ROUTES = [
    batch_route("marker", {"marker": "_SUCCESS"}),
    batch_route("count", {"min_objects": 3}),
    batch_route(
        "manifest",
        {"manifest": "manifest.json"},
        suffix="",
        parameters={**BATCH_PARAMETERS, "data_uri": "{batch_manifest_uri}"},
    ),
    batch_route("quiet", {"quiet": "10m"}, sweep_lookback="1h"),
]


@pytest.fixture(scope="module")
def server(
    servers: StartedServers, gcs: StorageStandIn, tmp_path_factory: pytest.TempPathFactory
) -> FunctionServer:
    config = write_config(tmp_path_factory.mktemp("batches"), ROUTES)
    return servers.start("on_object_finalized", config, STORAGE_EMULATOR_HOST=gcs.url)


def folder(route: str) -> str:
    """A folder no other test writes to (the storage emulator lives for the whole session)."""
    return f"{route}/{uuid.uuid4().hex[:8]}/"


def put(gcs: StorageStandIn, name: str, content: bytes = b"a,b\n1,2\n") -> CloudEvent:
    """Write an object and return its finalize event, as Cloud Storage would send it."""
    written = gcs.upload_object(BUCKET, name, content)
    return storage_event(name, bucket=BUCKET, generation=str(written["generation"]),
                         size=str(len(content)), timeCreated=written["timeCreated"])  # fmt: skip


def deliver(server: FunctionServer, event: CloudEvent) -> dict[str, Any]:
    response = server.send(event)
    assert response.status_code == 200, response.text
    return server.log_for(event["id"])


def all_lines(server: FunctionServer, events: list[Any], expected: int) -> list[dict]:
    """Every log line of ``events``, once ``expected`` have arrived (stdout lags the answers)."""
    deadline = time.monotonic() + 10
    while True:
        lines = [line for e in events for line in server.entries_for(e["id"])]
        if len(lines) >= expected or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


def runs(vertex: VertexStandIn, route: str) -> list[dict[str, Any]]:
    return vertex.jobs(f'labels.trigger-route="{route}"')


def test_shuffled_duplicated_and_concurrent_events_of_one_batch_give_one_run(
    server: FunctionServer, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    where = folder("marker")
    events = [put(gcs, f"{where}part-{n}.csv", b"x" * (10 + n)) for n in range(3)]
    events.append(put(gcs, f"{where}_SUCCESS"))  # (the storage emulator refuses 0 bytes)
    # Every event twice, the copies as Eventarc redeliveries (same id), all at once, shuffled.
    deliveries = events * 2
    random.Random(7).shuffle(deliveries)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda e: server.send(e).status_code, deliveries))
    assert set(statuses) == {200}
    [run] = runs(clean_vertex, "marker")
    values = run["runtimeConfig"]["parameterValues"]
    assert values == {
        "data_uri": f"gs://{BUCKET}/{where}",
        "generation": 3,
        "note": f"33 bytes in {where} of {BUCKET}",
    }
    assert run["labels"]["trigger-kind"] == "batch"
    assert run["labels"]["trigger-source"] == short_hash(BUCKET, where)
    # Each event is logged twice (its redelivery ran concurrently): one line in all launched.
    lines = all_lines(server, events, expected=len(deliveries))
    decisions = sorted(line["decision"] for line in lines)
    assert decisions == ["duplicate"] * (len(deliveries) - 1) + ["launched"]


def test_events_before_the_marker_are_skipped_with_what_the_batch_waits_for(
    server: FunctionServer, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    where = folder("marker")
    put(gcs, f"{where}part-0.csv")
    entry = deliver(server, put(gcs, f"{where}part-1.csv"))
    assert entry["decision"] == "skipped"
    assert entry["reason"] == f"batch gs://{BUCKET}/{where} incomplete: no marker _SUCCESS yet"
    marker = put(gcs, f"{where}_SUCCESS")
    assert deliver(server, marker)["decision"] == "launched"
    assert len(runs(clean_vertex, "marker")) == 1


def test_a_marker_that_arrives_before_the_data_never_launches_on_partial_data(
    server: FunctionServer, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    where = folder("marker")
    early = deliver(server, put(gcs, f"{where}_SUCCESS"))
    assert early["decision"] == "skipped"  # nothing to launch on yet
    for n in range(2):
        entry = deliver(server, put(gcs, f"{where}part-{n}.csv"))
        assert entry["decision"] == "skipped"
        assert entry["reason"] == (
            f"batch gs://{BUCKET}/{where} incomplete: {where}part-{n}.csv is newer than the "
            "marker _SUCCESS; waiting for a marker written after the data"
        )
    assert runs(clean_vertex, "marker") == []
    # The writer finishes by writing the marker again (last): one run on every part file.
    assert deliver(server, put(gcs, f"{where}_SUCCESS"))["decision"] == "launched"
    [run] = runs(clean_vertex, "marker")
    assert run["runtimeConfig"]["parameterValues"]["generation"] == 2


def test_data_written_after_a_marker_waits_for_the_next_marker(
    server: FunctionServer, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    # The marker's own event can only see what exists then: it launches on the data before it.
    where = folder("marker")
    put(gcs, f"{where}part-0.csv")
    launched = deliver(server, put(gcs, f"{where}_SUCCESS"))
    assert launched["decision"] == "launched"
    late = deliver(server, put(gcs, f"{where}part-1.csv"))
    assert late["decision"] == "skipped"
    assert "part-1.csv is newer than the marker _SUCCESS" in late["reason"]
    [run] = runs(clean_vertex, "marker")
    assert run["runtimeConfig"]["parameterValues"]["generation"] == 1


def test_an_empty_batch_launches_nothing(
    server: FunctionServer, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    where = folder("marker")
    entry = deliver(server, put(gcs, f"{where}_SUCCESS"))
    assert entry["decision"] == "skipped"
    assert entry["reason"] == f"batch gs://{BUCKET}/{where} is empty: no data objects yet"
    assert runs(clean_vertex, "marker") == []


def test_a_new_marker_is_a_new_run_for_a_re_export(
    server: FunctionServer, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    where = folder("marker")
    put(gcs, f"{where}part-0.csv")
    first = deliver(server, put(gcs, f"{where}_SUCCESS"))
    put(gcs, f"{where}part-0.csv", b"new export")
    second = deliver(server, put(gcs, f"{where}_SUCCESS"))
    assert (first["decision"], second["decision"]) == ("launched", "launched")
    assert first["job"] != second["job"]
    assert len(runs(clean_vertex, "marker")) == 2


def test_hidden_and_other_suffix_objects_never_count(
    server: FunctionServer, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    where = folder("count")
    for name in ("a.csv", "b.csv", ".c.csv", "_d.csv", "e.json", "sub/f.csv"):
        put(gcs, where + name)
    hidden = deliver(server, put(gcs, f"{where}_committed.csv"))
    assert hidden["decision"] == "skipped"
    assert hidden["reason"] == "hidden object (name starts with . or _): never part of a batch"
    assert deliver(server, put(gcs, f"{where}g.txt"))["decision"] == "skipped"  # suffix
    entry = deliver(server, put(gcs, f"{where}b.csv"))
    assert entry["reason"] == f"batch gs://{BUCKET}/{where} incomplete: 2 of 3 objects"
    assert runs(clean_vertex, "count") == []


def test_min_objects_launches_once_per_folder(
    server: FunctionServer, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    where = folder("count")
    entries = [deliver(server, put(gcs, f"{where}part-{n}.csv")) for n in range(4)]
    assert [e["decision"] for e in entries] == ["skipped", "skipped", "launched", "duplicate"]
    assert entries[2]["job"] == job_id("count", "batch", BUCKET, where, "")
    [run] = runs(clean_vertex, "count")
    assert run["runtimeConfig"]["parameterValues"]["generation"] == 3


def test_a_manifest_written_first_launches_when_its_last_object_arrives(
    server: FunctionServer, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    where = folder("manifest")
    names = json.dumps(["a.csv", f"{where}b.csv", f"gs://{BUCKET}/{where}c.csv"])  # 3 spellings
    waiting = deliver(server, put(gcs, f"{where}manifest.json", names.encode()))
    assert waiting["reason"] == (
        f"batch gs://{BUCKET}/{where} incomplete: {where}a.csv is listed in manifest.json but "
        "does not exist yet (3 objects listed)"
    )
    put(gcs, f"{where}unlisted.csv")
    entries = [deliver(server, put(gcs, f"{where}{n}.csv", b"12345")) for n in "abc"]
    assert [e["decision"] for e in entries] == ["skipped", "skipped", "launched"]
    # Each event looks first at the names after its own: the next one a writer has not written.
    assert [e.get("reason", "").split(" is listed")[0][-5:] for e in entries[:2]] == [
        "b.csv", "c.csv"
    ]
    [run] = runs(clean_vertex, "manifest")
    assert run["runtimeConfig"]["parameterValues"] == {
        "data_uri": f"gs://{BUCKET}/{where}manifest.json",
        "generation": 3,
        "note": f"15 bytes in {where} of {BUCKET}",
    }


def test_a_manifest_of_lines_works_too(
    server: FunctionServer, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    where = folder("manifest")
    put(gcs, f"{where}x.csv")
    entry = deliver(server, put(gcs, f"{where}manifest.json", b"x.csv\n\n  x.csv  \n"))
    assert entry["decision"] == "launched"


HOSTILE_MANIFESTS = [
    (b"[not json", "starts like JSON but is not JSON"),
    (b'{"files": ["a.csv"]}', "must be a JSON list of object names, got {'files': ['a.csv']}"),
    (b'["a.csv", 3]', "must be a JSON list of object names, got ['a.csv', 3]"),
    (b"[]", "lists no objects"),
    (b"\xff\xfe\x00garbage", "is not UTF-8 text"),
    (b"[" * 100_000 + b"]" * 100_000, "starts like JSON but is not JSON"),
]


@pytest.mark.parametrize(("content", "problem"), HOSTILE_MANIFESTS)
def test_a_hostile_manifest_is_rejected_with_a_reason(
    server: FunctionServer,
    gcs: StorageStandIn,
    clean_vertex: VertexStandIn,
    content: bytes,
    problem: str,
) -> None:
    where = folder("manifest")
    entry = deliver(server, put(gcs, f"{where}manifest.json", content))
    assert entry["decision"] == "rejected"
    assert entry["reason"] == f"manifest gs://{BUCKET}/{where}manifest.json {problem}"
    assert entry["severity"] == "WARNING"
    assert runs(clean_vertex, "manifest") == []


@pytest.mark.parametrize(
    "outside", ["../a.csv", "sub/a.csv", "other/a.csv", "gs://elsewhere/a.csv", ".", "/a.csv"]
)
def test_a_manifest_naming_objects_outside_its_folder_is_rejected(
    server: FunctionServer, gcs: StorageStandIn, clean_vertex: VertexStandIn, outside: str
) -> None:
    where = folder("manifest")
    entry = deliver(server, put(gcs, f"{where}manifest.json", f'["a.csv", "{outside}"]'.encode()))
    assert entry["decision"] == "rejected"
    assert entry["reason"] == (
        f"manifest gs://{BUCKET}/{where}manifest.json names {outside!r}, which is not an "
        f"object in its folder gs://{BUCKET}/{where}"
    )


def test_a_10_mb_manifest_is_refused_before_it_is_read(
    server: FunctionServer, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    where = folder("manifest")
    entry = deliver(server, put(gcs, f"{where}manifest.json", b"a.csv\n" * (10 * 2**20 // 6)))
    assert entry["decision"] == "rejected"
    assert entry["reason"] == (
        f"manifest gs://{BUCKET}/{where}manifest.json is 10485756 bytes, above the "
        "4194304-byte limit of a manifest (about 100,000 names): write a marker instead "
        "(batch.complete_when.marker), which has no size limit"
    )


def test_a_quiet_batch_is_left_to_the_sweeper(
    server: FunctionServer, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    where = folder("quiet")
    entry = deliver(server, put(gcs, f"{where}part-0.csv"))
    assert entry["decision"] == "skipped"
    assert entry["reason"] == (
        f"batch gs://{BUCKET}/{where} completes 600s after its newest object: "
        "the sweeper launches it"
    )


def test_batch_placeholders_are_a_config_error_elsewhere(tmp_path: Path) -> None:
    from vertex_trigger.config.loader import load_config
    from vertex_trigger.errors import ConfigError

    path = write_config(tmp_path, [object_route(parameters={"data_uri": "{batch_uri}"})])
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "key 'parameters.data_uri': unknown placeholder {batch_uri} for object_finalized" in (
        str(error.value)
    )
