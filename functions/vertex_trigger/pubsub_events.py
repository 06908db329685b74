"""Pub/Sub messagePublished CloudEvents (``MessagePublishedData``)."""

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from vertex_trigger.cloud_events import Envelope, envelope_of
from vertex_trigger.errors import RejectedEvent
from vertex_trigger.outcomes import Decision, Outcome, Trace

MESSAGE_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"


@dataclass(frozen=True)
class PubsubMessage:
    """The decoded message of one delivery."""

    message_id: str
    publish_time: str
    data: bytes


def parse_message(envelope: Envelope) -> PubsubMessage:
    """Decode the message; raise RejectedEvent naming what is wrong."""
    message = envelope.data.get("message")
    if not isinstance(message, dict):
        raise RejectedEvent("pubsub event has no 'message' object")
    # Deliveries may carry both spellings (the push format duplicates them).
    message_id = message.get("messageId") or message.get("message_id") or envelope.event_id
    publish_time = message.get("publishTime") or message.get("publish_time") or envelope.event_time
    return PubsubMessage(str(message_id), str(publish_time), _decoded(message.get("data")))


def published_message(
    cloud_event: Any, trace: Trace
) -> tuple[Envelope, PubsubMessage] | Outcome:
    """Return a messagePublished event's envelope and message, or the skip of another type.

    The trace gets the event id (the CloudEvent's, else the message's); a malformed delivery
    raises RejectedEvent.
    """
    envelope = envelope_of(cloud_event)
    if envelope.event_type != MESSAGE_PUBLISHED:
        return trace.outcome(
            Decision.SKIPPED, f"event type {envelope.event_type!r} is not {MESSAGE_PUBLISHED}"
        )
    message = parse_message(envelope)
    trace.event_id = envelope.event_id or message.message_id
    return envelope, message


def _decoded(data: Any) -> bytes:
    if not isinstance(data, str) or not data:
        raise RejectedEvent("pubsub message has no 'data' (base64 text expected)")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise RejectedEvent("pubsub message 'data' is not valid base64") from None
