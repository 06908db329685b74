"""The gate's rules: the champion scored on the challenger's split, and the decision."""

import json

import joblib
import numpy as np
import pytest

from pipelines.champion_gate import (
    ChampionStatus,
    champion_score,
    promotion_decision,
    score_registry_champion,
)
from pipelines.house_data import add_derived_features
from pipelines.house_model import build_regressor, feature_matrix, regression_metrics
from pipelines.synthetic import generate_house_prices

SCORED = champion_score(ChampionStatus.SCORED, 4, {"rmse": 100.0, "mae": 80.0, "r2": 0.9})
GOOD_R2 = 0.9


def engineered(rows, seed, shift=0.0):
    return add_derived_features(generate_house_prices(rows, seed=seed, shift=shift))


def write_registry(root, model_bytes):
    """A registry whose champion v1 is the given model file."""
    model_path = root / "versions" / "1" / "model.joblib"
    model_path.parent.mkdir(parents=True)
    model_path.write_bytes(model_bytes)
    (root / "champion.json").write_text(json.dumps(
        {"version": 1, "metrics": {"rmse": 1.0}, "model_uri": str(model_path)}))
    return str(root)


def dumped(model, tmp_path):
    joblib.dump(model, tmp_path / "model.joblib")
    return (tmp_path / "model.joblib").read_bytes()


@pytest.fixture(scope="module")
def house_model():
    train = engineered(300, 1)
    return build_regressor({"learning_rate": 0.1, "max_leaf_nodes": 15}, 0).fit(
        feature_matrix(train), train["price"])


def test_first_model_is_promoted_when_it_reaches_min_r2():
    absent = champion_score(ChampionStatus.ABSENT, detail="no r/champion.json")
    assert promotion_decision({"rmse": 1e9, "r2": GOOD_R2}, absent, 0.05, 0.5) == (
        True, "no champion yet (no r/champion.json); challenger r2 0.900 (needs >= 0.5)")
    assert promotion_decision({"rmse": 1.0, "r2": 0.2}, absent, 0.05, 0.5)[0] is False


@pytest.mark.parametrize(("rmse", "promote"), [(94.0, True), (95.0, True), (96.0, False),
                                               (120.0, False)])
def test_challenger_must_beat_the_champion_on_the_same_split(rmse, promote):
    decided, reason = promotion_decision({"rmse": rmse, "r2": GOOD_R2}, SCORED, 0.05, 0.5)
    assert decided is promote
    assert reason == (f"challenger rmse {rmse:.2f} vs champion v4 rmse 100.00 on the same test "
                      "split (needs <= 95.00, min_improvement 0.05); challenger r2 0.900 "
                      "(needs >= 0.5)")


def test_a_better_rmse_below_min_r2_is_not_promoted():
    # Bad data: the challenger fitted its noise, the champion did not; neither explains it.
    decided, reason = promotion_decision({"rmse": 50.0, "r2": -0.3}, SCORED, 0.05, 0.5)
    assert decided is False
    assert reason.endswith("challenger r2 -0.300 (needs >= 0.5)")


def test_an_unusable_champion_keeps_its_place():
    unusable = champion_score(ChampionStatus.UNUSABLE, 3, detail="no model at r/m.joblib")
    decided, reason = promotion_decision({"rmse": 1.0, "r2": 0.99}, unusable, 0.0, 0.5)
    assert decided is False
    assert reason.startswith("champion v3 unusable: no model at r/m.joblib; not promoting "
                             "without a comparison on the same data")
    assert "remove champion.json to let the next run promote" in reason
    unreadable = champion_score(ChampionStatus.UNUSABLE, detail="r/champion.json has no valid")
    assert promotion_decision({"rmse": 1.0, "r2": 0.99}, unreadable, 0.0, 0.5)[1].startswith(
        "champion unusable: r/champion.json has no valid; not promoting")


def test_champion_is_scored_on_the_given_split(tmp_path, house_model):
    registry = write_registry(tmp_path / "registry", dumped(house_model, tmp_path))
    test = engineered(80, 5, shift=0.5)
    expected = regression_metrics(test["price"], house_model.predict(feature_matrix(test)))
    assert score_registry_champion(registry, test, "price") == {
        "status": "scored", "version": 1, **expected, "detail": ""}


def test_no_registry_or_no_champion_is_absent(tmp_path):
    test = engineered(20, 5)
    assert score_registry_champion("", test, "price") == champion_score(
        "absent", detail="no registry_uri: nothing to compare with")
    assert score_registry_champion(str(tmp_path), test, "price") == champion_score(
        "absent", detail=f"no {tmp_path}/champion.json")


def test_a_champion_on_other_columns_is_unusable(tmp_path):
    # Trained when the model took one more column: it cannot predict on today's features.
    train = engineered(100, 1)
    wider = np.column_stack([feature_matrix(train), train["lot_sqft"]])
    other = build_regressor({}, 0).fit(wider, train["price"])
    registry = write_registry(tmp_path / "registry", dumped(other, tmp_path))
    score = score_registry_champion(registry, engineered(20, 5), "price")
    assert score["status"] == "unusable"
    assert score["version"] == 1
    assert score["detail"] == (f"cannot score {registry}/versions/1/model.joblib: ValueError: "
                               "X has 8 features, but ColumnTransformer is expecting 9 features "
                               "as input.")


@pytest.mark.parametrize(("damage", "detail"), [
    ("missing model", "no model at {registry}/versions/1/model.joblib"),
    ("garbage model", "cannot score {registry}/versions/1/model.joblib: "),
    ("garbage pointer", "{registry}/champion.json has no valid version and model_uri: "
                        "JSONDecodeError: "),
])
def test_a_broken_champion_is_unusable(tmp_path, damage, detail):
    registry = write_registry(tmp_path / "registry", b"not a pickle")
    if damage == "missing model":
        (tmp_path / "registry" / "versions" / "1" / "model.joblib").unlink()
    if damage == "garbage pointer":
        (tmp_path / "registry" / "champion.json").write_text("{version: 1")
    score = score_registry_champion(registry, engineered(20, 5), "price")
    assert score["status"] == "unusable"
    assert score["detail"].startswith(detail.format(registry=registry))
