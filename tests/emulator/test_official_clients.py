"""The official clients, unchanged, against the emulator: GAPIC REST transport and the SDK."""

import pytest
from gcp_storage_emulator.server import create_server
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform, aiplatform_v1, storage

from tests.emulator.helpers import PARENT

PROJECT, LOCATION = "test-project", "us-central1"
SERVICE_ACCOUNT = "pipelines@test-project.iam.gserviceaccount.com"


@pytest.fixture
def gapic(recorder):
    """A PipelineServiceClient on the REST transport, pointed at the emulator."""
    return aiplatform_v1.PipelineServiceClient(
        transport="rest",
        client_options={"api_endpoint": recorder.url},
        credentials=AnonymousCredentials(),
    )


@pytest.fixture
def storage_emulator(monkeypatch):
    """gcp-storage-emulator, empty; STORAGE_EMULATOR_HOST points at it."""
    server = create_server("127.0.0.1", 0, in_memory=True)
    server.start()
    monkeypatch.setenv(
        "STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{server._api._httpd.server_port}"
    )
    yield server
    server.stop()


def gapic_job(spec: dict, **labels) -> aiplatform_v1.PipelineJob:
    """Build a PipelineJob message the way client code does."""
    return aiplatform_v1.PipelineJob(
        display_name="from-gapic",
        pipeline_spec=spec,
        runtime_config={
            "gcs_output_directory": "gs://test-pipelines/runs",
            "parameter_values": {"a": 3},
        },
        labels=labels,
    )


def test_gapic_create_get_list(gapic, specs):
    created = gapic.create_pipeline_job(
        parent=PARENT, pipeline_job=gapic_job(specs["tiny"], team="pricing"), pipeline_job_id="g-1"
    )
    assert created.name == f"{PARENT}/pipelineJobs/g-1"
    assert created.state == aiplatform_v1.PipelineState.PIPELINE_STATE_PENDING
    fetched = gapic.get_pipeline_job(name=created.name)
    assert fetched.labels == {"team": "pricing"}
    assert fetched.runtime_config.parameter_values["a"] == 3
    listed = gapic.list_pipeline_jobs(request={"parent": PARENT, "filter": 'labels.team="pricing"'})
    assert [job.name for job in listed] == [created.name]


def test_gapic_list_pages_through_the_pager(gapic, specs):
    for index in range(3):
        gapic.create_pipeline_job(
            parent=PARENT, pipeline_job=gapic_job(specs["tiny"]), pipeline_job_id=f"g-{index}"
        )
    pager = gapic.list_pipeline_jobs(
        request={"parent": PARENT, "page_size": 2, "order_by": "create_time"}
    )
    assert [job.name.rsplit("/", 1)[-1] for job in pager] == ["g-0", "g-1", "g-2"]


def test_gapic_sees_409_as_already_exists(gapic, specs):
    gapic.create_pipeline_job(
        parent=PARENT, pipeline_job=gapic_job(specs["tiny"]), pipeline_job_id="g-1"
    )
    with pytest.raises(exceptions.Conflict, match="pipelineJobs/g-1 already exists"):
        gapic.create_pipeline_job(
            parent=PARENT, pipeline_job=gapic_job(specs["tiny"]), pipeline_job_id="g-1"
        )


def test_gapic_sees_validation_errors_as_invalid_argument(gapic, specs):
    with pytest.raises(exceptions.BadRequest, match="key 'Team' is invalid"):
        gapic.create_pipeline_job(
            parent=PARENT, pipeline_job=gapic_job(specs["tiny"], Team="x"), pipeline_job_id="g-1"
        )


def test_sdk_submit_runs_and_lists(runner, storage_emulator, tiny_yaml):
    aiplatform.init(
        project=PROJECT,
        location=LOCATION,
        api_endpoint=runner.url,
        api_transport="rest",
        credentials=AnonymousCredentials(),
    )
    job = aiplatform.PipelineJob(
        display_name="from-sdk",
        template_path=str(tiny_yaml),
        pipeline_root="gs://test-pipelines/root",
        parameter_values={"a": 4},
        job_id="sdk-run-1",
        labels={"origin": "sdk"},
        enable_caching=False,
    )
    # With a service account, submit() creates the missing pipeline-root bucket and skips the
    # project-number lookup (Resource Manager, unreachable here), as it does on Google Cloud.
    job.submit(service_account=SERVICE_ACCOUNT)
    assert job.resource_name == f"{PARENT}/pipelineJobs/sdk-run-1"
    assert storage.Client(project=PROJECT).bucket("test-pipelines").exists()
    assert job.gca_resource.service_account == SERVICE_ACCOUNT
    job.wait()
    assert job.state == aiplatform_v1.PipelineState.PIPELINE_STATE_SUCCEEDED
    task_names = {task.task_name for task in job.task_details}
    assert {"add", "report"} <= task_names
    listed = aiplatform.PipelineJob.list(filter='labels.origin="sdk"')
    assert [j.resource_name for j in listed] == [job.resource_name]


def test_gapic_create_get_cancel_list_on_one_keep_alive_client(gapic, specs):
    # The REST transport sends `{}` with :cancel and reuses the connection for the next call, so
    # an unread body would be taken for the start of the next request line.
    created = gapic.create_pipeline_job(
        parent=PARENT, pipeline_job=gapic_job(specs["tiny"], team="pricing"), pipeline_job_id="g-1"
    )
    assert gapic.get_pipeline_job(name=created.name).name == created.name
    gapic.cancel_pipeline_job(name=created.name)
    listed = list(gapic.list_pipeline_jobs(request={"parent": PARENT}))
    assert [job.name for job in listed] == [created.name]
    assert listed[0].state == aiplatform_v1.PipelineState.PIPELINE_STATE_CANCELLED
    assert gapic.get_pipeline_job(name=created.name).error.message == "CANCELED"
