"""What Eventarc delivers: the CloudEvent for a Pub/Sub message or a finalized object.

Shared by ``replay`` and ``explain`` (an event handed to the same handler) and the local stack
(local/eventarc_push.py, local/object_events.py).
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cloudevents.http import CloudEvent

# Google's event type (as vertex_trigger.pubsub_events names it): written out here because the
# local stack's adapter loads this module without functions/ on its path.
MESSAGE_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
FINALIZED = "google.cloud.storage.object.v1.finalized"


class PushBodyError(ValueError):
    """The request is not a Pub/Sub push body."""


def message_published_event(push: Mapping[str, Any], topic: str) -> CloudEvent:
    """Return the messagePublished CloudEvent Eventarc delivers for this push body.

    id = messageId, time = publishTime, source = the topic, data = MessagePublishedData
    (``{"subscription", "message"}``).
    """
    message = push.get("message")
    if not isinstance(message, dict):
        raise PushBodyError("a push body has a `message` object")
    message_id = message.get("messageId") or message.get("message_id")
    publish_time = message.get("publishTime") or message.get("publish_time")
    if not message_id or not publish_time:
        raise PushBodyError("the pushed message has no messageId or publishTime")
    attributes = {
        "type": MESSAGE_PUBLISHED,
        "source": f"//pubsub.googleapis.com/{topic}",
        "id": message_id,
        "time": publish_time,
        "datacontenttype": "application/json",
    }
    return CloudEvent(attributes, {"subscription": push.get("subscription"), "message": message})


def object_finalized_event(data: Mapping[str, Any], event_id: str, time: str) -> CloudEvent:
    """Return the finalized CloudEvent for a StorageObjectData (source: its bucket)."""
    attributes = {
        "type": FINALIZED,
        "source": f"//storage.googleapis.com/projects/_/buckets/{data.get('bucket', '')}",
        "subject": f"objects/{data.get('name', '')}",
        "id": event_id,
        "time": time,
        "datacontenttype": "application/json",
    }
    return CloudEvent(attributes, dict(data))


def rfc3339_millis(moment: datetime) -> str:
    """Format a time as Cloud Storage and Pub/Sub do: UTC, milliseconds, Z."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
