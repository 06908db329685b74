"""The canonical alert our own drift check publishes (design.md, drift alert format 1)."""

from collections.abc import Mapping
from typing import Any

from vertex_trigger.events.drift_alerts import fields
from vertex_trigger.events.drift_alerts.alert import (
    AlertForm,
    DriftAlert,
    FeatureDeviation,
    VertexNames,
)
from vertex_trigger.events.drift_alerts.forms import Context, Form


def parse(payload: Mapping[str, Any], context: Context) -> DriftAlert:
    """Read ``{model, endpoint, objective, features: [{name, deviation, threshold}]}``."""
    features = fields.items(payload, "features")
    names = VertexNames(
        model=fields.text(payload, "model", required=True),
        endpoint=fields.text(payload, "endpoint"),
        monitoring_job=fields.text(payload, "monitoring_job"),
        deployed_model_id=fields.text(payload, "deployed_model_id", numeric_id=True),
    )
    return DriftAlert(
        form=AlertForm.CANONICAL,
        names=names.or_else(context.names),
        objective=fields.text(payload, "objective"),
        features=tuple(feature(raw, f"features[{i}]", "name") for i, raw in enumerate(features)),
        in_log_entry=context.in_log_entry,
    )


def feature(raw: Any, where: str, name_key: str) -> FeatureDeviation:
    """Read one ``{NAME_KEY, deviation, threshold}`` entry (shared with the v1 anomaly log)."""
    item = fields.entry(raw, where)
    threshold = fields.pick(item, "threshold")
    return FeatureDeviation(
        name=fields.text(item, name_key, f"{where}.{name_key}", required=True),
        deviation=fields.number(fields.pick(item, "deviation"), f"{where}.deviation"),
        threshold=None if threshold is None else fields.number(threshold, f"{where}.threshold"),
    )


FORM = Form("canonical", ("features",), parse)
