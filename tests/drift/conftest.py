"""Shared fixtures for the drift check tests: seeded CSVs and a baseline computed from them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.drift.inputs import read_csv_columns
from pipelines.monitoring_stats import compute_baseline
from tests.drift.houses import houses

MODEL = "projects/demo-project/locations/us-central1/models/house-prices"
NUMERIC = ["sqft", "bedrooms", "bathrooms", "year_built", "lot_sqft"]
CATEGORICAL = ["neighborhood"]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """Training data, an unshifted batch, a sqft-shifted and a neighborhood-shifted batch."""
    folder = tmp_path_factory.mktemp("drift-data")
    houses(2000, seed=1).to_csv(folder / "train.csv", index=False)
    houses(1000, seed=2).to_csv(folder / "same.csv", index=False)
    houses(1000, seed=3, sqft_scale=1.5).to_csv(folder / "sqft_shift.csv", index=False)
    mix = (0.6, 0.1, 0.1, 0.1, 0.1)
    houses(1000, seed=4, mix=mix).to_csv(folder / "neighborhood_shift.csv", index=False)
    columns = read_csv_columns(str(folder / "train.csv"), NUMERIC, CATEGORICAL)
    baseline = compute_baseline(columns, NUMERIC, CATEGORICAL)
    (folder / "baseline.json").write_text(json.dumps(baseline))
    return folder


@pytest.fixture
def model() -> str:
    """The model resource the alerts name."""
    return MODEL


@pytest.fixture
def feature_names() -> list[str]:
    """The house-price features in baseline order."""
    return NUMERIC + CATEGORICAL


@pytest.fixture
def read_batch(data_dir):
    """Return a function reading one of the generated CSVs into columns."""
    return lambda name: read_csv_columns(str(data_dir / name), NUMERIC, CATEGORICAL)


@pytest.fixture(scope="session")
def baseline(data_dir) -> dict:
    """The baseline document of train.csv."""
    return json.loads((data_dir / "baseline.json").read_text())
