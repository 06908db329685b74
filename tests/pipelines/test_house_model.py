import numpy as np

from pipelines.house_data import add_derived_features, model_features
from pipelines.house_model import (
    build_regressor,
    candidate_params,
    feature_matrix,
    prediction_plot_html,
    regression_metrics,
    search_regressor,
    serving_image_mismatch,
)
from pipelines.synthetic import generate_house_prices


def engineered(rows, seed):
    return add_derived_features(generate_house_prices(rows, seed=seed))


def test_search_picks_the_best_validation_candidate(capsys):
    model, params, rmse = search_regressor(engineered(300, 1), engineered(100, 2), 0, "price")
    printed = capsys.readouterr().out
    assert printed.count("validation rmse") == len(candidate_params())
    assert params in candidate_params()
    scores = regression_metrics(engineered(100, 2)["price"],
                                model.predict(feature_matrix(engineered(100, 2))))
    assert scores["rmse"] == rmse
    assert scores["r2"] > 0.8


def test_model_serves_plain_lists_and_unseen_neighborhoods():
    train = engineered(300, 3)
    model = build_regressor(candidate_params()[0], seed=0).fit(feature_matrix(train),
                                                               train["price"])
    row = feature_matrix(engineered(1, 4))[0].tolist()
    row[-1] = "atlantis"   # a neighborhood training never saw
    # Vertex AI's scikit-learn container turns the instances (lists in this order) into a numpy
    # array, which is all strings when one value is; the model still reads the numbers.
    instances = np.asarray([row])
    assert instances.dtype.kind == "U"
    prediction = model.predict(instances)
    assert np.isfinite(prediction).all()
    assert len(row) == len(model_features()["numeric"]) + 1


def test_metrics_on_known_values():
    scores = regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    assert scores["mae"] == 2 / 3
    assert abs(scores["rmse"] - (4 / 3) ** 0.5) < 1e-12
    assert scores["r2"] == 1 - 4 / 2


def test_plot_is_an_html_page_with_an_embedded_png():
    page = prediction_plot_html([1.0, 2.0, 3.0], [1.1, 1.9, 3.2], "prices <test>")
    assert page.startswith("<html>")
    assert "data:image/png;base64," in page
    assert "prices &lt;test&gt;" in page


PREBUILT_1_6 = "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-6:latest"


def test_prebuilt_serving_image_must_match_the_training_version():
    assert serving_image_mismatch(PREBUILT_1_6, "1.6.1") == ""
    assert serving_image_mismatch("europe-docker.pkg.dev/p/r/house-serving:1", "1.9.1") == ""
    message = serving_image_mismatch(PREBUILT_1_6, "1.9.1")
    assert message.startswith(f"serving image {PREBUILT_1_6} serves scikit-learn 1.6 but the "
                              "model was trained with 1.9.1")
