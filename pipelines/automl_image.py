"""AutoML image classification on Vertex AI: dataset -> training -> endpoint -> deployment.

Built from Google Cloud Pipeline Components (container components), so it runs only on Vertex AI
Pipelines; locally it is compiled and checked as a spec. `gcs_source` is the import file (CSV or
JSONL of image URIs and labels), so a data-arrival route can pass the newly landed file:
`parameters: {gcs_source: "{uri}", project: my-project}`.
"""

from google_cloud_pipeline_components.v1.automl.training_job import AutoMLImageTrainingJobRunOp
from google_cloud_pipeline_components.v1.dataset import ImageDatasetCreateOp
from google_cloud_pipeline_components.v1.endpoint import EndpointCreateOp, ModelDeployOp
from kfp import dsl

SINGLE_LABEL_IMPORT_SCHEMA = (
    "gs://google-cloud-aiplatform/schema/dataset/ioformat/"
    "image_classification_single_label_io_format_1.0.0.yaml"
)


@dsl.pipeline(name="automl-image",
              description="Import images, train an AutoML image model, deploy it to an endpoint.")
def automl_image(  # noqa: PLR0917 (pipeline inputs are passed by name)
    project: str,
    gcs_source: str,
    location: str = "us-central1",
    dataset_display_name: str = "images",
    training_display_name: str = "images-automl",
    model_display_name: str = "images-automl-model",
    endpoint_display_name: str = "images-automl-endpoint",
    import_schema_uri: str = SINGLE_LABEL_IMPORT_SCHEMA,
    prediction_type: str = "classification",
    model_type: str = "CLOUD",
    training_fraction_split: float = 0.8,
    validation_fraction_split: float = 0.1,
    test_fraction_split: float = 0.1,
    budget_milli_node_hours: int = 8000,
):
    """Create an image dataset from gcs_source, train on it and serve the model."""
    dataset = ImageDatasetCreateOp(
        project=project, location=location, display_name=dataset_display_name,
        gcs_source=gcs_source, import_schema_uri=import_schema_uri)
    training = AutoMLImageTrainingJobRunOp(
        project=project, location=location, display_name=training_display_name,
        dataset=dataset.outputs["dataset"], prediction_type=prediction_type,
        model_type=model_type, model_display_name=model_display_name,
        training_fraction_split=training_fraction_split,
        validation_fraction_split=validation_fraction_split,
        test_fraction_split=test_fraction_split,
        budget_milli_node_hours=budget_milli_node_hours)
    endpoint = EndpointCreateOp(project=project, location=location,
                                display_name=endpoint_display_name)
    # AutoML image models are served on automatic resources (no machine type to choose).
    ModelDeployOp(model=training.outputs["model"], endpoint=endpoint.outputs["endpoint"],
                  automatic_resources_min_replica_count=1,
                  automatic_resources_max_replica_count=1)
