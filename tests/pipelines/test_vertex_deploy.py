"""The Vertex deploy step refuses a serving image that cannot load the model, before any call."""

import pytest
from kfp.dsl import Model

from pipelines.house_prices import DeployTarget, check_run_inputs, deploy_to_vertex


def test_mismatched_prebuilt_image_is_refused_before_upload():
    model = Model(uri="gs://runs/house-prices/train-model/model",
                  metadata={"sklearn_version": "1.9.1"})
    with pytest.raises(ValueError, match=r"serves scikit-learn 1\.6 but the model was trained "
                                         r"with 1\.9\.1"):
        deploy_to_vertex.python_func(
            model=model, project="p", location="us-central1", model_display_name="m",
            endpoint_display_name="e", machine_type="n1-standard-2",
            serving_container_image_uri="us-docker.pkg.dev/vertex-ai/prediction/"
                                        "sklearn-cpu.1-6:latest")


@pytest.mark.parametrize(("arguments", "message"), [
    ({"data_uri": " "}, "data_uri is empty"),
    ({"deploy_target": "Local"}, "deploy_target must be one of vertex, local, none; got 'Local'"),
    ({"deploy_target": "local", "registry_uri": ""},
     "registry_uri is required when deploy_target is 'local'"),
    ({"min_improvement": 1.5}, r"min_improvement must be in \[0, 1\), got 1.5"),
    ({"min_r2": 1.2}, r"min_r2 must be at most 1 \(a perfect fit\), got 1.2"),
    ({"deploy_target": "vertex", "serving_container_image_uri": ""},
     "serving_container_image_uri is required when deploy_target is 'vertex'"),
])
def test_run_inputs_are_checked(arguments, message):
    valid = {"data_uri": "gs://b/x.csv", "deploy_target": "vertex", "registry_uri": "gs://b/r",
             "min_improvement": 0.01, "min_r2": 0.5, "serving_container_image_uri": "img"}
    with pytest.raises(ValueError, match=message):
        check_run_inputs.python_func(**{**valid, **arguments})
    check_run_inputs.python_func(**valid)


def test_the_component_accepts_exactly_the_deploy_targets():
    valid = {"data_uri": "gs://b/x.csv", "registry_uri": "gs://b/r", "min_improvement": 0.0,
             "min_r2": 0.5, "serving_container_image_uri": "img"}
    for target in DeployTarget:
        check_run_inputs.python_func(deploy_target=target.value, **valid)
