"""Pub/Sub messagePublished CloudEvents (``MessagePublishedData``)."""

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from vertex_trigger.errors import RejectedEvent
from vertex_trigger.events.cloud_events import Envelope, envelope_of

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


@dataclass(frozen=True)
class Published:
    """One messagePublished delivery: its CloudEvent envelope and its decoded message."""

    envelope: Envelope
    message: PubsubMessage

    @property
    def event_id(self) -> str:
        """Return the CloudEvent's id, else the message's."""
        return self.envelope.event_id or self.message.message_id

    @property
    def event_time(self) -> str:
        """Return the CloudEvent's time, else the message's publish time."""
        return self.envelope.event_time or self.message.publish_time


def published_message(cloud_event: Any) -> Published:
    """Read a messagePublished CloudEvent; SkippedEvent for another type, RejectedEvent if bad."""
    envelope = envelope_of(cloud_event, MESSAGE_PUBLISHED)
    return Published(envelope, parse_message(envelope))


def _decoded(data: Any) -> bytes:
    if not isinstance(data, str) or not data:
        raise RejectedEvent("pubsub message has no 'data' (base64 text expected)")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise RejectedEvent("pubsub message 'data' is not valid base64") from None
