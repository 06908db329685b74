"""`drift_monitoring`: a small pipeline that checks a batch of new data against the baseline.

Run it on a schedule (a Vertex AI pipeline schedule or Cloud Scheduler); with `topic` set, drift
publishes the canonical alert that `on_drift_alert` turns into a retraining run.
"""

from kfp import dsl

from pipelines.drift_component import drift_check


@dsl.pipeline(
    name="drift-monitoring",
    description="Compare new data with the training baseline; publish a drift alert on drift.",
)
def drift_monitoring(  # noqa: PLR0917  (KFP passes pipeline inputs positionally)
    baseline_uri: str,
    data_uri: str,
    threshold: float = 0.3,
    feature_thresholds: dict = {},  # noqa: B006  (KFP copies defaults into the spec; never mutated)
    model: str = "",
    endpoint: str = "",
    topic: str = "",
) -> bool:
    """Check data_uri against baseline_uri; return whether any feature drifted."""
    check = drift_check(
        baseline_uri=baseline_uri,
        data_uri=data_uri,
        threshold=threshold,
        feature_thresholds=feature_thresholds,
        model=model,
        endpoint=endpoint,
        topic=topic,
    )
    check.set_display_name("drift-check")
    return check.outputs["Output"]
