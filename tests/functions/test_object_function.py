"""on_object_finalized over HTTP: functions-framework, CloudEvents, GCS and Vertex emulators."""

import json
from pathlib import Path
from typing import Any

import pytest
from vertex_trigger.launch.identity import job_id, short_hash

from tests.functions.helpers import (
    DATA,
    TYPED_TEMPLATE,
    FunctionServer,
    StartedServers,
    StorageStandIn,
    VertexStandIn,
    object_route,
    storage_event,
    write_config,
)

V1 = TYPED_TEMPLATE.read_bytes()
V2 = (DATA / "typed_pipeline_v2.yaml").read_bytes()
TEMPLATE_URI = "gs://templates/typed.yaml"


@pytest.fixture(scope="module")
def server(
    servers: StartedServers, gcs: StorageStandIn, tmp_path_factory: pytest.TempPathFactory
) -> FunctionServer:
    """One on_object_finalized server with three routes and gs:// templates."""
    gcs.upload("templates", "typed.yaml", V1)
    gcs.upload("lake", "templates/typed.yaml", V1)
    routes = [
        object_route(template=TEMPLATE_URI, labels={"team": "pricing"}, enable_caching=False),
        # No prefix or suffix: only the guards keep run outputs and the template from looping.
        {
            "name": "lake",
            "event": "object_finalized",
            "bucket": "lake",
            "template": "gs://lake/templates/typed.yaml",
            "parameters": {
                "data_uri": "{uri}",
                "generation": "{size}",
                "ratio": "0.25",
                "flag": "true",
                "tags": '[1, "b"]',
                "options": '{"a": {"b": 2}}',
                "note": "{content_type}",
            },
        },
        object_route(
            name="strict",
            prefix="numbers/",
            template=str(TYPED_TEMPLATE),
            # An event id may be digits (start-up warns) or not: this one is text.
            parameters={"data_uri": "{uri}", "generation": "{event_id}"},
        ),
    ]
    config = write_config(tmp_path_factory.mktemp("object"), routes, pipeline_root="gs://lake/runs")
    return servers.start("on_object_finalized", config, STORAGE_EMULATOR_HOST=gcs.url)


def deliver(server: FunctionServer, event: Any, mode: str = "binary") -> dict[str, Any]:
    """Send one event, expect it acknowledged, and return its log line."""
    response = server.send(event, mode)
    assert response.status_code == 200, response.text
    return server.log_for(event["id"])


def expected_job(route: str, event: Any) -> str:
    data = event.data
    return job_id(route, data["bucket"], data["name"], str(int(data["generation"])))


@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_new_csv_launches_one_run(
    server: FunctionServer, clean_vertex: VertexStandIn, mode: str
) -> None:
    event = storage_event("incoming/prices.csv")
    entry = deliver(server, event, mode)
    assert entry["decision"] == "launched"
    assert entry["severity"] == "INFO"
    assert entry["route"] == "arrival"
    assert entry["job"] == expected_job("arrival", event)
    job = clean_vertex.job(entry["job"])
    assert job["runtimeConfig"]["parameterValues"] == {
        "data_uri": "gs://data/incoming/prices.csv",
        "generation": 1700000000000001,
        "note": "incoming/prices.csv",
    }
    assert job["runtimeConfig"]["gcsOutputDirectory"] == "gs://lake/runs"
    labels = job["labels"]
    assert labels["trigger-route"] == "arrival"
    assert labels["trigger-kind"] == "object"
    assert labels["team"] == "pricing"
    assert labels["trigger-source"] == short_hash("data", "incoming/prices.csv")
    body = clean_vertex.create_requests()[0]["body"]
    tasks = body["pipelineSpec"]["root"]["dag"]["tasks"]
    assert {t["cachingOptions"]["enableCache"] for t in tasks.values()} == {False}


def test_duplicate_delivery_gives_one_run_and_409_is_a_duplicate(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    event = storage_event("incoming/twice.csv")
    first = deliver(server, event)
    second = deliver(server, storage_event("incoming/twice.csv", event_id=event["id"] + "-again"))
    assert (first["decision"], second["decision"]) == ("launched", "duplicate")
    assert first["job"] == second["job"]
    assert [r["status"] for r in clean_vertex.create_requests()] == [200, 409]
    assert len(clean_vertex.jobs()) == 1


def test_new_generation_gives_a_new_run(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    first = deliver(server, storage_event("incoming/same.csv", generation="1"))
    second = deliver(server, storage_event("incoming/same.csv", generation="2"))
    assert first["decision"] == second["decision"] == "launched"
    assert first["job"] != second["job"]
    assert len(clean_vertex.jobs()) == 2


def test_int64_fields_as_numbers_or_strings_are_the_same_event(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    as_strings = deliver(server, storage_event("incoming/n.csv", generation="77", size="352"))
    as_numbers = deliver(server, storage_event("incoming/n.csv", generation=77, size=352))
    assert as_strings["decision"] == "launched"
    assert as_numbers["decision"] == "duplicate"
    assert as_strings["job"] == as_numbers["job"]
    bodies = [r["body"] for r in clean_vertex.create_requests()]
    assert bodies[0]["runtimeConfig"] == bodies[1]["runtimeConfig"]


@pytest.mark.parametrize(
    ("bucket", "name", "reason"),
    [
        ("data", "other/prices.csv", "object is outside prefix 'incoming/'"),
        ("data", "incoming/prices.txt", "object does not end with '.csv'"),
        ("data", "incoming/", "object is a folder placeholder"),
        ("lake", "runs/job-1/metrics.csv", "object is inside pipeline_root gs://lake/runs"),
        ("lake", "templates/typed.yaml", "object is the template of route 'lake'"),
        ("elsewhere", "incoming/prices.csv", "no route watches bucket 'elsewhere'"),
    ],
)
def test_events_outside_every_route_are_skipped(
    server: FunctionServer, clean_vertex: VertexStandIn, bucket: str, name: str, reason: str
) -> None:
    entry = deliver(server, storage_event(name, bucket=bucket))
    assert entry["decision"] == "skipped"
    assert entry["reason"] == reason
    assert clean_vertex.create_requests() == []


def test_other_storage_event_types_are_skipped(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    event = storage_event("incoming/gone.csv", event_type="google.cloud.storage.object.v1.deleted")
    entry = deliver(server, event)
    assert entry["decision"] == "skipped"
    assert "is not google.cloud.storage.object.v1.finalized" in entry["reason"]
    assert clean_vertex.create_requests() == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"name": None}, "storage event field 'name' must be a non-empty string, got None"),
        ({"generation": "abc"}, "storage event field 'generation' must be an int64"),
        ({"generation": [1]}, "storage event field 'generation' must be an int64"),
        ({"bucket": 12}, "storage event field 'bucket' must be a non-empty string, got 12"),
        # 4,301 digits and more used to answer 500: Python's int() refuses them.
        ({"generation": "1" * 4301}, "storage event field 'generation' must be an int64 in"),
    ],
)
def test_malformed_events_are_acknowledged_with_a_reason(
    server: FunctionServer, clean_vertex: VertexStandIn, change: dict, reason: str
) -> None:
    event = storage_event("incoming/bad.csv")
    event.data.update(change)
    entry = deliver(server, event)
    assert entry["decision"] == "rejected"
    assert entry["severity"] == "WARNING"
    assert entry["reason"].startswith(reason)
    assert clean_vertex.create_requests() == []


def test_non_object_data_is_acknowledged_with_a_reason(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    event = storage_event("incoming/bad.csv")
    event.data = ["a", "list"]
    entry = deliver(server, event)
    assert (entry["decision"], entry["reason"]) == (
        "rejected",
        "event data must be a JSON object, got list",
    )
    assert clean_vertex.create_requests() == []


@pytest.mark.parametrize(
    "name",
    [
        "incoming/{0.__class__}.csv",
        "incoming/{uri}.csv",
        "incoming/{generation}{{name}}.csv",
        "incoming/" + "x" * 987 + ".csv",
        "incoming/données été/価格 2026.csv",
    ],
)
def test_object_names_pass_through_as_literal_text(
    server: FunctionServer, clean_vertex: VertexStandIn, name: str
) -> None:
    entry = deliver(server, storage_event(name))
    assert entry["decision"] == "launched"
    values = clean_vertex.job(entry["job"])["runtimeConfig"]["parameterValues"]
    assert values["data_uri"] == f"gs://data/{name}"
    assert values["note"] == name
    assert name in entry["source"]


def test_parameter_values_match_the_vertex_sdk(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    """The recorded parameterValues equal what aiplatform.PipelineJob builds for typed values."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform
    from google.protobuf import json_format

    entry = deliver(server, storage_event("drop/house.csv", bucket="lake", size="352"))
    recorded = clean_vertex.create_requests()[0]["body"]["runtimeConfig"]["parameterValues"]
    typed = {"data_uri": "gs://lake/drop/house.csv", "generation": 352, "ratio": 0.25, "flag": True,
             "tags": [1, "b"], "options": {"a": {"b": 2}}, "note": "text/plain"}  # fmt: skip
    sdk_job = aiplatform.PipelineJob(
        display_name="parity",
        template_path=str(TYPED_TEMPLATE),
        parameter_values=typed,
        pipeline_root="gs://lake/runs",
        project="test-project",
        location="us-central1",
        credentials=AnonymousCredentials(),
    )
    sdk = json_format.MessageToDict(sdk_job._gca_resource._pb.runtime_config)["parameterValues"]
    assert entry["decision"] == "launched"
    assert recorded == sdk


def test_value_that_does_not_fit_the_template_is_rejected(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    entry = deliver(server, storage_event("numbers/one.csv", event_id="evt-one"))
    assert entry["decision"] == "rejected"
    assert entry["route"] == "strict"
    assert (
        "parameter 'generation': value 'evt-one' is not a valid NUMBER_INTEGER"
        in entry["reason"]
    )
    assert clean_vertex.create_requests() == []


@pytest.mark.parametrize("status", [503, 429])
def test_transient_errors_then_success_give_one_run(
    server: FunctionServer, clean_vertex: VertexStandIn, status: int
) -> None:
    clean_vertex.fault(kind="status", status=status, count=2)
    entry = deliver(server, storage_event(f"incoming/retry-{status}.csv"))
    assert entry["decision"] == "launched"
    assert [r["status"] for r in clean_vertex.create_requests()] == [status, status, 200]
    assert len(clean_vertex.jobs()) == 1


def test_persistent_503_is_a_non_2xx_so_eventarc_redelivers(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    clean_vertex.fault(kind="status", status=503, count=1000)
    event = storage_event("incoming/down.csv")
    response = server.send(event)
    entry = server.log_for(event["id"])
    assert response.status_code >= 500
    assert entry["decision"] == "failed"
    assert entry["severity"] == "ERROR"
    assert "HTTP 503" in entry["reason"]
    assert "redelivered" in entry["reason"]
    assert len(server.entries_for(event["id"])) == 1
    assert clean_vertex.jobs() == []


def test_redelivery_after_an_outage_launches(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    clean_vertex.fault(kind="status", status=500, count=1000)
    event = storage_event("incoming/later.csv")
    assert server.send(event).status_code >= 500
    clean_vertex.reset()
    retried = storage_event("incoming/later.csv", event_id=event["id"] + "-redelivered")
    assert deliver(server, retried)["decision"] == "launched"


def test_400_from_vertex_is_acknowledged(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    clean_vertex.fault(kind="status", status=400, count=1)
    entry = deliver(server, storage_event("incoming/refused.csv"))
    assert entry["decision"] == "rejected"
    assert "HTTP 400" in entry["reason"]
    assert [r["status"] for r in clean_vertex.create_requests()] == [400]
    assert clean_vertex.jobs() == []


def test_timeout_after_the_server_accepted_gives_one_run(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    clean_vertex.fault(kind="hang", seconds=2, count=1)
    entry = deliver(server, storage_event("incoming/slow.csv"))
    assert entry["decision"] == "launched"
    assert len(clean_vertex.jobs()) == 1


def test_new_template_generation_is_picked_up_without_restart(
    server: FunctionServer, gcs: StorageStandIn, clean_vertex: VertexStandIn
) -> None:
    def launched_pipeline_name(name: str) -> str:
        entry = deliver(server, storage_event(name))
        assert entry["decision"] == "launched"
        body = next(
            r["body"] for r in clean_vertex.create_requests() if r["job_id"] == entry["job"]
        )
        return body["pipelineSpec"]["pipelineInfo"]["name"]

    assert launched_pipeline_name("incoming/before.csv") == "typed-trigger-fixture"
    gcs.upload("templates", "typed.yaml", V2)
    try:
        assert launched_pipeline_name("incoming/after.csv") == "typed-trigger-v2"
    finally:
        gcs.upload("templates", "typed.yaml", V1)


def test_log_line_is_one_json_object_with_the_documented_keys(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    event = storage_event("incoming/keys.csv")
    entry = deliver(server, event)
    assert {"severity", "message", "decision", "route", "event_id", "job"} <= set(entry)
    assert "reason" not in entry
    assert entry["job"] in entry["message"]
    assert json.loads(json.dumps(entry)) == entry
    assert len(server.entries_for(event["id"])) == 1


def test_shipped_config_starts_against_the_compiled_pipeline(
    servers: StartedServers, gcs: StorageStandIn
) -> None:
    """functions/triggers.yaml validates at start-up once compiled/house_prices.yaml exists.

    It is the local stack's: its route pauses are read from the storage emulator, as there.
    """
    compiled = Path(__file__).resolve().parents[2] / "compiled" / "house_prices.yaml"
    if not compiled.exists():
        pytest.skip("compiled/house_prices.yaml is built by the pipelines branch")
    shipped = Path(__file__).resolve().parents[2] / "functions" / "triggers.yaml"
    server = servers.start("on_object_finalized", shipped, STORAGE_EMULATOR_HOST=gcs.url)
    entry = deliver(server, storage_event("incoming/house.csv", bucket="local-data"))
    assert entry["decision"] == "launched"
