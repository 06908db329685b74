"""The documented sample's shape as a Cloud Function: build an aiplatform.PipelineJob and submit it.

This is what Google's "trigger a pipeline run" samples do per event; the warm-throughput benchmark
runs it under the same functions-framework server, against the same emulators, as our functions.
"""

import hashlib
import os

import functions_framework
from gcp_storage_emulator.storage import DEFAULT_PROJECT_NUMBER
from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform
from google.cloud.aiplatform.utils import resource_manager_utils

# submit() checks that the pipeline-root bucket belongs to the project, asking Resource Manager for
# the project number on every call. Offline there is no Resource Manager (the SDK retries for 60 s),
# so answer with the storage emulator's project number: the sample is measured without that
# round trip, which flatters it.
resource_manager_utils.get_project_number = lambda *_args, **_kwargs: str(DEFAULT_PROJECT_NUMBER)

aiplatform.init(
    project=os.environ["GOOGLE_CLOUD_PROJECT"],
    location="us-central1",
    api_endpoint=f"http://{os.environ['VERTEX_AI_EMULATOR_HOST']}",
    api_transport="rest",
    credentials=AnonymousCredentials(),
)
TEMPLATE = os.environ["SAMPLE_TEMPLATE"]
PIPELINE_ROOT = os.environ["SAMPLE_PIPELINE_ROOT"]


@functions_framework.cloud_event
def run_pipeline(cloud_event) -> None:
    """Submit the template for the new object, as the sample does."""
    data = cloud_event.data
    # A deterministic id, as ours, so both sides create exactly one job per object.
    digest = hashlib.sha256(f"{data['bucket']}/{data['name']}#{data['generation']}".encode())
    job = aiplatform.PipelineJob(
        display_name="sample-shape",
        template_path=TEMPLATE,
        pipeline_root=PIPELINE_ROOT,
        job_id=f"sample-{digest.hexdigest()[:20]}",
        parameter_values={
            "data_uri": f"gs://{data['bucket']}/{data['name']}",
            "generation": int(data["generation"]),
            "object_name": data["name"],
        },
        enable_caching=False,
    )
    job.submit()
