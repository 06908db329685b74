"""Pub/Sub's v1 REST API over requests: topics, subscriptions, publish, pull, acknowledge.

Written for Google's Pub/Sub emulator (`http://PUBSUB_EMULATOR_HOST/v1/...`, no credentials);
no gRPC and no google-cloud-* client, so anything (the Vertex AI emulator, a test, a CLI) can
create what it needs, publish and read a subscription with nothing but `requests`.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests


class PubsubApiError(RuntimeError):
    """Pub/Sub answered a non-2xx status; the message quotes the call and Pub/Sub's reason."""

    def __init__(self, call: str, status: int, reason: str) -> None:
        super().__init__(f"{call}: HTTP {status}: {reason}")
        self.status = status


def duration(seconds: float) -> str:
    """Return a protobuf Duration in its JSON form ("1.5s")."""
    return f"{seconds:g}s"


@dataclass(frozen=True)
class RetryPolicy:
    """A subscription's redelivery backoff after a nack or a non-2xx push answer."""

    minimum_backoff: float = 10.0
    maximum_backoff: float = 600.0

    def to_json(self) -> dict[str, str]:
        """Return the REST form."""
        return {
            "minimumBackoff": duration(self.minimum_backoff),
            "maximumBackoff": duration(self.maximum_backoff),
        }


@dataclass(frozen=True)
class DeadLetterPolicy:
    """Where a message goes after `max_delivery_attempts` failed deliveries (5 to 100)."""

    topic: str
    max_delivery_attempts: int = 5

    def to_json(self) -> dict[str, Any]:
        """Return the REST form."""
        return {"deadLetterTopic": self.topic, "maxDeliveryAttempts": self.max_delivery_attempts}


@dataclass(frozen=True)
class PulledMessage:
    """One message from a pull, with what is needed to acknowledge it."""

    ack_id: str
    message_id: str
    data: bytes
    attributes: dict[str, str]
    publish_time: str
    delivery_attempt: int | None = None

    @classmethod
    def from_json(cls, received: Mapping[str, Any]) -> PulledMessage:
        """Read one `receivedMessages` item."""
        message = received["message"]
        return cls(
            ack_id=received["ackId"],
            message_id=message["messageId"],
            data=base64.b64decode(message.get("data", "")),
            attributes=dict(message.get("attributes", {})),
            publish_time=message["publishTime"],
            delivery_attempt=received.get("deliveryAttempt"),
        )


@dataclass
class PubsubRest:
    """The Pub/Sub API at `host` (host:port, the value of PUBSUB_EMULATOR_HOST)."""

    host: str
    timeout: float = 30.0

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """Send one JSON call (the emulator wants a JSON content type) and return its answer."""
        url = f"http://{self.host}/v1/{path}"
        # No shared Session: callers may use one client from several threads.
        response = requests.request(method, url, json=body or {}, timeout=self.timeout)
        if not response.ok:
            try:
                reason = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                reason = response.text.strip()
            raise PubsubApiError(f"{method} {path}", response.status_code, reason)
        return response.json()

    def create_topic(self, topic: str) -> dict[str, Any]:
        """Create `projects/P/topics/T`."""
        return self._call("PUT", topic)

    def create_subscription(
        self,
        subscription: str,
        topic: str,
        *,
        push_endpoint: str | None = None,
        ack_deadline: int | None = None,
        dead_letter: DeadLetterPolicy | None = None,
        retry: RetryPolicy | None = None,
    ) -> dict[str, Any]:
        """Create a pull subscription, or a push one when `push_endpoint` is given."""
        body: dict[str, Any] = {"topic": topic}
        if push_endpoint:
            body["pushConfig"] = {"pushEndpoint": push_endpoint}
        if ack_deadline:
            body["ackDeadlineSeconds"] = ack_deadline
        if dead_letter:
            body["deadLetterPolicy"] = dead_letter.to_json()
        if retry:
            body["retryPolicy"] = retry.to_json()
        return self._call("PUT", subscription, body)

    def get_subscription(self, subscription: str) -> dict[str, Any]:
        """Return a subscription as the API describes it."""
        return self._call("GET", subscription)

    def publish(
        self, topic: str, data: bytes, attributes: Mapping[str, str] | None = None
    ) -> str:
        """Publish one message; return its id."""
        message: dict[str, Any] = {"data": base64.b64encode(data).decode("ascii")}
        if attributes:
            message["attributes"] = dict(attributes)
        answer = self._call("POST", f"{topic}:publish", {"messages": [message]})
        return answer["messageIds"][0]

    def pull(self, subscription: str, max_messages: int = 100) -> list[PulledMessage]:
        """Return what is waiting now (possibly nothing), without acknowledging it."""
        body = {"maxMessages": max_messages, "returnImmediately": True}
        answer = self._call("POST", f"{subscription}:pull", body)
        return [PulledMessage.from_json(item) for item in answer.get("receivedMessages", [])]

    def acknowledge(self, subscription: str, ack_ids: list[str]) -> None:
        """Acknowledge pulled messages so they are not delivered again."""
        if ack_ids:
            self._call("POST", f"{subscription}:acknowledge", {"ackIds": ack_ids})

    def wait_for_messages(
        self, subscription: str, count: int = 1, attempts: int = 600, pause: float = 0.1
    ) -> list[PulledMessage]:
        """Pull and acknowledge until `count` messages came; bounded by attempts, not time."""
        messages: list[PulledMessage] = []
        for _ in range(attempts):
            pulled = self.pull(subscription)
            self.acknowledge(subscription, [message.ack_id for message in pulled])
            messages.extend(pulled)
            if len(messages) >= count:
                return messages
            time.sleep(pause)
        raise TimeoutError(
            f"{subscription}: {len(messages)} of {count} messages after {attempts} pulls"
        )
