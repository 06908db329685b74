"""What Eventarc delivers for a Pub/Sub message: a messagePublished CloudEvent (binary mode).

Shared by ``replay`` (a dead-lettered message handed to the same handler again) and the local
stack's push adapter (local/eventarc_push.py).
"""

from collections.abc import Mapping
from typing import Any

from cloudevents.http import CloudEvent

# Google's event type (as vertex_trigger.pubsub_events names it): written out here because the
# local stack's adapter loads this module without functions/ on its path.
MESSAGE_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"


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
