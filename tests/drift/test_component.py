import json

import pytest
from kfp import local

from local.pubsub_publish_server import PublishServer
from pipelines.drift_component import drift_check
from pipelines.drift_monitoring import drift_monitoring

TOPIC = "projects/demo-project/topics/drift-alerts"


@pytest.fixture
def kfp_local(tmp_path):
    """kfp.local executing components as subprocesses of this interpreter."""
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path))


@pytest.fixture
def pubsub(monkeypatch):
    """The loopback Publish server; kfp.local's subprocesses inherit PUBSUB_EMULATOR_HOST."""
    with PublishServer(topics=[TOPIC]) as server:
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", server.host)
        yield server


def test_component_reports_publishes_and_logs_metrics(kfp_local, pubsub, data_dir, model):
    task = drift_check(
        baseline_uri=str(data_dir / "baseline.json"),
        data_uri=str(data_dir / "neighborhood_shift.csv"),
        feature_thresholds={"sqft": 0.5},
        model=model,
        topic=TOPIC,
    )

    assert task.outputs["Output"] is True
    with open(task.outputs["drift_report_json"].path) as file:
        report = json.load(file)
    assert [f["name"] for f in report["features"] if f["drifted"]] == ["neighborhood"]
    assert report["features"][0]["threshold"] == 0.5
    [message] = pubsub.messages
    assert json.loads(message.data) == report["alert"]
    assert report["published"] == {"topic": TOPIC, "message_id": message.message_id}
    metrics = task.outputs["drift_metrics"].metadata
    assert metrics["drifted_features"] == 1
    assert metrics["distance_neighborhood"] == report["features"][-1]["distance"]


def test_monitoring_pipeline_without_drift_publishes_nothing(kfp_local, pubsub, data_dir, model):
    run = drift_monitoring(
        baseline_uri=str(data_dir / "baseline.json"),
        data_uri=str(data_dir / "same.csv"),
        model=model,
        topic=TOPIC,
    )
    assert run.outputs["Output"] is False
    assert pubsub.messages == []
