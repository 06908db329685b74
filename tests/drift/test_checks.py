import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon

from pipelines.drift.checks import drift_alert, evaluate_drift, validate_baseline
from pipelines.monitoring_stats import compute_baseline


def drifted_names(report):
    return [feature["name"] for feature in report["features"] if feature["drifted"]]


def test_numeric_distance_is_scipys_jensen_shannon_squared_on_the_baseline_bins():
    rng = np.random.default_rng(11)
    train, new = rng.normal(0, 1, 3000), rng.normal(0.8, 1.3, 1500)
    baseline = compute_baseline({"x": train.tolist()}, ["x"], [], bins=8)
    edges = np.array(baseline["features"]["x"]["bin_edges"])
    inside, _ = np.histogram(new, bins=edges)
    fresh_counts = [np.sum(new < edges[0]), *inside, np.sum(new > edges[-1])]
    expected = jensenshannon(baseline["features"]["x"]["frequencies"], fresh_counts, base=2) ** 2

    report = evaluate_drift(baseline, {"x": new.tolist()})

    assert report["features"][0]["distance"] == pytest.approx(expected)
    assert report["features"][0]["kind"] == "numeric"


def test_categorical_distance_is_l_infinity_with_unseen_categories_as_their_own_bucket():
    baseline = compute_baseline({"hood": ["a", "a", "b", "b"]}, [], ["hood"])
    # Fresh shares: a 0.25, b 0.25, c 0.5 (c never seen) -> max |diff| = |0 - 0.5| = 0.5.
    report = evaluate_drift(baseline, {"hood": ["a", "b", "c", "c"]})
    assert report["features"][0]["distance"] == pytest.approx(0.5)
    assert report["features"][0]["kind"] == "categorical"


def test_unshifted_data_raises_no_alert(read_batch, baseline, feature_names):
    report = evaluate_drift(baseline, read_batch("same.csv"))
    assert report["drifted"] is False
    assert drifted_names(report) == []
    assert [f["name"] for f in report["features"]] == feature_names
    assert all(f["distance"] < 0.05 for f in report["features"])


def test_numeric_shift_flags_exactly_that_feature(read_batch, baseline):
    report = evaluate_drift(baseline, read_batch("sqft_shift.csv"))
    assert report["drifted"] is True
    assert drifted_names(report) == ["sqft"]


def test_categorical_shift_flags_exactly_that_feature(read_batch, baseline):
    report = evaluate_drift(baseline, read_batch("neighborhood_shift.csv"))
    assert drifted_names(report) == ["neighborhood"]


def test_a_feature_threshold_overrides_the_default(read_batch, baseline):
    columns = read_batch("sqft_shift.csv")
    report = evaluate_drift(baseline, columns, 0.3, {"sqft": 0.99, "bedrooms": 0.001})
    sqft, bedrooms = report["features"][0], report["features"][1]
    assert (sqft["threshold"], sqft["drifted"]) == (0.99, False)
    assert (bedrooms["threshold"], bedrooms["drifted"]) == (0.001, True)


def test_a_threshold_for_an_unknown_feature_is_named(baseline):
    with pytest.raises(ValueError, match="not in the baseline: garage"):
        evaluate_drift(baseline, {}, 0.3, {"garage": 0.2})


@pytest.mark.parametrize("threshold", [0, -0.1, 1.5, float("nan")])
def test_a_threshold_outside_zero_to_one_is_refused(baseline, threshold):
    with pytest.raises(ValueError, match=r"threshold for every feature must be in \(0, 1\]"):
        evaluate_drift(baseline, {}, threshold)


def test_a_feature_with_no_fresh_values_is_named():
    baseline = compute_baseline({"sqft": [1, 2, 3]}, ["sqft"], [])
    with pytest.raises(ValueError, match="feature 'sqft': no finite values to compare"):
        evaluate_drift(baseline, {"sqft": [None, "n/a"]})


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "b.json: baseline must be a JSON object"),
        ({"format": "v0", "features": {}}, "b.json: format is 'v0', expected"),
        ({"format": "vertex-triggers/baseline/v1", "features": {}}, "b.json: baseline has no"),
        (
            {"format": "vertex-triggers/baseline/v1", "features": {"x": {"kind": "text"}}},
            "b.json: feature 'x' has kind 'text'",
        ),
        (
            {
                "format": "vertex-triggers/baseline/v1",
                "features": {"x": {"kind": "numeric", "frequencies": [1.0]}},
            },
            "b.json: feature 'x' has no 'bin_edges'",
        ),
        (
            {
                "format": "vertex-triggers/baseline/v1",
                "features": {"x": {"kind": "numeric", "frequencies": [1.0], "bin_edges": [0, 1]}},
            },
            "b.json: feature 'x' needs one frequency per bin plus underflow and overflow",
        ),
    ],
)
def test_a_bad_baseline_is_refused_with_what_is_wrong(document, message):
    with pytest.raises(ValueError, match=message):
        validate_baseline(document, "b.json")


def test_the_alert_is_the_canonical_form_with_only_drifted_features(read_batch, baseline, model):
    report = evaluate_drift(baseline, read_batch("sqft_shift.csv"))
    when = "2026-11-26T19:00:00.000Z"
    alert = drift_alert(report, model, when, endpoint="projects/p/locations/l/endpoints/1")
    sqft = report["features"][0]
    assert alert == {
        "model": model,
        "endpoint": "projects/p/locations/l/endpoints/1",
        "objective": "RAW_FEATURE_DRIFT",
        "detected_at": when,
        "features": [{"name": "sqft", "deviation": sqft["distance"], "threshold": 0.3}],
    }
    assert "endpoint" not in drift_alert(report, model, when)
