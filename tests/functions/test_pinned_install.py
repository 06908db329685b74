"""The pinned lock installs alone into a fresh environment, and the functions serve from it.

As Cloud Build does (the Python buildpack: `pip install --requirement requirements.txt`, then `pip
check`; GoogleCloudPlatform/buildpacks, pkg/python/python.go), in a new venv with nothing but the
interpreter: every file is checked against the lock's hashes, nothing outside the lock is
installed, and functions-framework from that venv serves `on_object_finalized` from a copy of
`functions/` (what the source archive holds) and launches a run on the Vertex AI emulator.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from local.function_server import FUNCTIONS_DIR, launch_function_server
from tests.functions.helpers import VertexStandIn, object_route, storage_event, write_config
from tests.functions.test_runtime_requirements import LOCK, read_lock


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("deployed") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--require-hashes", "--no-compile", "--requirement", str(LOCK)],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    return python


def test_the_lock_installs_alone_and_is_consistent(fresh_venv: Path) -> None:
    frozen = subprocess.run([str(fresh_venv), "-m", "pip", "freeze", "--all"],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    installed = {}
    for line in frozen.splitlines():
        name, _, version = line.partition("==")
        installed[canonicalize_name(name)] = version
    for seeded in ("pip", "setuptools"):  # what `python -m venv` puts there (3.11: both)
        installed.pop(seeded, None)
    locked = {name: str(req.specifier).removeprefix("==")
              for name, (req, _) in read_lock(LOCK).items()
              if req.marker is None or req.marker.evaluate()}  # fmt: skip
    assert installed == locked
    check = subprocess.run([str(fresh_venv), "-m", "pip", "check"], capture_output=True,
                           text=True, check=False)  # fmt: skip
    assert check.returncode == 0, check.stdout


def test_the_functions_serve_from_the_locked_environment(
    fresh_venv: Path, clean_vertex: VertexStandIn, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    shutil.copytree(FUNCTIONS_DIR, source, ignore=shutil.ignore_patterns("__pycache__"))
    config = write_config(tmp_path, [object_route()])
    env = {"TRIGGERS_CONFIG": str(config), "VERTEX_AI_EMULATOR_HOST": clean_vertex.host,
           "PYTHONPATH": ""}  # fmt: skip
    server = launch_function_server("on_object_finalized", env, source_dir=source,
                                    python=str(fresh_venv))  # fmt: skip
    try:
        server.wait_ready()
        event = storage_event("incoming/deployed.csv")
        assert server.send(event).status_code == 200
        line = server.log_for(event["id"])
    finally:
        server.stop()
    assert line["decision"] == "launched", line
    assert clean_vertex.job(line["job"])["labels"]["trigger-route"] == "arrival"
