"""The house-price regressor: model construction, the small search, metrics and the plot.

The fitted model is a plain scikit-learn Pipeline that selects columns by position, so Vertex AI's
prebuilt scikit-learn serving container can call `predict` on instances given as lists in
`model_features()` order (numeric first, then `neighborhood`). Components embed these functions
with `additional_funcs`; see `pipelines.house_data` for why imports sit inside the bodies.
"""

from typing import TYPE_CHECKING, Any

from pipelines.house_data import model_features

if TYPE_CHECKING:
    import pandas as pd


def candidate_params() -> list[dict[str, Any]]:
    """Return the hyperparameter candidates, small enough to search in seconds."""
    return [
        {"learning_rate": 0.1, "max_leaf_nodes": 15, "l2_regularization": 0.0},
        {"learning_rate": 0.1, "max_leaf_nodes": 31, "l2_regularization": 1.0},
        {"learning_rate": 0.05, "max_leaf_nodes": 31, "l2_regularization": 0.0},
        {"learning_rate": 0.2, "max_leaf_nodes": 7, "l2_regularization": 0.0},
    ]


def feature_matrix(frame: "pd.DataFrame") -> Any:
    """Return the model's input columns of an engineered frame as a numpy array, in model order."""
    features = model_features()
    # A plain array, as the serving container passes: the model never learns column names, so
    # predicting on lists later raises no feature-name warnings.
    return frame[[*features["numeric"], *features["categorical"]]].to_numpy(dtype=object)


def build_regressor(params: dict[str, Any], seed: int) -> Any:
    """Return an unfitted pipeline: median imputation, one-hot neighborhood, boosted trees."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    features = model_features()
    n_numeric = len(features["numeric"])
    categorical = list(range(n_numeric, n_numeric + len(features["categorical"])))
    encode = ColumnTransformer([
        ("numeric", SimpleImputer(strategy="median"), list(range(n_numeric))),
        # Unseen neighborhoods encode as all zeros instead of failing at predict time.
        ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
    ])
    regressor = HistGradientBoostingRegressor(max_iter=150, early_stopping=False,
                                              random_state=seed, **params)
    return Pipeline([("encode", encode), ("regress", regressor)])


def regression_metrics(actual: Any, predicted: Any) -> dict[str, float]:
    """Return RMSE, MAE and R² of predictions."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    return {
        "rmse": float(mean_squared_error(actual, predicted) ** 0.5),
        "mae": float(mean_absolute_error(actual, predicted)),
        "r2": float(r2_score(actual, predicted)),
    }


def search_regressor(train: "pd.DataFrame", validation: "pd.DataFrame", seed: int,
                     target: str) -> tuple[Any, dict[str, Any], float]:
    """Fit every candidate on train, score on validation; return (best model, params, rmse)."""
    best: tuple[Any, dict[str, Any], float] | None = None
    for params in candidate_params():
        model = build_regressor(params, seed).fit(feature_matrix(train), train[target])
        rmse = regression_metrics(validation[target],
                                  model.predict(feature_matrix(validation)))["rmse"]
        print(f"candidate {params}: validation rmse {rmse:.2f}")
        if best is None or rmse < best[2]:
            best = (model, params, rmse)
    return best


def prediction_plot_html(actual: Any, predicted: Any, title: str) -> str:
    """Return an HTML page with a predicted-against-actual scatter plot embedded as PNG."""
    import base64
    import html
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(5, 5), dpi=90)
    axes.scatter(actual, predicted, s=8, alpha=0.6)
    low, high = min(*actual, *predicted), max(*actual, *predicted)
    axes.plot([low, high], [low, high], color="grey", linewidth=1)
    axes.set(xlabel="actual price", ylabel="predicted price", title=title)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    pyplot.close(figure)
    image = base64.b64encode(buffer.getvalue()).decode()
    return (f"<html><head><title>{html.escape(title)}</title></head><body>"
            f'<img alt="{html.escape(title)}" src="data:image/png;base64,{image}"></body></html>')


def serving_image_mismatch(image_uri: str, trained_version: str) -> str:
    """Return why a prebuilt scikit-learn serving image cannot load this model, or ""."""
    import re

    match = re.search(r"/sklearn-cpu\.(\d+)-(\d+):", image_uri)
    if not match:
        return ""   # a custom image: its owner vouches for the library version
    served = f"{match.group(1)}.{match.group(2)}"
    if trained_version.split(".")[:2] == served.split("."):
        return ""
    return (f"serving image {image_uri} serves scikit-learn {served} but the model was trained "
            f"with {trained_version}; pickles do not load across versions, so pass a "
            "serving_container_image_uri with the training version")
