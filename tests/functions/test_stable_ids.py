"""Job ids, run labels and display names are promised stable across versions: literals pin them.

A job id is how a redelivered event finds the run it already launched (Vertex answers 409). Eventarc
redelivers for days and an upgrade happens in between: if a new version derived another id for the
same object, batch or drift window, every event redelivered across the deploy would launch its
pipeline a second time. The labels (route, kind, source, event) are how the cooldown, the limits,
the sweeper and the operator's tools find a route's runs, so they are kept as well; `trigger-auth`
(which of them the service made) was added beside them, and a changed key changes only it.

So the expected values below are literal strings, copied once from what the code produced, and never
computed here with the project's own hash or label functions: a change to the derivation (the
hash, its inputs, their order or separator, the id's length, the label escaping) must fail this
test, however consistent the new code is with itself. Everything goes through the deployed entry
points (functions-framework serving ``functions/main.py``) with real CloudEvents; the ids are read
from the decision log line and the labels and display name from the run the Vertex AI emulator
stored. If a change of id is ever intended, it needs a migration story (old ids still found), not
a new literal.
"""

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from cloudevents.http import CloudEvent

from local.function_server import FunctionServer
from tests.functions.fixed_bucket import FixedBucket, FixedObject
from tests.functions.helpers import TYPED_TEMPLATE, StartedServers, VertexStandIn

FINALIZED = "google.cloud.storage.object.v1.finalized"
PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
MODEL = "projects/test-project/locations/us-central1/models/house-prices"
ALERT_TIME = "2026-11-26T12:00:00.000Z"
ROUTES = [
    {
        "name": "prices-arrival",
        "event": "object_finalized",
        "bucket": "prices-data",
        "prefix": "incoming/",
        "suffix": ".csv",
        "template": str(TYPED_TEMPLATE),
        "parameters": {"data_uri": "{uri}", "generation": "{generation}", "note": "{name}"},
    },
    {
        "name": "prices-export",
        "event": "object_finalized",
        "bucket": "prices-data",
        "prefix": "exports/",
        "suffix": ".csv",
        "batch": {"complete_when": {"marker": "_SUCCESS"}},
        "template": str(TYPED_TEMPLATE),
        "parameters": {"data_uri": "{batch_uri}", "generation": "{batch_objects}"},
    },
    {
        "name": "prices-drift",
        "event": "drift_alert",
        "match": {"model": "*/models/house-prices*"},
        "cooldown": "6h",
        "cooldown_counts": "succeeded_or_running",
        "template": str(TYPED_TEMPLATE),
        "parameters": {"data_uri": "gs://prices-data/training/latest.csv", "generation": 0},
    },
    {
        "name": "prices-score",
        "event": "run_ended",
        "after": {"route": "prices-arrival"},
        "template": str(TYPED_TEMPLATE),
        "parameters": {"data_uri": "{tasks.describe.outputs.parameters.Output}", "generation": 0},
    },
]
# One export folder: two parts, then the marker (generations and times fixed, not the clock's).
EXPORT = [
    FixedObject("prices-data", "exports/2026-11-26/part-0000.csv", 1764158400000001,
                "2026-11-26T12:00:00.000Z"),
    FixedObject("prices-data", "exports/2026-11-26/part-0001.csv", 1764158401000002,
                "2026-11-26T12:00:01.000Z"),
    FixedObject("prices-data", "exports/2026-11-26/_SUCCESS", 1764158460000003,
                "2026-11-26T12:01:00.000Z", content=b""),
]  # fmt: skip
# An event id longer than a label value (63 characters) is labelled by its hash.
LONG_EVENT_ID = "projects/prices/topics/exports/messages/" + "0123456789" * 4


@dataclass(frozen=True)
class Functions:
    objects: FunctionServer
    drift: FunctionServer
    run_state: FunctionServer


@pytest.fixture(scope="module")
def functions(
    servers: StartedServers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Functions]:
    config = tmp_path_factory.mktemp("stable-ids") / "triggers.yaml"
    config.write_text(yaml.safe_dump({"project": "test-project", "region": "us-central1",
                                      "pipeline_root": "gs://test-pipelines/runs",
                                      "routes": ROUTES}))  # fmt: skip
    bucket = FixedBucket(EXPORT)
    try:
        env = {"STORAGE_EMULATOR_HOST": bucket.host}
        yield Functions(
            servers.start("on_object_finalized", config, **env),
            servers.start("on_drift_alert", config, **env),
            servers.start("on_run_state", config, **env),
        )
    finally:
        bucket.stop()


def object_event(name: str, generation: str, event_id: str) -> CloudEvent:
    attributes = {"type": FINALIZED, "id": event_id, "time": ALERT_TIME,
                  "source": "//storage.googleapis.com/projects/_/buckets/prices-data",
                  "subject": f"objects/{name}"}  # fmt: skip
    data = {"bucket": "prices-data", "name": name, "generation": generation,
            "metageneration": "1", "contentType": "text/csv", "size": "352",
            "timeCreated": ALERT_TIME}  # fmt: skip
    return CloudEvent(attributes, data)


def drift_event(message_id: str) -> CloudEvent:
    """The canonical alert for MODEL, published at ALERT_TIME (its cooldown window's time)."""
    alert = {"model": MODEL, "objective": "RAW_FEATURE_DRIFT", "detected_at": ALERT_TIME,
             "features": [{"name": "sqft", "deviation": 0.41, "threshold": 0.3}]}  # fmt: skip
    message = {"data": base64.b64encode(json.dumps(alert).encode()).decode(),
               "messageId": message_id, "publishTime": ALERT_TIME}  # fmt: skip
    attributes = {"type": PUBLISHED, "id": message_id, "time": ALERT_TIME,
                  "source": "//pubsub.googleapis.com/projects/p/topics/drift"}  # fmt: skip
    return CloudEvent(
        attributes, {"message": message, "subscription": "projects/p/subscriptions/s"}
    )


def launched(server: FunctionServer, vertex: VertexStandIn, event: CloudEvent) -> dict[str, Any]:
    """Send the event; return its log line's job id, and the stored run's labels and name."""
    assert server.send(event).status_code == 200
    line = server.log_for(event["id"])
    assert line["decision"] == "launched", line
    run = vertex.job(line["job"])
    return {"job": line["job"], "labels": run["labels"], "display_name": run["displayName"]}


def test_object_job_id_labels_and_display_name(
    functions: Functions, clean_vertex: VertexStandIn
) -> None:
    event = object_event("incoming/2026-11-26/prices.csv", "1764158400123456", "evt-Object.1")

    assert launched(functions.objects, clean_vertex, event) == {
        # route + sha256(route, bucket, name, generation) (NUL-joined), first 20 hex digits
        "job": "prices-arrival-df9db087b6b3ba916e77",
        "labels": {
            "trigger-route": "prices-arrival",
            "trigger-kind": "object",
            "trigger-source": "869e66af74f38c6f",  # sha256(bucket, name), 16 hex digits
            "trigger-event": "evt-_4fbject_2e1",  # what label values cannot hold, as _xx
            # HMAC-SHA256 of the job id under the run key (here the emulator's public local
            # key), first 32 hex digits: added beside the four above, which stay as they were.
            "trigger-auth": "9a3cddd8b8588a581a059c26c5fed772",
        },
        "display_name": "gs://prices-data/incoming/2026-11-26/prices.csv#1764158400123456",
    }


def test_batch_job_id_by_its_marker(functions: Functions, clean_vertex: VertexStandIn) -> None:
    event = object_event("exports/2026-11-26/_SUCCESS", "1764158460000003", LONG_EVENT_ID)

    assert launched(functions.objects, clean_vertex, event) == {
        # route + sha256(route, "batch", bucket, folder, "marker-" + the marker's generation)
        "job": "prices-export-c54a3085578d1dede8dd",
        "labels": {
            "trigger-route": "prices-export",
            "trigger-kind": "batch",
            "trigger-source": "80d37874ff092ed4",  # sha256(bucket, folder)
            "trigger-event": "_hash-1d4f715baf67b2ae",  # longer than 63: sha256(event id)
            "trigger-auth": "6cab4962b1e3cb73b35302bc72974b37",
        },
        "display_name": "gs://prices-data/exports/2026-11-26/",
    }


def test_drift_window_id_then_retry_ids_after_failed_runs(
    functions: Functions, clean_vertex: VertexStandIn
) -> None:
    window = launched(functions.drift, clean_vertex, drift_event("1764158400000000001"))
    clean_vertex.end_run(window["job"], "PIPELINE_STATE_FAILED", "out of memory")
    retry = launched(functions.drift, clean_vertex, drift_event("1764158400000000002"))
    clean_vertex.end_run(retry["job"], "PIPELINE_STATE_FAILED", "out of memory again")
    second_retry = launched(functions.drift, clean_vertex, drift_event("1764158400000000003"))

    assert window == {
        # route + sha256(route, model, "window-83134"): 2026-11-26T12:00Z // 6 h
        "job": "prices-drift-8c8877ac3272ade9749e",
        "labels": {
            "trigger-route": "prices-drift",
            "trigger-kind": "drift",
            "trigger-source": "34a792754f076633",  # sha256(model)
            "trigger-event": "1764158400000000001",
            "trigger-auth": "98e4e98fb853140959a1af265fae9281",
        },
        "display_name": MODEL,
    }
    # The window's run FAILED, which does not count (succeeded_or_running): the window's next id,
    # sha256(route, model, "window-83134-retry-1"), then "-retry-2" after that one failed too.
    assert retry["job"] == "prices-drift-1792c04bfcb44f26bf69"
    assert second_retry["job"] == "prices-drift-ce3a1635cc3b32d6f886"
    assert retry["labels"] == {**window["labels"], "trigger-event": "1764158400000000002",
                               "trigger-auth": "9fa3dd320b09ddb6e3a7d7a9e06d3439"}  # fmt: skip
    assert second_retry["display_name"] == MODEL


def run_state_event(job_id: str, message_id: str) -> CloudEvent:
    """The run's PipelineJob log entry, as a log sink publishes it, delivered by Eventarc."""
    log_name = "projects/test-project/logs/aiplatform.googleapis.com%2Fpipeline_job_events"
    entry = {"logName": log_name,
             "resource": {"type": "aiplatform.googleapis.com/PipelineJob",
                          "labels": {"pipeline_job_id": job_id, "location": "us-central1",
                                     "resource_container": "test-project"}}}  # fmt: skip
    message = {"data": base64.b64encode(json.dumps(entry).encode()).decode(),
               "messageId": message_id, "publishTime": ALERT_TIME}  # fmt: skip
    attributes = {"type": PUBLISHED, "id": message_id, "time": ALERT_TIME,
                  "source": "//pubsub.googleapis.com/projects/p/topics/run-states"}  # fmt: skip
    data = {"message": message, "subscription": "projects/p/subscriptions/s"}
    return CloudEvent(attributes, data)


def test_chained_run_job_id_labels_and_display_name(
    functions: Functions, clean_vertex: VertexStandIn
) -> None:
    """A run_ended route's run: route + its upstream's job id, whichever delivery launches it."""
    upstream = object_event("incoming/2026-11-26/prices.csv", "1764158400123456", "evt-Object.1")
    upstream_job = launched(functions.objects, clean_vertex, upstream)["job"]
    tasks = [{"taskName": "describe", "outputs": {"parameters": {"Output": "gs://x/y"}}}]
    clean_vertex.end_run(upstream_job, "PIPELINE_STATE_SUCCEEDED", tasks=tasks)
    event = run_state_event(upstream_job, "1764158500000000001")
    assert functions.run_state.send(event).status_code == 200
    line = functions.run_state.log_for(event["id"])
    assert line["decision"] == "launched", line
    run = clean_vertex.job(line["job"])

    assert {"job": line["job"], "labels": run["labels"], "display_name": run["displayName"]} == {
        # route + sha256(route, the upstream's job id)
        "job": "prices-score-f3fd4f38c4fc7acad0cb",
        "labels": {
            "trigger-route": "prices-score",
            "trigger-kind": "run",
            "trigger-source": "869e66af74f38c6f",  # the upstream's: the chain's first source
            "trigger-event": "1764158500000000001",  # the log entry's message id
            "trigger-upstream": "prices-arrival-df9db087b6b3ba916e77",
            "trigger-auth": "171083f9b6f112542f3a918534b0eff2",  # HMAC of the job id (local key)
        },
        "display_name": "gs://prices-data/incoming/2026-11-26/prices.csv#1764158400123456",
    }
