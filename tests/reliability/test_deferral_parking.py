"""A deferral outlives no dead-letter policy: parked in Cloud Storage, launched once the cap frees.

Google's Pub/Sub emulator delivers one drift alert, as an Eventarc trigger's subscription does, to
two `on_drift_alert` instances whose route is at its `max_running` cap (1) behind a "3-hour"
training run: one with `parking`, one without. The subscriptions carry a dead-letter policy of 5
delivery attempts (Pub/Sub's minimum, and Eventarc Advanced's default retry count: Eventarc
`Pipeline.RetryPolicy.max_attempts`, "The default value for this field is 5"; Terraform's 15 only
takes longer) and Eventarc's backoff (10 s to 600 s, "Retry events":
https://cloud.google.com/eventarc/docs/retry-events) on a clock scaled down 1,000 times (0.01 s to
0.6 s; the emulator waits longer between pushes than that, so the dead letter comes later here
than the scale says: which only favours the control). The "3-hour" run (10.8 s) is held until the
control's alert is dead-lettered and at least that long again.

Without parking each 429 spends a delivery attempt and the alert is dead-lettered while the run
still holds the cap: its retrain never runs. With parking it is acknowledged at its first
delivery, waits as an object, and the sweeper (Cloud Scheduler calls it every 10 minutes)
launches it once the run has finished: one run, the alert's own job id; a later sweep or
redelivery makes no second one.
"""

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from local.eventarc_push import EventarcPushAdapter
from local.function_server import FunctionServer, launch_function_server
from local.pubsub_rest import RetryPolicy
from local.pubsub_topology import TriggerDelivery
from local.send_alert import canonical_alert
from local.storage_emulator_process import serve_in_memory
from pipelines.drift.publish import publish_alert
from tests.functions.helpers import VertexStandIn, drift_route, pubsub_event, write_config
from tests.pubsub_fixtures import unique_id

SCALE = 1 / 1000  # one second of the scenario is one millisecond here
EVENTARC_BACKOFF = RetryPolicy(minimum_backoff=10 * SCALE, maximum_backoff=600 * SCALE)
TRAINING_RUN = 3 * 3600 * SCALE  # the run that holds the route's cap: "3 hours"
PARKING_BUCKET = "trigger-state"
MODEL = "projects/test-project/locations/us-central1/models/house-prices"
ATTEMPTS = 5


@dataclass(frozen=True)
class Stack:
    vertex: VertexStandIn
    storage_url: str
    parking: FunctionServer
    control: FunctionServer
    sweeper: FunctionServer

    def sweep(self) -> dict:
        response = requests.post(self.sweeper.url, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()

    def parked(self) -> list[str]:
        url = f"{self.storage_url}/storage/v1/b/{PARKING_BUCKET}/o"
        answer = requests.get(url, params={"prefix": "parked/"}, timeout=10).json()
        return [item["name"] for item in answer.get("items", [])]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from local.vertex_emulator import start_emulator

    folder = tmp_path_factory.mktemp("parking")
    emulator = start_emulator(folder / "vertex", port=0, execute=False)  # runs stay PENDING
    storage, storage_url = serve_in_memory()
    requests.post(f"{storage_url}/storage/v1/b", params={"project": "test-project"},
                  json={"name": PARKING_BUCKET}, timeout=10).raise_for_status()  # fmt: skip
    vertex = VertexStandIn(emulator)
    env = {"VERTEX_AI_EMULATOR_HOST": vertex.host, "STORAGE_EMULATOR_HOST": storage_url}
    parked = config(folder / "parked", "held", parking=f"gs://{PARKING_BUCKET}/parked")
    servers = [
        launch_function_server("on_drift_alert", {**env, "TRIGGERS_CONFIG": parked}),
        launch_function_server("on_drift_alert", {**env, "TRIGGERS_CONFIG": config(
            folder / "control", "held-control")}),
        launch_function_server("sweep", {**env, "TRIGGERS_CONFIG": parked}, signature="http"),
    ]  # fmt: skip
    try:
        yield Stack(vertex, storage_url, *(server.wait_ready() for server in servers))
    finally:
        for server in servers:
            server.stop()
        storage.stop()
        emulator.stop()


def config(folder: Path, route: str, **top: str) -> str:
    folder.mkdir()
    return str(write_config(folder, [drift_route(name=route, max_running=1)], **top))


def hold_the_cap(server: FunctionServer) -> str:
    """Launch the route's "training run" (PENDING until the test ends it); return its job id."""
    event = pubsub_event(canonical_alert(MODEL, {"sqft": 0.5}, 0.3))
    assert server.send(event).status_code == 200
    line = server.log_for(event["id"])
    assert line["decision"] == "launched", line
    return line["job"]


def delivery(pubsub, adapter: EventarcPushAdapter, topic_id: str) -> TriggerDelivery:
    trigger = TriggerDelivery("test-project", topic_id, max_delivery_attempts=ATTEMPTS,
                              retry=EVENTARC_BACKOFF)  # fmt: skip
    trigger.create(pubsub, adapter.url)
    return trigger


def test_a_deferred_alert_waits_out_a_long_run_and_launches_once(pubsub, stack: Stack) -> None:
    training = {"held": hold_the_cap(stack.parking), "held-control": hold_the_cap(stack.control)}
    alert = canonical_alert(MODEL, {"sqft": 0.6}, 0.3)
    parked_topic, control_topic = unique_id("drift-parked"), unique_id("drift-control")
    with (
        EventarcPushAdapter(f"projects/test-project/topics/{parked_topic}",
                            stack.parking.url) as parked_push,
        EventarcPushAdapter(f"projects/test-project/topics/{control_topic}",
                            stack.control.url) as control_push,
    ):  # fmt: skip
        parked, control = (delivery(pubsub, parked_push, parked_topic),
                           delivery(pubsub, control_push, control_topic))  # fmt: skip
        started = time.monotonic()
        parked_id = publish_alert(parked.topic, alert, timeout=30)
        control_id = publish_alert(control.topic, alert, timeout=30)

        # Without parking: every 429 spends an attempt; dead-lettered while the run still runs.
        [dead] = pubsub.wait_for_messages(control.dead_letter_subscription, attempts=1800)
        assert json.loads(dead.data) == alert
        assert dead.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == str(ATTEMPTS)
        assert control_push.statuses(control_id) == [429] * ATTEMPTS
        assert stack.vertex.job(training["held-control"])["state"] == "PIPELINE_STATE_PENDING"

        # With parking: acknowledged at the first delivery, the event waits as one object.
        assert parked_push.statuses(parked_id) == [200]
        [line] = stack.parking.entries_for(parked_id)
        assert (line["decision"], line["severity"]) == ("deferred", "INFO")
        job = line["job"]
        assert stack.parked() == [f"parked/held/{job}.json"]
        assert line["reason"] == (
            f"max_running 1 reached: 1 run(s) of route 'held' not finished, e.g. "
            f"{training['held']}; parked as gs://{PARKING_BUCKET}/parked/held/{job}.json: the "
            "sweeper launches it once a run finishes"
        )

        # The "3 hours" pass (and as long again as the control took to be dead-lettered):
        # nothing reaches the dead-letter topic, the cap still holds the parked alert.
        held = max(TRAINING_RUN, 2 * (time.monotonic() - started))
        time.sleep(max(0.0, held - (time.monotonic() - started)))
        assert pubsub.pull(parked.dead_letter_subscription) == []
        assert parked_push.statuses(parked_id) == [200]
        waiting = stack.sweep()
        assert waiting["parked"] == {"deferred": 1, "still_parked": 1}
        assert stack.parked() == [f"parked/held/{job}.json"]

    # The training run ends; the next sweep launches the alert, under its own job id, once.
    stack.vertex.end_run(training["held"], "PIPELINE_STATE_SUCCEEDED")
    launched = stack.sweep()
    assert launched["parked"] == {"launched": 1}
    assert stack.parked() == []
    assert {run["name"].rsplit("/", 1)[1] for run in stack.vertex.jobs(
        'labels.trigger-route="held"')} == {training["held"], job}  # fmt: skip
    lines = [e for e in stack.sweeper.log_records() if e.get("job") == job]
    assert [e["decision"] for e in lines] == ["deferred", "launched"]
    assert lines[0]["reason"].endswith("; it stays parked for the next sweep")
    assert lines[1]["event_id"] == parked_id  # the alert's own message id, as on the event path

    # Nothing doubles: another sweep finds nothing parked, a late redelivery is a duplicate.
    assert stack.sweep()["parked"] == {}
    again = pubsub_event(alert, message_id=parked_id)
    before = len(stack.parking.entries_for(parked_id))
    assert stack.parking.send(again).status_code == 200
    assert stack.parking.nth_entry_for(parked_id, before + 1)["decision"] == "duplicate"
    assert len(stack.vertex.jobs('labels.trigger-route="held"')) == 2
    assert stack.vertex.jobs('labels.trigger-route="held-control"') == [
        stack.vertex.job(training["held-control"])]  # fmt: skip
