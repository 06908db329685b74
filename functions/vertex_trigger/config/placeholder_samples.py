"""What each placeholder may stand for: sample values, per route, for the start-up type check.

A parameter whose every substitution fails its input's type can never launch (a start-up error);
one whose substitution fails for some values may not (a warning). The samples cover each kind of
text a placeholder carries, the shapes that decide a conversion: digits, a decimal, true/false,
JSON, empty, plain text.
"""

from collections.abc import Mapping
from types import MappingProxyType

from vertex_trigger.config.model import EventKind, Route

# Text anyone may choose (an event id, an objective, a summary): every shape a conversion tells
# apart, the typical one first.
ANY_TEXT = ("text", "42", "-7", "1.5", "true", "false", "[1]", '{"a": 1}', "", 'a"b')
_DIGITS = ("1712345678901234", "0")  # int64 fields of Cloud Storage, counts and byte totals
_DIGITS_OR_EMPTY = (*_DIGITS, "")  # an object's size may be unknown
_TIMESTAMP = ("2026-12-01T09:30:00.000Z", "")
_DECIMAL_OR_EMPTY = ("0.41", "1.0", "")  # repr(float) of a deviation; '' when not measured
_RESOURCE_OR_EMPTY = ("projects/p/locations/us-central1/models/m", "")
_NUMBER_TEXT_OR_EMPTY = ("0.41", "1", "")  # an incident's values, as Cloud Monitoring sends them
_FEATURE_NAMES = ("sqft", "sqft,bedrooms", "")  # comma-separated feature (column) names
_FORMS = (
    "canonical",
    "incident",
    "monitoring_v1_anomalies",
    "monitoring_v1_stats",
    "monitoring_v2",
)

_DRIFT = MappingProxyType(
    {
        "model": _RESOURCE_OR_EMPTY,
        "endpoint": _RESOURCE_OR_EMPTY,
        "monitoring_job": _RESOURCE_OR_EMPTY,
        "deployed_model_id": ("1234567890", ""),
        "objective": ("RAW_FEATURE_DRIFT", ""),
        "form": _FORMS,
        "features": _FEATURE_NAMES,
        "max_deviation": _DECIMAL_OR_EMPTY,
        "policy": ANY_TEXT,
        "condition": ANY_TEXT,
        "incident_id": ANY_TEXT,
        "summary": ANY_TEXT,
        "observed_value": _NUMBER_TEXT_OR_EMPTY,
        "threshold_value": _NUMBER_TEXT_OR_EMPTY,
        "event_id": ANY_TEXT,
        "event_time": _TIMESTAMP,
    }
)


_JOB_ID = ("prices-arrival-4f1c0d2a9b8e7f6a5b4c",)  # ids are [a-z][-a-z0-9]*
# run_ended routes: the upstream run (its output references are checked by launch/chain_fit.py).
_RUN = MappingProxyType(
    {
        "upstream_job": _JOB_ID,
        "upstream_route": ("prices-arrival",),
        "upstream_state": ("SUCCEEDED", "FAILED", "CANCELLED"),
        "upstream_pipeline": ("house-prices",),
        "upstream_source": ANY_TEXT,
        "upstream_event_id": ANY_TEXT,
        "event_time": _TIMESTAMP,
    }
)


def placeholder_samples(route: Route) -> Mapping[str, tuple[str, ...]]:
    """Return sample values of every placeholder the route may use, the typical one first."""
    if route.event is EventKind.DRIFT_ALERT:
        return _DRIFT
    if route.event is EventKind.RUN_ENDED:
        return _RUN
    if route.batch is not None:
        return _batch_samples(route)
    return _object_samples(route)


def _object_samples(route: Route) -> Mapping[str, tuple[str, ...]]:
    # An object name starts with the route's prefix and ends with its suffix: "incoming/" or
    # ".csv" keeps {name} from ever being a number.
    names = tuple(f"{route.prefix}{text}{route.suffix}" for text in ANY_TEXT if text)
    return {
        "bucket": (route.bucket,),
        "name": names,
        "uri": tuple(f"gs://{route.bucket}/{name}" for name in names[:1]),
        "generation": _DIGITS,
        "content_type": ("text/csv", ""),
        "size": _DIGITS_OR_EMPTY,
        "time_created": _TIMESTAMP,
        "event_id": ANY_TEXT,
        "event_time": _TIMESTAMP,
    }


def _batch_samples(route: Route) -> Mapping[str, tuple[str, ...]]:
    folder = f"{route.prefix}2026-12-01/"  # a batch folder always ends with '/'
    return {
        "bucket": (route.bucket,),
        "batch_uri": (f"gs://{route.bucket}/{folder}",),
        "batch_folder": (folder,),
        "batch_objects": _DIGITS,
        "batch_bytes": _DIGITS,
        "batch_manifest_uri": (f"gs://{route.bucket}/{folder}manifest.json",),
    }
