"""``explain`` decides as the functions do, through their own handlers, and creates nothing."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.functions.helpers import (
    DATA,
    drift_route,
    object_route,
    pubsub_event,
    storage_event,
    write_config,
)
from tests.pubsub_fixtures import unique_id
from triggers_cli.events import event_from_bytes

MODEL = "projects/test-project/locations/us-central1/models/house-prices"
# Every event sample of the functions' tests (the templates, the pipeline source, the golden
# decision lines and a Vertex AI answer are not events).
NOT_EVENTS = {"decision_lines.json", "pipeline_job_succeeded.json"}
SAMPLES = sorted(
    p for p in DATA.rglob("*.json") if "templates" not in p.parts and p.name not in NOT_EVENTS
)
# The function's log decision for each explain decision.
SAME = {"would_launch": "launched", "would_report": "reported"}
SAMPLE_RUN = "arrival-0a1b2c3d4e5f60718293"  # the run data/run_state/pipeline_job_event.json names


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    """Routes the samples reach: their bucket's objects, and every drift alert."""
    routes = [
        object_route(bucket="sample-bucket", prefix="folder/", suffix=""),
        drift_route(),
    ]
    return write_config(tmp_path_factory.mktemp("explain"), routes)


@pytest.fixture(scope="module")
def functions(servers, config):
    targets = ("on_object_finalized", "on_drift_alert", "on_run_state")
    return {target: servers.start(target, config) for target in targets}


def explain(cli, config, vertex, event, *options):
    ran = cli("explain", event, "--config", config, "--json", *options,
              VERTEX_AI_EMULATOR_HOST=vertex.host)  # fmt: skip
    assert ran.code == 0, ran.err
    return ran.json()


def test_every_sample_is_covered():
    names = {p.relative_to(DATA).as_posix() for p in SAMPLES}
    assert {"StorageObjectData-simple.json", "MessagePublishedData.json", "drift/canonical.json",
            "run_state/pipeline_job_event.json"} <= names  # fmt: skip
    assert len(SAMPLES) >= 15


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.relative_to(DATA).as_posix())
def test_explain_json_agrees_with_the_function(sample: Path, functions, config, clean_vertex, cli):
    clean_vertex.create_raw(SAMPLE_RUN, {"trigger-route": "arrival", "trigger-kind": "object"})
    clean_vertex.end_run(SAMPLE_RUN, "PIPELINE_STATE_SUCCEEDED")
    before = len(clean_vertex.create_requests())

    explained = explain(cli, config, clean_vertex, sample, "--check-vertex")

    assert len(clean_vertex.create_requests()) == before  # explain created nothing
    # The same event, built as explain built it, sent to the real function over HTTP.
    same = event_from_bytes(sample.read_bytes(), datetime.now(UTC))
    assert same.function.value == explained["function"]
    server = functions[explained["function"]]
    seen = len(server.log_records())  # samples share the id `explain`: take the next line
    assert server.send(same.event).status_code == 200
    logged = server.wait_for_records(seen + 1)[seen]
    assert logged["event_id"] == explained["event_id"]
    assert SAME.get(explained["decision"], explained["decision"]) == logged["decision"]
    assert explained["route"] == logged["route"]
    assert explained["job"] == logged.get("job", "")
    assert explained["reason"] == logged.get("reason", "")
    if logged["decision"] == "launched":
        [sent] = clean_vertex.create_requests()[before:]
        assert (sent["job_id"], sent["body"]) == (explained["job"], explained["body"])


def test_a_launch_shows_its_parameters_labels_and_body(config, vertex, cli, tmp_path):
    data = {**json.loads((DATA / "StorageObjectData-simple.json").read_text()),
            "name": "folder/prices.csv", "generation": "42"}  # fmt: skip
    (tmp_path / "object.json").write_text(json.dumps(data))

    explained = explain(cli, config, vertex, tmp_path / "object.json")

    assert explained["decision"] == "would_launch"
    assert explained["parameters"] == {"data_uri": "gs://sample-bucket/folder/prices.csv",
                                       "generation": 42, "note": "folder/prices.csv"}  # fmt: skip
    assert explained["labels"]["trigger-route"] == "arrival"
    assert explained["body"]["runtimeConfig"]["parameterValues"] == explained["parameters"]
    assert explained["body"]["displayName"] == "gs://sample-bucket/folder/prices.csv#42"
    assert explained["body"]["pipelineSpec"]["pipelineInfo"]["name"]


def test_check_vertex_shows_a_duplicate(functions, config, clean_vertex, cli, tmp_path):
    event = storage_event("folder/again.csv", bucket="sample-bucket", generation="7")
    assert functions["on_object_finalized"].send(event).status_code == 200
    (tmp_path / "event.json").write_text(json.dumps(
        {**event.get_attributes(), "specversion": "1.0", "data": event.get_data()}))  # fmt: skip

    offline = explain(cli, config, clean_vertex, tmp_path / "event.json")
    checked = explain(cli, config, clean_vertex, tmp_path / "event.json", "--check-vertex")

    assert offline["decision"] == "would_launch"  # Vertex not asked
    assert checked["decision"] == "duplicate"
    assert checked["job"] == offline["job"]
    assert len(clean_vertex.create_requests()) == 1  # the function's own


def test_check_vertex_shows_a_cooldown(servers, clean_vertex, cli, tmp_path):
    config = write_config(tmp_path, [drift_route(cooldown="6h")])
    drift = servers.start("on_drift_alert", config)
    alert = {"model": MODEL, "features": [{"name": "sqft", "deviation": 0.5}]}
    assert drift.send(pubsub_event(alert)).status_code == 200
    (tmp_path / "alert.json").write_text(json.dumps(alert))

    offline = explain(cli, config, clean_vertex, tmp_path / "alert.json")
    checked = explain(cli, config, clean_vertex, tmp_path / "alert.json", "--check-vertex")

    assert offline["decision"] == "would_launch"
    assert checked["decision"] == "skipped"
    assert checked["reason"].startswith("cooling down: run drift-")
    assert checked["body"] is None
    assert len(clean_vertex.create_requests()) == 1


def test_a_value_that_does_not_fit_is_rejected(config, vertex, cli, tmp_path):
    data = {"bucket": "sample-bucket", "name": "folder/x.csv", "generation": "nine"}
    (tmp_path / "object.json").write_text(json.dumps(data))

    explained = explain(cli, config, vertex, tmp_path / "object.json")

    assert explained["decision"] == "rejected"
    assert "storage event field 'generation' must be an int64" in explained["reason"]


def test_the_human_form_shows_the_request(config, vertex, cli):
    ran = cli("explain", DATA / "drift" / "canonical.json", "--config", config,
              VERTEX_AI_EMULATOR_HOST=vertex.host)  # fmt: skip

    assert ran.code == 0
    assert ran.out.splitlines()[2].split() == ["decision", "would_launch"]
    assert "function  on_drift_alert (event read as message data)" in ran.out
    assert "POST .../pipelineJobs?pipelineJobId=drift-" in ran.out
    assert "in full with --json>" in ran.out


def test_a_live_object_is_explained_from_its_metadata(gcs, vertex, cli, tmp_path):
    bucket = unique_id("explain")
    generation = gcs.upload(bucket, "folder/live.csv", b"a,b\n1,2\n")
    gcs.upload(bucket, "folder/live.csv.bak", b"a neighbour sharing the name as a prefix")
    parameters = {"data_uri": "{uri}", "generation": 1, "note": "{size}"}
    route = object_route(bucket=bucket, prefix="folder/", suffix="", parameters=parameters)
    config = write_config(tmp_path, [route])

    ran = cli("explain", f"gs://{bucket}/folder/live.csv", "--config", config, "--json",
              STORAGE_EMULATOR_HOST=gcs.url, VERTEX_AI_EMULATOR_HOST=vertex.host)  # fmt: skip
    missing = cli("explain", f"gs://{bucket}/folder/gone.csv", "--config", config,
                  STORAGE_EMULATOR_HOST=gcs.url, VERTEX_AI_EMULATOR_HOST=vertex.host)  # fmt: skip

    assert ran.code == 0, ran.err
    assert ran.json()["decision"] == "would_launch"
    assert ran.json()["source"] == f"gs://{bucket}/folder/live.csv#{generation}"
    assert ran.json()["parameters"]["note"] == "8"
    assert missing.code == 2
    assert missing.err.strip() == f"gs://{bucket}/folder/gone.csv: no such object"


def test_a_batch_object_is_explained_by_listing_its_folder(gcs, vertex, cli, tmp_path):
    bucket = unique_id("explain-batch")
    gcs.upload(bucket, "exports/d1/part-0", b"x")
    gcs.upload(bucket, "exports/d2/part-0", b"x")
    gcs.upload(bucket, "exports/d2/_SUCCESS", b"ok")
    route = object_route(
        bucket=bucket,
        prefix="exports/",
        suffix="",
        batch={"complete_when": {"marker": "_SUCCESS"}},
        parameters={"data_uri": "{batch_uri}", "generation": "{batch_objects}"},
    )
    config = write_config(tmp_path, [route])
    hosts = {"STORAGE_EMULATOR_HOST": gcs.url, "VERTEX_AI_EMULATOR_HOST": vertex.host}
    before = len(vertex.create_requests())

    waiting = cli(
        "explain", f"gs://{bucket}/exports/d1/part-0", "--config", config, "--json", **hosts
    )
    complete = cli(
        "explain",
        f"gs://{bucket}/exports/d2/_SUCCESS",
        "--config",
        config,
        "--json",
        "--check-vertex",
        **hosts,
    )

    assert waiting.json()["decision"] == "skipped"
    assert "_SUCCESS" in waiting.json()["reason"]
    assert complete.json()["decision"] == "would_launch"
    assert complete.json()["parameters"] == {
        "data_uri": f"gs://{bucket}/exports/d2/",
        "generation": 1,
    }
    assert len(vertex.create_requests()) == before


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    """No Application Default Credentials: no key file, an empty gcloud folder, no metadata."""
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")  # nothing answers: not on Google Cloud
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")


def test_a_live_object_without_emulator_or_credentials_says_what_it_needs(
    config, cli, no_credentials
):
    ran = cli("explain", "gs://sample-bucket/folder/a.csv", "--config", config)

    assert ran.code == 1
    assert ran.out == ""
    assert ran.err.splitlines() == [
        "explain: reading gs://sample-bucket/folder/a.csv's metadata needs Cloud Storage: set "
        "STORAGE_EMULATOR_HOST (the local stack's: `make up` prints the line to export) or Google "
        "credentials (gcloud auth application-default login); or explain a file holding the "
        "event (no emulator host or credentials)"
    ]


def test_reading_runs_without_emulator_or_credentials_says_what_it_needs(
    config, cli, no_credentials
):
    ran = cli("explain", DATA / "drift" / "canonical.json", "--config", config, "--check-vertex",
              TRIGGER_RUN_KEY="a deployment's key")  # fmt: skip

    assert ran.code == 1
    [line] = ran.err.splitlines()
    assert line.startswith("explain: reading runs needs Vertex AI: set VERTEX_AI_EMULATOR_HOST")
    assert line.endswith("; or leave out --check-vertex (no emulator host or credentials)")


@pytest.mark.parametrize(
    "event", [DATA / "drift" / "canonical.json", DATA / "run_state" / "pipeline_job_event.json"]
)
def test_reading_runs_without_a_run_key_stops_as_an_instance_does(
    config, cli, no_credentials, monkeypatch, event
):
    """Runs read on Google Cloud are told ours by the deployment's key: no stand-in for it."""
    monkeypatch.delenv("TRIGGER_RUN_KEY", raising=False)
    options = ["--check-vertex"] if "drift" in event.parts else []  # a run's end always reads

    ran = cli("explain", event, "--config", config, *options)

    assert ran.code == 1
    assert ran.out == ""
    [line] = ran.err.splitlines()
    assert line.startswith("vertex_trigger.errors.ConfigError: TRIGGER_RUN_KEY is not set: ")


def test_without_reading_runs_no_run_key_is_needed(config, cli, no_credentials, monkeypatch):
    monkeypatch.delenv("TRIGGER_RUN_KEY", raising=False)

    ran = cli("explain", DATA / "drift" / "canonical.json", "--config", config, "--json")

    assert ran.code == 0, ran.err
    assert ran.json()["decision"] == "would_launch"


def canonical() -> dict:
    return json.loads((DATA / "drift" / "canonical.json").read_text())


def base64_of(document: dict) -> str:
    import base64

    return base64.b64encode(json.dumps(document).encode()).decode()


@pytest.mark.parametrize(
    ("form", "document"),
    [
        ("message data", canonical()),
        ("PubsubMessage", {"data": base64_of(canonical())}),  # data alone, as gcloud publishes it
        ("PubsubMessage", {"data": base64_of(canonical()), "attributes": {"model": "m"}}),
        ("MessagePublishedData", {"message": {"data": base64_of(canonical())},
                                  "subscription": "projects/p/subscriptions/s"}),
        ("the drift check's report (its alert)",
         {"drifted": True, "features": [{"name": "sqft", "distance": 0.4, "drifted": True}],
          "alert": canonical()}),
    ],
)  # fmt: skip
def test_an_alert_file_in_any_documented_form_is_read(
    config, vertex, cli, tmp_path, form, document
):
    path = tmp_path / "alert.json"
    path.write_text(json.dumps(document))

    ran = cli("explain", path, "--config", config, VERTEX_AI_EMULATOR_HOST=vertex.host)
    explained = explain(cli, config, vertex, path)

    assert f"on_drift_alert (event read as {form})" in ran.out
    assert explained["decision"] == "would_launch"
    assert explained["route"] == "drift"
