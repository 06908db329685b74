"""Bytes that crashed the log writer: every event gets its decision line, and a deliberate answer.

A lone surrogate (``\\ud800``: half of a UTF-16 pair, which JSON can escape but no UTF-8 text can
hold) anywhere in an alert made ``decisions.write_log`` raise UnicodeEncodeError: HTTP 500, a day
of redeliveries, and no decision line for the failed-events alert to count. Now the log line shows
such characters (and bidi and C1 controls) as ``\\uXXXX`` text, events holding one are rejected at
the edge, and a request functions-framework cannot make a CloudEvent of gets a line and a 400.
"""

import base64
import io
import json
import time
from typing import Any

import pytest
import requests
from vertex_trigger.decisions import Decision, Outcome, printable, write_log
from vertex_trigger.errors import RejectedEvent
from vertex_trigger.events.cloud_events import json_object
from vertex_trigger.events.storage import NAME_LIMIT
from vertex_trigger.triggers.manifests import manifest_names
from vertex_trigger.triggers.serving import NOT_PARSED

from tests.functions.helpers import (
    FunctionServer,
    StartedServers,
    VertexStandIn,
    drift_route,
    load_json,
    object_route,
    pubsub_event,
    storage_event,
    write_config,
)

UNPRINTABLE = "\ud800 \udfff \u202e \u2066 \u200f \x85 \x9b \x7f \u2028"
SHOWN = r"\ud800 \udfff \u202e \u2066 \u200f \u0085 \u009b \u007f \u2028"


def strict_utf8() -> io.TextIOWrapper:
    """A stream that encodes as stdout does on Cloud Run: UTF-8, errors raise."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")


@pytest.mark.parametrize("field", ["event_id", "source", "route", "job", "reason"])
def test_the_log_line_is_written_whatever_a_field_holds(field: str) -> None:
    values = {"event_id": "e", "source": "s", "route": "r", "job": "j", "reason": "why"}
    values[field] = f"<{UNPRINTABLE}>"
    stream = strict_utf8()
    write_log(Outcome(Decision.REJECTED, **values), stream)
    stream.flush()
    line = stream.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]
    assert line.endswith("\n") and line.count("\n") == 1
    entry = json.loads(line)
    assert entry[field] == f"<{SHOWN}>"
    assert entry["decision"] == "rejected"


def test_printable_keeps_valid_text_and_escapes_only_the_listed_characters() -> None:
    text = "données 価格 🚀 \t tab \u0000 nul"  # C0 is JSON's to escape
    assert printable(text) == text
    assert printable(UNPRINTABLE) == SHOWN


@pytest.mark.parametrize(
    "document",
    [
        '{"model": "m\\ud800"}',
        '{"a": {"b": ["ok", "\\udc00x"]}}',
        '{"k\\udfff": 1}',
        b'{"features": [{"name": "\\udbff"}]}',
    ],
)
def test_a_lone_surrogate_anywhere_rejects_the_document(document: str | bytes) -> None:
    expected = r"drift alert is not valid Unicode: it holds a lone surrogate \(U\+D[89A-F]"
    with pytest.raises(RejectedEvent, match=expected):
        json_object(document, "drift alert")


def test_a_surrogate_pair_is_one_character_and_accepted() -> None:
    assert json_object('{"m": "\\ud83d\\ude80"}', "drift alert") == {"m": "🚀"}


def test_deep_documents_are_walked_to_the_bottom() -> None:
    depth = 900  # about as deep as json.loads reads
    document = '{"a": ' + "[" * depth + '"\\ud800"' + "]" * depth + "}"
    with pytest.raises(RejectedEvent, match="not valid Unicode"):
        json_object(document, "event data")


def test_a_manifest_naming_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(RejectedEvent, match=r"manifest gs://b/f/m\.json is not valid Unicode"):
        manifest_names(b'["f/part-\\ud800.csv"]', "gs://b/f/m.json", "b", "f/")


# -- through functions-framework ------------------------------------------------------------------


@pytest.fixture(scope="module")
def objects(servers: StartedServers, tmp_path_factory: pytest.TempPathFactory) -> FunctionServer:
    config = write_config(tmp_path_factory.mktemp("objects"), [object_route()])
    return servers.start("on_object_finalized", config)


@pytest.fixture(scope="module")
def drift(servers: StartedServers, tmp_path_factory: pytest.TempPathFactory) -> FunctionServer:
    config = write_config(tmp_path_factory.mktemp("drift"), [drift_route()])
    return servers.start("on_drift_alert", config)


def alert_with(**fields: Any) -> str:
    """The canonical alert's JSON text with ``fields`` set (ensure_ascii: surrogates escaped)."""
    return json.dumps({**load_json("drift/canonical.json"), **fields})


@pytest.mark.parametrize(
    "alert",
    [
        alert_with(model="projects/p/models/m-\ud800"),  # the report
        alert_with(endpoint="e-\udfff"),  # a field no route reads
        alert_with(objective="RAW_FEATURE_DRIFT", detected_at="2026-11-26T12:00:00Z\udc80"),
    ],
)
def test_an_alert_holding_a_lone_surrogate_is_rejected_with_its_line(
    drift: FunctionServer, clean_vertex: VertexStandIn, alert: str
) -> None:
    event = pubsub_event(json.loads(alert), message_id=f"surrogate-{time.monotonic_ns()}")
    event.data["message"]["data"] = base64.b64encode(alert.encode("ascii")).decode()
    response = drift.send(event)
    assert response.status_code == 200, response.text  # acknowledged: no retry can fix it
    entry = drift.log_for(event["id"])
    assert entry["decision"] == "rejected"
    assert entry["reason"].startswith("drift alert is not valid Unicode: it holds a lone surrogate")
    assert clean_vertex.create_requests() == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("incoming/a\ud800.csv", "event data is not valid Unicode"),
        ("incoming/" + "n" * (NAME_LIMIT - 13) + ".csv", None),  # 1,024 bytes: a run
        ("incoming/" + "n" * (NAME_LIMIT - 12) + ".csv", "is 1025 bytes of UTF-8"),
        ("incoming/" + "🚀" * 253 + ".csv", "is 1025 bytes of UTF-8"),  # 263 characters
    ],
)
def test_object_names_cloud_storage_could_not_have_are_rejected(
    objects: FunctionServer, clean_vertex: VertexStandIn, name: str, reason: str | None
) -> None:
    event = storage_event("incoming/placeholder.csv")
    event.data["name"] = name  # the JSON encoder escapes a lone surrogate: \ud800 on the wire
    assert objects.send(event).status_code == 200
    entry = objects.log_for(event["id"])
    if reason is None:
        assert entry["decision"] == "launched"
        [create] = clean_vertex.create_requests()
        assert create["body"]["runtimeConfig"]["parameterValues"]["note"] == name
        return
    assert entry["decision"] == "rejected"
    assert reason in entry["reason"]
    assert clean_vertex.create_requests() == []


def lines_since(server: FunctionServer, seen: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while len(server.log_records()) == seen and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.log_records()[seen:]


def test_a_structured_body_that_is_not_utf8_gets_a_line_and_a_400(objects: FunctionServer) -> None:
    """functions-framework raised UnicodeDecodeError: a 500 (redelivered a day) and no line."""
    body = (b'{"specversion": "1.0", "id": "not-utf8", "source": "//t", "type": '
            b'"google.cloud.storage.object.v1.finalized", "data": {"name": "\xff"}}')  # fmt: skip
    seen = len(objects.log_records())
    response = requests.post(objects.url, data=body, timeout=30,
                             headers={"content-type": "application/cloudevents+json"})  # fmt: skip
    assert response.status_code == 400
    [entry] = lines_since(objects, seen)
    assert (entry["decision"], entry["severity"]) == ("rejected", "WARNING")
    assert entry["reason"] == f"{NOT_PARSED} (UnicodeDecodeError)"


def test_a_body_nested_deeper_than_the_framework_reads_gets_a_line_and_a_400(
    objects: FunctionServer,
) -> None:
    """cloudevents' parser inside functions-framework failed (its DataUnmarshallerError, from a
    RecursionError): a 500, and no line."""
    headers = {"ce-specversion": "1.0", "ce-id": "deep", "ce-source": "//t",
               "ce-type": "google.cloud.storage.object.v1.finalized",
               "content-type": "application/json"}  # fmt: skip
    seen = len(objects.log_records())
    body = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = requests.post(objects.url, data=body, headers=headers, timeout=30)
    assert response.status_code == 400
    [entry] = lines_since(objects, seen)
    assert (entry["decision"], entry["event_id"]) == ("rejected", "deep")
    assert entry["reason"] == f"{NOT_PARSED} (DataUnmarshallerError)"


def test_a_defect_keeps_its_500_and_its_one_failed_line(
    servers: StartedServers, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """An exception a handler raises is not mistaken for the framework's: one line, 500."""
    bad = tmp_path_factory.mktemp("defect") / "triggers.yaml"
    write_config(bad.parent, [object_route()])
    server = servers.start("on_object_finalized", bad, VERTEX_AI_EMULATOR_HOST="[bad")
    event = storage_event("incoming/defect.csv")
    response = server.send(event)
    assert response.status_code == 500
    [entry] = server.entries_for(event["id"])
    assert entry["decision"] == "failed"


def test_a_request_the_framework_refuses_gets_a_line(objects: FunctionServer) -> None:
    headers = {"ce-specversion": "1.0", "ce-type": "google.cloud.storage.object.v1.finalized",
               "ce-source": "//t", "content-type": "application/json"}  # no ce-id  # fmt: skip
    seen = len(objects.log_records())
    response = requests.post(objects.url, data=b"{}", headers=headers, timeout=30)
    assert response.status_code == 400
    [entry] = lines_since(objects, seen)
    assert entry["decision"] == "rejected"
    assert entry["reason"].startswith("not a CloudEvent: functions-framework answered 400")
