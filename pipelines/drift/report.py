"""The drift check end to end, as one self-contained function shared by the CLI and the component.

Self-contained (imports inside bodies) so the KFP component can embed it with `additional_funcs`
next to the functions it calls from `checks`, `inputs`, `pipelines.uri_io` and
`pipelines.monitoring_stats`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelines.drift.checks import drift_alert, evaluate_drift, validate_baseline
from pipelines.drift.inputs import read_csv_columns, read_json_uri


def rfc3339_now() -> str:
    """Return the current UTC time in RFC 3339 with millisecond precision."""
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def drift_report(
    baseline_uri: str,
    data_uri: str,
    *,
    threshold: float,
    feature_thresholds: Mapping[str, float],
    model: str,
    endpoint: str,
    checked_at: str,
) -> dict[str, Any]:
    """Compare the CSV at data_uri with the baseline: the report, with an alert if drifted."""
    baseline = read_json_uri(baseline_uri)
    validate_baseline(baseline, baseline_uri)
    kinds = {name: summary["kind"] for name, summary in baseline["features"].items()}
    numeric = [name for name, kind in kinds.items() if kind == "numeric"]
    categorical = [name for name, kind in kinds.items() if kind == "categorical"]
    columns = read_csv_columns(data_uri, numeric, categorical)
    verdicts = evaluate_drift(baseline, columns, threshold, feature_thresholds)
    drifted_with_model = verdicts["drifted"] and bool(model)
    return {
        "drifted": verdicts["drifted"],
        "features": verdicts["features"],
        "baseline": baseline_uri,
        "data": data_uri,
        "rows": len(next(iter(columns.values()))),
        "checked_at": checked_at,
        "model": model or None,
        "alert": drift_alert(verdicts, model, checked_at, endpoint) if drifted_with_model else None,
        "published": None,
    }
