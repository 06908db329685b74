"""terraform.tfvars.example, rendered as Terraform renders it, launches on every drift alert form.

The routes are the example's own: evaluated by tests/terraform/hcl_eval.py from variables.tf and
config.tf into the triggers.yaml Terraform ships. The template is gs://my-project-templates/
house_prices.yaml in gcp-storage-emulator, exactly as the rendered config names it; on_drift_alert
runs under functions-framework against the Vertex AI emulator.
"""

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from local import alert_forms
from local.vertex_emulator_client import VertexEmulatorClient
from tests.functions.helpers import (
    FunctionServer,
    StartedServers,
    StorageStandIn,
    VertexStandIn,
    load_json,
    pubsub_event,
)
from tests.terraform.hcl_config import REPO_ROOT, TERRAFORM_DIR, parse_file
from tests.terraform.hcl_eval import Module
from tests.terraform.helpers import plan

COMPILED = REPO_ROOT / "compiled" / "house_prices.yaml"
# What the README tells an alerting policy's owner to set for the example's incident route.
POLICY_LABEL = {"retrain": "house-prices"}
SINK = "prices-drift-monitoring"
SAMPLES = [
    ("canonical", "prices-drift"),
    ("anomaly_log_entry", SINK),
    ("anomaly_log_payload", SINK),
    ("stats_anomalies_log_entry", SINK),
    ("stats_anomalies", SINK),
    ("v2_anomaly_log_entry", SINK),
    ("incident_open", "prices-drift-incident"),
]
BUILT = [
    (alert_forms.Form.CANONICAL, "prices-drift"),
    (alert_forms.Form.LOG_ENTRY, SINK),
    (alert_forms.Form.STATS_ANOMALIES, SINK),
    (alert_forms.Form.V2, SINK),
    # send_alert's incident names the model in a metric label: the model's route, first, takes it.
    (alert_forms.Form.INCIDENT, "prices-drift"),
]


def rendered_example(compiled_dir: Path) -> dict[str, Any]:
    """The triggers.yaml Terraform renders from terraform.tfvars.example."""
    inputs = {
        key: value
        for key, value in parse_file(TERRAFORM_DIR / "terraform.tfvars.example").items()
        if not key.startswith("__")
    }
    inputs["compiled_templates_dir"] = str(compiled_dir)
    return yaml.safe_load(plan(Module.load(TERRAFORM_DIR), inputs).local("triggers_yaml"))


@pytest.fixture(scope="module")
def example_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not COMPILED.is_file():
        pytest.skip("compiled/house_prices.yaml is built by make compile")
    directory = tmp_path_factory.mktemp("example")
    (directory / "compiled").mkdir()
    for template in COMPILED.parent.glob("*.yaml"):
        (directory / "compiled" / template.name).write_bytes(template.read_bytes())
    path = directory / "triggers.yaml"
    path.write_text(yaml.safe_dump(rendered_example(directory / "compiled"), sort_keys=False))
    return path


@pytest.fixture(scope="module")
def server(servers: StartedServers, gcs: StorageStandIn, example_config: Path) -> FunctionServer:
    config = yaml.safe_load(example_config.read_text())
    for route in config["routes"]:  # where Terraform uploads compiled/*.yaml
        bucket, _, name = route["template"].removeprefix("gs://").partition("/")
        gcs.upload(bucket, name, (COMPILED.parent / name).read_bytes())
    return servers.start(
        "on_drift_alert", example_config, STORAGE_EMULATOR_HOST=gcs.url.removeprefix("http://")
    )


@pytest.fixture
def runs(clean_vertex: VertexStandIn) -> VertexEmulatorClient:
    """The emulator's runs in the example's project, none left from an earlier test."""
    return VertexEmulatorClient(clean_vertex.url, "my-project")


def deliver(server: FunctionServer, alert: dict[str, Any], mode: str) -> dict[str, Any]:
    event = pubsub_event(alert, message_id=f"example-{uuid.uuid4().hex[:12]}")
    response = server.send(event, mode)
    assert response.status_code == 200, response.text
    return server.log_for(event["id"])


def labelled(name: str) -> dict[str, Any]:
    alert = load_json(f"drift/{name}.json")
    if "incident" in alert:
        alert["incident"].setdefault("policy_user_labels", {}).update(POLICY_LABEL)
    return alert


@pytest.mark.parametrize("mode", ["binary", "structured"])
@pytest.mark.parametrize(("name", "route"), SAMPLES)
def test_each_google_form_launches_one_run(
    server: FunctionServer, runs: VertexEmulatorClient, name: str, route: str, mode: str
) -> None:
    entry = deliver(server, labelled(name), mode)
    assert (entry["decision"], entry["route"]) == ("launched", route), entry
    [run] = runs.list_runs()
    assert run["labels"]["trigger-route"] == route
    values = run["runtimeConfig"]["parameterValues"]
    assert values["data_uri"] == "gs://my-project-data/training/latest.csv"
    assert values["deploy_target"] == "vertex"


@pytest.mark.parametrize(("form", "route"), BUILT)
def test_each_form_send_alert_builds_launches_one_run(
    server: FunctionServer, runs: VertexEmulatorClient, form: alert_forms.Form, route: str
) -> None:
    spec = alert_forms.AlertSpec(
        features={"sqft": 0.5},
        model="projects/my-project/locations/us-central1/models/house-prices",
        policy_labels=POLICY_LABEL,
    )
    entry = deliver(server, alert_forms.build(form, spec), "binary")
    assert (entry["decision"], entry["route"]) == ("launched", route), entry
    assert len(runs.list_runs()) == 1


@pytest.mark.parametrize("name", ["incident_closed_docs", "incident_closed_forwarding"])
def test_closed_incident_launches_nothing(
    server: FunctionServer, runs: VertexEmulatorClient, name: str
) -> None:
    entry = deliver(server, labelled(name), "binary")
    assert (entry["decision"], entry["reason"]) == ("skipped", "incident closed")
    assert runs.list_runs() == []


def test_incident_redelivered_and_renotified_gives_one_run(
    server: FunctionServer, runs: VertexEmulatorClient
) -> None:
    """One incident notified twice (new message ids) under the example's 6 h cooldown."""
    incident = labelled("incident_open")
    decisions = [deliver(server, incident, mode)["decision"] for mode in ("binary", "structured")]
    assert decisions == ["launched", "duplicate"]
    assert len(runs.list_runs()) == 1
