"""on_run_state over HTTP: a log entry nudges it to read the run; webhooks, skips, rejections."""

from collections.abc import Iterator
from typing import Any

import pytest

from local.function_server import launch_function_server
from tests.functions.helpers import (
    Certificate,
    FunctionServer,
    StartedServers,
    VertexStandIn,
    WebhookReceiver,
    object_route,
    pubsub_event,
    run_state_entry,
    storage_event,
    write_config,
)

HOOK = "ARRIVAL_WEBHOOK_URL"
PARENT = "projects/test-project/locations/us-central1"


@pytest.fixture(scope="module")
def webhook(certificate: Certificate) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(certificate)
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Any:
    routes = [
        object_route(notify={"webhook": f"${{{HOOK}}}", "on": ["FAILED"]}),
        object_route(name="quiet", bucket="quiet"),
    ]
    return write_config(tmp_path_factory.mktemp("run-state"), routes)


@pytest.fixture(scope="module")
def launcher(servers: StartedServers, config: Any) -> FunctionServer:
    return servers.start("on_object_finalized", config)


@pytest.fixture(scope="module")
def reporter(servers: StartedServers, config: Any, webhook: WebhookReceiver) -> FunctionServer:
    return servers.start("on_run_state", config, **{HOOK: webhook.url}, **webhook.trust_env())


@pytest.fixture
def hook(webhook: WebhookReceiver) -> WebhookReceiver:
    webhook.clear()
    return webhook


def launch(launcher: FunctionServer, name: str, bucket: str = "data") -> str:
    """Launch a run through on_object_finalized and return its job id."""
    event = storage_event(name, bucket=bucket)
    assert launcher.send(event).status_code == 200
    entry = launcher.log_for(event["id"])
    assert entry["decision"] == "launched", entry
    return entry["job"]


def nudge(reporter: FunctionServer, entry: Any, expect_status: int = 200) -> dict[str, Any]:
    """Deliver a log entry to on_run_state as Eventarc does; return its log line."""
    event = pubsub_event(entry)
    response = reporter.send(event)
    assert response.status_code == expect_status, response.text
    return reporter.log_for(event["id"])


def test_failed_run_posts_its_text_to_the_route_webhook(
    launcher: FunctionServer,
    reporter: FunctionServer,
    clean_vertex: VertexStandIn,
    hook: WebhookReceiver,
) -> None:
    job = launch(launcher, "incoming/prices-0001.csv")
    clean_vertex.end_run(job, "PIPELINE_STATE_FAILED", "column 'price' is missing")
    line = nudge(reporter, run_state_entry(job))
    assert (line["decision"], line["route"], line["job"]) == ("reported", "arrival", job)
    assert line["source"] == "gs://data/incoming/prices-0001.csv#1700000000000001"
    assert line["reason"] == "FAILED; posted to the route's webhook"
    [body] = hook.bodies
    first, link = body["text"].split("\n")
    assert first.startswith(f"run {job} FAILED for gs://data/incoming/prices-0001.csv#")
    assert first.endswith(": column 'price' is missing")
    assert "(event evt-" in first
    assert link == (
        "https://console.cloud.google.com/vertex-ai/locations/us-central1/pipelines/runs/"
        f"{job}?project=test-project"
    )


def test_what_a_writer_chose_is_posted_escaped(
    launcher: FunctionServer,
    reporter: FunctionServer,
    clean_vertex: VertexStandIn,
    hook: WebhookReceiver,
) -> None:
    """An object's name and a run's error are the bucket writer's: no mention, no link."""
    job = launch(launcher, "incoming/<!channel>&<https://evil.example|report>.csv")
    clean_vertex.end_run(job, "PIPELINE_STATE_FAILED", "bad row <@U0123> & <!here>")
    assert nudge(reporter, run_state_entry(job))["decision"] == "reported"
    [body] = hook.bodies
    first = body["text"].split("\n")[0]
    assert "gs://data/incoming/&lt;!channel&gt;&amp;&lt;https://evil.example|report&gt;.csv#" in (
        first
    )
    assert first.endswith(": bad row &lt;@U0123&gt; &amp; &lt;!here&gt;")
    assert "<" not in body["text"] and ">" not in body["text"]


def test_a_webhook_that_redirects_is_a_deployment_problem(
    launcher: FunctionServer,
    reporter: FunctionServer,
    clean_vertex: VertexStandIn,
    hook: WebhookReceiver,
) -> None:
    """A 3xx is not "delivered": nothing was posted where the operator meant it to be."""
    job = launch(launcher, "incoming/moved.csv")
    clean_vertex.end_run(job, "PIPELINE_STATE_FAILED", "boom")
    hook.answers[:] = [(302, {"Location": f"{hook.url}/MOVED"}, b"")]
    line = nudge(reporter, run_state_entry(job), expect_status=500)
    assert (line["decision"], line["severity"]) == ("failed", "ERROR")
    assert line["reason"].startswith(
        "deployment problem: webhook of route 'arrival' refused to post: HTTP 302, a redirect"
    )
    assert "/hooks/" not in line["reason"] and "MOVED" not in line["reason"]
    assert len(hook.bodies) == 1  # not followed
    assert nudge(reporter, run_state_entry(job))["decision"] == "reported"  # URL fixed: posted


@pytest.mark.parametrize(
    "secret",
    ["http://127.0.0.1:9/hooks/T000/B000/SECRET", "https://[127.0.0.1/hooks/T000/B000/SECRET"],
)
def test_an_instance_with_a_plain_http_or_malformed_webhook_does_not_start(
    config: Any, secret: str
) -> None:
    env = {"TRIGGERS_CONFIG": str(config), "VERTEX_AI_EMULATOR_HOST": "127.0.0.1:9", HOOK: secret}
    server = launch_function_server("on_run_state", env)
    with pytest.raises(RuntimeError) as caught:
        server.wait_ready(30)
    assert "key 'notify.webhook': environment variable ARRIVAL_WEBHOOK_URL" in str(caught.value)
    assert "SECRET" not in str(caught.value)  # the traceback quoted from stderr, too


def test_webhook_hears_only_the_states_its_route_chose(
    launcher: FunctionServer,
    reporter: FunctionServer,
    clean_vertex: VertexStandIn,
    hook: WebhookReceiver,
) -> None:
    succeeded = launch(launcher, "incoming/ok.csv")
    quiet = launch(launcher, "incoming/quiet.csv", bucket="quiet")
    clean_vertex.end_run(succeeded, "PIPELINE_STATE_SUCCEEDED")
    clean_vertex.end_run(quiet, "PIPELINE_STATE_FAILED", "boom")
    assert nudge(reporter, run_state_entry(succeeded))["reason"] == "SUCCEEDED"
    quiet_line = nudge(reporter, run_state_entry(quiet))
    assert (quiet_line["decision"], quiet_line["route"]) == ("reported", "quiet")
    assert hook.bodies == []


def test_non_terminal_foreign_and_unknown_runs_are_skipped_with_one_line_each(
    launcher: FunctionServer,
    reporter: FunctionServer,
    clean_vertex: VertexStandIn,
    hook: WebhookReceiver,
) -> None:
    pending = launch(launcher, "incoming/pending.csv")
    foreign = "someone-elses-run"
    clean_vertex.create_raw(foreign, labels={"team": "pricing"})
    cases = {
        "state PENDING is not an end state": run_state_entry(pending),
        "not a run of this configuration's routes": run_state_entry(foreign),
        "Vertex AI has no such run (deleted?)": run_state_entry("no-such-run"),
        "run in location europe-west4; this configuration launches in us-central1": (
            run_state_entry(pending, location="europe-west4")
        ),
        "run in project other-project; this configuration launches in test-project": (
            run_state_entry(pending, resource_container="other-project")
        ),
    }
    for reason, entry in cases.items():
        line = nudge(reporter, entry)
        assert (line["decision"], line["reason"]) == ("skipped", reason)
        assert line["severity"] == "INFO"
    assert hook.bodies == []


def test_the_job_name_in_a_payload_field_is_enough(
    launcher: FunctionServer, reporter: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    job = launch(launcher, "incoming/audit.csv")
    clean_vertex.end_run(job, "PIPELINE_STATE_CANCELLED")
    audit = {
        "protoPayload": {"resourceName": f"{PARENT}/pipelineJobs/{job}"},
        "resource": {"type": "audited_resource", "labels": {"method": "CancelPipelineJob"}},
    }
    assert nudge(reporter, audit)["reason"] == "CANCELLED"
    payload = {"jsonPayload": {"pipelineJob": f"{PARENT}/pipelineJobs/{job}"}}
    assert nudge(reporter, payload)["job"] == job


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("not json {", "run state log entry is not JSON"),
        (["a", "list"], "run state log entry must be a JSON object, got list"),
        ({"resource": {"type": "aiplatform.googleapis.com/PipelineJob", "labels": {}}},
         "log entry names no pipeline job: expected resource.labels.pipeline_job_id"),
        (run_state_entry("../../../v1/projects/p/x"),
         "log entry's pipeline job id is not a job id: '../../../v1/projects/p/x'"),
        (run_state_entry("ok-id", location="us-central1/../x"),
         "log entry's location is not a location: 'us-central1/../x'"),
        ({"jsonPayload": {"pipelineJob": "projects/p/locations/l/pipelineJobs/UPPER"}},
         "log entry's pipeline job id is not a job id: 'UPPER'"),
    ],
)  # fmt: skip
def test_malformed_log_entries_are_rejected_never_a_5xx(
    reporter: FunctionServer, clean_vertex: VertexStandIn, entry: Any, reason: str
) -> None:
    line = nudge(reporter, entry)
    assert (line["decision"], line["severity"]) == ("rejected", "WARNING")
    assert reason in line["reason"]
    assert clean_vertex.create_requests() == []


def test_a_message_without_data_is_rejected(reporter: FunctionServer) -> None:
    event = pubsub_event({}, raw_data="")
    assert reporter.send(event).status_code == 200
    assert reporter.log_for(event["id"])["decision"] == "rejected"


def test_webhook_outage_raises_for_redelivery_and_a_wrong_hook_says_deployment(
    launcher: FunctionServer,
    reporter: FunctionServer,
    clean_vertex: VertexStandIn,
    hook: WebhookReceiver,
) -> None:
    job = launch(launcher, "incoming/outage.csv")
    clean_vertex.end_run(job, "PIPELINE_STATE_FAILED", "boom")
    hook.answers[:] = [503] * 1_000  # down for longer than the event's retry budget
    outage = nudge(reporter, run_state_entry(job), expect_status=500)
    assert outage["decision"] == "failed"
    assert outage["reason"].startswith("webhook of route 'arrival' POST failed ")
    assert "last: HTTP 503" in outage["reason"]
    assert len(hook.bodies) > 1  # retried inside the request first
    hook.clear()
    hook.answers[:] = [404]
    wrong = nudge(reporter, run_state_entry(job), expect_status=500)
    assert wrong["reason"].startswith(
        "deployment problem: webhook of route 'arrival' refused to post: HTTP 404"
    )
    assert hook.url not in outage["reason"] + wrong["reason"]  # the URL is a secret
    assert nudge(reporter, run_state_entry(job))["decision"] == "reported"  # the hook is back
    assert len(hook.bodies) == 2


def test_an_unreachable_webhook_is_retried_and_reported_without_its_url(
    servers: StartedServers, config: Any, launcher: FunctionServer, clean_vertex: VertexStandIn
) -> None:
    secret = "https://127.0.0.1:9/hooks/T000/B000/SECRET"  # nothing listens on port 9
    server = servers.start("on_run_state", config, **{HOOK: secret})
    job = launch(launcher, "incoming/unreachable.csv")
    clean_vertex.end_run(job, "PIPELINE_STATE_FAILED", "boom")
    line = nudge(server, run_state_entry(job), expect_status=500)
    assert line["decision"] == "failed"
    assert "webhook of route 'arrival' POST failed" in line["reason"]
    assert "HttpConnectionError: cannot connect" in line["reason"]
    assert "SECRET" not in line["reason"] and "/hooks/" not in line["reason"]
