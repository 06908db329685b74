"""The drift check as a KFP lightweight component, so a monitoring pipeline runs it on a schedule.

The component embeds the very functions `python -m pipelines.drift check` uses (the shared
statistics and the check itself) with `additional_funcs`; nothing is reimplemented here.
"""

from kfp import dsl
from kfp.dsl import Artifact, Metrics, Output

from pipelines import monitoring_stats, uri_io
from pipelines.drift import checks, inputs, publish, report
from pipelines.pins import pinned

BASE_IMAGE = "python:3.11-slim"  # the image house_prices' components use
# Pinned as in requirements.txt; under kfp.local (use_venv=False) they are already installed.
PACKAGES = pinned("pandas", "google-cloud-storage", "google-cloud-pubsub")

EMBEDDED_FUNCTIONS = [
    *monitoring_stats.DISTANCE_FUNCTIONS,
    checks.validate_baseline,
    checks.validate_threshold,
    checks.evaluate_drift,
    checks.drift_alert,
    *uri_io.READ_FUNCTIONS,
    inputs.read_input_bytes,
    inputs.read_json_uri,
    inputs.read_csv_columns,
    report.rfc3339_now,
    report.drift_report,
    publish.publish_alert,
]


@dsl.component(
    base_image=BASE_IMAGE,
    packages_to_install=PACKAGES,
    additional_funcs=EMBEDDED_FUNCTIONS,
)
def drift_check(  # noqa: PLR0917  (KFP passes pipeline inputs positionally)
    baseline_uri: str,
    data_uri: str,
    drift_report_json: Output[Artifact],
    drift_metrics: Output[Metrics],
    threshold: float = 0.3,
    feature_thresholds: dict = {},  # noqa: B006  (KFP copies defaults into the spec; never mutated)
    model: str = "",
    endpoint: str = "",
    topic: str = "",
) -> bool:
    """Compare data_uri with the baseline; publish an alert to topic on drift; return drifted."""
    import json

    result = drift_report(  # noqa: F821  (embedded by additional_funcs)
        baseline_uri,
        data_uri,
        threshold=threshold,
        feature_thresholds=feature_thresholds or {},
        model=model,
        endpoint=endpoint,
        checked_at=rfc3339_now(),  # noqa: F821
    )
    if result["alert"] and topic:
        message_id = publish_alert(topic, result["alert"])  # noqa: F821
        result["published"] = {"topic": topic, "message_id": message_id}
    with open(drift_report_json.path, "w") as file:
        json.dump(result, file, indent=2)
    for feature in result["features"]:
        drift_metrics.log_metric(f"distance_{feature['name']}", feature["distance"])
    drift_metrics.log_metric("drifted_features", sum(f["drifted"] for f in result["features"]))
    return result["drifted"]
