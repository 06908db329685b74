"""Batch scoring pipeline: load a model from a URI, score a CSV, write predictions and a summary.

The scoring half of the train-then-score chain: a run_ended route launches it after a
`house_prices` run succeeds, passing the run's Model artifact URI (`train-model`'s `model`
output) as `model_uri`. Lightweight Python components like `house_prices`, so the same compiled
file runs on Vertex AI and under kfp.local (the local emulator and the demo).
"""

from kfp import dsl
from kfp.dsl import Dataset, Input, Metrics, Output

from pipelines import house_data, house_model, house_scoring, uri_io
from pipelines.house_prices import BASE_IMAGE, MODEL_PACKAGES, STORAGE_PACKAGES
from pipelines.house_scoring import (
    load_rows_to_score,
    model_file_uri,
    predict_prices,
    prediction_column,
    prediction_summary,
)
from pipelines.uri_io import read_uri_bytes

SCORING = [*uri_io.READ_FUNCTIONS, uri_io.join_uri, house_data.house_schema,
           house_data.model_features, house_data.add_derived_features,
           house_model.feature_matrix, house_scoring.model_file_uri,
           house_scoring.missing_features, house_scoring.load_rows_to_score,
           house_scoring.predict_prices, house_scoring.prediction_column]  # fmt: skip
SUMMARY = [house_data.house_schema, house_model.regression_metrics,
           house_scoring.prediction_column, house_scoring.prediction_summary]  # fmt: skip


@dsl.component(base_image=BASE_IMAGE, packages_to_install=MODEL_PACKAGES + STORAGE_PACKAGES,
               additional_funcs=SCORING)
def score_rows(model_uri: str, data_uri: str, predictions: Output[Dataset]) -> int:
    """Score every row of the CSV at data_uri with the model at model_uri; write them with it."""
    import io

    import joblib

    model_bytes = read_uri_bytes(model_file_uri(model_uri))
    model = joblib.load(io.BytesIO(model_bytes))
    rows = load_rows_to_score(read_uri_bytes(data_uri), data_uri)
    scored = rows.copy()
    scored[prediction_column()] = predict_prices(model, rows)
    scored.to_csv(predictions.path, index=False)
    predictions.metadata.update({"rows": len(scored), "model_uri": model_uri,
                                 "source": data_uri})
    print(f"scored {len(scored)} rows of {data_uri} with {model_uri}")
    return len(scored)


@dsl.component(base_image=BASE_IMAGE, packages_to_install=MODEL_PACKAGES,
               additional_funcs=SUMMARY)
def summarize_predictions(predictions: Input[Dataset], reason: str, summary: Output[Metrics]):
    """Log how many rows were scored and the predictions' range (and error, when priced)."""
    import pandas as pd

    for name, value in prediction_summary(pd.read_csv(predictions.path)).items():
        summary.log_metric(name, value)
    print(f"summary of {predictions.uri}: {dict(summary.metadata)} ({reason or 'no reason given'})")


@dsl.pipeline(name="batch-score",
              description="Score a CSV of houses with a trained model; write predictions and a "
                          "summary.")
def batch_score(model_uri: str, data_uri: str, reason: str = ""):
    """Score data_uri (a CSV, gs:// or a path) with the model at model_uri (folder or .joblib)."""
    scored = score_rows(model_uri=model_uri, data_uri=data_uri)
    # The model and the data behind the URIs change between runs: never reuse results.
    scored.set_caching_options(enable_caching=False)
    summarize_predictions(predictions=scored.outputs["predictions"], reason=reason)

