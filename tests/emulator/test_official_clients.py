"""The official clients, unchanged, against the emulator: GAPIC REST transport and the SDK."""

import pytest
import requests
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


def job_name(job_id: str) -> str:
    return f"{PARENT}/pipelineJobs/{job_id}"


def create_three(gapic, specs) -> None:
    for index in range(3):
        job = gapic_job(specs["tiny"])
        job.display_name = f"train-step-{index}"
        gapic.create_pipeline_job(parent=PARENT, pipeline_job=job, pipeline_job_id=f"g-{index}")


def test_gapic_delete_answers_a_done_operation_and_refuses_a_run_still_going(gapic, specs):
    create_three(gapic, specs)
    gapic.cancel_pipeline_job(name=job_name("g-0"))

    deleted = gapic.delete_pipeline_job(name=job_name("g-0"))

    assert deleted.done()
    assert deleted.result(timeout=10) is not None  # google.protobuf.Empty
    assert isinstance(deleted.metadata, aiplatform_v1.DeleteOperationMetadata)
    with pytest.raises(exceptions.NotFound):
        gapic.get_pipeline_job(name=job_name("g-0"))
    with pytest.raises(exceptions.BadRequest, match="is in state PIPELINE_STATE_PENDING and "
                                                    "cannot be deleted"):  # fmt: skip
        gapic.delete_pipeline_job(name=job_name("g-1"))
    operation = requests.get(f"{gapic._transport._host}/v1/{deleted.operation.name}", timeout=10)
    assert operation.json()["done"] is True


def test_gapic_batch_cancel_then_batch_delete(gapic, specs):
    create_three(gapic, specs)
    gapic.cancel_pipeline_job(name=job_name("g-2"))  # already ended: skipped by the batch
    names = [job_name("g-0"), job_name("g-1"), job_name("g-2")]

    cancelled = gapic.batch_cancel_pipeline_jobs(parent=PARENT, names=names).result(timeout=10)
    deleted = gapic.batch_delete_pipeline_jobs(parent=PARENT, names=names[:2]).result(timeout=10)

    assert [(j.name, j.state) for j in cancelled.pipeline_jobs] == [
        (name, aiplatform_v1.PipelineState.PIPELINE_STATE_CANCELLED) for name in names
    ]
    assert [j.name for j in deleted.pipeline_jobs] == names[:2]
    assert [j.name for j in gapic.list_pipeline_jobs(parent=PARENT)] == [job_name("g-2")]


def test_gapic_batch_calls_are_all_or_nothing(gapic, specs):
    create_three(gapic, specs)
    gapic.cancel_pipeline_job(name=job_name("g-0"))

    with pytest.raises(exceptions.BadRequest, match="cannot be deleted"):
        gapic.batch_delete_pipeline_jobs(parent=PARENT, names=[job_name("g-0"), job_name("g-1")])
    with pytest.raises(exceptions.NotFound):
        gapic.batch_cancel_pipeline_jobs(parent=PARENT, names=[job_name("g-1"), job_name("x")])
    with pytest.raises(exceptions.BadRequest, match="at most 32 PipelineJobs"):
        names = [job_name(f"j{i}") for i in range(33)]
        gapic.batch_delete_pipeline_jobs(parent=PARENT, names=names)

    states = {j.name: j.state for j in gapic.list_pipeline_jobs(parent=PARENT)}
    assert len(states) == 3  # nothing deleted
    assert states[job_name("g-1")] == aiplatform_v1.PipelineState.PIPELINE_STATE_PENDING


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ('display_name="train-step-1"', ["g-1"]),
        ('display_name:"*step-2"', ["g-2"]),
        ('displayName="train-step-0"', ["g-0"]),  # camelCase, as the SDK's list() allows
        ('pipeline_job_user_id="g-0" OR pipelineJobUserId="g-2"', ["g-2", "g-0"]),
        ('pipeline_job_user_id:"g-*" AND display_name!="train-step-1"', ["g-2", "g-0"]),
        ('template_uri:*', []),  # presence: these runs were sent a spec, not a templateUri
        ('template_metadata.version="v1"', []),
        ('createTime>"2020-01-01T00:00:00Z" AND update_time>"2020-01-01T00:00:00Z"',
         ["g-2", "g-1", "g-0"]),
        ('pipeline_name="tiny"', ["g-2", "g-1", "g-0"]),
    ],
)  # fmt: skip
def test_gapic_filters_on_the_fields_vertex_documents(gapic, specs, filter_text, expected):
    create_three(gapic, specs)

    listed = gapic.list_pipeline_jobs(request={"parent": PARENT, "filter": filter_text})

    assert [job.name.rsplit("/", 1)[-1] for job in listed] == expected


def test_state_and_pipeline_name_take_no_wildcard_as_vertex_documents(gapic, specs):
    with pytest.raises(exceptions.BadRequest, match="state supports = and != only"):
        list(gapic.list_pipeline_jobs(request={"parent": PARENT, "filter": 'state:"*"'}))


def test_gapic_read_mask_returns_only_the_fields_asked_for(gapic, specs):
    from google.protobuf import field_mask_pb2

    create_three(gapic, specs)
    mask = field_mask_pb2.FieldMask(paths=["name", "display_name", "state"])

    listed = list(gapic.list_pipeline_jobs(request={"parent": PARENT, "read_mask": mask}))

    assert (listed[0].name, listed[0].display_name) == (job_name("g-2"), "train-step-2")
    assert all(not j.pipeline_spec and not j.runtime_config.parameter_values and not j.create_time
               for j in listed)  # fmt: skip
    everything = next(iter(gapic.list_pipeline_jobs(parent=PARENT)))
    assert everything.pipeline_spec and everything.create_time


def test_sdk_lists_with_a_camel_case_filter_and_deletes(recorder, specs, tiny_yaml):
    aiplatform.init(project=PROJECT, location=LOCATION, api_endpoint=recorder.url,
                    api_transport="rest", credentials=AnonymousCredentials())  # fmt: skip
    gapic = aiplatform_v1.PipelineServiceClient(
        transport="rest", client_options={"api_endpoint": recorder.url},
        credentials=AnonymousCredentials(),
    )  # fmt: skip
    create_three(gapic, specs)
    gapic.cancel_pipeline_job(name=job_name("g-1"))

    [listed] = aiplatform.PipelineJob.list(filter='displayName="train-step-1"')
    listed.delete()

    assert listed.resource_name == job_name("g-1")
    left = [j.resource_name for j in aiplatform.PipelineJob.list()]
    assert left == [job_name("g-2"), job_name("g-0")]


def test_a_kfp_1_lightweight_pipeline_is_refused_naming_its_sdk_not_as_containers(runner):
    """KFP's own kfp-1.8.0 sample: schemaVersion 2.0.0 Python components kfp.local cannot run."""
    import json
    from pathlib import Path

    path = (Path(__file__).parents[1] / "functions" / "data" / "templates"
            / "lightweight_python_functions_v2_pipeline.json")  # fmt: skip
    gapic = aiplatform_v1.PipelineServiceClient(
        transport="rest", client_options={"api_endpoint": runner.url},
        credentials=AnonymousCredentials(),
    )  # fmt: skip
    parameters = {"message": {"string_value": "m"}, "input_dict": {"string_value": "{}"}}
    job = aiplatform_v1.PipelineJob(
        display_name="kfp-1",
        pipeline_spec=json.loads(path.read_text()),
        runtime_config={"parameters": parameters},
    )

    with pytest.raises(exceptions.BadRequest) as refused:
        gapic.create_pipeline_job(parent=PARENT, pipeline_job=job, pipeline_job_id="kfp-1")

    message = refused.value.message
    assert "compiled by KFP SDK 1.x (schemaVersion 2.0.0, kfp-1.8.0" in message
    assert "comp-preprocess (executor exec-preprocess, python:3.11)" in message
    assert "comp-train (executor exec-train, python:3.11)" in message
    assert "container components" not in message
