"""The PipelineJob body and the REST launcher's bounded backoff, against the Vertex emulator."""

from pathlib import Path

import pytest
from vertex_trigger.config.loader import load_config
from vertex_trigger.config.template_ref import TemplateKind, TemplateRef
from vertex_trigger.errors import DeploymentError, RejectedEvent, TransientError
from vertex_trigger.google.api_calls import ApiCalls
from vertex_trigger.google.http import HttpClient
from vertex_trigger.google.retries import Retrier, RetryPolicy
from vertex_trigger.google.vertex import CancelResult, CreateOutcome, VertexPipelineJobs
from vertex_trigger.launch.job_body import pipeline_job_body, with_caching
from vertex_trigger.launch.templates import parse_template

from tests.functions.helpers import TYPED_TEMPLATE, VertexStandIn, object_route, write_config
from tests.functions.launcher_helpers import SPEC, FakeClock, valid_body

AR_URI = "https://us-central1-kfp.pkg.dev/test-project/pipelines/typed/latest"


def body_for(tmp_path: Path, ref: TemplateRef, **top: str) -> dict:
    config = load_config(write_config(tmp_path, [object_route(enable_caching=True)], **top))
    template = parse_template(ref, TYPED_TEMPLATE.read_bytes(), "1")
    return pipeline_job_body(
        config,
        route=config.routes[0],
        template=template,
        display_name="gs://data/x.csv#1",
        parameter_values={"data_uri": "gs://data/x.csv", "generation": 1},
        labels={"trigger-route": "arrival"},
    )


def test_body_is_a_valid_aiplatform_v1_pipeline_job(tmp_path: Path) -> None:
    from google.cloud import aiplatform_v1
    from google.protobuf import json_format

    body = body_for(
        tmp_path,
        TemplateRef(TemplateKind.ARTIFACT_REGISTRY, AR_URI),
        service_account="pipelines@test-project.iam.gserviceaccount.com",
        network="projects/123/global/networks/vpc",
        kms_key="projects/p/locations/l/keyRings/r/cryptoKeys/k",
    )
    json_format.ParseDict(body, aiplatform_v1.PipelineJob.pb(aiplatform_v1.PipelineJob()))
    assert body["templateUri"] == AR_URI
    assert body["serviceAccount"] == "pipelines@test-project.iam.gserviceaccount.com"
    assert body["network"] == "projects/123/global/networks/vpc"
    assert body["encryptionSpec"] == {
        "kmsKeyName": "projects/p/locations/l/keyRings/r/cryptoKeys/k"
    }
    assert body["runtimeConfig"]["gcsOutputDirectory"] == "gs://test-pipelines/runs"


def test_local_template_body_has_no_template_uri_or_optional_fields(tmp_path: Path) -> None:
    body = body_for(tmp_path, TemplateRef(TemplateKind.LOCAL, str(TYPED_TEMPLATE)))
    assert "templateUri" not in body
    assert not {"serviceAccount", "network", "encryptionSpec"} & set(body)


def test_enable_caching_reaches_every_task_and_none_keeps_the_compiled_spec() -> None:
    nested = {**SPEC, "components": {**SPEC["components"], "comp-inner": {"dag": {"tasks": {
        "inner": {"cachingOptions": {"enableCache": True}}}}}}}  # fmt: skip
    off = with_caching(nested, False)
    tasks = [
        *off["root"]["dag"]["tasks"].values(),
        *off["components"]["comp-inner"]["dag"]["tasks"].values(),
    ]
    assert [t["cachingOptions"] for t in tasks] == [{"enableCache": False}] * 2
    assert SPEC["root"]["dag"]["tasks"]["describe"]["cachingOptions"] == {"enableCache": True}
    assert with_caching(SPEC, None) is SPEC


def launcher(vertex: VertexStandIn, clock: FakeClock, jitter: float = 1.0) -> VertexPipelineJobs:
    retry = RetryPolicy(initial_delay=1.0, max_delay=4.0, deadline=20.0, request_timeout=5.0)
    return VertexPipelineJobs(
        HttpClient(), vertex.url, "test-project", "us-central1",
        ApiCalls(Retrier(retry, sleep=clock.sleep, clock=lambda: clock.now, jitter=lambda: jitter)),
    )  # fmt: skip


def test_backoff_is_exponential_capped_and_bounded(clean_vertex: VertexStandIn) -> None:
    clean_vertex.fault(kind="status", status=503, count=1000)
    clock = FakeClock()
    with pytest.raises(TransientError) as caught:
        launcher(clean_vertex, clock).create("backoff-1", valid_body())
    # The last wait would leave 1 s, under a tenth of the budget: no attempt that short is made.
    assert clock.sleeps == [1.0, 2.0, 4.0, 4.0, 4.0]
    assert str(caught.value).startswith(
        "Vertex AI POST failed 6 time(s) within 20s (one budget for all of an event's Google API "
        "calls), last: HTTP 503 UNAVAILABLE"
    )


def test_jitter_keeps_half_of_each_delay(clean_vertex: VertexStandIn) -> None:
    clean_vertex.fault(kind="status", status=429, count=3)
    clock = FakeClock()
    result = launcher(clean_vertex, clock, jitter=0.0).create("jitter-1", valid_body())
    assert result.outcome is CreateOutcome.CREATED
    assert clock.sleeps == [0.5, 1.0, 2.0]


def test_409_and_other_4xx(clean_vertex: VertexStandIn) -> None:
    jobs = launcher(clean_vertex, FakeClock())
    assert jobs.create("same-id", valid_body()).outcome is CreateOutcome.CREATED
    assert jobs.create("same-id", valid_body()).outcome is CreateOutcome.ALREADY_EXISTS
    with pytest.raises(RejectedEvent, match="HTTP 400 INVALID_ARGUMENT"):
        jobs.create("Bad_Id", valid_body())


def test_connection_refused_is_transient() -> None:
    clock = FakeClock()
    retry = RetryPolicy(initial_delay=1.0, max_delay=1.0, deadline=3.0, request_timeout=1.0)
    calls = ApiCalls(Retrier(retry, sleep=clock.sleep, clock=lambda: clock.now))
    jobs = VertexPipelineJobs(HttpClient(), "http://127.0.0.1:9", "p", "us-central1", calls)
    with pytest.raises(TransientError, match=r"HttpConnectionError: http://127\.0\.0\.1:9: "):
        jobs.list('labels.a="b"')


def test_cancel_retries_a_503_then_cancels(clean_vertex: VertexStandIn) -> None:
    clock = FakeClock()
    jobs = launcher(clean_vertex, clock)
    jobs.create("cancel-me", valid_body())
    clean_vertex.fault(kind="status", status=503, count=1, on="cancel")
    assert jobs.cancel("cancel-me") == CancelResult(True)
    assert clock.sleeps == [1.0]
    assert clean_vertex.job("cancel-me")["state"] == "PIPELINE_STATE_CANCELLED"


def test_cancel_of_a_finished_or_unknown_job_is_a_refusal(clean_vertex: VertexStandIn) -> None:
    jobs = launcher(clean_vertex, FakeClock())
    jobs.create("done", valid_body())
    jobs.cancel("done")
    again = jobs.cancel("done")
    assert not again.accepted
    assert again.refusal.startswith("HTTP 400 FAILED_PRECONDITION Cannot cancel PipelineJob")
    missing = jobs.cancel("never-created")
    assert not missing.accepted
    assert missing.refusal.startswith("HTTP 404 NOT_FOUND")


def test_cancel_denied_is_a_deployment_problem_and_unavailable_is_transient(
    clean_vertex: VertexStandIn,
) -> None:
    jobs = launcher(clean_vertex, FakeClock())
    jobs.create("guarded", valid_body())
    clean_vertex.fault(kind="status", status=403, count=1, on="cancel")
    with pytest.raises(DeploymentError, match="refused to cancel guarded: HTTP 403"):
        jobs.cancel("guarded")
    clean_vertex.fault(kind="status", status=503, count=1000, on="cancel")
    with pytest.raises(TransientError, match="POST failed 6 time"):
        jobs.cancel("guarded")


def test_list_follows_pages_in_the_order_asked(clean_vertex: VertexStandIn) -> None:
    jobs = launcher(clean_vertex, FakeClock())
    for name in ("page-a", "page-b", "page-c"):
        jobs.create(name, {**valid_body(), "labels": {"batch": "pages"}})
    listed = jobs.list('labels.batch="pages"', order_by="create_time", page_size=2)
    assert [job["name"].rsplit("/", 1)[-1] for job in listed] == ["page-a", "page-b", "page-c"]
