"""The drift check's human-readable table (the JSON report is the machine-readable output)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def verdict_table(report: Mapping[str, Any]) -> str:
    """Return one row per feature with its distance, threshold and verdict, then a summary."""
    features = report["features"]
    width = max([len("feature")] + [len(f["name"]) for f in features])
    lines = [f"{'feature':<{width}}  {'kind':<11}  {'distance':>8}  {'threshold':>9}  verdict"]
    for feature in features:
        verdict = "DRIFT" if feature["drifted"] else "ok"
        lines.append(
            f"{feature['name']:<{width}}  {feature['kind']:<11}  {feature['distance']:>8.4f}"
            f"  {feature['threshold']:>9.4f}  {verdict}"
        )
    drifted = [f["name"] for f in features if f["drifted"]]
    if drifted:
        lines.append(f"drift in {len(drifted)} of {len(features)} features: {', '.join(drifted)}")
    else:
        lines.append(f"no drift in {len(features)} features")
    published = report.get("published")
    if published:
        lines.append(f"alert published to {published['topic']} (message {published['message_id']})")
    return "\n".join(lines)
