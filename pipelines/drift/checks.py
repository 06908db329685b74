"""Drift verdicts against a baseline document, and the canonical drift alert built from them.

Self-contained functions (imports inside bodies, names `typing` also provides) so the KFP
component can embed them next to `pipelines.monitoring_stats` with `additional_funcs`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipelines.monitoring_stats import feature_distance


def validate_baseline(baseline: Any, source: str) -> None:
    """Raise ValueError naming the source and the problem unless this is a usable baseline."""
    expected = "vertex-triggers/baseline/v1"
    if not isinstance(baseline, dict):
        raise ValueError(f"{source}: baseline must be a JSON object")
    if baseline.get("format") != expected:
        raise ValueError(f"{source}: format is {baseline.get('format')!r}, expected {expected!r}")
    features = baseline.get("features")
    if not isinstance(features, dict) or not features:
        raise ValueError(f"{source}: baseline has no features")
    for name, summary in features.items():
        kind = summary.get("kind") if isinstance(summary, dict) else None
        if kind not in ("numeric", "categorical"):
            raise ValueError(f"{source}: feature {name!r} has kind {kind!r}")
        needed = ["frequencies", "bin_edges"] if kind == "numeric" else ["frequencies"]
        for key in needed:
            if key not in summary:
                raise ValueError(f"{source}: feature {name!r} has no {key!r}")
        if kind == "numeric" and len(summary["frequencies"]) != len(summary["bin_edges"]) + 1:
            raise ValueError(
                f"{source}: feature {name!r} needs one frequency per bin"
                " plus underflow and overflow"
            )


def validate_threshold(value: float, name: str) -> float:
    """Return the threshold as a float, or raise ValueError naming it if outside (0, 1]."""
    import math

    number = float(value)
    if not (math.isfinite(number) and 0 < number <= 1):
        raise ValueError(f"threshold for {name} must be in (0, 1], got {value!r}")
    return number


def evaluate_drift(
    baseline: Mapping[str, Any],
    columns: Mapping[str, Sequence[Any]],
    threshold: float = 0.3,
    feature_thresholds: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Compare fresh columns with the baseline: one verdict per feature, drifted if any drifted."""
    overrides = dict(feature_thresholds or {})
    unknown = sorted(set(overrides) - set(baseline["features"]))
    if unknown:
        names = ", ".join(unknown)
        raise ValueError(f"threshold given for feature(s) not in the baseline: {names}")
    default = validate_threshold(threshold, "every feature")
    verdicts = []
    for name, summary in baseline["features"].items():
        limit = validate_threshold(overrides[name], name) if name in overrides else default
        try:
            distance = feature_distance(summary, columns[name])
        except ValueError as error:
            raise ValueError(f"feature {name!r}: {error}") from None
        verdicts.append(
            {
                "name": name,
                "kind": summary["kind"],
                "distance": distance,
                "threshold": limit,
                # "At least the threshold", as a drift route's min_deviation reads it.
                "drifted": distance >= limit,
            }
        )
    return {"drifted": any(v["drifted"] for v in verdicts), "features": verdicts}


def drift_alert(
    verdicts: Mapping[str, Any], model: str, detected_at: str, endpoint: str = ""
) -> dict[str, Any]:
    """Return the canonical drift alert (design.md) for the drifted features of a verdict."""
    alert: dict[str, Any] = {"model": model}
    if endpoint:
        alert["endpoint"] = endpoint
    alert["objective"] = "RAW_FEATURE_DRIFT"
    alert["detected_at"] = detected_at
    alert["features"] = [
        {"name": v["name"], "deviation": v["distance"], "threshold": v["threshold"]}
        for v in verdicts["features"]
        if v["drifted"]
    ]
    return alert
