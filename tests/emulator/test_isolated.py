"""--isolated: each component runs in its own venv with only the packages it declares, as its
container does on Vertex AI, so a missing package fails here with the same ModuleNotFoundError.
The fast path (this venv) lets it pass: what each path catches is in docs/local-development.md.
"""

import pytest
from kfp import dsl

from local.vertex_emulator import start_emulator
from tests.emulator.helpers import body_for, compile_spec, create
from tests.emulator.test_execution import FINAL, wait_for

pytestmark = pytest.mark.slow  # a venv and pip installs from PyPI per task


@dsl.component(base_image="python:3.11")
def reads_storage(uri: str) -> str:
    """Import google-cloud-storage undeclared (in this venv, not in python:3.11's image)."""
    from google.cloud import storage

    return f"{uri} {storage.__name__}"


@dsl.component(base_image="python:3.11", packages_to_install=["google-cloud-storage==3.17.1"])
def declares_storage(uri: str) -> str:
    """The same import, declared: the component's own environment has it."""
    from google.cloud import storage

    return f"{uri} {storage.__name__}"


@dsl.pipeline(name="undeclared")
def undeclared(uri: str):
    reads_storage(uri=uri)


@dsl.pipeline(name="declared")
def declared(uri: str):
    declares_storage(uri=uri)


def run(tmp_path, pipeline, isolated: bool) -> dict:
    spec = compile_spec(pipeline, tmp_path)
    with start_emulator(tmp_path / f"state-{isolated}", isolated=isolated) as emu:
        assert create(emu, "run-1", body_for(spec, uri="gs://b/o")).status_code == 200
        return wait_for(emu, "run-1", FINAL, attempts=3000)


def test_a_missing_package_fails_isolated_as_on_vertex_and_passes_the_fast_path(tmp_path):
    fast = run(tmp_path, undeclared, isolated=False)
    isolated = run(tmp_path, undeclared, isolated=True)

    assert fast["state"] == "PIPELINE_STATE_SUCCEEDED"
    assert isolated["state"] == "PIPELINE_STATE_FAILED"
    assert isolated["error"]["message"] == (
        "The DAG failed because some tasks failed. The failed tasks are: [reads-storage]. "
        "reads-storage: ModuleNotFoundError: No module named 'google'"
    )


def test_a_declared_package_is_installed_into_the_components_venv(tmp_path):
    assert run(tmp_path, declared, isolated=True)["state"] == "PIPELINE_STATE_SUCCEEDED"
