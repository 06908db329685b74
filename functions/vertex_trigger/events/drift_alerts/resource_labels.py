"""Vertex AI resource names from the labels Google puts on log entries, metrics and policies."""

from collections.abc import Mapping

from vertex_trigger.events.drift_alerts.alert import VertexNames

# Label keys that carry each name, first match wins. `*_id` labels hold a bare id (monitored
# resource aiplatform.googleapis.com/Endpoint has endpoint_id); other keys may hold either.
_KEYS = {
    "model": ("model", "model_id"),
    "endpoint": ("endpoint", "endpoint_id"),
    "monitoring_job": (
        "monitoring_job",
        "model_deployment_monitoring_job",
        "model_deployment_monitoring_job_id",
        "model_monitoring_job",
    ),
    "deployed_model_id": ("deployed_model_id",),
}
_COLLECTIONS = {
    "model": "models",
    "endpoint": "endpoints",
    "monitoring_job": "modelDeploymentMonitoringJobs",
}
# Monitored resources name their project resource_container; gce-style ones project_id.
_PROJECT_KEYS = ("resource_container", "project_id")


def names_from_labels(*label_maps: Mapping[str, str]) -> VertexNames:
    """Return the names the label maps carry, earlier maps first; bare ids become full names."""
    project = _first(label_maps, _PROJECT_KEYS).removeprefix("projects/")
    location = _first(label_maps, ("location",))
    found = {name: _first(label_maps, keys) for name, keys in _KEYS.items()}
    for name, collection in _COLLECTIONS.items():
        found[name] = _full_name(found[name], collection, project, location)
    return VertexNames(**found)


def _first(label_maps: tuple[Mapping[str, str], ...], keys: tuple[str, ...]) -> str:
    for labels in label_maps:
        for key in keys:
            if labels.get(key):
                return labels[key]
    return ""


def _full_name(value: str, collection: str, project: str, location: str) -> str:
    """Return projects/P/locations/L/COLLECTION/ID for a bare id (given project and location)."""
    if not value or "/" in value or not (project and location):
        return value
    return f"projects/{project}/locations/{location}/{collection}/{value}"
