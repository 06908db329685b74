"""terraform.tfvars.example deploys a working loop, checked the way the deployment meets it.

The example is rendered as Terraform renders it (hcl_eval over config.tf), the compiled templates
are uploaded to gcp-storage-emulator under the names google_storage_bucket_object.templates gives
them, and the functions' own start-up (build_services) reads and checks every route. Each route
then launches through the functions' real code onto the Vertex AI emulator, and every recorded
run's parameters pass its pipeline's own input checks and point at buckets the pipeline account
may use. An example that cannot run fails here, not in a run's first task.
"""

import inspect
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from vertex_trigger.config.labels import EVENT_LABEL, KIND_LABEL, ROUTE_LABEL, SOURCE_LABEL
from vertex_trigger.config.model import EventKind, Route
from vertex_trigger.decisions import Decision, Outcome, Trace
from vertex_trigger.events.drift_alerts.parsing import parse_drift_alert
from vertex_trigger.launch.identity import event_label, job_id, run_labels
from vertex_trigger.launch.launcher import launch
from vertex_trigger.launch.services import Services
from vertex_trigger.startup import Environment, build_services
from vertex_trigger.triggers.objects import handle_object_event
from vertex_trigger.triggers.serving import serve

from local.vertex_emulator import start_emulator
from local.vertex_emulator_client import VertexEmulatorClient
from pipelines.house_model import serving_image_mismatch
from pipelines.house_prices import DeployTarget, check_run_inputs
from pipelines.pins import pinned_versions
from tests.functions.helpers import DATA, StorageStandIn, storage_event
from tests.terraform.hcl_config import TERRAFORM_DIR, parse_file
from tests.terraform.hcl_eval import Evaluator, Module
from tests.terraform.helpers import plan

EXAMPLE = {k: v for k, v in parse_file(TERRAFORM_DIR / "terraform.tfvars.example").items()
           if not k.startswith("__")}  # fmt: skip
EXAMPLE_ROUTES = [route["name"] for route in EXAMPLE["routes"]]
PIPELINE_EMAIL = "vertex-triggers-pipeline@my-project.iam.gserviceaccount.com"
# Roles that let the pipeline account read objects, and those that also let it overwrite them.
READ_ROLES = {"roles/storage.objectViewer", "roles/storage.objectUser", "roles/storage.objectAdmin"}
WRITE_ROLES = {"roles/storage.objectUser", "roles/storage.objectAdmin"}


@dataclass(frozen=True)
class Deployment:
    """The example as deployed: Terraform's evaluation, the functions' services, Vertex."""

    evaluator: Evaluator
    services: Services
    vertex: VertexEmulatorClient

    def route(self, name: str) -> Route:
        return next(r for r in self.services.config.routes if r.name == name)

    def compiled_spec(self, route: Route) -> dict[str, Any]:
        """The compiled file a route's template was uploaded from."""
        name = route.template.uri.rsplit("/", 1)[-1]
        return yaml.safe_load((Path(self.evaluator.local("compiled_dir")) / name).read_text())


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    evaluator = plan(Module.load(TERRAFORM_DIR), EXAMPLE)  # validations and preconditions hold
    storage = StorageStandIn()
    emulator = start_emulator(tmp_path_factory.mktemp("vertex"), execute=False)
    try:
        compiled = Path(evaluator.local("compiled_dir"))
        bucket = evaluator.local("bucket_names")["templates"]
        for name in evaluator.local("template_files"):  # what google_storage_bucket_object uploads
            storage.upload(bucket, name, (compiled / name).read_bytes())
        config = tmp_path_factory.mktemp("function") / "triggers.yaml"
        config.write_text(evaluator.local("triggers_yaml"))  # what the archive ships
        services = build_services(Environment(
            config_path=config, vertex_emulator_host=emulator.host,
            storage_emulator_host=storage.url,
        ))
        yield Deployment(evaluator, services, VertexEmulatorClient(emulator.url, "my-project"))
    finally:
        emulator.stop()
        storage.stop()


def test_start_up_accepts_every_example_route(deployment: Deployment) -> None:
    # build_services raised ConfigError otherwise: every template read, every parameter fits.
    assert [r.name for r in deployment.services.config.routes] == EXAMPLE_ROUTES
    assert deployment.services.config.service_account == PIPELINE_EMAIL


@pytest.mark.parametrize("name", EXAMPLE_ROUTES)
def test_each_route_launches_a_run_its_pipeline_accepts(
    deployment: Deployment, name: str
) -> None:
    route = deployment.route(name)
    body = launched_body(deployment, route)
    spec = deployment.compiled_spec(route)
    values = {**compiled_defaults(spec), **body["runtimeConfig"]["parameterValues"]}
    pipeline = spec["pipelineInfo"]["name"]
    assert pipeline in PIPELINE_CHECKS, f"no input checks known for pipeline {pipeline!r}"
    PIPELINE_CHECKS[pipeline](values)
    assert body["serviceAccount"] == PIPELINE_EMAIL
    routed = body["runtimeConfig"]["parameterValues"]  # compiled defaults may name Google's buckets
    buckets_are_usable_by_the_pipeline_account(deployment.evaluator, routed)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_an_import_file_under_images_launches_automl_image(
    deployment: Deployment, suffix: str
) -> None:
    name = f"images/flowers/import{suffix}"
    outcome, body = dispatched(deployment, name)
    route = deployment.route(outcome.route)
    assert route.template.uri == "gs://my-project-templates/automl_image.yaml"
    compiled = deployment.compiled_spec(route)
    assert without_caching(body["pipelineSpec"]) == without_caching(compiled)
    assert set(task_caching(body["pipelineSpec"])) == {False}  # enable_caching = false
    assert body["runtimeConfig"] == {
        "gcsOutputDirectory": "gs://my-project-pipeline-root/runs",
        "parameterValues": {
            "gcs_source": f"gs://my-project-data/{name}",
            "project": "my-project",
            "location": "us-central1",
        },
    }
    labels = body["labels"]
    assert {k: labels.pop(k) for k in (ROUTE_LABEL, KIND_LABEL)} == {
        ROUTE_LABEL: route.name, KIND_LABEL: "object"}
    assert re.fullmatch(r"[0-9a-f]{16}", labels.pop(SOURCE_LABEL))
    assert labels.pop(EVENT_LABEL) == event_label(outcome.event_id)
    assert labels == {"team": "vision"}
    assert body["displayName"].startswith(f"gs://my-project-data/{name}#")
    assert outcome.job.startswith(f"{route.name}-")
    assert body["serviceAccount"] == PIPELINE_EMAIL
    assert {"templateUri", "network", "encryptionSpec"}.isdisjoint(body)


def test_the_images_themselves_launch_nothing(deployment: Deployment) -> None:
    before = len(deployment.vertex.requests_received())
    outcome = serve(handle_object_event, storage_event("images/flowers/rose.jpg",
                                                          bucket="my-project-data"),
                       deployment.services)  # fmt: skip
    assert outcome.decision is Decision.SKIPPED
    assert len(deployment.vertex.requests_received()) == before


# -- each pipeline's own input checks, called, not restated ----------------------------------------


def house_prices_inputs_hold(values: dict[str, Any]) -> None:
    """The pipeline's check_run_inputs step and its deploy step's serving-image check."""
    accepted = inspect.signature(check_run_inputs.python_func).parameters
    check_run_inputs.python_func(**{k: values[k] for k in accepted})  # raises naming the input
    if values["deploy_target"] == DeployTarget.VERTEX.value:
        image = values["serving_container_image_uri"]
        trained = pinned_versions()["scikit-learn"]
        assert serving_image_mismatch(image, trained) == ""
        # A custom image vouches for its own scikit-learn version, which serving_image_mismatch
        # cannot read; the example's tag names it, so a bump in requirements.txt shows up here.
        assert image.rsplit(":", 1)[-1] == trained


PIPELINE_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "house-prices": house_prices_inputs_hold,
    # Google Cloud Pipeline Components only: no step checks inputs before Vertex AI does, beyond
    # the required inputs the start-up check enforces.
    "automl-image": lambda values: None,
}


def buckets_are_usable_by_the_pipeline_account(
    evaluator: Evaluator, values: dict[str, Any]
) -> None:
    """Every gs:// value is readable by the pipeline account; the model registry writable."""
    roles = pipeline_bucket_roles(evaluator)
    for name, value in values.items():
        if isinstance(value, str) and value.startswith("gs://"):
            bucket = value.removeprefix("gs://").split("/", 1)[0]
            needed = WRITE_ROLES if name == "registry_uri" else READ_ROLES
            assert roles.get(bucket, set()) & needed, f"{name}: {bucket} is not granted"


def pipeline_bucket_roles(evaluator: Evaluator) -> dict[str, set[str]]:
    """Bucket -> roles of the pipeline account, from the module's own bucket IAM members."""
    member = f"serviceAccount:{PIPELINE_EMAIL}"
    roles: dict[str, set[str]] = {}
    for rtype, name in evaluator.module.resources:
        if rtype != "google_storage_bucket_iam_member":
            continue
        for granted in evaluator.render_resource(rtype, name).values():  # each instance
            if granted["member"] == member:
                roles.setdefault(granted["bucket"], set()).add(granted["role"])
    return roles


# -- launching ------------------------------------------------------------------------------------


def launched_body(deployment: Deployment, route: Route) -> dict[str, Any]:
    """Launch one run of a route through the functions' code; return the body Vertex received."""
    if route.event is EventKind.OBJECT_FINALIZED:
        return dispatched(deployment, f"{route.prefix}example{route.suffix}")[1]
    # Drift routes: the run that launch() creates for a real alert. Matching an alert to a
    # route is routing's business, tested with the functions; the run is this test's.
    alert = parse_drift_alert((DATA / "drift" / "canonical.json").read_bytes())
    trace = Trace(event_id="example", route=route.name, job=job_id(route.name, "example"))
    values = alert.placeholder_values(trace.event_id, "2026-11-26T12:00:00Z")
    outcome = launch(deployment.services, route, values,
                     run_labels(route, "drift", "example", trace.event_id), trace)  # fmt: skip
    return created(deployment, outcome)


def dispatched(deployment: Deployment, name: str) -> tuple[Outcome, dict[str, Any]]:
    """Send a finalized event for gs://DATA/name through on_object_finalized's handler."""
    bucket = deployment.evaluator.local("bucket_names")["data"]
    outcome = serve(handle_object_event, storage_event(name, bucket=bucket),
                       deployment.services)  # fmt: skip
    return outcome, created(deployment, outcome)


def created(deployment: Deployment, outcome: Outcome) -> dict[str, Any]:
    assert outcome.decision is Decision.LAUNCHED, outcome
    (request,) = [r for r in deployment.vertex.requests_received() if r["job_id"] == outcome.job]
    assert request["status"] == 200, request
    return json.loads(json.dumps(request["body"]))


def compiled_defaults(spec: dict[str, Any]) -> dict[str, Any]:
    parameters = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    return {name: p["defaultValue"] for name, p in parameters.items() if "defaultValue" in p}


def task_caching(spec: dict[str, Any]) -> list[bool]:
    return [
        task.get("cachingOptions", {}).get("enableCache")
        for component in [spec["root"], *spec.get("components", {}).values()]
        for task in component.get("dag", {}).get("tasks", {}).values()
    ]


def without_caching(spec: dict[str, Any]) -> dict[str, Any]:
    copy = json.loads(json.dumps(spec))
    for component in [copy["root"], *copy.get("components", {}).values()]:
        for task in component.get("dag", {}).get("tasks", {}).values():
            task.pop("cachingOptions", None)
    return copy
