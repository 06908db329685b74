"""Cloud Storage object CloudEvents (``StorageObjectData``)."""

from dataclasses import dataclass
from typing import Any

from vertex_trigger.errors import RejectedEvent, excerpt
from vertex_trigger.events.cloud_events import Envelope

FINALIZED = "google.cloud.storage.object.v1.finalized"
INT64_MAX = 2**63 - 1
NAME_LIMIT = 1024  # bytes of UTF-8: Cloud Storage's limit on an object's name


@dataclass(frozen=True)
class ObjectEvent:
    """A finalized object: its identity and the fields placeholders can use."""

    event_id: str
    event_time: str
    bucket: str
    name: str
    generation: int
    content_type: str
    size: int | None
    time_created: str

    @property
    def uri(self) -> str:
        """Return ``gs://bucket/name``."""
        return f"gs://{self.bucket}/{self.name}"

    def placeholder_values(self) -> dict[str, str]:
        """Return the text each object placeholder stands for."""
        return {
            "bucket": self.bucket,
            "name": self.name,
            "uri": self.uri,
            "generation": str(self.generation),
            "content_type": self.content_type,
            "size": "" if self.size is None else str(self.size),
            "time_created": self.time_created,
            "event_id": self.event_id,
            "event_time": self.event_time,
        }


def parse_object_event(envelope: Envelope) -> ObjectEvent:
    """Build an ObjectEvent from a storage CloudEvent; raise RejectedEvent naming the bad field."""
    data = envelope.data
    return ObjectEvent(
        event_id=envelope.event_id,
        event_time=envelope.event_time,
        bucket=_required_string(data, "bucket"),
        name=_object_name(data),
        generation=_required_int64(data, "generation"),
        content_type=_optional_string(data, "contentType"),
        size=_int64(data, "size", required=False),
        time_created=_optional_string(data, "timeCreated"),
    )


def _required_string(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise RejectedEvent(
            f"storage event field {key!r} must be a non-empty string, got {excerpt(value)}"
        )
    return value


def _object_name(data: dict[str, Any]) -> str:
    """Return the object's name, refusing one that Cloud Storage could not have given."""
    name = _required_string(data, "name")
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > NAME_LIMIT:
        raise RejectedEvent(
            f"storage event field 'name' is {size} bytes of UTF-8: Cloud Storage names are at "
            f"most {NAME_LIMIT} bytes, so no object has it ({excerpt(name)})"
        )
    return name


def _optional_string(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RejectedEvent(f"storage event field {key!r} must be a string, got {excerpt(value)}")
    return value


def _required_int64(data: dict[str, Any], key: str) -> int:
    number = _int64(data, key, required=True)
    if number is None:  # never: a required field that is absent is refused
        raise RejectedEvent(f"storage event field {key!r} is missing")
    return number


def _int64(data: dict[str, Any], key: str, *, required: bool) -> int | None:
    """Read an int64 field, which the JSON mapping of protobuf sends as a string or a number."""
    value = data.get(key)
    if value is None and not required:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        # Compare lengths first: int() of 4,301 digits or more raises ValueError (Python's limit).
        digits = value.lstrip("0")
        number = int(digits or "0") if len(digits) <= len(str(INT64_MAX)) else INT64_MAX + 1
    else:
        raise RejectedEvent(
            f"storage event field {key!r} must be an int64 (string or number), got {excerpt(value)}"
        )
    if not 0 <= number <= INT64_MAX:
        raise RejectedEvent(
            f"storage event field {key!r} must be an int64 in [0, 2**63 - 1], got {excerpt(value)}"
        )
    return number
