"""Start-up: a bad file stops the instance; the runtime path stays free of heavy libraries."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.function_server import FUNCTIONS_DIR, FunctionServer, launch_function_server
from tests.functions.helpers import (
    TYPED_TEMPLATE,
    FaultyProxy,
    StorageStandIn,
    VertexStandIn,
    object_route,
    write_config,
)

HEAVY = ("google.cloud.aiplatform", "kfp", "pandas", "numpy", "grpc", "google.auth")
# The functions' HTTP client is the standard library's (vertex_trigger/http.py).
NOT_ON_THE_COLD_PATH = (*HEAVY, "requests", "urllib3", "charset_normalizer", "idna")


@pytest.mark.parametrize("target", ["on_object_finalized", "on_drift_alert"])
def test_bad_config_stops_functions_framework_with_route_and_key(
    tmp_path: Path, target: str
) -> None:
    config = write_config(
        tmp_path, [object_route(parameters={"data_uri": "{url}", "generation": 1})]
    )
    server = launch_function_server(
        target, {"TRIGGERS_CONFIG": str(config), "VERTEX_AI_EMULATOR_HOST": "127.0.0.1:9"}
    )
    try:
        with pytest.raises(RuntimeError) as caught:
            server.wait_ready()
    finally:
        server.stop()
    assert server.process.returncode != 0
    assert "ConfigError" in str(caught.value)
    assert "route 'arrival': key 'parameters.data_uri': unknown placeholder {url}" in str(
        caught.value
    )


def first_object_event(
    tmp_path: Path, vertex: VertexStandIn, target: str, *more_routes: dict[str, Any]
) -> dict[str, Any]:
    """Import main, handle a first object event in a new process; return its log line and the
    modules it loaded (``heavy``: NOT_ON_THE_COLD_PATH; ``ours``: vertex_trigger's)."""
    config = write_config(tmp_path, [object_route(), *more_routes])
    script = (
        "import json, sys\n"
        "from cloudevents.http import CloudEvent\n"
        "import main\n"
        "event = CloudEvent({'type': 'google.cloud.storage.object.v1.finalized', 'source': 's',"
        " 'id': 'cold-1'}, {'bucket': 'data', 'name': 'incoming/a.csv', 'generation': '1'})\n"
        "main.on_object_finalized(event)\n"
        f"heavy = sorted(m for m in sys.modules if m.startswith({NOT_ON_THE_COLD_PATH!r}))\n"
        "ours = sorted(m for m in sys.modules if m.startswith('vertex_trigger.'))\n"
        "print(json.dumps({'heavy': heavy, 'ours': ours}))\n"
    )
    env = {
        **os.environ,
        "TRIGGERS_CONFIG": str(config),
        "VERTEX_AI_EMULATOR_HOST": vertex.host,
        "FUNCTION_TARGET": target,
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=FUNCTIONS_DIR, env=env, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    log_line, report = (json.loads(line) for line in result.stdout.strip().splitlines()[-2:])
    return {**report, "decision": log_line["decision"]}


@pytest.mark.parametrize("target", ["", "on_object_finalized"])
def test_cold_path_imports_no_heavy_library(
    tmp_path: Path, clean_vertex: VertexStandIn, target: str
) -> None:
    """Import main, handle a first event: aiplatform, kfp, pandas, numpy, grpc, google.auth and
    requests stay unloaded, whether or not FUNCTION_TARGET names the entry point."""
    first = first_object_event(tmp_path, clean_vertex, target)
    assert first["decision"] == "launched"
    assert first["heavy"] == []


def test_an_object_instance_never_loads_the_other_entry_points_modules(
    tmp_path: Path, clean_vertex: VertexStandIn
) -> None:
    """Served as deployed (FUNCTION_TARGET): no drift alert parser, cooldown, run state, sweeper,
    run chains."""
    first = first_object_event(tmp_path, clean_vertex, "on_object_finalized")
    others = ["vertex_trigger.triggers.cooldown", "vertex_trigger.events.drift_alerts.forms",
              "vertex_trigger.events.drift_alerts.parsing", "vertex_trigger.triggers.drift",
              "vertex_trigger.triggers.run_state", "vertex_trigger.reporting.report",
              "vertex_trigger.triggers.sweep", "vertex_trigger.public",
              "vertex_trigger.triggers.chains", "vertex_trigger.launch.upstream_outputs",
              "vertex_trigger.launch.chain_fit", "vertex_trigger.launch.task_outputs"]  # fmt: skip
    assert "vertex_trigger.triggers.objects" in first["ours"]
    assert sorted(set(others) & set(first["ours"])) == []


def test_an_instance_loads_a_features_modules_only_when_its_configuration_uses_it(
    tmp_path: Path, clean_vertex: VertexStandIn
) -> None:
    """A plain object route (no batch, overlap, state, parking, notify): none of their modules,
    nor the outcome senders only on_run_state uses, nor the drift alert's classes."""
    first = first_object_event(tmp_path, clean_vertex, "on_object_finalized")
    assert first["decision"] == "launched"
    features = ["vertex_trigger.triggers.batches", "vertex_trigger.triggers.batch_rules",
                "vertex_trigger.triggers.manifests", "vertex_trigger.launch.overlap",
                "vertex_trigger.launch.race_cancels", "vertex_trigger.launch.pauses",
                "vertex_trigger.google.state_objects", "vertex_trigger.triggers.parking",
                "vertex_trigger.google.pubsub", "vertex_trigger.google.webhook",
                "vertex_trigger.events.drift_alerts.alert"]  # fmt: skip
    assert sorted(set(features) & set(first["ours"])) == []


def test_an_object_instance_checks_run_ended_routes_but_never_loads_their_launching(
    tmp_path: Path, clean_vertex: VertexStandIn
) -> None:
    """A run_ended route is checked at every launching instance's start; only on_run_state and
    the sweeper launch it, so an object instance loads the check and nothing of the chains."""
    chained = {"name": "after-arrival", "event": "run_ended", "after": {"route": "arrival"},
               "template": str(TYPED_TEMPLATE),
               "parameters": {"data_uri": "{tasks.describe.outputs.parameters.Output}",
                              "generation": 0}}  # fmt: skip
    first = first_object_event(tmp_path, clean_vertex, "on_object_finalized", chained)
    assert first["decision"] == "launched"
    assert "vertex_trigger.launch.chain_fit" in first["ours"]
    launching = ["vertex_trigger.triggers.chains", "vertex_trigger.launch.upstream_outputs",
                 "vertex_trigger.triggers.run_state", "vertex_trigger.triggers.sweep"]  # fmt: skip
    assert sorted(set(launching) & set(first["ours"])) == []


@pytest.fixture
def template_proxy(gcs: StorageStandIn) -> Iterator[FaultyProxy]:
    """gcp-storage-emulator holding gs://startup-templates/typed.yaml, behind a faulty proxy."""
    gcs.upload("startup-templates", "typed.yaml", TYPED_TEMPLATE.read_bytes())
    proxy = FaultyProxy(gcs.url)
    yield proxy
    proxy.stop()


def start_with_gcs_template(tmp_path: Path, proxy: FaultyProxy) -> tuple[Path, FunctionServer]:
    config = write_config(tmp_path, [object_route(template="gs://startup-templates/typed.yaml")])
    env = {"TRIGGERS_CONFIG": str(config), "VERTEX_AI_EMULATOR_HOST": "127.0.0.1:9",
           "STORAGE_EMULATOR_HOST": proxy.url}  # fmt: skip
    return config, launch_function_server("on_object_finalized", env)


def test_a_transient_template_read_at_start_up_is_retried(
    tmp_path: Path, template_proxy: FaultyProxy
) -> None:
    template_proxy.faults = [503, 429]
    _, server = start_with_gcs_template(tmp_path, template_proxy)
    try:
        server.wait_ready()
    finally:
        server.stop()
    assert template_proxy.faults == []
    assert template_proxy.requests == 4  # 503, 429, then the generation and the download


def test_a_template_unreadable_through_the_start_up_budget_stops_the_instance(
    tmp_path: Path, template_proxy: FaultyProxy
) -> None:
    template_proxy.always = 503
    config, server = start_with_gcs_template(tmp_path, template_proxy)
    try:
        with pytest.raises(RuntimeError) as caught:
            server.wait_ready()
    finally:
        server.stop()
    message = str(caught.value)
    expected = "key 'template': cannot read it: Cloud Storage GET failed"
    assert f"ConfigError: {config}: route 'arrival': {expected}" in message
    assert "last: HTTP 503 Injected." in message
    assert "time(s) within 3s" in message
    assert "last: HTTP 503 Injected." in message
    assert template_proxy.requests > 1
