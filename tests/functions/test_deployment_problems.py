"""A problem of the deployment fails the event so it waits; a problem of the event rejects it.

Through functions-framework's server, the Vertex emulator answering with recorded Google error
bodies, and gcp-storage-emulator behind a proxy that can refuse template reads.
"""

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from local.function_server import launch_function_server
from tests.functions.helpers import (
    TYPED_TEMPLATE,
    FaultyProxy,
    FunctionServer,
    StartedServers,
    StorageStandIn,
    VertexStandIn,
    google_error,
    object_route,
    storage_event,
    write_config,
    write_service_account_key,
)

DEPLOYMENT = "deployment problem: "


@pytest.fixture(scope="module")
def storage_proxy(gcs: StorageStandIn) -> Iterator[FaultyProxy]:
    gcs.upload("guarded-templates", "typed.yaml", TYPED_TEMPLATE.read_bytes())
    proxy = FaultyProxy(gcs.url)
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def moving_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local template the tests replace with versions that no longer fit the route."""
    path = tmp_path_factory.mktemp("moving") / "moving.yaml"
    path.write_bytes(TYPED_TEMPLATE.read_bytes())
    return path


@pytest.fixture(scope="module")
def server(
    servers: StartedServers,
    storage_proxy: FaultyProxy,
    moving_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> FunctionServer:
    routes = [
        object_route(),
        object_route(name="guarded", bucket="guarded", template="gs://guarded-templates/typed.yaml"),
        object_route(name="moving", bucket="moving", template=str(moving_template)),
    ]
    config = write_config(tmp_path_factory.mktemp("deployment"), routes)
    return servers.start("on_object_finalized", config, STORAGE_EMULATOR_HOST=storage_proxy.url)


def failed_delivery(server: FunctionServer, event: Any) -> dict[str, Any]:
    """Send an event that must fail (HTTP 500, so Eventarc redelivers); return its log line."""
    response = server.send(event)
    assert response.status_code == 500, response.text
    entry = server.log_for(event["id"])
    assert (entry["decision"], entry["severity"]) == ("failed", "ERROR")
    return entry


def redelivered(server: FunctionServer, event: Any) -> dict[str, Any]:
    """Deliver the same event again, as Eventarc does, and return the new log line."""
    before = len(server.entries_for(event["id"]))
    assert server.send(event).status_code == 200
    deadline = time.monotonic() + 10
    while len(entries := server.entries_for(event["id"])) == before:  # the pipe lags
        assert time.monotonic() < deadline, "no log line for the redelivery"
        time.sleep(0.05)
    return entries[before]


@pytest.mark.parametrize(
    "error",
    [
        "permission_denied.json",
        "kms_key_unusable.json",
        "org_policy_cmek.json",
        "act_as_denied.json",  # 400 INVALID_ARGUMENT: was acknowledged as rejected, and lost
        "pipeline_root_denied.json",  # 400 FAILED_PRECONDITION: likewise
        "project_invalid.json",
    ],
)
def test_vertex_refusing_the_deployment_fails_the_event_until_it_is_fixed(
    server: FunctionServer, clean_vertex: VertexStandIn, error: str
) -> None:
    fault = google_error(error)
    clean_vertex.fault(**fault)
    event = storage_event("incoming/waits.csv")
    entry = failed_delivery(server, event)
    assert entry["reason"].startswith(
        f"{DEPLOYMENT}Vertex AI refused to create {entry['job']}: HTTP {fault['status']} "
        f"{fault['error_status']} {fault['message'][:30]}"
    )
    assert entry["reason"].endswith(
        "raising so the event is redelivered, then dead-lettered, until the deployment is fixed"
    )
    assert clean_vertex.jobs() == []
    # The operator fixes IAM (the fault was used up): the redelivered event launches, none lost.
    assert redelivered(server, event)["decision"] == "launched"


def test_a_request_vertex_refuses_for_its_content_is_still_rejected(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    clean_vertex.fault(kind="status", status=400, message="Invalid value at 'pipeline_job'.")
    event = storage_event("incoming/refused.csv", event_id="content-400")
    assert server.send(event).status_code == 200
    entry = server.log_for(event["id"])
    assert entry["decision"] == "rejected"
    assert entry["reason"].startswith("Vertex AI refused to create")
    assert "HTTP 400 INVALID_ARGUMENT Invalid value" in entry["reason"]


def test_a_409_aborted_is_retried_inside_the_request(
    server: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    clean_vertex.fault(kind="status", status=409, error_status="ABORTED", count=1)
    event = storage_event("incoming/aborted.csv")
    assert server.send(event).status_code == 200
    assert server.log_for(event["id"])["decision"] == "launched"
    assert [r["status"] for r in clean_vertex.create_requests()] == [409, 200]


def test_a_template_the_function_may_not_read_is_a_deployment_problem(
    server: FunctionServer, clean_vertex: VertexStandIn, storage_proxy: FaultyProxy
) -> None:
    storage_proxy.always = 403
    event = storage_event("incoming/template-denied.csv", bucket="guarded")
    try:
        entry = failed_delivery(server, event)
    finally:
        storage_proxy.always = None
    assert entry["route"] == "guarded"
    assert entry["reason"].startswith(
        f"{DEPLOYMENT}Cloud Storage refused to read gs://guarded-templates/typed.yaml: "
        "HTTP 403 Injected."
    )
    assert redelivered(server, event)["decision"] == "launched"


def test_a_template_read_failing_transiently_is_retried(
    server: FunctionServer, clean_vertex: VertexStandIn, storage_proxy: FaultyProxy
) -> None:
    storage_proxy.faults = [503, 503]
    event = storage_event("incoming/template-flaky.csv", bucket="guarded")
    assert server.send(event).status_code == 200
    assert server.log_for(event["id"])["decision"] == "launched"
    assert storage_proxy.faults == []


def test_a_new_template_version_that_no_longer_fits_the_route_is_a_deployment_problem(
    server: FunctionServer, clean_vertex: VertexStandIn, moving_template: Path
) -> None:
    spec = yaml.safe_load(TYPED_TEMPLATE.read_text())
    spec["root"]["inputDefinitions"]["parameters"]["owner"] = {"parameterType": "STRING"}
    moving_template.write_text(yaml.safe_dump(spec))
    bump_mtime(moving_template)
    event = storage_event("incoming/moved.csv", bucket="moving")
    try:
        entry = failed_delivery(server, event)
        assert entry["reason"].startswith(
            f"{DEPLOYMENT}route 'moving' does not fit template {moving_template} (version "
        )
        assert "key 'parameters': required input(s) of" in entry["reason"]
        assert entry["reason"].split("not supplied: ")[1].startswith("owner;")
    finally:
        moving_template.write_bytes(TYPED_TEMPLATE.read_bytes())
        bump_mtime(moving_template)
    assert redelivered(server, event)["decision"] == "launched"


def bump_mtime(path: Path) -> None:
    """Move the file's mtime on, so a coarse filesystem clock cannot hide the change."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


@pytest.fixture(scope="module")
def credentials_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A service account key whose token endpoint is on this machine (never Google's)."""
    key = tmp_path_factory.mktemp("credentials") / "key.json"
    return write_service_account_key(key, "http://127.0.0.1:9/token")


@pytest.mark.parametrize("token_endpoint", ["refused", "answers 400"])
def test_no_access_token_is_transient(
    tmp_path: Path, credentials_file: Path, token_endpoint: str
) -> None:
    """google.auth TransportError (the token endpoint unreachable) and RefreshError: retried,
    then failed and raised; the event is not blamed on the deployment, it is redelivered."""
    info = json.loads(credentials_file.read_text())
    token_server = FaultyProxy("http://127.0.0.1:9")
    token_server.always = 400
    if token_endpoint == "answers 400":
        info["token_uri"] = f"{token_server.url}/token"
    key = tmp_path / "key.json"
    key.write_text(json.dumps(info))
    config = write_config(tmp_path, [object_route()])
    env = {"TRIGGERS_CONFIG": str(config), "GOOGLE_APPLICATION_CREDENTIALS": str(key),
           "VERTEX_AI_EMULATOR_HOST": "", "STORAGE_EMULATOR_HOST": "",
           "TRIGGER_RUN_KEY": "a-run-key"}  # fmt: skip
    server = launch_function_server("on_object_finalized", env).wait_ready()
    try:
        event = storage_event("incoming/no-token.csv")
        entry = failed_delivery(server, event)
    finally:
        server.stop()
        token_server.stop()
    expected = "TransportError" if token_endpoint == "refused" else "RefreshError"
    assert entry["reason"].startswith("Vertex AI POST failed ")
    assert f"last: cannot get an access token: {expected}: " in entry["reason"]
    assert entry["reason"].endswith("raising so the event is redelivered")
