import json
import time

import pytest
import requests
from kfp import local

from local.vertex_emulator import start_emulator
from pipelines.drift_component import drift_check
from pipelines.drift_monitoring import drift_monitoring
from tests.emulator.helpers import body_for, compile_spec, create, jobs_url

FINAL_STATES = {"PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED", "PIPELINE_STATE_CANCELLED"}


@pytest.fixture
def kfp_local(tmp_path):
    """kfp.local executing components as subprocesses of this interpreter."""
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path))


def test_component_reports_publishes_and_logs_metrics(kfp_local, pubsub_topic, data_dir, model):
    """kfp.local's subprocesses inherit PUBSUB_EMULATOR_HOST: the component publishes there."""
    task = drift_check(
        baseline_uri=str(data_dir / "baseline.json"),
        data_uri=str(data_dir / "neighborhood_shift.csv"),
        feature_thresholds={"sqft": 0.5},
        model=model,
        topic=pubsub_topic.topic,
    )

    assert task.outputs["Output"] is True
    with open(task.outputs["drift_report_json"].path) as file:
        report = json.load(file)
    assert [f["name"] for f in report["features"] if f["drifted"]] == ["neighborhood"]
    assert report["features"][0]["threshold"] == 0.5
    [message] = pubsub_topic.messages()
    assert json.loads(message.data) == report["alert"]
    assert report["published"] == {"topic": pubsub_topic.topic, "message_id": message.message_id}
    metrics = task.outputs["drift_metrics"].metadata
    assert metrics["drifted_features"] == 1
    assert metrics["distance_neighborhood"] == report["features"][-1]["distance"]


def test_monitoring_pipeline_without_drift_publishes_nothing(
    kfp_local, pubsub_topic, data_dir, model
):
    run = drift_monitoring(
        baseline_uri=str(data_dir / "baseline.json"),
        data_uri=str(data_dir / "same.csv"),
        model=model,
        topic=pubsub_topic.topic,
    )
    assert run.outputs["Output"] is False
    assert pubsub_topic.pending() == []


def wait_until_final(emulator, job_id, attempts=600):
    """Poll the job until it ends (bounded by attempts; nothing is asserted on time)."""
    job = {}
    for _ in range(attempts):
        job = requests.get(f"{jobs_url(emulator)}/{job_id}", timeout=10).json()
        if job.get("state") in FINAL_STATES:
            return job
        time.sleep(0.2)
    raise AssertionError(f"{job_id} stayed {job.get('state')}")


def test_monitoring_pipeline_runs_as_a_vertex_pipeline_job(tmp_path, pubsub_topic, data_dir, model):
    """Compiled and submitted as a scheduler would: the emulator runs it and the alert goes out."""
    spec = compile_spec(drift_monitoring, tmp_path)
    body = body_for(
        spec,
        baseline_uri=str(data_dir / "baseline.json"),
        data_uri=str(data_dir / "sqft_shift.csv"),
        model=model,
        topic=pubsub_topic.topic,
    )
    with start_emulator(tmp_path / "vertex", execute=True) as emulator:
        assert create(emulator, "drift-monitoring-1", body).status_code == 200
        job = wait_until_final(emulator, "drift-monitoring-1")

    assert job["state"] == "PIPELINE_STATE_SUCCEEDED", job.get("error")
    [task] = [t for t in job["jobDetail"]["taskDetails"] if t["taskName"] == "drift-check"]
    assert task["execution"]["metadata"]["output:Output"] is True
    [message] = pubsub_topic.messages()
    assert json.loads(message.data)["features"][0]["name"] == "sqft"
