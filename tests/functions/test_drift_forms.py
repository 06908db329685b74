"""Every drift alert form, from Google's own examples and protos, into one DriftAlert."""

import contextlib
import copy
import json
import re
from typing import Any

import pytest
from vertex_trigger.config.placeholders import DRIFT_PLACEHOLDERS
from vertex_trigger.errors import RejectedEvent
from vertex_trigger.events.drift_alerts.alert import (
    AlertForm,
    FeatureDeviation,
    IncidentState,
)
from vertex_trigger.events.drift_alerts.match_fields import MATCH_FIELDS
from vertex_trigger.events.drift_alerts.parsing import FORMS, parse_drift_alert

from tests.functions.helpers import load_json

V1_JOB = "projects/123456789/locations/us-central1/modelDeploymentMonitoringJobs/987654321"
V2_MONITOR = "projects/123456789/locations/us-central1/modelMonitors/4455667788"
ENDPOINT = "projects/123456789/locations/us-central1/endpoints/1234567890"


def parse(payload: Any):
    return parse_drift_alert(json.dumps(payload).encode())


def sample(name: str) -> dict[str, Any]:
    return load_json(f"drift/{name}.json")


def snake_case(value: Any) -> Any:
    """The same document with every lowerCamel key in proto (snake_case) spelling."""
    if isinstance(value, dict):
        return {
            key if key.startswith("@") else re.sub(r"([A-Z])", r"_\1", key).lower(): snake_case(v)
            for key, v in value.items()
        }
    if isinstance(value, list):
        return [snake_case(v) for v in value]
    return value


def quoted_numbers(value: Any) -> Any:
    """The same document with every number as text, as some JSON encoders write them."""
    if isinstance(value, dict):
        return {key: quoted_numbers(v) for key, v in value.items()}
    if isinstance(value, list):
        return [quoted_numbers(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    return value


def test_canonical_alert() -> None:
    alert = parse(sample("canonical"))
    assert alert.form is AlertForm.CANONICAL
    assert alert.model.endswith("/models/house-prices")
    assert alert.model_key == alert.model
    assert alert.max_deviation == 0.41
    assert alert.placeholder_values("e", "t")["features"] == "sqft,bedrooms"


def test_v1_anomaly_log_entry_and_bare_payload_agree() -> None:
    entry = parse(sample("anomaly_log_entry"))
    payload = parse(sample("anomaly_log_payload"))
    assert entry.form is payload.form is AlertForm.ANOMALY_LOG
    assert (entry.in_log_entry, payload.in_log_entry) == (True, False)
    assert entry.features == payload.features
    assert entry.model_key == payload.model_key == f"{V1_JOB}/5566778899"
    assert entry.objective == "RAW_FEATURE_SKEW"
    assert entry.max_deviation == 0.52


def test_v1_stats_anomalies_in_a_log_entry_take_the_job_from_its_resource() -> None:
    alert = parse(sample("stats_anomalies_log_entry"))
    assert alert.form is AlertForm.STATS_ANOMALIES
    assert alert.in_log_entry
    assert alert.monitoring_job == V1_JOB
    assert alert.deployed_model_id == "5566778899"
    assert alert.objective == "RAW_FEATURE_DRIFT"
    assert alert.features == (
        FeatureDeviation("sqft", 0.47, 0.3),
        FeatureDeviation("bedrooms", 0.08, 0.3),
    )
    assert alert.max_deviation == 0.47
    assert alert.model_key == f"{V1_JOB}/5566778899"


def test_v1_stats_anomalies_alone_know_only_the_deployed_model() -> None:
    alert = parse(sample("stats_anomalies"))
    assert (alert.form, alert.in_log_entry, alert.monitoring_job) == (
        AlertForm.STATS_ANOMALIES,
        False,
        "",
    )
    assert alert.model_key == "5566778899"
    assert alert.features == parse(sample("stats_anomalies_log_entry")).features


def test_endpoint_and_model_from_resource_labels_drive_identity() -> None:
    entry = sample("stats_anomalies_log_entry")
    entry["resource"] = {
        "type": "aiplatform.googleapis.com/Endpoint",
        "labels": {"resource_container": "123456789", "location": "us-central1",
                   "endpoint_id": "1234567890"},
    }  # fmt: skip
    alert = parse(entry)
    assert alert.endpoint == ENDPOINT
    assert alert.model_key == f"{ENDPOINT}/5566778899"
    entry["resource"]["labels"]["model_id"] = "house-prices"
    with_model = parse(entry)
    assert with_model.model == "projects/123456789/locations/us-central1/models/house-prices"
    assert with_model.model_key == with_model.model


@pytest.mark.parametrize("name", ["stats_anomalies_log_entry", "v2_anomaly_log_entry",
                                  "anomaly_log_entry", "incident_open", "canonical"])  # fmt: skip
def test_snake_case_and_quoted_numbers_read_the_same(name: str) -> None:
    original = parse(sample(name))
    assert parse(snake_case(sample(name))) == original
    if name != "canonical":  # the canonical form's numbers are ours: JSON numbers
        assert parse(quoted_numbers(sample(name))) == original


def test_stats_objective_as_an_enum_number() -> None:
    payload = {**sample("stats_anomalies"), "objective": 2}
    assert parse(payload).objective == "RAW_FEATURE_DRIFT"


def test_stats_feature_without_prediction_windows_has_no_deviation() -> None:
    payload = sample("stats_anomalies")
    payload["featureStats"] = [{"featureDisplayName": "sqft"}]
    alert = parse(payload)
    assert alert.features == (FeatureDeviation("sqft", None, None),)
    assert alert.max_deviation is None


def test_stats_threshold_falls_back_to_the_windows_and_zero_deviation_is_left_out() -> None:
    payload = sample("stats_anomalies")
    payload["featureStats"] = [
        {"featureDisplayName": "sqft",
         "predictionStats": [{"anomalyDetectionThreshold": 0.2}, {"distributionDeviation": 0.3}]},
    ]  # fmt: skip
    assert parse(payload).features == (FeatureDeviation("sqft", 0.3, 0.2),)


def test_v2_anomaly_log_entry() -> None:
    alert = parse(sample("v2_anomaly_log_entry"))
    assert alert.form is AlertForm.V2_ANOMALIES
    assert alert.in_log_entry
    assert alert.monitoring_job == f"{V2_MONITOR}/modelMonitoringJobs/9988776655"
    assert alert.objective == "raw-feature-drift"
    assert alert.features == (FeatureDeviation("sqft", 0.46, 0.3),)
    assert alert.model_key == V2_MONITOR  # every scheduled run of one monitor cools down together


def test_v2_every_published_wrapping_reads_the_same_anomaly() -> None:
    alert = sample("v2_anomaly_log_entry")["jsonPayload"]
    listed = parse({"modelMonitoringAlerts": [alert], "totalNumberAlerts": 1})
    assert listed.features == parse(alert).features
    bare = parse(alert["anomaly"])  # ModelMonitoringAnomaly alone: no statsName, no objective
    assert bare.features == (FeatureDeviation("", 0.46, 0.3),)
    assert bare.model_key == V2_MONITOR


@pytest.mark.parametrize(
    ("body", "deviation"),
    [(0.5, 0.5), ("0.5", 0.5), ({"currentStats": {"doubleValue": 0.7}}, 0.7),
     ({"distributionDeviation": 0.2}, 0.2), ({"currentStats": {"distributionValue": {}}}, 0.0),
     (None, None), (["not", "a", "figure"], None)],
)  # fmt: skip
def test_v2_anomaly_body_figures(body: Any, deviation: float | None) -> None:
    alert = sample("v2_anomaly_log_entry")["jsonPayload"]
    alert["anomaly"]["tabularAnomaly"]["anomaly"] = body
    assert parse(alert).features[0].deviation == deviation


def test_open_incident() -> None:
    alert = parse(sample("incident_open"))
    assert alert.form is AlertForm.INCIDENT
    assert not alert.closed
    incident = alert.incident
    assert incident.state is IncidentState.OPEN
    fields = alert.match_fields()
    assert fields["policy"] == "Monitor-Project-Cluster"
    assert fields["condition"] == "VM Instance - CPU utilization [MAX]"
    assert fields["incident_id"] == "0.opqiw61fsv7p"
    assert fields["summary"].startswith("CPU utilization for internal-project")
    assert (fields["observed_value"], fields["threshold_value"]) == ("0.835", "0.9")
    assert alert.max_deviation == 0.835
    assert alert.occurrence == "0.opqiw61fsv7p"
    assert dict(alert.policy_labels) == {
        "labelkey": "labelvalue",  # metadata.user_labels
        "user-label-1": "important label",
        "user-label-2": "another label",
    }
    assert alert.model_key == (
        "Monitor-Project-Cluster|gce_instance|"
        "instance_id=11223344,project_id=internal-project,zone=us-central1-c"
    )


@pytest.mark.parametrize("name", ["incident_closed_docs", "incident_closed_forwarding"])
def test_closed_incidents(name: str) -> None:
    alert = parse(sample(name))
    assert alert.closed
    assert alert.incident.state is IncidentState.CLOSED


def test_incident_without_observed_value_has_no_deviation() -> None:
    alert = parse(sample("incident_closed_forwarding"))
    assert alert.max_deviation is None
    assert alert.placeholder_values("e", "t")["max_deviation"] == ""


def vertex_incident() -> dict[str, Any]:
    """Google's example as a Vertex AI endpoint metric's incident would carry it."""
    incident = sample("incident_open")
    incident["incident"]["resource"] = {
        "type": "aiplatform.googleapis.com/Endpoint",
        "labels": {"resource_container": "123456789", "location": "us-central1",
                   "endpoint_id": "1234567890"},
    }  # fmt: skip
    incident["incident"]["metric"]["labels"] = {"deployed_model_id": "5566778899"}
    return incident


def test_incident_names_vertex_resources_from_resource_metric_and_policy_labels() -> None:
    alert = parse(vertex_incident())
    assert (alert.endpoint, alert.deployed_model_id, alert.model) == (ENDPOINT, "5566778899", "")
    assert alert.model_key.startswith("Monitor-Project-Cluster|aiplatform.googleapis.com/Endpoint|")
    labelled = vertex_incident()
    labelled["incident"]["policy_user_labels"]["model"] = "projects/p/locations/l/models/m"
    assert parse(labelled).model_key == "projects/p/locations/l/models/m"  # a known model wins


def test_policy_user_labels_override_metadata_user_labels() -> None:
    incident = sample("incident_open")
    incident["incident"]["metadata"]["user_labels"] = {"retrain": "no", "team": "pricing"}
    incident["incident"]["policy_user_labels"] = {"retrain": "house-prices"}
    assert dict(parse(incident).policy_labels) == {"retrain": "house-prices", "team": "pricing"}


@pytest.mark.parametrize(
    ("state", "expected"), [("OPEN", IncidentState.OPEN), ("Closed", IncidentState.CLOSED)]
)
def test_incident_state_is_case_blind(state: str, expected: IncidentState) -> None:
    incident = sample("incident_open")
    incident["incident"]["state"] = state
    assert parse(incident).incident.state is expected


def test_incident_values_as_json_numbers() -> None:
    incident = sample("incident_open")
    incident["incident"].update(observed_value=0.835, threshold_value=0.9)
    fields = parse(incident).match_fields()
    assert (fields["observed_value"], fields["threshold_value"]) == ("0.835", "0.9")


def with_incident(**changes: Any) -> dict[str, Any]:
    incident = copy.deepcopy(sample("incident_open"))
    incident["incident"].update(changes)
    return incident


def with_entry_resource(labels: Any) -> dict[str, Any]:
    entry = sample("stats_anomalies_log_entry")
    entry["resource"]["labels"] = labels
    return entry


@pytest.mark.parametrize(
    ("alert", "message"),
    [
        ({"version": "1.2"}, "not a drift alert: no accepted form matches (tried Cloud Monitoring "
         "incident: no 'incident'; Cloud Logging LogEntry: no 'jsonPayload'; Model Monitoring v1 "
         "anomaly log: no 'featureAnomalies'; Model Monitoring v1 stats anomalies: no "
         "'featureStats'; Model Monitoring v2 anomalies: no 'tabularAnomaly'; canonical: no "
         "'features')"),
        ({"incident": "open", "version": "1.2"},
         "drift alert field 'incident' must be an object, got 'open'"),
        (with_incident(state=1), "field 'incident.state' must be a non-empty string, got 1"),
        (with_incident(state={"open": True}), "field 'incident.state' must be a non-empty string"),
        (with_incident(state="acknowledged"),
         "field 'incident.state' must be 'open' or 'closed', got 'acknowledged'"),
        (with_incident(observed_value="NaN"),
         "field 'incident.observed_value' must be a finite number, got 'NaN'"),
        (with_incident(observed_value="1e999"),
         "field 'incident.observed_value' must be a finite number, got '1e999'"),
        (with_incident(observed_value=[1]), "field 'incident.observed_value' must be a non-empty"),
        (with_incident(incident_id=None), "field 'incident.incident_id' must be a non-empty"),
        (with_incident(resource={"type": "t", "labels": ["a"]}),
         "field 'incident.resource.labels' must be an object, got ['a']"),
        (with_incident(metric={"labels": "x"}), "field 'incident.metric.labels' must be an object"),
        (with_incident(policy_user_labels="x"), "field 'incident.policy_user_labels' must be an"),
        (with_incident(metadata={"user_labels": 5}), "'incident.metadata.user_labels' must be an"),
        (with_incident(policy_user_labels={"a": 1}),
         "field 'incident.policy_user_labels.a' must be a string label value, got 1"),
        (with_entry_resource("x"), "field 'resource.labels' must be an object, got 'x'"),
        ({"jsonPayload": "text"}, "field 'jsonPayload' must be an object, got 'text'"),
        ({"jsonPayload": {"deployedModelId": "1"}},
         "not a Model Monitoring payload in 'jsonPayload': no accepted form matches (tried "
         "Model Monitoring v1 anomaly log: no 'featureAnomalies';"),
        ({"featureAnomalies": []}, "'modelDeploymentMonitoringJob' must be a non-empty"),
        ({"featureStats": {"sqft": 1}}, "field 'featureStats' must be a list, got {'sqft': 1}"),
        ({"featureStats": [{"featureDisplayName": "a", "threshold": {"value": "high"}}]},
         "field 'featureStats[0].threshold.value' must be a finite number, got 'high'"),
        ({"featureStats": [{"featureDisplayName": "a",
                            "predictionStats": [{"distributionDeviation": "Infinity"}]}]},
         "'featureStats[0].predictionStats[0].distributionDeviation' must be a finite number"),
        ({"objective": ["x"], "featureStats": []}, "field 'objective' must be an objective name"),
        ({"modelMonitoringAlerts": []}, "'modelMonitoringAlerts' must list at least one alert"),
        ({"anomaly": {"tabularAnomaly": {}}},
         "field 'anomaly.modelMonitoringJob' must be a non-empty string, got None"),
        ({"modelMonitoringJob": "j", "tabularAnomaly": {"anomaly": "NaN"}},
         "field 'tabularAnomaly.anomaly' must be a finite number, got 'NaN'"),
        ({"features": []}, "field 'model' must be a non-empty string, got None"),
        ({"model": "m", "features": "sqft"}, "field 'features' must be a list"),
        ({"model": "m", "features": [{"name": "a", "deviation": "x"}]}, "finite number"),
        ({"model": "m", "features": [{"deviation": 0.2}]}, "'features[0].name' must be a non-"),
        ({"model": 12, "features": []}, "field 'model' must be a non-empty string, got 12"),
        ({"model": "m", "deployed_model_id": -1, "features": []}, "'deployed_model_id'"),
        ([1, 2], "must be a JSON object, got list"),
    ],
)  # fmt: skip
def test_malformed_alerts_are_rejected_with_a_reason(alert: object, message: str) -> None:
    with pytest.raises(RejectedEvent) as rejected:
        parse(alert)
    assert message in str(rejected.value)


def test_json_nested_too_deeply_is_rejected_not_crashed() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(RejectedEvent, match="drift alert is JSON nested too deeply to read"):
        parse_drift_alert(deep)
    with pytest.raises(RejectedEvent, match=r"must be a list, got \{'a': \[\[\[\.\.\.\]\]\]\}$"):
        parse({"model": "m", "features": {"a": [[[[[[1]]]]]]}})


def test_every_form_is_tried_and_each_sample_is_recognised_by_its_own() -> None:
    assert [form.title for form in FORMS] == [
        "Cloud Monitoring incident",
        "Cloud Logging LogEntry",
        "Model Monitoring v1 anomaly log",
        "Model Monitoring v1 stats anomalies",
        "Model Monitoring v2 anomalies",
        "canonical",
    ]


def test_match_fields_and_placeholders_are_the_configured_ones() -> None:
    for name in ("canonical", "incident_open", "v2_anomaly_log_entry"):
        alert = parse(sample(name))
        assert set(alert.match_fields()) == MATCH_FIELDS
        assert set(alert.placeholder_values("e", "t")) == DRIFT_PLACEHOLDERS


SAMPLE_NAMES = [
    "canonical", "incident_open", "incident_closed_forwarding", "anomaly_log_entry",
    "stats_anomalies_log_entry", "stats_anomalies", "v2_anomaly_log_entry",
]  # fmt: skip


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a JSON document."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def test_any_value_anywhere_in_a_sample_is_parsed_or_rejected_never_crashes() -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                      max_size=3),
        max_leaves=6,
    )  # fmt: skip

    @settings(max_examples=400, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
    @given(st.sampled_from(SAMPLE_NAMES), st.data(), json_values)
    def check(name: str, data: Any, replacement: Any) -> None:
        document = sample(name)
        path = data.draw(st.sampled_from(_paths(document)[1:]))
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = replacement
        with contextlib.suppress(RejectedEvent):  # anything else escaping is the failure
            parse(document)

    check()
