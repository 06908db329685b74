"""Start-up: a bad file stops the instance; the runtime path stays free of heavy libraries."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from local.function_server import FUNCTIONS_DIR, launch_function_server
from tests.functions.helpers import VertexStandIn, object_route, write_config

HEAVY = ("google.cloud.aiplatform", "kfp", "pandas", "numpy", "grpc", "google.auth")


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


def test_cold_path_imports_no_heavy_library(tmp_path: Path, clean_vertex: VertexStandIn) -> None:
    """Import main, handle a first event: aiplatform, kfp, pandas, numpy, grpc stay unloaded."""
    config = write_config(tmp_path, [object_route()])
    script = (
        "import json, sys\n"
        "from cloudevents.http import CloudEvent\n"
        "import main\n"
        "event = CloudEvent({'type': 'google.cloud.storage.object.v1.finalized', 'source': 's',"
        " 'id': 'cold-1'}, {'bucket': 'data', 'name': 'incoming/a.csv', 'generation': '1'})\n"
        "main.on_object_finalized(event)\n"
        f"heavy = sorted(m for m in sys.modules if m.startswith({HEAVY!r}))\n"
        "print(json.dumps({'heavy': heavy}))\n"
    )
    env = {
        **os.environ,
        "TRIGGERS_CONFIG": str(config),
        "VERTEX_AI_EMULATOR_HOST": clean_vertex.host,
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=FUNCTIONS_DIR, env=env, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    log_line, report = (json.loads(line) for line in result.stdout.strip().splitlines()[-2:])
    assert log_line["decision"] == "launched"
    assert report["heavy"] == []
