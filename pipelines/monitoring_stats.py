"""Baseline statistics and drift distances shared by the training pipeline and the drift check.

One format, one implementation: the pipeline's baseline component embeds these functions with
`@dsl.component(additional_funcs=[...])`, and `pipelines.drift` imports them. KFP copies only
function sources into a component (after `from typing import *`), so every function here is
self-contained: imports and constants live inside the function bodies, annotations use names that
`typing` also provides, and only the standard library is used.

Baseline format (JSON):

    {"format": "vertex-triggers/baseline/v1", "row_count": 1000,
     "features": {
       "sqft": {"kind": "numeric", "count": 998, "missing": 2, "mean": ..., "std": ...,
                "min": ..., "max": ..., "bin_edges": [e0, ..., eK],
                "frequencies": [underflow, b1, ..., bK, overflow]},
       "neighborhood": {"kind": "categorical", "count": 1000, "missing": 0,
                        "frequencies": {"downtown": 0.31, ...}}}}

Numeric features get K equal-width bins over the training range plus an underflow and an overflow
bucket, so values outside what training saw are counted, not clipped away. Distances follow Vertex
AI Model Monitoring: Jensen-Shannon divergence (base 2, so it lies in [0, 1]) over those bins for
numeric features, L-infinity distance of category frequencies for categorical ones, where a
category never seen in training is a bucket of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def finite_numbers(values: Iterable[Any]) -> list[float]:
    """Return the values that are finite numbers, as floats; missing and non-numeric are dropped."""
    import math

    numbers = []
    for value in values:
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            numbers.append(number)
    return numbers


def present_categories(values: Iterable[Any]) -> list[str]:
    """Return the non-missing values as strings (None, NaN and empty strings are missing)."""
    import math

    categories = []
    for value in values:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        text = str(value)
        if text:
            categories.append(text)
    return categories


def equal_width_edges(numbers: Sequence[float], bins: int) -> list[float]:
    """Return bins + 1 equal-width edges spanning the numbers (one unit wide if all are equal)."""
    low, high = min(numbers), max(numbers)
    if high == low:
        low, high = low - 0.5, high + 0.5
    width = (high - low) / bins
    return [low + width * index for index in range(bins)] + [high]


def binned_frequencies(numbers: Sequence[float], bin_edges: Sequence[float]) -> list[float]:
    """Return frequencies over [underflow, bin 1..K, overflow]; bins are closed on the right."""
    import bisect

    counts = [0] * (len(bin_edges) + 1)
    low, high = bin_edges[0], bin_edges[-1]
    for number in numbers:
        if number < low:
            counts[0] += 1
        elif number > high:
            counts[-1] += 1
        else:
            # Left-most bin includes its lower edge, as numpy.histogram does.
            counts[max(1, bisect.bisect_left(bin_edges, number))] += 1
    total = len(numbers)
    return [count / total if total else 0.0 for count in counts]


def category_frequencies(categories: Sequence[str]) -> dict[str, float]:
    """Return each category's share of the values, keys sorted for stable output."""
    from collections import Counter

    total = len(categories)
    counts = Counter(categories)
    return {name: counts[name] / total for name in sorted(counts)}


def numeric_summary(values: Iterable[Any], bins: int = 10) -> dict[str, Any]:
    """Summarise one numeric training column: moments, range, bin edges and frequencies."""
    import statistics

    raw = list(values)
    numbers = finite_numbers(raw)
    if not numbers:
        raise ValueError("numeric feature has no finite values")
    edges = equal_width_edges(numbers, bins)
    return {
        "kind": "numeric",
        "count": len(numbers),
        "missing": len(raw) - len(numbers),
        "mean": statistics.fmean(numbers),
        "std": statistics.pstdev(numbers),
        "min": min(numbers),
        "max": max(numbers),
        "bin_edges": edges,
        "frequencies": binned_frequencies(numbers, edges),
    }


def categorical_summary(values: Iterable[Any]) -> dict[str, Any]:
    """Summarise one categorical training column: category frequencies."""
    raw = list(values)
    categories = present_categories(raw)
    if not categories:
        raise ValueError("categorical feature has no values")
    return {
        "kind": "categorical",
        "count": len(categories),
        "missing": len(raw) - len(categories),
        "frequencies": category_frequencies(categories),
    }


def compute_baseline(
    columns: Mapping[str, Iterable[Any]],
    numeric_features: Sequence[str],
    categorical_features: Sequence[str],
    bins: int = 10,
) -> dict[str, Any]:
    """Compute the baseline document for the named features of a table (e.g. a DataFrame)."""
    features: dict[str, Any] = {}
    row_count = 0
    for name in numeric_features:
        values = list(columns[name])
        row_count = max(row_count, len(values))
        try:
            features[name] = numeric_summary(values, bins)
        except ValueError as error:
            raise ValueError(f"feature {name!r}: {error}") from None
    for name in categorical_features:
        values = list(columns[name])
        row_count = max(row_count, len(values))
        try:
            features[name] = categorical_summary(values)
        except ValueError as error:
            raise ValueError(f"feature {name!r}: {error}") from None
    return {"format": "vertex-triggers/baseline/v1", "row_count": row_count, "features": features}


def jensen_shannon_divergence(p: Sequence[float], q: Sequence[float]) -> float:
    """Return the Jensen-Shannon divergence (base 2, in [0, 1]) of two distributions."""
    import math

    p_total, q_total = sum(p), sum(q)
    if p_total <= 0 or q_total <= 0:
        raise ValueError("distributions must have positive mass")
    divergence = 0.0
    for p_raw, q_raw in zip(p, q, strict=True):
        p_i, q_i = p_raw / p_total, q_raw / q_total
        m_i = (p_i + q_i) / 2
        if p_i > 0:
            divergence += 0.5 * p_i * math.log2(p_i / m_i)
        if q_i > 0:
            divergence += 0.5 * q_i * math.log2(q_i / m_i)
    return min(1.0, max(0.0, divergence))


def l_infinity_distance(p: Mapping[str, float], q: Mapping[str, float]) -> float:
    """Return the largest absolute frequency difference over the union of categories."""
    return max((abs(p.get(key, 0.0) - q.get(key, 0.0)) for key in set(p) | set(q)), default=0.0)


def feature_distance(summary: Mapping[str, Any], values: Iterable[Any]) -> float:
    """Return the distance between a feature's baseline summary and fresh values of it."""
    if summary["kind"] == "numeric":
        numbers = finite_numbers(values)
        if not numbers:
            raise ValueError("no finite values to compare")
        fresh = binned_frequencies(numbers, summary["bin_edges"])
        return jensen_shannon_divergence(summary["frequencies"], fresh)
    categories = present_categories(values)
    if not categories:
        raise ValueError("no values to compare")
    return l_infinity_distance(summary["frequencies"], category_frequencies(categories))


# What a component embeds with `additional_funcs` (callees first), kept beside the functions so a
# new helper is added once: the pipeline's baseline step and the drift check both use these lists.
BASELINE_FUNCTIONS = [
    finite_numbers, present_categories, equal_width_edges, binned_frequencies,
    category_frequencies, numeric_summary, categorical_summary, compute_baseline,
]
DISTANCE_FUNCTIONS = [
    finite_numbers, present_categories, binned_frequencies, category_frequencies,
    jensen_shannon_divergence, l_infinity_distance, feature_distance,
]
