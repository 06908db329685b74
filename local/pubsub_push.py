"""Eventarc-style push: deliver a published message to a CloudEvent function over HTTP.

Builds the `google.cloud.pubsub.topic.v1.messagePublished` CloudEvent the way Eventarc does
(`MessagePublishedData` with both `messageId` and `message_id`, `publishTime` and `publish_time`)
and posts it in binary mode with the `cloudevents` package.
"""

from __future__ import annotations

import base64
import sys
from dataclasses import dataclass, field

import requests
from cloudevents.http import CloudEvent

from local.cloud_event_http import post_binary
from local.pubsub_publish_server import ReceivedMessage, publish_time_text

MESSAGE_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"


def subscription_for(topic: str) -> str:
    """Return the push subscription name used for a topic's local deliveries."""
    project, _, topic_id = topic.removeprefix("projects/").partition("/topics/")
    return f"projects/{project}/subscriptions/local-push-{topic_id}"


def message_published_event(message: ReceivedMessage) -> CloudEvent:
    """Return the messagePublished CloudEvent Eventarc would deliver for this message."""
    published = publish_time_text(message)
    pubsub_message = {
        "data": base64.b64encode(message.data).decode("ascii"),
        "attributes": message.attributes,
        "messageId": message.message_id,
        "message_id": message.message_id,
        "publishTime": published,
        "publish_time": published,
    }
    if message.ordering_key:
        pubsub_message["orderingKey"] = message.ordering_key
    attributes = {
        "type": MESSAGE_PUBLISHED,
        "source": f"//pubsub.googleapis.com/{message.topic}",
        "id": message.message_id,
        "time": published,
        "datacontenttype": "application/json",
    }
    data = {"subscription": subscription_for(message.topic), "message": pubsub_message}
    return CloudEvent(attributes, data)


@dataclass
class Pusher:
    """A message callback that posts each message as a CloudEvent and records the HTTP status."""

    url: str
    timeout: float = 60.0
    statuses: list[int] = field(default_factory=list)

    def __call__(self, message: ReceivedMessage) -> None:
        """Deliver one message; a failed delivery is reported, not retried."""
        try:
            status = post_binary(self.url, message_published_event(message), self.timeout)
            self.statuses.append(status.status_code)
        except requests.RequestException as error:
            self.statuses.append(0)
            print(f"push of message {message.message_id} failed: {error}", file=sys.stderr)


def push_to(url: str) -> Pusher:
    """Return a callback for `PublishServer(on_message=...)` that pushes to this URL."""
    return Pusher(url)
