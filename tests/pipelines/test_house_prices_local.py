"""compiled/house_prices.yaml end to end under kfp.local, as the demo and the emulator run it."""

import json
import shutil

import joblib
import numpy as np
import pandas as pd
import pytest
import sklearn

from pipelines import synthetic
from pipelines.house_data import add_derived_features
from pipelines.house_model import build_regressor, feature_matrix, regression_metrics
from pipelines.monitoring_stats import feature_distance
from pipelines.synthetic import generate_house_prices


def executor_output(run_dir, task):
    return json.loads((run_dir / task / "executor_output.json").read_text())


@pytest.fixture(scope="module")
def champion_run(tmp_path_factory, make_bucket, run_house_prices):
    """Train on 500 generated rows read from the GCS emulator; deploy into a local registry."""
    bucket = make_bucket("incoming")
    bucket.blob("prices/2026-11-26.csv").upload_from_string(
        generate_house_prices(500, seed=11).to_csv(index=False), content_type="text/csv")
    registry = tmp_path_factory.mktemp("registry")
    run_dir = run_house_prices(
        tmp_path_factory.mktemp("kfp-root"), data_uri="gs://incoming/prices/2026-11-26.csv",
        deploy_target="local", registry_uri=str(registry), reason="RAW_FEATURE_DRIFT")
    return run_dir, registry


def test_metrics_are_logged(champion_run):
    run_dir, _ = champion_run
    evaluation = executor_output(run_dir, "evaluate-model")
    [metrics] = evaluation["artifacts"]["metrics"]["artifacts"]
    assert set(metrics["metadata"]) == {"rmse", "mae", "r2"}
    assert metrics["metadata"]["r2"] > 0.8
    assert 0 < metrics["metadata"]["mae"] < metrics["metadata"]["rmse"]
    assert evaluation["parameterValues"] == metrics["metadata"]
    plot = (run_dir / "evaluate-model" / "prediction_plot").read_text()
    assert "data:image/png;base64," in plot


def test_model_artifact_predicts(champion_run):
    run_dir, _ = champion_run
    model = joblib.load(run_dir / "train-model" / "model" / "model.joblib")
    fresh = add_derived_features(generate_house_prices(50, seed=12))
    predicted = model.predict(feature_matrix(fresh))
    assert np.corrcoef(predicted, fresh["price"])[0, 1] > 0.9


def test_baseline_describes_the_training_split(champion_run):
    run_dir, _ = champion_run
    baseline = json.loads((run_dir / "monitoring-baseline" / "baseline").read_text())
    assert baseline["format"] == "vertex-triggers/baseline/v1"
    assert baseline["row_count"] == 300   # 500 rows, 20 % validation, 20 % test
    assert set(baseline["features"]) == {"sqft", "bedrooms", "bathrooms", "year_built",
                                         "lot_sqft", "neighborhood"}
    assert baseline["features"]["neighborhood"]["kind"] == "categorical"
    sqft = baseline["features"]["sqft"]
    assert len(sqft["frequencies"]) == len(sqft["bin_edges"]) + 1
    # The drift check's distance sees shifted data as far from this baseline, fresh data as near.
    same = feature_distance(sqft, generate_house_prices(300, seed=13)["sqft"])
    shifted = feature_distance(sqft, generate_house_prices(300, seed=13, shift=0.6)["sqft"])
    assert same < 0.1 < shifted


def test_registry_holds_the_champion(champion_run):
    run_dir, registry = champion_run
    champion = json.loads((registry / "champion.json").read_text())
    version = registry / "versions" / "1"
    assert champion["version"] == 1
    assert champion["model_uri"] == str(version / "model.joblib")
    assert champion["baseline_uri"] == str(version / "baseline.json")
    logged = executor_output(run_dir, "evaluate-model")["parameterValues"]
    assert champion["metrics"] == logged
    assert champion["compared_with"] is None   # the first model: nothing to compare with
    record = json.loads((version / "metrics.json").read_text())
    assert record["data_uri"] == "gs://incoming/prices/2026-11-26.csv"
    assert record["reason"] == "RAW_FEATURE_DRIFT"
    assert {record[name] for name in ("rmse", "mae", "r2")} == set(logged.values())
    assert (version / "baseline.json").read_bytes() == (
        run_dir / "monitoring-baseline" / "baseline").read_bytes()
    assert (version / "model.joblib").read_bytes() == (
        run_dir / "train-model" / "model" / "model.joblib").read_bytes()


def test_challenger_trained_on_noise_is_not_promoted(champion_run, tmp_path, capsys,
                                                      run_house_prices):
    _, registry = champion_run
    before = (registry / "champion.json").read_bytes()
    noise = generate_house_prices(500, seed=21)
    # Prices shuffled across rows: same scale, no relation to the features.
    noise["price"] = np.random.default_rng(0).permutation(noise["price"].to_numpy())
    noise.to_csv(tmp_path / "noise.csv", index=False)
    run_dir = run_house_prices(tmp_path / "kfp-root", data_uri=str(tmp_path / "noise.csv"),
                               deploy_target="local", registry_uri=str(registry))
    out = capsys.readouterr().out
    assert "gate: keep-champion: challenger rmse" in out
    assert executor_output(run_dir, "score-champion")["parameterValues"]["status"] == "scored"
    # On the noise split the challenger fitted the noise's mean and may well beat the champion;
    # its r2 on that split is what shows the data is bad.
    challenger_r2 = executor_output(run_dir, "evaluate-model")["parameterValues"]["r2"]
    assert challenger_r2 < 0.5
    assert f"challenger r2 {challenger_r2:.3f} (needs >= 0.5)" in out
    assert (registry / "champion.json").read_bytes() == before
    assert sorted(path.name for path in (registry / "versions").iterdir()) == ["1"]


def test_challenger_on_drifted_data_is_compared_with_the_champion_on_the_same_split(
        champion_run, tmp_path, capsys, run_house_prices):
    _, shared = champion_run
    registry = tmp_path / "registry"
    shutil.copytree(shared, registry)   # its champion.json still names the shared model file
    champion = json.loads((registry / "champion.json").read_text())
    synthetic.main(["--rows", "500", "--seed", "22", "--shift", "0.5",
                    "--out", str(tmp_path / "drifted.csv")])
    run_dir = run_house_prices(tmp_path / "kfp-root", data_uri=str(tmp_path / "drifted.csv"),
                               deploy_target="local", registry_uri=str(registry))
    # Score the champion's model ourselves on the run's test split.
    test = pd.read_csv(run_dir / "engineer-features" / "test_features")
    model = joblib.load(champion["model_uri"])
    expected = regression_metrics(test["price"], model.predict(feature_matrix(test)))
    scored = executor_output(run_dir, "score-champion")
    assert scored["parameterValues"] == pytest.approx(
        {"status": "scored", "version": 1, **expected, "detail": ""})
    [champion_metrics] = scored["artifacts"]["champion_metrics"]["artifacts"]
    assert champion_metrics["metadata"] == pytest.approx(
        {f"champion_{name}": value for name, value in expected.items()})
    challenger = executor_output(run_dir, "evaluate-model")["parameterValues"]
    # The price scale moved: the challenger's rmse is above the champion's recorded one (on its
    # own data), which the old gate compared with, yet below the champion's on this split.
    assert champion["metrics"]["rmse"] < challenger["rmse"] < expected["rmse"] * 0.99
    out = capsys.readouterr().out
    assert (f"gate: promote: challenger rmse {challenger['rmse']:.2f} vs champion v1 rmse "
            f"{expected['rmse']:.2f} on the same test split") in out
    promoted = json.loads((registry / "champion.json").read_text())
    assert promoted["version"] == 2
    assert promoted["metrics"] == challenger
    assert promoted["compared_with"] == pytest.approx({"version": 1, **expected})
    record = json.loads((registry / "versions" / "2" / "metrics.json").read_text())
    assert record["compared_with"] == promoted["compared_with"]


def test_unusable_champion_is_kept_and_the_reason_logged(tmp_path, capsys, run_house_prices):
    # A champion trained when the model took one more column cannot score today's features.
    train = add_derived_features(generate_house_prices(100, seed=41))
    wider = np.column_stack([feature_matrix(train), train["lot_sqft"]])
    registry = tmp_path / "registry"
    model_path = registry / "versions" / "1" / "model.joblib"
    model_path.parent.mkdir(parents=True)
    joblib.dump(build_regressor({}, 0).fit(wider, train["price"]), model_path)
    pointer = json.dumps({"version": 1, "metrics": {"rmse": 1e12, "mae": 1e12, "r2": -5.0},
                          "model_uri": str(model_path)})
    (registry / "champion.json").write_text(pointer)
    generate_house_prices(500, seed=42).to_csv(tmp_path / "prices.csv", index=False)
    run_dir = run_house_prices(tmp_path / "kfp-root", data_uri=str(tmp_path / "prices.csv"),
                               deploy_target="local", registry_uri=str(registry))
    scored = executor_output(run_dir, "score-champion")["parameterValues"]
    assert (scored["status"], scored["version"]) == ("unusable", 1)
    detail = (f"cannot score {model_path}: ValueError: X has 8 features, but ColumnTransformer "
              "is expecting 9 features as input.")
    assert scored["detail"] == detail
    assert (f"gate: keep-champion: champion v1 unusable: {detail}; not promoting without a "
            "comparison on the same data") in capsys.readouterr().out
    # Kept although its recorded rmse is hopeless: that number was never on this data.
    assert (registry / "champion.json").read_text() == pointer
    assert sorted(path.name for path in (registry / "versions").iterdir()) == ["1"]


def test_csv_without_price_fails_naming_it(data_dir, tmp_path, capsys, run_house_prices):
    with pytest.raises(RuntimeError, match="ingest"):
        run_house_prices(tmp_path, data_uri=str(data_dir / "prices_without_price.csv"))
    assert "prices_without_price.csv is missing required column(s): price" in (
        capsys.readouterr().out)


def test_unknown_deploy_target_fails_before_any_work(tmp_path, capsys, run_house_prices):
    with pytest.raises(RuntimeError, match="check-run-inputs"):
        run_house_prices(tmp_path, data_uri="unused.csv", deploy_target="staging")
    assert "deploy_target must be one of vertex, local, none; got 'staging'" in (
        capsys.readouterr().out)
    assert not list(tmp_path.glob("house-prices-*/ingest"))


def test_vertex_branch_refuses_an_incompatible_serving_image_before_registering(
        tmp_path, capsys, run_house_prices):
    generate_house_prices(300, seed=31).to_csv(tmp_path / "prices.csv", index=False)
    registry = tmp_path / "registry"
    with pytest.raises(RuntimeError, match="deploy-to-vertex"):
        run_house_prices(
            tmp_path / "kfp-root", data_uri=str(tmp_path / "prices.csv"), deploy_target="vertex",
            registry_uri=str(registry), project="demo-project",
            serving_container_image_uri="us-docker.pkg.dev/vertex-ai/prediction/"
                                        "sklearn-cpu.1-6:latest")
    out = capsys.readouterr().out
    assert "gate: promote: no champion yet" in out
    assert f"serves scikit-learn 1.6 but the model was trained with {sklearn.__version__}" in out
    # The registry only records what is serving: nothing was deployed, nothing registered.
    assert not registry.exists()
