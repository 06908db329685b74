"""Batch scoring rules: which rows a trained house-price model can score, and what it predicted.

Components embed these functions with `additional_funcs` (imports inside the bodies, pandas
annotations as strings); see `pipelines.house_data`.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pipelines.house_data import add_derived_features, house_schema
from pipelines.house_model import feature_matrix, regression_metrics
from pipelines.uri_io import join_uri

if TYPE_CHECKING:
    import pandas as pd


def prediction_column() -> str:
    """Return the name of the column the predictions are written in (a function: embeddable)."""
    return "predicted_price"


def model_file_uri(model_uri: str) -> str:
    """Return the model file: the URI itself when it names a .joblib, else model.joblib in it.

    A training run's Model artifact is a folder holding model.joblib (what Vertex AI's
    scikit-learn serving container loads), so its URI is what a run_ended route passes.
    """
    return model_uri if model_uri.endswith(".joblib") else join_uri(model_uri, "model.joblib")


def missing_features(columns: Iterable[str]) -> list[str]:
    """Return the feature columns a row to score lacks, in schema order (the price may lack)."""
    schema = house_schema()
    present = {str(column).strip() for column in columns}
    return [name for name in [*schema["numeric"], *schema["categorical"]] if name not in present]


def load_rows_to_score(data: bytes, source: str) -> "pd.DataFrame":
    """Parse CSV bytes into the feature columns (and the price when given); name what is missing."""
    import io

    import pandas as pd

    try:
        frame = pd.read_csv(io.BytesIO(data))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ValueError(f"{source} is not a readable CSV file: {error}") from None
    frame.columns = [str(column).strip() for column in frame.columns]
    absent = missing_features(frame.columns)
    if absent:
        raise ValueError(f"{source} is missing feature column(s): {', '.join(absent)}")
    if frame.empty:
        raise ValueError(f"{source} has no rows to score")
    schema = house_schema()
    kept = [*schema["numeric"], *schema["categorical"]]
    return frame[[*kept, schema["target"]] if schema["target"] in frame.columns else kept]


def predict_prices(model: Any, rows: "pd.DataFrame") -> Any:
    """Return the model's predicted prices for rows of features, engineered as in training."""
    import pandas as pd

    schema = house_schema()
    features = rows.copy()
    for name in schema["numeric"]:
        features[name] = pd.to_numeric(features[name], errors="coerce")  # the model imputes NaN
    return model.predict(feature_matrix(add_derived_features(features)))


def prediction_summary(scored: "pd.DataFrame") -> dict[str, float]:
    """Return rows scored and the predictions' mean, min and max; rmse, mae, r2 when priced."""
    import pandas as pd

    predicted = scored[prediction_column()]
    summary = {"rows": float(len(scored)), "mean_predicted_price": float(predicted.mean()),
               "min_predicted_price": float(predicted.min()),
               "max_predicted_price": float(predicted.max())}  # fmt: skip
    target = house_schema()["target"]
    if target in scored.columns:
        actual = pd.to_numeric(scored[target], errors="coerce")
        priced = actual.notna()
        if priced.any():
            summary.update(regression_metrics(actual[priced], predicted[priced]))
    return summary
