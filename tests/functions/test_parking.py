"""Parking: a deferred event waits as a sealed object; the sweeper re-drives it, once.

In-process through `serve` and `sweep` (the deployed entry points' own code), against the Vertex
AI emulator and gcp-storage-emulator; tests/reliability/test_deferral_parking.py shows the same
through Google's Pub/Sub emulator's dead-lettering.
"""

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from vertex_trigger.decisions import Decision, Outcome
from vertex_trigger.errors import ConfigError
from vertex_trigger.launch.services import Services
from vertex_trigger.startup import Environment, build_services
from vertex_trigger.triggers.objects import handle_object_event
from vertex_trigger.triggers.serving import serve
from vertex_trigger.triggers.sweep import sweep

from tests.functions.helpers import (
    StorageStandIn,
    VertexStandIn,
    object_route,
    storage_event,
    write_config,
)


@pytest.fixture
def place() -> str:
    return f"parking-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def services(
    place: str, gcs: StorageStandIn, clean_vertex: VertexStandIn, tmp_path: Path
) -> Services:
    gcs.upload(place, "keep", b"-")  # creates the parking bucket
    config = write_config(tmp_path, [object_route(name="capped", max_running=1)],
                          parking=f"gs://{place}/parked")  # fmt: skip
    env = Environment(config, vertex_emulator_host=clean_vertex.host, storage_emulator_host=gcs.url)
    return build_services(env)


def deliver(services: Services, event: Any) -> Outcome:
    lines: list[Outcome] = []
    return serve(handle_object_event, event, services, log=lines.append)


def swept(services: Services) -> tuple[dict[str, Any], list[Outcome]]:
    lines: list[Outcome] = []
    return sweep(services, log=lines.append, report=lambda summary: None), lines


def parked(gcs: StorageStandIn, place: str) -> list[str]:
    import requests

    answer = requests.get(f"{gcs.url}/storage/v1/b/{place}/o", params={"prefix": "parked/"},
                          timeout=10).json()  # fmt: skip
    return sorted(item["name"] for item in answer.get("items", []))


def test_a_deferral_is_parked_once_and_launched_once(
    services: Services, gcs: StorageStandIn, clean_vertex: VertexStandIn, place: str
) -> None:
    first = deliver(services, storage_event("incoming/a.csv"))
    event = storage_event("incoming/b.csv", event_id="evt-b")

    deferred = deliver(services, event)  # returns: acknowledged, not raised as a 429
    again = deliver(services, event)  # a redelivery (Eventarc is at-least-once)

    name = f"parked/capped/{deferred.job}.json"
    assert deferred.decision is Decision.DEFERRED
    assert deferred.reason.endswith(
        f"; parked as gs://{place}/{name}: the sweeper launches it once a run finishes")
    # One object whatever the deliveries: Cloud Storage answers the second create (with
    # ifGenerationMatch=0) 412, "already parked as ..."; gcp-storage-emulator ignores
    # preconditions and overwrites it with the same event.
    assert again.decision is Decision.DEFERRED and name in again.reason
    assert parked(gcs, place) == [name]

    summary, lines = swept(services)  # the cap still holds: it stays
    assert summary["parked"] == {"deferred": 1, "still_parked": 1}
    assert lines[0].reason.endswith("; it stays parked for the next sweep")
    clean_vertex.end_run(first.job, "PIPELINE_STATE_SUCCEEDED")
    summary, lines = swept(services)
    assert summary["parked"] == {"launched": 1}
    assert (lines[0].decision, lines[0].job, lines[0].event_id) == (
        Decision.LAUNCHED, deferred.job, "evt-b")
    assert lines[0].reason.startswith("parked since ")
    assert parked(gcs, place) == []
    assert swept(services)[0]["parked"] == {}
    assert len(clean_vertex.jobs('labels.trigger-route="capped"')) == 2


def test_a_parked_event_this_deployment_did_not_seal_is_rejected_and_dropped(
    services: Services, gcs: StorageStandIn, clean_vertex: VertexStandIn, place: str
) -> None:
    record = {"attributes": {"type": "google.cloud.storage.object.v1.finalized", "id": "x"},
              "data": {"bucket": "data", "name": "incoming/forged.csv", "generation": "1"}}
    forged = {"event": json.dumps(record), "seal": "0" * 64}  # fmt: skip
    gcs.upload(place, "parked/capped/capped-forged.json", json.dumps(forged).encode())

    summary, lines = swept(services)

    assert summary["parked"] == {"rejected": 1}
    assert lines[0].reason == (
        f"parked gs://{place}/parked/capped/capped-forged.json: its seal does not verify: not "
        "parked by this deployment")  # fmt: skip
    assert parked(gcs, place) == [] and clean_vertex.jobs() == []


@pytest.mark.parametrize(
    ("parking", "problem"),
    [
        ("gs://data/parked", "key 'parking': bucket 'data' is watched by route 'arrival': use "
                             "another bucket"),
        ("gs://state", "key 'parking': expected gs://BUCKET/PREFIX (a folder for parked events), "
                       "got 'gs://state'"),
        ("state/parked", "key 'parking': expected a gs://BUCKET[/PREFIX] URI, got 'state/parked'"),
    ],
)  # fmt: skip
def test_parking_must_be_a_folder_of_an_unwatched_bucket(
    tmp_path: Path, parking: str, problem: str
) -> None:
    config = write_config(tmp_path, [object_route()], parking=parking)
    with pytest.raises(ConfigError) as caught:
        build_services(Environment(config, vertex_emulator_host="127.0.0.1:9"))
    assert str(caught.value).endswith(problem)


@pytest.mark.parametrize("parking", ["gs://state/triggers", "gs://state/triggers/pauses/held"])
def test_parking_may_not_hold_or_lie_within_the_route_pauses(tmp_path: Path, parking: str) -> None:
    """The sweeper deletes a parked object it cannot re-drive: never a pause record."""
    config = write_config(tmp_path, [object_route()], parking=parking, state="gs://state/triggers")
    with pytest.raises(ConfigError) as caught:
        build_services(Environment(config, vertex_emulator_host="127.0.0.1:9"))
    assert str(caught.value).endswith(
        f"key 'parking': {parking} holds or lies within the route pauses, "
        "gs://state/triggers/pauses/: use another prefix (e.g. gs://STATE_BUCKET/parking)"
    )


def test_parking_beside_the_pauses_in_one_bucket_starts(tmp_path: Path) -> None:
    """Terraform's layout: gs://STATE/triggers for the pauses, gs://STATE/parking beside them."""
    from vertex_trigger.config.loader import load_config

    path = write_config(tmp_path, [object_route()], parking="gs://state/parking",
                        state="gs://state/triggers")  # fmt: skip
    config = load_config(path)
    assert (config.parking, config.state and config.state.pauses_folder) == (
        "gs://state/parking", "triggers/pauses/"
    )
