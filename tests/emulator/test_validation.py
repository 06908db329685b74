"""Create-time validation: the official PipelineJob type, id and label rules, parameters, 409."""

from pathlib import Path

import pytest
import requests
import yaml

from tests.emulator.helpers import body_for, create, jobs_url

INVALID_KFP = (Path(__file__).parents[1] / "functions" / "data" / "templates" / "invalid"
               / "invalid_yaml.yaml")  # fmt: skip


def error_of(response) -> dict:
    """Return the `error` object of a Google-shaped error response."""
    payload = response.json()
    assert set(payload) == {"error"}
    assert set(payload["error"]) == {"code", "message", "status"}
    assert payload["error"]["code"] == response.status_code
    return payload["error"]


def test_create_returns_a_pending_job_with_output_fields(recorder, specs):
    response = create(recorder, "run-1", body_for(specs["tiny"], a=2))
    assert response.status_code == 200
    job = response.json()
    assert job["name"] == "projects/test-project/locations/us-central1/pipelineJobs/run-1"
    assert job["state"] == "PIPELINE_STATE_PENDING"
    assert job["createTime"].endswith("Z")
    assert job["runtimeConfig"]["parameterValues"] == {"a": 2}


def test_reused_id_is_409_already_exists(recorder, specs):
    assert create(recorder, "run-1", body_for(specs["tiny"], a=2)).status_code == 200
    response = create(recorder, "run-1", body_for(specs["tiny"], a=3))
    error = error_of(response)
    assert response.status_code == 409
    assert error["status"] == "ALREADY_EXISTS"
    assert "pipelineJobs/run-1 already exists" in error["message"]


def test_unknown_field_is_rejected_by_the_official_type(recorder, specs):
    body = {**body_for(specs["tiny"], a=2), "pipelineSpecUri": "gs://x/y.yaml"}
    error = error_of(create(recorder, "run-1", body))
    assert error["status"] == "INVALID_ARGUMENT"
    assert 'no field named "pipelineSpecUri"' in error["message"]


def test_wrongly_typed_field_is_rejected(recorder, specs):
    body = {**body_for(specs["tiny"], a=2), "labels": ["not", "a", "map"]}
    error = error_of(create(recorder, "run-1", body))
    assert error["status"] == "INVALID_ARGUMENT"
    assert "labels" in error["message"]


@pytest.mark.parametrize("job_id", ["Run-1", "1run", "run_1", "r" * 129, "run.1"])
def test_job_id_rule(recorder, specs, job_id):
    error = error_of(create(recorder, job_id, body_for(specs["tiny"], a=2)))
    assert error["status"] == "INVALID_ARGUMENT"
    assert f"pipelineJobId {job_id!r} is invalid" in error["message"]


def test_longest_valid_job_id_is_accepted(recorder, specs):
    assert create(recorder, "r" + "-" * 127, body_for(specs["tiny"], a=2)).status_code == 200


@pytest.mark.parametrize(
    ("labels", "fragment"),
    [
        ({"Team": "x"}, "key 'Team' is invalid"),
        ({"team": "Pricing"}, "value 'Pricing' of key 'team' is invalid"),
        ({"team": "x" * 64}, "of key 'team' is invalid"),
        ({f"k{i}": "v" for i in range(65)}, "at most 64 labels"),
    ],
)
def test_label_rules(recorder, specs, labels, fragment):
    body = {**body_for(specs["tiny"], a=2), "labels": labels}
    error = error_of(create(recorder, "run-1", body))
    assert error["status"] == "INVALID_ARGUMENT"
    assert fragment in error["message"]


def test_parameter_of_the_wrong_type(recorder, specs):
    error = error_of(create(recorder, "run-1", body_for(specs["tiny"], a="two")))
    assert error["message"] == (
        "runtimeConfig.parameterValues['a']: expected NUMBER_INTEGER, got str 'two'."
    )


def test_fractional_number_for_an_integer_parameter(recorder, specs):
    error = error_of(create(recorder, "run-1", body_for(specs["tiny"], a=2.5)))
    assert "expected NUMBER_INTEGER" in error["message"]


def test_unknown_parameter_is_named(recorder, specs):
    error = error_of(create(recorder, "run-1", body_for(specs["tiny"], a=1, colour="red")))
    assert "unknown parameter(s) colour" in error["message"]
    assert "a, b, note" in error["message"]


def test_missing_required_parameter_is_named(recorder, specs):
    error = error_of(create(recorder, "run-1", body_for(specs["tiny"], b=2.0)))
    assert error["message"] == "runtimeConfig.parameterValues is missing required parameter(s): a."


def test_spec_or_template_is_required(recorder):
    error = error_of(create(recorder, "run-1", {"displayName": "nothing"}))
    assert error["message"] == "PipelineJob must set pipelineSpec or templateUri."


def test_template_uri_is_recorded(recorder):
    uri = "https://us-central1-kfp.pkg.dev/p/repo/house-prices/v1"
    response = create(recorder, "run-1", {"templateUri": uri})
    assert response.status_code == 200
    assert response.json()["templateUri"] == uri


def test_container_components_are_refused_naming_them(runner, specs):
    error = error_of(create(runner, "run-1", body_for(specs["with-container"])))
    assert error["status"] == "INVALID_ARGUMENT"
    assert (
        "container components: comp-shell-step (executor exec-shell-step, alpine:3.20)"
        in (error["message"])
    )


def test_invalid_json_is_a_google_shaped_400(recorder):
    response = requests.post(
        jobs_url(recorder), params={"pipelineJobId": "run-1"}, data=b"{not json", timeout=10
    )
    error = error_of(response)
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"].startswith("Invalid JSON payload received.")


def test_unknown_job_is_404(recorder):
    response = requests.get(f"{jobs_url(recorder)}/nope", timeout=10)
    error = error_of(response)
    assert error["status"] == "NOT_FOUND"
    assert error["message"] == (
        "PipelineJob projects/test-project/locations/us-central1/pipelineJobs/nope is not found."
    )


def test_placement_fields_in_their_documented_formats_are_accepted(recorder, specs):
    body = {
        **body_for(specs["tiny"], a=1),
        "serviceAccount": "pipelines@test-project.iam.gserviceaccount.com",
        "network": "projects/12345/global/networks/vpc",
        "encryptionSpec": {
            "kmsKeyName": "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k"
        },
    }
    assert create(recorder, "run-1", body).status_code == 200


@pytest.mark.parametrize(
    ("field", "fragment"),
    [
        (
            {"serviceAccount": "pipelines"},
            "serviceAccount 'pipelines' is not a service account email",
        ),
        ({"network": "projects/my-project/global/networks/vpc"}, "use projects/PROJECT_NUMBER/"),
        (
            {"encryptionSpec": {"kmsKeyName": "my-key"}},
            "encryptionSpec.kmsKeyName 'my-key' is invalid",
        ),
        (
            {
                "encryptionSpec": {
                    "kmsKeyName": "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k"
                }
            },
            "is in 'europe-west1'; the key must be in the job's region 'us-central1'",
        ),
    ],
)
def test_placement_fields_are_checked(recorder, specs, field, fragment):
    error = error_of(create(recorder, "run-1", {**body_for(specs["tiny"], a=1), **field}))
    assert error["status"] == "INVALID_ARGUMENT"
    assert fragment in error["message"]


def legacy_spec(spec: dict) -> dict:
    """The spec as schemaVersion 2.0.0 writes it: `type: INT|DOUBLE|STRING`, no defaults."""
    legacy_types = {"NUMBER_INTEGER": "INT", "NUMBER_DOUBLE": "DOUBLE", "STRING": "STRING"}
    parameters = spec["root"]["inputDefinitions"]["parameters"]
    root = {**spec["root"], "inputDefinitions": {"parameters": {
        name: {"type": legacy_types[p["parameterType"]]} for name, p in parameters.items()}}}
    return {**spec, "root": root, "schemaVersion": "2.0.0"}  # fmt: skip


def with_legacy_parameters(body: dict, parameters: dict) -> dict:
    runtime = {"gcsOutputDirectory": "gs://test-bucket/runs", "parameters": parameters}
    return {**body, "runtimeConfig": runtime}


def test_a_schema_2_0_0_spec_takes_runtime_parameters_as_typed_values(recorder, specs):
    """aiplatform v1 RuntimeConfig.parameters: 'used by pipelines built using schema_version
    2.0.0 or lower' (Value: intValue, doubleValue, stringValue), as the Vertex SDK sends them."""
    body = body_for(legacy_spec(specs["tiny"]))
    values = {"a": {"intValue": "2"}, "b": {"doubleValue": 1.5}, "note": {"stringValue": "x"}}
    response = create(recorder, "run-1", with_legacy_parameters(body, values))
    assert response.status_code == 200, response.text
    assert response.json()["runtimeConfig"]["parameters"]["a"] == {"intValue": "2"}
    wrong = {**values, "a": {"stringValue": "two"}}
    error = error_of(create(recorder, "run-2", with_legacy_parameters(body, wrong)))
    assert "expected NUMBER_INTEGER, got str 'two'" in error["message"]


def test_runtime_parameters_are_refused_for_a_schema_2_1_0_spec(recorder, specs):
    body = with_legacy_parameters(body_for(specs["tiny"]), {"a": {"intValue": "2"}})
    error = error_of(create(recorder, "run-1", body))
    assert error["message"] == (
        "runtimeConfig.parameters is for pipelines of schemaVersion 2.0.0 or lower "
        "(KFP SDK 1.8 or lower); use runtimeConfig.parameterValues."
    )


def test_kfps_invalid_pipeline_is_refused_as_check_refuses_it(recorder):
    """KFP's invalid/invalid_yaml.yaml: unknown `components_1`, a task naming no component."""
    spec = yaml.safe_load(INVALID_KFP.read_text())
    error = error_of(create(recorder, "run-1", {"displayName": "x", "pipelineSpec": spec}))
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"].startswith(
        "pipelineSpec is not a valid PipelineSpec: KFP's PipelineSpec proto refuses it: "
        'Message type "ml_pipelines.PipelineSpec" has no field named "components_1"'
    )
    del spec["components_1"]
    error = error_of(create(recorder, "run-1", {"displayName": "x", "pipelineSpec": spec}))
    assert "task 'echo' of root names component 'comp-echo'" in error["message"]
