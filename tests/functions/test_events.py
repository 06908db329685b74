"""Event parsing from the real CloudEvent payloads: lenient where Google is, precise when not."""

import base64
import json

import pytest
from vertex_trigger.errors import RejectedEvent
from vertex_trigger.events.cloud_events import Envelope, envelope_of
from vertex_trigger.events.drift_alerts.parsing import parse_drift_alert
from vertex_trigger.events.pubsub import MESSAGE_PUBLISHED, parse_message
from vertex_trigger.events.storage import FINALIZED, parse_object_event

from tests.functions.helpers import load_json, pubsub_event, storage_event


def envelope(data: dict) -> Envelope:
    return Envelope("id-1", "t", "2026-11-26T12:00:00Z", data)


def test_storage_sample_parses_with_int64_strings() -> None:
    event = parse_object_event(envelope(load_json("StorageObjectData-simple.json")))
    assert (event.bucket, event.name, event.generation, event.size) == (
        "sample-bucket",
        "folder/Test.cs",
        1587627537231057,
        352,
    )
    assert event.uri == "gs://sample-bucket/folder/Test.cs"
    assert event.placeholder_values()["generation"] == "1587627537231057"


def test_storage_int64_strings_are_read_by_their_digits_not_their_length() -> None:
    """Leading zeros count towards Python's 4,300-digit int() limit: they are stripped first."""
    sample = load_json("StorageObjectData-simple.json")
    padded = {**sample, "generation": "0" * 5000 + "1587627537231057", "size": "0" * 5000}
    event = parse_object_event(envelope(padded))
    assert (event.generation, event.size) == (1587627537231057, 0)


def test_storage_int64_numbers_parse_the_same_as_strings() -> None:
    sample = load_json("StorageObjectData-simple.json")
    as_numbers = {**sample, "generation": 1587627537231057, "size": 352, "metageneration": 1}
    assert parse_object_event(envelope(as_numbers)) == parse_object_event(envelope(sample))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": None}, "field 'name' must be a non-empty string"),
        ({"bucket": 7}, "field 'bucket' must be a non-empty string"),
        ({"generation": None}, "field 'generation' must be an int64"),
        ({"generation": "12a"}, "field 'generation' must be an int64"),
        ({"generation": True}, "field 'generation' must be an int64"),
        ({"generation": 1.5}, "field 'generation' must be an int64"),
        ({"size": "-3"}, "field 'size' must be an int64"),
        ({"generation": str(2**63)}, r"'generation' must be an int64 in \[0, 2\*\*63 - 1\]"),
        ({"generation": "9" * 4301}, r"'generation' must be an int64 in \[0, 2\*\*63 - 1\]"),
        ({"name": ["x" * 10_000]}, r"got \['x{30,}\.\.\.x{30,}'\]$"),
        ({"contentType": 5}, "field 'contentType' must be a string"),
    ],
)
def test_malformed_storage_data_names_the_field(change: dict, message: str) -> None:
    data = {**load_json("StorageObjectData-simple.json"), **change}
    with pytest.raises(RejectedEvent, match=message):
        parse_object_event(envelope(data))


def test_cloudevent_data_must_be_a_json_object() -> None:
    event = storage_event("incoming/a.csv")
    event.data = ["not", "an", "object"]
    with pytest.raises(RejectedEvent, match="must be a JSON object, got list"):
        envelope_of(event, FINALIZED)
    event.data = b"\xff\xfe"
    with pytest.raises(RejectedEvent, match="event data is not JSON"):
        envelope_of(event, FINALIZED)


def test_pubsub_sample_decodes_and_its_text_is_not_a_drift_alert() -> None:
    sample = load_json("MessagePublishedData.json")
    message = parse_message(
        Envelope(sample["id"], sample["type"], sample["time"], sample["data"])
    )
    assert (message.message_id, message.data) == ("message-id", b"test message 3")
    with pytest.raises(RejectedEvent, match="drift alert is not JSON"):
        parse_drift_alert(message.data)


def test_pubsub_text_sample_and_snake_case_message_id() -> None:
    data = load_json("MessagePublishedData-text.json")
    data["message"]["message_id"] = data["message"].pop("messageId")
    assert parse_message(envelope(data)).message_id == "message-id"


@pytest.mark.parametrize(
    ("raw", "message"),
    [("%%%not-base64", "not valid base64"), ("", "has no 'data'"), (None, "has no 'data'")],
)
def test_bad_pubsub_data_is_rejected(raw: str | None, message: str) -> None:
    event = pubsub_event({}, raw_data="x")
    event.data["message"]["data"] = raw
    with pytest.raises(RejectedEvent, match=message):
        parse_message(envelope_of(event, MESSAGE_PUBLISHED))


def test_pubsub_without_message_is_rejected() -> None:
    with pytest.raises(RejectedEvent, match="no 'message' object"):
        parse_message(envelope({"subscription": "s"}))


def test_binary_and_structured_modes_give_the_same_envelope() -> None:
    from cloudevents.conversion import to_binary, to_structured
    from cloudevents.http import from_http

    event = pubsub_event(load_json("drift/canonical.json"), message_id="m-1")
    binary = envelope_of(from_http(*to_binary(event)), MESSAGE_PUBLISHED)
    structured = envelope_of(from_http(*to_structured(event)), MESSAGE_PUBLISHED)
    assert binary == structured
    decoded = base64.b64decode(binary.data["message"]["data"])
    assert json.loads(decoded) == load_json("drift/canonical.json")
