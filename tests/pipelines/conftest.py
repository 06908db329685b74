"""Fixtures for the pipelines tests: data files, a GCS emulator, and kfp.local runs."""

from collections.abc import Iterator
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "pipelines"
COMPILED_DIR = Path(__file__).resolve().parents[2] / "compiled"


@pytest.fixture
def data_dir() -> Path:
    return DATA_DIR


@pytest.fixture(scope="module")
def storage_emulator() -> Iterator[str]:
    """Run gcp-storage-emulator in memory on an ephemeral port; yield its host:port."""
    from gcp_storage_emulator.server import create_server

    server = create_server("127.0.0.1", 0, in_memory=True)
    server.start()
    # Port 0 lets the OS pick; the emulator exposes the bound port only on its HTTP server.
    host = f"127.0.0.1:{server._api._httpd.server_address[1]}"
    with pytest.MonkeyPatch.context() as patch:
        # Set for this process and inherited by kfp.local's component subprocesses.
        patch.setenv("STORAGE_EMULATOR_HOST", f"http://{host}")
        yield host
    server.stop()


@pytest.fixture(scope="module")
def make_bucket(storage_emulator: str):
    """Return a function that creates a bucket in the emulator and returns it."""
    from google.cloud import storage

    def create(name: str):
        return storage.Client(project="test-project").create_bucket(name)

    return create


@pytest.fixture(scope="session")
def run_house_prices():
    """Return a function running compiled/house_prices.yaml under kfp.local (run folder back)."""
    from kfp import components, local

    def run(pipeline_root: Path, **arguments) -> Path:
        local.init(runner=local.SubprocessRunner(use_venv=False),
                   pipeline_root=str(pipeline_root))
        pipeline = components.load_component_from_file(str(COMPILED_DIR / "house_prices.yaml"))
        pipeline(**arguments)
        [run_dir] = pipeline_root.glob("house-prices-*")
        return run_dir

    return run
