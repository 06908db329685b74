"""compiled/batch_score.yaml under kfp.local: a model's URI in, predictions and a summary out."""

import json
from pathlib import Path

import joblib
import pandas as pd
import pytest

from pipelines.house_data import add_derived_features, clean_house_prices
from pipelines.house_model import build_regressor, candidate_params, feature_matrix
from pipelines.house_scoring import (
    load_rows_to_score,
    model_file_uri,
    predict_prices,
    prediction_summary,
)
from pipelines.synthetic import generate_house_prices

COMPILED = Path(__file__).resolve().parents[2] / "compiled" / "batch_score.yaml"


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory) -> Path:
    """A folder holding model.joblib, as house_prices' train-model writes its Model artifact."""
    frame = add_derived_features(clean_house_prices(generate_house_prices(300, seed=3)))
    model = build_regressor(candidate_params()[0], seed=3).fit(feature_matrix(frame),
                                                               frame["price"])  # fmt: skip
    folder = tmp_path_factory.mktemp("train-model") / "model"
    folder.mkdir()
    joblib.dump(model, folder / "model.joblib")
    return folder


def run_batch_score(root: Path, **arguments: str) -> Path:
    from kfp import components, local

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root))
    components.load_component_from_file(str(COMPILED))(**arguments)
    [run_dir] = root.glob("batch-score-*")
    return run_dir


# kfp.local runs each task in a subprocess: marked by hand (tests/conftest.py cannot see it).
@pytest.mark.server
@pytest.mark.slow
def test_a_csv_is_scored_with_the_model_at_a_uri(model_folder, tmp_path):
    houses = generate_house_prices(40, seed=9)
    data = tmp_path / "houses.csv"
    houses.drop(columns=["price"]).assign(listing_id=range(40)).to_csv(data, index=False)

    run_dir = run_batch_score(tmp_path / "root", model_uri=str(model_folder), data_uri=str(data),
                              reason="after a training run")  # fmt: skip

    predictions = pd.read_csv(run_dir / "score-rows" / "predictions")
    assert len(predictions) == 40
    assert predictions["predicted_price"].gt(0).all()
    assert "listing_id" not in predictions.columns  # the features only (and a price, if given)
    scored = json.loads((run_dir / "score-rows" / "executor_output.json").read_text())
    assert scored["parameterValues"] == {"Output": 40}
    summary = json.loads((run_dir / "summarize-predictions" / "executor_output.json").read_text())
    [metrics] = summary["artifacts"]["summary"]["artifacts"]
    assert metrics["metadata"]["rows"] == 40
    assert "rmse" not in metrics["metadata"]  # no prices to compare with


def test_priced_rows_get_errors_and_a_model_file_uri_is_taken_as_is(tmp_path, model_folder):
    scored = load_rows_to_score(generate_house_prices(20, seed=4).to_csv(index=False).encode(),
                                "houses.csv")  # fmt: skip
    model = joblib.load(model_file_uri(str(model_folder)))
    scored["predicted_price"] = predict_prices(model, scored)
    summary = prediction_summary(scored)
    assert {"rows", "mean_predicted_price", "rmse", "mae", "r2"} <= set(summary)
    assert model_file_uri("gs://b/m/model.joblib") == "gs://b/m/model.joblib"
    assert model_file_uri("gs://b/runs/train-model/model") == (
        "gs://b/runs/train-model/model/model.joblib"
    )


def test_rows_without_a_feature_column_are_refused_naming_it():
    data = generate_house_prices(5, seed=1).drop(columns=["sqft", "neighborhood"])
    with pytest.raises(ValueError, match=r"houses.csv is missing feature column\(s\): "
                                         r"sqft, neighborhood"):  # fmt: skip
        load_rows_to_score(data.to_csv(index=False).encode(), "houses.csv")
