"""Golden decision lines: every event sample, through the deployed entry points, decides as today.

Each case sends one real CloudEvent over HTTP to functions-framework serving ``functions/main.py``
(``on_object_finalized``, ``on_drift_alert``, ``on_run_state``), against the Vertex AI emulator
and a fixed Cloud Storage listing, and compares with ``data/decision_lines.json``: the HTTP status
the function answered, its whole decision log line (decision, route, job, reason, severity,
message, source, event_id, and any other key), every create request the emulator received (the
body, the template's spec as a digest) and what was posted to the route's webhook. Nothing here
names a module of ``vertex_trigger``: a refactor that moves modules must leave the file unchanged.

The cases: every event file under ``tests/functions/data`` (StorageObjectData, MessagePublishedData
in both shapes, each drift alert form, the run-state log entry), the Vertex error answers there as
emulator faults, variants of the samples that reach each decision (skips, rejections, duplicates,
cooldown and its retry id, deferral, daily budget, batches), and the hostile corpus of
``tests/data/hostile`` as the reliability suite encodes it. The configuration is written in this
module; the emulator is emptied before each case and given only what the case sets up.

Normalised (values that differ between runs and machines, never what the function decided):

- the repository's path (the template's path in reasons) -> ``<REPO>``; the temporary folder of
  the config -> ``<TMP>``;
- the emulators' and webhook's loopback addresses (ephemeral ports) -> ``<VERTEX_HOST>``,
  ``<GCS_HOST>``, ``<WEBHOOK_URL>``; any other ``127.0.0.1:PORT`` -> ``127.0.0.1:<PORT>``;
- RFC 3339 times within a day of now (the emulator's ``createTime`` quoted by cooldown reasons)
  -> ``<NOW>``; the events' own fixed times (2026-11-26) stay as they are;
- a create request's ``pipelineSpec`` -> its sha256 (canonical JSON) and pipeline name, so a change
  to the spec sent shows without holding the template twice;
- consecutive identical create requests (same job id, status and body) -> one entry with
  ``"repeated": true``: how many retries fit in a time budget depends on timing and jitter; for
  the same reason, in the one case where Vertex fails every attempt until the budget is spent
  (``attempts_vary``), the count in "failed N time(s)" -> ``<N>``.

Shortened, not varying: a string over 2,000 characters in a create body is kept as its length,
sha256 and first 100 characters (one hostile alert's parameter is a megabyte). The log line itself
is never shortened: the function clips its own fields at 2,000 characters.

Regenerate only for an intended change of behaviour (never to make a refactor pass), then review
the diff: every changed line is a changed behaviour::

    .venv/bin/python -m pytest tests/functions/test_decision_lines.py --record-decision-lines
"""

import base64
import copy
import functools
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
import yaml
from cloudevents.http import CloudEvent
from vertex_trigger.launch.run_key import LOCAL_RUN_KEY, RunKey

from benchmarks.hostile import load_corpus
from local.cloud_event_http import encode
from local.function_server import FunctionServer
from tests.functions.fixed_bucket import FixedBucket, FixedObject
from tests.functions.helpers import (
    DATA,
    TYPED_TEMPLATE,
    Certificate,
    StartedServers,
    VertexStandIn,
    WebhookReceiver,
    google_error,
)

REPO = Path(__file__).resolve().parents[2]
GOLDEN = DATA / "decision_lines.json"
HOSTILE = REPO / "tests" / "data" / "hostile"
FINALIZED = "google.cloud.storage.object.v1.finalized"
DELETED = "google.cloud.storage.object.v1.deleted"
PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
EVENT_TIME = "2026-11-26T12:00:00.000Z"
EARLIER = "2026-11-26T05:00:00.000Z"  # the previous 6 h cooldown window
WEBHOOK_VARIABLE = "GOLDEN_WEBHOOK_URL"
TARGETS = ("on_object_finalized", "on_drift_alert", "on_run_state")
HOSTILE_TARGETS = {"object": "on_object_finalized", "drift": "on_drift_alert"}
SAMPLE_RUN = "arrival-0a1b2c3d4e5f60718293"  # the run data/run_state/pipeline_job_event.json names
VERTEX_ANSWER = "run_state/pipeline_job_succeeded.json"  # a GET answer with task outputs
ANSWER_RUN = "prices-arrival-4f1c0d2a9b8e7f6a5b4c"  # the run it is
PARENT = "projects/test-project/locations/us-central1"
LOG_TIMEOUT = 15.0

TYPED = str(TYPED_TEMPLATE)
# The configuration every case runs under (the typed template: one input of each KFP type).
CONFIG: dict[str, Any] = {
    "project": "test-project",
    "region": "us-central1",
    "pipeline_root": "gs://test-pipelines/runs",
    "retry": {
        "initial_delay": "0.05s",
        "max_delay": "0.2s",
        "deadline": "1.5s",
        "request_timeout": "1s",
    },
    "routes": [
        {
            "name": "arrival",
            "event": "object_finalized",
            "bucket": "sample-bucket",
            "prefix": "folder/",
            "template": TYPED,
            "parameters": {
                "data_uri": "{uri}",
                "generation": "{generation}",
                "note": "{name}|{content_type}|{size}|{time_created}|{event_id}",
            },
            "labels": {"team": "golden"},
            "notify": {"webhook": f"${{{WEBHOOK_VARIABLE}}}", "on": ["FAILED"]},
        },
        {
            "name": "csv",
            "event": "object_finalized",
            "bucket": "data",
            "prefix": "incoming/",
            "suffix": ".csv",
            "template": TYPED,
            "enable_caching": False,
            "parameters": {"data_uri": "{uri}", "generation": "{generation}", "note": "{name}"},
        },
        {
            "name": "capped",
            "event": "object_finalized",
            "bucket": "capped-bucket",
            "max_running": 1,
            "template": TYPED,
            "parameters": {"data_uri": "{uri}", "generation": "{generation}"},
        },
        {
            "name": "budget",
            "event": "object_finalized",
            "bucket": "budget-bucket",
            "max_runs_per_day": 1,
            "template": TYPED,
            "parameters": {"data_uri": "{uri}", "generation": "{generation}"},
        },
        {
            "name": "exports",
            "event": "object_finalized",
            "bucket": "batch-bucket",
            "prefix": "exports/",
            "suffix": ".csv",
            "template": TYPED,
            "batch": {"complete_when": {"marker": "_SUCCESS"}},
            "parameters": {
                "data_uri": "{batch_uri}",
                "generation": "{batch_objects}",
                "note": "{batch_folder}|{batch_bytes}",
            },
        },
        # The hostile corpus's bucket (tests/data/reliability/triggers.yaml's route, here fixed).
        {
            "name": "arrivals",
            "event": "object_finalized",
            "bucket": "reliability-data",
            "prefix": "incoming/",
            "suffix": ".csv",
            "template": TYPED,
            "parameters": {"data_uri": "{uri}", "generation": "{generation}", "note": "{name}"},
        },
        {
            "name": "retrain",
            "event": "drift_alert",
            "match": {"model": "*/models/house-prices*"},
            "min_deviation": 0.3,
            "cooldown": "6h",
            "template": TYPED,
            "parameters": {
                "data_uri": "gs://data/training/latest.csv",
                "generation": 0,
                "note": "{objective}|{features}|{max_deviation}|{model}|{endpoint}",
            },
        },
        {
            "name": "incidents",
            "event": "drift_alert",
            "match": {"form": "incident"},
            "template": TYPED,
            "parameters": {
                "data_uri": "gs://data/training/latest.csv",
                "generation": 0,
                "note": "{policy}|{condition}|{incident_id}|{observed_value}|"
                "{threshold_value}|{summary}",
            },
        },
        {
            "name": "monitoring",
            "event": "drift_alert",
            "match": {"form": "monitoring_*"},
            "template": TYPED,
            "parameters": {
                "data_uri": "gs://data/training/latest.csv",
                "generation": 0,
                "note": "{monitoring_job}|{deployed_model_id}|{objective}|"
                "{features}|{max_deviation}",
            },
        },
        # Runs of the house-prices pipeline, whoever made them (the Vertex answer sample's run):
        # a run_ended route reading the upstream's outputs.
        {
            "name": "after-house-prices",
            "event": "run_ended",
            "after": {
                "pipeline": "house-prices",
                "states": ["SUCCEEDED"],
                "template": str(REPO / "compiled" / "house_prices.yaml"),
            },
            "template": TYPED,
            "parameters": {
                "data_uri": "{tasks.train-model.outputs.artifacts.model.uri}",
                "generation": 0,
                "ratio": "{tasks.evaluate-model.outputs.parameters.r2}",
                "note": "{tasks.train-model.outputs.parameters.validation_rmse}|{upstream_job}|"
                "{upstream_route}|{upstream_state}|{upstream_pipeline}|"
                "{upstream_source}|{upstream_event_id}|{event_time}",
            },
        },
        # Every other alert (the hostile corpus's models): tests/data/reliability's drift route.
        {
            "name": "drift-retrain",
            "event": "drift_alert",
            "min_deviation": 0.3,
            "cooldown": "1d",
            "template": TYPED,
            "parameters": {
                "data_uri": "gs://data/training/latest.csv",
                "generation": 0,
                "note": "{objective}|{model}",
            },
        },
    ],
}

# The batch folders the fixed listing holds (generations and times chosen, never the clock's).
BATCH_OBJECTS = [
    FixedObject("batch-bucket", "exports/2026-11-26/part-0000.csv", 1764158400000100,
                "2026-11-26T12:00:00.000Z"),
    FixedObject("batch-bucket", "exports/2026-11-26/part-0001.csv", 1764158400000101,
                "2026-11-26T12:00:01.000Z", content=b"a,b\n3,4\n5,6\n"),
    FixedObject("batch-bucket", "exports/2026-11-26/_SUCCESS", 1764158400000200,
                "2026-11-26T12:00:05.000Z", content=b""),
    FixedObject("batch-bucket", "exports/2026-11-27/part-0000.csv", 1764244800000100,
                "2026-11-27T12:00:00.000Z"),
    FixedObject("batch-bucket", "exports/2026-11-28/_SUCCESS", 1764331200000200,
                "2026-11-28T12:00:00.000Z", content=b""),
    FixedObject("batch-bucket", "exports/2026-11-28/part-0000.csv", 1764331200000300,
                "2026-11-28T12:00:09.000Z"),
]  # fmt: skip


# --- the stack the cases run against ---------------------------------------------------------


@dataclass
class Stack:
    """The three functions, the Vertex emulator, the fixed bucket and the webhook receiver."""

    vertex: VertexStandIn
    functions: dict[str, FunctionServer]
    bucket: FixedBucket
    webhook: WebhookReceiver
    config_dir: Path

    def post(self, target: str, headers: dict[str, str], body: bytes) -> requests.Response:
        return requests.post(self.functions[target].url, headers=headers, data=body, timeout=120)

    def deliver(self, target: str, headers: dict[str, str], body: bytes, lines: int = 1) -> None:
        """Send a setup event and wait for its ``lines`` log lines, so none leaks into the case."""
        server = self.functions[target]
        seen = len(server.log_records())
        self.post(target, headers, body)
        logged = server.wait_for_records(seen + lines, LOG_TIMEOUT)
        assert len(logged) >= seen + lines, "setup event not logged"


@pytest.fixture(scope="module")
def stack(
    servers: StartedServers,
    vertex: VertexStandIn,
    certificate: Certificate,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    config_dir = tmp_path_factory.mktemp("decision-lines")
    config = config_dir / "triggers.yaml"
    config.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    bucket, webhook = FixedBucket(BATCH_OBJECTS), WebhookReceiver(certificate)
    env = {"STORAGE_EMULATOR_HOST": bucket.host, WEBHOOK_VARIABLE: webhook.url,
           **webhook.trust_env()}  # fmt: skip
    try:
        functions = {target: servers.start(target, config, **env) for target in TARGETS}
        yield Stack(vertex, functions, bucket, webhook, config_dir)
    finally:
        bucket.stop()
        webhook.stop()


# --- events, built from the samples as Eventarc delivers them ---------------------------------


def sample(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def object_request(
    data: Any, event_id: str, *, event_type: str = FINALIZED, structured: bool = False
) -> tuple[dict[str, str], bytes]:
    """A Cloud Storage CloudEvent (binary mode unless ``structured``) carrying ``data``."""
    fields = data if isinstance(data, dict) else {}
    bucket, name = str(fields.get("bucket", "")), str(fields.get("name", ""))
    attributes = {
        "type": event_type,
        "source": f"//storage.googleapis.com/projects/_/buckets/{bucket}",
        "subject": quote(f"objects/{name}", safe="/"),
        "id": event_id,
        "time": EVENT_TIME,
        "datacontenttype": "application/json",
    }
    return encode(CloudEvent(attributes, data), structured)


def the_object(**changes: Any) -> dict[str, Any]:
    """The StorageObjectData sample with ``changes`` (a None value removes the field)."""
    data = {**sample("StorageObjectData-simple.json"), **changes}
    return {key: value for key, value in data.items() if value is not None}


def message_request(
    payload: bytes | str | Any,
    message_id: str,
    *,
    id_key: str = "messageId",
    structured: bool = False,
    event_id: str | None = None,
    event_time: str = EVENT_TIME,
) -> tuple[dict[str, str], bytes]:
    """A Pub/Sub messagePublished CloudEvent carrying ``payload`` (JSON unless text or bytes)."""
    if isinstance(payload, str):
        payload = payload.encode()
    elif not isinstance(payload, bytes):
        payload = json.dumps(payload).encode()
    message = {
        "attributes": {"origin": "golden"},
        "data": base64.b64encode(payload).decode(),
        id_key: message_id,
        "publishTime": event_time,
    }
    attributes = {
        "type": PUBLISHED,
        "source": "//pubsub.googleapis.com/projects/test-project/topics/golden",
        "id": event_id or message_id,
        "time": event_time,
        "datacontenttype": "application/json",
    }
    data = {"subscription": "projects/test-project/subscriptions/golden", "message": message}
    return encode(CloudEvent(attributes, data), structured)


def structured_file(name: str) -> tuple[dict[str, str], bytes]:
    """A sample that is a whole structured-mode CloudEvent, posted as it is."""
    return {"content-type": "application/cloudevents+json"}, (DATA / name).read_bytes()


def binary_data_file(name: str, event_id: str) -> tuple[dict[str, str], bytes]:
    """A sample that is MessagePublishedData, posted as a binary-mode event's data, as it is."""
    headers = {"ce-specversion": "1.0", "ce-type": PUBLISHED, "ce-id": event_id,
               "ce-source": "//pubsub.googleapis.com/projects/my-project/topics/my-topic",
               "ce-time": EVENT_TIME, "content-type": "application/json"}  # fmt: skip
    return headers, (DATA / name).read_bytes()


def canonical(**changes: Any) -> dict[str, Any]:
    return {**sample("drift/canonical.json"), **changes}


def run_state_entry(**resource_labels: str) -> dict[str, Any]:
    entry = sample("run_state/pipeline_job_event.json")
    entry["resource"]["labels"].update(resource_labels)
    return entry


# --- what a case sets up first ----------------------------------------------------------------

Step = Callable[[Stack], None]


def prior(target: str, request: tuple[dict[str, str], bytes], lines: int = 1) -> Step:
    """An earlier delivery (e.g. the same object, or an alert of the same window)."""
    return lambda stack: stack.deliver(target, *request, lines=lines)


def fault(**spec: Any) -> Step:
    """Queue a fault on the emulator's next creates."""
    return lambda stack: stack.vertex.fault(**spec)


def refused(error_file: str) -> Step:
    """Make the emulator answer the next create with a recorded Google error body."""
    return fault(**google_error(error_file))


def storage_refuses(error_file: str) -> Step:
    """Make the fixed bucket answer its next request with a recorded Cloud Storage error."""
    body = (DATA / "google_errors" / error_file).read_bytes()
    code = json.loads(body)["error"]["code"]
    return lambda stack: stack.bucket.refusals.append((code, body, "application/json"))


def made(job_id: str, labels: dict[str, str]) -> dict[str, str]:
    """The labels of a run the trigger service made: its trigger-auth under the local key."""
    return {**labels, "trigger-auth": RunKey.from_text(LOCAL_RUN_KEY).label(job_id)}


def run(
    job_id: str,
    labels: dict[str, str] | None,
    *,
    display_name: str = "",
    end: str = "",
    message: str = "",
) -> Step:
    """A run already in Vertex (created directly, with the typed template), optionally ended."""

    def create(stack: Stack) -> None:
        spec = yaml.safe_load(TYPED_TEMPLATE.read_text())
        values = {"data_uri": "gs://x/y", "generation": 1}
        body = {"displayName": display_name or job_id, "pipelineSpec": spec,
                "runtimeConfig": {"gcsOutputDirectory": "gs://test-pipelines/runs",
                                  "parameterValues": values}}  # fmt: skip
        if labels is not None:
            body["labels"] = labels
        response = requests.post(stack.vertex.jobs_url, params={"pipelineJobId": job_id},
                                 json=body, timeout=10)  # fmt: skip
        response.raise_for_status()
        if end:
            stack.vertex.end_run(job_id, end, message)

    return create


def vertex_answer_run(state: str) -> Step:
    """The run of the Vertex answer sample (run_state/pipeline_job_succeeded.json), created as it
    is (its labels name a route of another configuration) and ended in ``state`` with the task
    outputs the sample shows (execution.metadata["output:..."], outputs[NAME].artifacts)."""
    answer = sample(VERTEX_ANSWER)

    def create(stack: Stack) -> None:
        labels = {k: v for k, v in answer["labels"].items() if not k.startswith("vertex-ai-")}
        body = {key: answer[key] for key in ("displayName", "pipelineSpec", "runtimeConfig")}
        response = requests.post(stack.vertex.jobs_url, json={**body, "labels": labels},
                                 params={"pipelineJobId": ANSWER_RUN}, timeout=10)  # fmt: skip
        response.raise_for_status()
        stack.vertex.end_run(ANSWER_RUN, state, "The DAG failed.", tasks=task_records(answer))

    return create


def task_records(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The state control's task records for the answer's tasks (the root and groups left out)."""
    records = []
    for task in answer["jobDetail"]["taskDetails"]:
        metadata = task.get("execution", {}).get("metadata", {})
        parameters = {k.removeprefix("output:"): v for k, v in metadata.items()
                      if k.startswith("output:")}  # fmt: skip
        artifacts = {name: [{k: a[k] for k in ("uri", "schemaTitle", "metadata")}
                            for a in listed["artifacts"]]
                     for name, listed in task.get("outputs", {}).items()}  # fmt: skip
        if "parentTaskId" in task and task["state"] == "SUCCEEDED":
            records.append({"taskName": task["taskName"],
                            "outputs": {"parameters": parameters, "artifacts": artifacts}})
    return records


def end_every_run(state: str, message: str = "") -> Step:
    """End every run in the emulator (e.g. the window's run of a prior alert) in ``state``."""

    def end(stack: Stack) -> None:
        for job in stack.vertex.jobs():
            stack.vertex.end_run(job["name"].rsplit("/", 1)[-1], state, message)

    return end


SAMPLE_RUN_LABELS = {
    "trigger-route": "arrival",
    "trigger-kind": "object",
    "trigger-source": "6f1c0b6f5a2e4d3c",
    "trigger-event": "golden-object",
}
SAMPLE_RUN_NAME = "gs://sample-bucket/folder/Test.cs#1587627537231057"


# --- the cases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One event to one entry point, after ``setup``; ``sample`` is the file it comes from."""

    name: str
    target: str
    sample: str
    request: tuple[dict[str, str], bytes]
    setup: tuple[Step, ...] = field(default=())
    attempts_vary: bool = False  # Vertex fails every attempt: the budget decides how many
    lines: int = 1  # a run's end writes one line per run_ended route following it, then its own


def object_cases() -> list[Case]:
    o = "on_object_finalized"
    s = "StorageObjectData-simple.json"
    obj = the_object
    return [
        Case("object/sample", o, s, object_request(obj(), "golden-object")),
        Case("object/sample-structured", o, s,
             object_request(obj(), "golden-object-structured", structured=True)),
        Case("object/sample-redelivered", o, s, object_request(obj(), "golden-object-again"),
             (prior(o, object_request(obj(), "golden-object-first")),)),
        Case("object/sample-generation-as-number", o, s,
             object_request(obj(generation=1587627537231057), "golden-object-int")),
        Case("object/sample-new-generation", o, s,
             object_request(obj(generation="1587627537231058"), "golden-object-gen2")),
        Case("object/sample-outside-prefix", o, s,
             object_request(obj(name="other/Test.cs"), "golden-object-prefix")),
        Case("object/sample-suffix", o, s,
             object_request(obj(bucket="data", name="incoming/Test.cs"), "golden-object-suffix")),
        Case("object/sample-other-bucket", o, s,
             object_request(obj(bucket="elsewhere"), "golden-object-bucket")),
        Case("object/sample-folder-placeholder", o, s,
             object_request(obj(name="folder/"), "golden-object-folder")),
        Case("object/sample-inside-pipeline-root", o, s,
             object_request(obj(bucket="test-pipelines", name="runs/x/metrics.json"),
                            "golden-object-root")),
        Case("object/sample-deleted", o, s,
             object_request(obj(), "golden-object-deleted", event_type=DELETED)),
        Case("object/sample-generation-not-numeric", o, s,
             object_request(obj(generation="nine"), "golden-object-nine")),
        Case("object/sample-without-name", o, s,
             object_request(obj(name=None), "golden-object-noname")),
        Case("object/sample-data-not-an-object", o, s,
             object_request(["folder/Test.cs"], "golden-object-list")),
        Case("object/vertex-permission-denied", o, "google_errors/permission_denied.json",
             object_request(obj(), "golden-object-403"), (refused("permission_denied.json"),)),
        Case("object/vertex-kms-key-unusable", o, "google_errors/kms_key_unusable.json",
             object_request(obj(), "golden-object-kms"), (refused("kms_key_unusable.json"),)),
        Case("object/vertex-org-policy-cmek", o, "google_errors/org_policy_cmek.json",
             object_request(obj(), "golden-object-cmek"), (refused("org_policy_cmek.json"),)),
        Case("object/vertex-act-as-denied", o, "google_errors/act_as_denied.json",
             object_request(obj(), "golden-object-act-as"), (refused("act_as_denied.json"),)),
        Case("object/vertex-pipeline-root-denied", o, "google_errors/pipeline_root_denied.json",
             object_request(obj(), "golden-object-root-denied"),
             (refused("pipeline_root_denied.json"),)),
        Case("object/vertex-metadata-store-denied", o,
             "google_errors/metadata_store_denied.json",
             object_request(obj(), "golden-object-metadata"),
             (refused("metadata_store_denied.json"),)),
        Case("object/vertex-project-invalid", o, "google_errors/project_invalid.json",
             object_request(obj(), "golden-object-project"), (refused("project_invalid.json"),)),
        Case("object/vertex-network-not-peered", o, "google_errors/network_not_peered.json",
             object_request(obj(), "golden-object-network"),
             (refused("network_not_peered.json"),)),
        Case("object/vertex-quota-exceeded-once", o, "google_errors/quota_exceeded.json",
             object_request(obj(), "golden-object-quota"), (refused("quota_exceeded.json"),)),
        Case("object/vertex-resource-exhausted-retry-info", o,
             "google_errors/resource_exhausted_retry_info.json",
             object_request(obj(), "golden-object-429"),
             (refused("resource_exhausted_retry_info.json"),)),
        Case("object/vertex-unavailable-once", o, s, object_request(obj(), "golden-object-503"),
             (fault(kind="status", status=503, message="Try again."),)),
        Case("object/vertex-unavailable-always", o, s,
             object_request(obj(), "golden-object-503s"),
             (fault(kind="status", status=503, message="Try again.", count=1000),),
             attempts_vary=True),
        Case("object/vertex-aborted-once", o, s, object_request(obj(), "golden-object-aborted"),
             (fault(kind="status", status=409, error_status="ABORTED", message="Aborted."),)),
        Case("object/vertex-invalid-argument", o, s, object_request(obj(), "golden-object-400"),
             (fault(kind="status", status=400, message="Invalid value at 'pipeline_job'."),)),
        Case("object/max-running-deferred", o, s,
             object_request(obj(bucket="capped-bucket"), "golden-object-capped"),
             (run("capped-running", made("capped-running", {"trigger-route": "capped",
                                                            "trigger-kind": "object"})),)),
        Case("object/max-runs-per-day-skipped", o, s,
             object_request(obj(bucket="budget-bucket"), "golden-object-budget"),
             (run("budget-earlier", made("budget-earlier", {"trigger-route": "budget",
                                                            "trigger-kind": "object"}),
                  end="PIPELINE_STATE_SUCCEEDED"),)),
    ]  # fmt: skip


def batch_cases() -> list[Case]:
    o = "on_object_finalized"
    s = "StorageObjectData-simple.json"

    def event(
        name: str, generation: int, event_id: str, **fields: str
    ) -> tuple[dict[str, str], bytes]:
        data = sample(s) | {"bucket": "batch-bucket", "name": name, "generation": str(generation),
                            **fields}  # fmt: skip
        return object_request(data, event_id)

    marker = event("exports/2026-11-26/_SUCCESS", 1764158400000200, "golden-batch-marker")
    return [
        Case("batch/marker-completes-the-folder", o, s, marker),
        Case("batch/data-object-of-a-complete-folder", o, s,
             event("exports/2026-11-26/part-0001.csv", 1764158400000101, "golden-batch-part")),
        Case("batch/marker-redelivered", o, s,
             event("exports/2026-11-26/_SUCCESS", 1764158400000200, "golden-batch-again"),
             (prior(o, marker),)),
        Case("batch/no-marker-yet", o, s,
             event("exports/2026-11-27/part-0000.csv", 1764244800000100, "golden-batch-waits")),
        Case("batch/data-newer-than-marker", o, s,
             event("exports/2026-11-28/part-0000.csv", 1764331200000300, "golden-batch-early")),
        # Its own timeCreated (as Cloud Storage sends it) and the marker's metadata decide it.
        Case("batch/data-newer-than-marker-by-its-own-time", o, s,
             event("exports/2026-11-28/part-0000.csv", 1764331200000300, "golden-batch-late",
                   timeCreated="2026-11-28T12:00:09.000Z")),
        Case("batch/hidden-object", o, s,
             event("exports/2026-11-26/_part-0002.csv", 1764158400000300,
                   "golden-batch-hidden")),
        *[Case(f"batch/storage-{answer.removeprefix('storage_').replace('_', '-')}", o,
               f"google_errors/{answer}.json",
               event("exports/2026-11-26/_SUCCESS", 1764158400000200, f"golden-batch-{answer}"),
               (storage_refuses(f"{answer}.json"),))
          for answer in ("storage_requester_pays", "storage_org_policy",
                         "storage_service_account_missing")],
    ]  # fmt: skip


def drift_cases() -> list[Case]:
    d = "on_drift_alert"
    forms = ["canonical", "anomaly_log_entry", "anomaly_log_payload", "stats_anomalies",
             "stats_anomalies_log_entry", "v2_anomaly_log_entry", "incident_open",
             "incident_closed_docs", "incident_closed_forwarding"]  # fmt: skip
    cases = [
        Case(
            f"drift/{form}",
            d,
            f"drift/{form}.json",
            message_request(sample(f"drift/{form}.json"), f"golden-{form}"),
        )
        for form in forms
    ]
    c = "drift/canonical.json"
    first = message_request(canonical(), "golden-canonical-first")
    # Six hours before EVENT_TIME's window: another window id, its run created just now.
    earlier = message_request(canonical(), "golden-canonical-earlier", event_time=EARLIER)
    below = [{"name": "sqft", "deviation": 0.21, "threshold": 0.3}]
    cases += [
        Case("drift/canonical-structured", d, c,
             message_request(canonical(), "golden-canonical-structured", structured=True)),
        Case("drift/canonical-message_id", d, c,
             message_request(canonical(), "golden-canonical-snake", id_key="message_id")),
        Case("drift/canonical-same-window", d, c,
             message_request(canonical(), "golden-canonical-second"), (prior(d, first),)),
        Case("drift/canonical-cooling-down", d, c,
             message_request(canonical(), "golden-canonical-later"), (prior(d, earlier),)),
        Case("drift/canonical-redelivered-in-window", d, c,
             message_request(canonical(), "golden-canonical-first", event_id="golden-redelivery"),
             (prior(d, first),)),
        Case("drift/canonical-after-failed-run", d, c,
             message_request(canonical(), "golden-canonical-retry"),
             (prior(d, first), end_every_run("PIPELINE_STATE_FAILED", "out of memory"))),
        Case("drift/canonical-after-succeeded-run", d, c,
             message_request(canonical(), "golden-canonical-after-ok"),
             (prior(d, first), end_every_run("PIPELINE_STATE_SUCCEEDED"))),
        Case("drift/canonical-below-min-deviation", d, c,
             message_request(canonical(features=below), "golden-canonical-below")),
        Case("drift/canonical-other-model", d, c,
             message_request(canonical(model="projects/p/locations/l/models/churn"),
                             "golden-canonical-churn")),
        Case("drift/incident_open-renotified", d, "drift/incident_open.json",
             message_request(sample("drift/incident_open.json"), "golden-incident-again"),
             (prior(d, message_request(sample("drift/incident_open.json"),
                                       "golden-incident-first")),)),
        Case("drift/MessagePublishedData-structured", d, "MessagePublishedData.json",
             structured_file("MessagePublishedData.json")),
        Case("drift/MessagePublishedData-text", d, "MessagePublishedData-text.json",
             binary_data_file("MessagePublishedData-text.json", "golden-text")),
        Case("drift/not-json", d, c, message_request("{not json", "golden-drift-not-json")),
    ]  # fmt: skip
    return cases


def run_state_cases() -> list[Case]:
    r = "on_run_state"
    s = "run_state/pipeline_job_event.json"
    entry = message_request(run_state_entry(), "golden-run-state")
    answer_entry = message_request(run_state_entry(pipeline_job_id=ANSWER_RUN), "golden-chain")
    ours = made(SAMPLE_RUN, SAMPLE_RUN_LABELS)
    return [
        Case("run_state/succeeded", r, s, entry,
             (run(SAMPLE_RUN, ours, display_name=SAMPLE_RUN_NAME,
                  end="PIPELINE_STATE_SUCCEEDED"),)),
        Case("run_state/failed", r, s, entry,
             (run(SAMPLE_RUN, ours, display_name=SAMPLE_RUN_NAME, end="PIPELINE_STATE_FAILED",
                  message="The DAG failed because some tasks failed."),)),
        Case("run_state/cancelled", r, s, entry,
             (run(SAMPLE_RUN, ours, display_name=SAMPLE_RUN_NAME,
                  end="PIPELINE_STATE_CANCELLED"),)),
        Case("run_state/running", r, s, entry,
             (run(SAMPLE_RUN, ours, display_name=SAMPLE_RUN_NAME),)),
        Case("run_state/no-such-run", r, s, entry),
        Case("run_state/not-ours", r, s, entry,
             (run(SAMPLE_RUN, None, end="PIPELINE_STATE_SUCCEEDED"),)),
        Case("run_state/route-not-configured", r, s, entry,
             (run(SAMPLE_RUN, {**ours, "trigger-route": "gone"}, end="PIPELINE_STATE_SUCCEEDED"),)),
        Case("run_state/forged", r, s, entry,  # our labels, an auth label copied from another run
             (run(SAMPLE_RUN, {**SAMPLE_RUN_LABELS, "trigger-auth": made("x", {})["trigger-auth"]},
                  display_name=SAMPLE_RUN_NAME, end="PIPELINE_STATE_FAILED",
                  message="<!channel>"),)),
        Case("run_state/other-location", r, s,
             message_request(run_state_entry(location="europe-west4"), "golden-run-state-eu")),
        Case("run_state/no-job-named", r, s,
             message_request({**run_state_entry(), "resource": {"type": "global"}},
                             "golden-run-state-none")),
        Case("run_state/MessagePublishedData-structured", r, "MessagePublishedData.json",
             structured_file("MessagePublishedData.json")),
        Case("run_state/chain-after-a-succeeded-run", r, VERTEX_ANSWER, answer_entry,
             (vertex_answer_run("PIPELINE_STATE_SUCCEEDED"),), lines=2),
        Case("run_state/chain-after-a-succeeded-run-again", r, VERTEX_ANSWER, answer_entry,
             (vertex_answer_run("PIPELINE_STATE_SUCCEEDED"), prior(r, answer_entry, lines=2)),
             lines=2),
        Case("run_state/chain-after-a-failed-run", r, VERTEX_ANSWER, answer_entry,
             (vertex_answer_run("PIPELINE_STATE_FAILED"),), lines=2),
    ]  # fmt: skip


def hostile_cases() -> list[Case]:
    return [
        Case(
            f"hostile/{event.name}",
            HOSTILE_TARGETS[event.target],
            f"hostile/{event.name}.json",
            (event.headers, event.body),
        )
        for event in load_corpus(HOSTILE)
    ]


CASES = [*object_cases(), *batch_cases(), *drift_cases(), *run_state_cases(), *hostile_cases()]


# --- running a case and normalising what it did -----------------------------------------------

RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")
LOOPBACK = re.compile(r"127\.0\.0\.1:\d+")
NOW_WINDOW = timedelta(days=1)
ATTEMPTS = re.compile(r"(failed )\d+( time\(s\))")
LONG_TEXT = 2_000  # a longer string in a create body is pinned by its digest


class Normaliser:
    """Replace what differs between runs and machines (see the module docstring), nothing else."""

    def __init__(self, stack: Stack, attempts_vary: bool = False) -> None:
        self.attempts_vary = attempts_vary
        self.literals = [
            (str(REPO), "<REPO>"),
            (str(stack.config_dir), "<TMP>"),
            (stack.webhook.url, "<WEBHOOK_URL>"),
            (stack.vertex.host, "<VERTEX_HOST>"),
            (stack.bucket.host, "<GCS_HOST>"),
        ]

    def text(self, value: str) -> str:
        for literal, token in self.literals:
            value = value.replace(literal, token)
        value = LOOPBACK.sub("127.0.0.1:<PORT>", value)
        if self.attempts_vary:
            value = ATTEMPTS.sub(r"\1<N>\2", value)
        return RFC3339.sub(_now_or_kept, value)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, dict):
            return {self.text(key): self(item) for key, item in value.items()}
        return value


def _now_or_kept(match: re.Match[str]) -> str:
    text = match.group(0)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return "<NOW>" if abs(moment - datetime.now(UTC)) < NOW_WINDOW else text


def spec_digest(spec: Any) -> dict[str, Any]:
    canonical_json = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    name = spec.get("pipelineInfo", {}).get("name") if isinstance(spec, dict) else None
    return {"sha256": hashlib.sha256(canonical_json.encode()).hexdigest(), "pipeline": name}


def shortened(value: Any) -> Any:
    """Replace each string over LONG_TEXT characters by its length, sha256 and first characters."""
    if isinstance(value, str) and len(value) > LONG_TEXT:
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
        return {"length": len(value), "sha256": digest, "starts": value[:100]}
    if isinstance(value, list):
        return [shortened(item) for item in value]
    if isinstance(value, dict):
        return {key: shortened(item) for key, item in value.items()}
    return value


def created(requests_received: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The create requests, each body's spec as a digest, repeats of one attempt collapsed."""
    entries: list[dict[str, Any]] = []
    for received in requests_received:
        body = copy.deepcopy(received.get("body"))
        if isinstance(body, dict) and "pipelineSpec" in body:
            body["pipelineSpec"] = spec_digest(body["pipelineSpec"])
        body = shortened(body)
        entry = {"job_id": received.get("job_id"), "status": received.get("status"),
                 "body": body}  # fmt: skip
        if entries and {k: v for k, v in entries[-1].items() if k != "repeated"} == entry:
            entries[-1]["repeated"] = True
            continue
        entries.append(entry)
    return entries


def new_lines(
    server: FunctionServer, seen: int, status: int, count: int = 1
) -> list[dict[str, Any]]:
    """The ``count`` log lines the case's event wrote (none when the framework answered 400)."""
    if status == 400:  # functions-framework answered before the function ran: wait a little
        time.sleep(0.3)
        return server.log_records()[seen:]
    return server.wait_for_records(seen + count, LOG_TIMEOUT)[seen:]


def run_case(stack: Stack, case: Case) -> dict[str, Any]:
    """Send the case's event after its setup; return what it did, normalised."""
    stack.vertex.clean()
    stack.webhook.clear()
    stack.bucket.refusals.clear()
    for step in case.setup:
        step(stack)
    server = stack.functions[case.target]
    seen_lines, seen_creates = len(server.log_records()), len(stack.vertex.create_requests())
    response = stack.post(case.target, *case.request)
    lines = new_lines(server, seen_lines, response.status_code, case.lines)
    normalise = Normaliser(stack, case.attempts_vary)
    return {
        "entry_point": case.target,
        "sample": case.sample,
        "http_status": response.status_code,
        "log": normalise(lines[0] if len(lines) == 1 else lines or None),
        "creates": normalise(created(stack.vertex.create_requests()[seen_creates:])),
        "webhook": normalise(list(stack.webhook.bodies)),
    }


# --- the golden file --------------------------------------------------------------------------


def read_golden() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {"cases": {}}


@functools.cache
def golden_cases() -> dict[str, Any]:
    """The pinned cases, read once per session."""
    return read_golden()["cases"]


def write_golden(cases: dict[str, Any]) -> None:
    document = {
        "about": "Decision lines of every event sample, pinned from the code of the day; see "
                 "tests/functions/test_decision_lines.py (what is normalised, how to regenerate).",
        "cases": {name: cases[name] for name in [c.name for c in CASES] if name in cases},
    }  # fmt: skip
    GOLDEN.write_text(json.dumps(document, indent=1, ensure_ascii=True) + "\n")


def test_every_event_sample_has_a_case() -> None:
    """Every event file of tests/functions/data and of the hostile corpus is sent somewhere."""
    samples = {p.relative_to(DATA).as_posix() for p in DATA.rglob("*.json")
               if p.parent.name != "templates" and p != GOLDEN}  # fmt: skip
    samples |= {f"hostile/{p.name}" for p in HOSTILE.glob("*.json")}
    assert samples - {case.sample for case in CASES} == set()
    assert len({case.name for case in CASES}) == len(CASES)


def test_golden_file_holds_exactly_the_cases(request: pytest.FixtureRequest) -> None:
    if request.config.getoption("--record-decision-lines"):
        pytest.skip("recording")
    assert list(golden_cases()) == [case.name for case in CASES]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_decision_line(stack: Stack, case: Case, request: pytest.FixtureRequest) -> None:
    did = run_case(stack, case)
    if request.config.getoption("--record-decision-lines"):
        golden = read_golden()["cases"]
        golden[case.name] = did
        write_golden(golden)
        return
    assert did == golden_cases().get(case.name)
