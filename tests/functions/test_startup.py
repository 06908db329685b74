"""Start-up: a bad file stops the instance; the runtime path stays free of heavy libraries."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from cloudevents.http import CloudEvent

from local.function_server import FUNCTIONS_DIR, FunctionServer, launch_function_server
from tests.functions.helpers import (
    TYPED_TEMPLATE,
    FaultyProxy,
    StorageStandIn,
    VertexStandIn,
    object_route,
    pubsub_event,
    run_state_entry,
    storage_event,
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
    event = storage_event("incoming/a.csv", bucket="data", generation="1")
    return first_event(tmp_path, vertex, target, "on_object_finalized", event, more_routes)


def first_event(
    tmp_path: Path,
    vertex: VertexStandIn,
    target: str,
    entry_point: str,
    event: CloudEvent,
    more_routes: Sequence[dict[str, Any]] = (),
    **first_route: Any,
) -> dict[str, Any]:
    """Import main, hand ``event`` to ``entry_point`` in a new process; return its decision line
    and the modules it loaded (``heavy``: NOT_ON_THE_COLD_PATH; ``ours``: vertex_trigger's)."""
    config = write_config(tmp_path, [object_route(**first_route), *more_routes])
    script = (
        "import json, sys\n"
        "from cloudevents.http import CloudEvent\n"
        "import main\n"
        f"event = CloudEvent(json.loads({json.dumps(dict(event.get_attributes()))!r}),"
        f" json.loads({json.dumps(event.get_data())!r}))\n"
        f"main.{entry_point}(event)\n"
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
    return {**report, "decision": log_line["decision"], "job": log_line.get("job")}


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


@pytest.mark.parametrize(
    ("rules", "loaded"), [({}, False), ({"retry_failed": {"attempts": 2}}, True)]
)
def test_a_run_state_instance_loads_chains_and_lifecycle_rules_only_when_configured(
    tmp_path: Path, clean_vertex: VertexStandIn, rules: dict[str, Any], loaded: bool
) -> None:
    """A failed run of a route without chains or lifecycle rules is reported without loading
    them; with retry_failed, the same end loads the retries (and launches the retry)."""
    launched = first_object_event(tmp_path, clean_vertex, "on_object_finalized")
    clean_vertex.end_run(launched["job"], "PIPELINE_STATE_FAILED", "boom")
    entry = pubsub_event(run_state_entry(launched["job"]))
    ended = first_event(tmp_path, clean_vertex, "on_run_state", "on_run_state", entry, **rules)
    assert ended["decision"] == "reported"
    rule_modules = {"vertex_trigger.triggers.run_notes", "vertex_trigger.launch.lineage",
                    "vertex_trigger.triggers.retries_of_failed",
                    "vertex_trigger.reporting.cancel_notes"}  # fmt: skip
    chain_modules = {"vertex_trigger.triggers.chains", "vertex_trigger.launch.upstream_outputs",
                     "vertex_trigger.launch.task_outputs"}  # fmt: skip
    assert sorted(chain_modules & set(ended["ours"])) == []
    assert (rule_modules <= set(ended["ours"])) is loaded
    if not loaded:
        assert sorted(rule_modules & set(ended["ours"])) == []


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
