"""Every run names its trigger: the display name and labels it is launched with, read back."""

from pathlib import Path

import pytest
from vertex_trigger.config.labels import LABEL_VALUE, TRIGGER_LABELS
from vertex_trigger.launch.identity import (
    DISPLAY_NAME_LIMIT,
    display_name,
    event_id_from_label,
    event_label,
    short_hash,
    trigger_of,
)

from local.function_server import FunctionServer
from tests.functions.helpers import (
    StartedServers,
    VertexStandIn,
    drift_route,
    object_route,
    pubsub_event,
    storage_event,
    write_config,
)


@pytest.fixture(scope="module")
def launchers(servers: StartedServers, tmp_path_factory) -> dict[str, FunctionServer]:
    config = write_config(tmp_path_factory.mktemp("identity"), [object_route(), drift_route()])
    return {
        "object": servers.start("on_object_finalized", config),
        "drift": servers.start("on_drift_alert", config),
    }


@pytest.mark.parametrize(
    "event_id",
    ["3103425958877813", "evt-1", "", "Mixed_Case/ids:and spaces", "é€😀", "x" * 63, "Y" * 21],
)
def test_event_ids_that_fit_read_back_exactly(event_id: str) -> None:
    label = event_label(event_id)
    assert LABEL_VALUE.match(label)
    assert event_id_from_label(label) == event_id


def test_numeric_ids_of_cloud_storage_and_pubsub_are_kept_as_they_are() -> None:
    assert event_label("3103425958877813") == "3103425958877813"


def test_an_event_id_too_long_for_a_label_becomes_a_hash_of_it() -> None:
    event_id = "Sample-Bucket/Folder/Test.CS/1587627537231057/Z"  # escapes push it past 63
    label = event_label(event_id)
    assert LABEL_VALUE.match(label) and len(label) <= 63
    assert event_id_from_label(label) == f"sha256:{short_hash(event_id)}"


def test_display_name_is_the_source_when_it_fits_and_elided_in_the_middle_when_not() -> None:
    short = "gs://local-data/incoming/prices-0001.csv#1732623123456789"
    assert display_name(short) == short
    long = f"gs://data/incoming/{'a' * 1_000}/prices.csv#1732623123456789"
    shown = display_name(long)
    assert len(shown) == DISPLAY_NAME_LIMIT
    assert shown.startswith("gs://data/incoming/aaa") and "…" in shown
    assert shown.endswith("aaa/prices.csv#1732623123456789")


def test_display_name_shows_control_and_bidi_characters_as_replacement_characters() -> None:
    assert display_name("gs://b/a\nb\u202ec\ud800.csv#1") == "gs://b/a\ufffdb\ufffdc\ufffd.csv#1"


def test_a_run_without_our_labels_names_no_trigger() -> None:
    assert trigger_of({"name": "projects/p/locations/l/pipelineJobs/x", "labels": {}}) is None
    assert trigger_of({"name": "projects/p/locations/l/pipelineJobs/x"}) is None


def test_an_object_run_names_its_object_generation_and_event(
    launchers: dict[str, FunctionServer], clean_vertex: VertexStandIn
) -> None:
    event = storage_event("incoming/prices-0001.csv", event_id="3103425958877813")
    assert launchers["object"].send(event).status_code == 200
    job = clean_vertex.job(launchers["object"].log_for(event["id"])["job"])
    assert job["displayName"] == "gs://data/incoming/prices-0001.csv#1700000000000001"
    assert {*TRIGGER_LABELS} <= set(job["labels"])
    trigger = trigger_of(job)
    assert (trigger.route, trigger.kind) == ("arrival", "object")
    assert trigger.source == "gs://data/incoming/prices-0001.csv#1700000000000001"
    assert trigger.event_id == "3103425958877813"


def test_a_long_object_name_is_elided_and_its_event_kept(
    launchers: dict[str, FunctionServer], clean_vertex: VertexStandIn
) -> None:
    # As long as Cloud Storage allows: 1,023 bytes of UTF-8 (a longer one is rejected), 518
    # characters, far past the display name's limit.
    name = f"incoming/{'é' * 505}.csv"
    assert len(name.encode()) == 1023
    event = storage_event(name, event_id="Evt/With:Odd Characters")
    assert launchers["object"].send(event).status_code == 200
    job = clean_vertex.job(launchers["object"].log_for(event["id"])["job"])
    assert len(job["displayName"]) == DISPLAY_NAME_LIMIT
    assert job["displayName"].endswith("éé.csv#1700000000000001")
    assert trigger_of(job).event_id == "Evt/With:Odd Characters"
    assert job["labels"]["trigger-source"] == short_hash("data", name)


def test_a_drift_run_names_the_model_and_the_message(
    launchers: dict[str, FunctionServer], clean_vertex: VertexStandIn, tmp_path: Path
) -> None:
    model = "projects/p/locations/us-central1/models/house-prices"
    alert = {"model": model, "features": [{"name": "sqft", "deviation": 0.4}]}
    event = pubsub_event(alert, message_id="9876543210")
    assert launchers["drift"].send(event).status_code == 200
    job = clean_vertex.job(launchers["drift"].log_for(event["id"])["job"])
    trigger = trigger_of(job)
    assert (trigger.kind, trigger.source, trigger.event_id) == ("drift", model, "9876543210")
