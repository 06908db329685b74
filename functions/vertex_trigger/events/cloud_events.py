"""The CloudEvent envelope both functions receive, normalised once."""

import json
import re
from dataclasses import dataclass
from typing import Any

from vertex_trigger.errors import RejectedEvent, SkippedEvent

# JSON can escape half a UTF-16 pair (\ud800) that no UTF-8 text can hold: Cloud Storage names and
# Google's alerts never have one, and hashing, quoting or logging such a string fails.
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True)
class Envelope:
    """CloudEvent attributes we use plus the JSON data as a mapping."""

    event_id: str
    event_type: str
    event_time: str
    data: dict[str, Any]


def envelope_of(cloud_event: Any, event_type: str) -> Envelope:
    """Read a ``cloudevents`` CloudEvent (binary or structured mode alike) of ``event_type``.

    Raise RejectedEvent for data that is not a JSON object, then SkippedEvent for another type.
    """
    attributes = cloud_event.get_attributes()
    envelope = Envelope(
        event_id=str(attributes.get("id") or ""),
        event_type=str(attributes.get("type") or ""),
        event_time=str(attributes.get("time") or ""),
        data=json_object(cloud_event.get_data(), "event data"),
    )
    if envelope.event_type != event_type:
        raise SkippedEvent(f"event type {envelope.event_type!r} is not {event_type}")
    return envelope


def event_id_of(cloud_event: Any) -> str:
    """Return the CloudEvent id, read before anything that may reject the event."""
    return str(cloud_event.get_attributes().get("id") or "")


def json_object(data: Any, what: str) -> dict[str, Any]:
    """Return JSON text (or decoded data) as a mapping; RejectedEvent names ``what``."""
    if isinstance(data, bytes | bytearray | str):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise RejectedEvent(f"{what} is not JSON") from None
        except RecursionError:
            raise RejectedEvent(f"{what} is JSON nested too deeply to read") from None
    if not isinstance(data, dict):
        raise RejectedEvent(f"{what} must be a JSON object, got {type(data).__name__}")
    surrogate = lone_surrogate_in(data)
    if surrogate:
        raise RejectedEvent(
            f"{what} is not valid Unicode: it holds a lone surrogate (U+{ord(surrogate):04X}, "
            "half of a UTF-16 pair), which no UTF-8 text can carry"
        )
    return data


def lone_surrogate_in(value: Any) -> str:
    """Return the first lone surrogate in any string (key or value) of parsed JSON, or ''."""
    pending = [value]
    while pending:  # iterative: decoded JSON may be nested deeper than Python's recursion limit
        item = pending.pop()
        if isinstance(item, str):
            found = _LONE_SURROGATE.search(item)
            if found:
                return found.group()
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return ""
