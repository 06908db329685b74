"""Publish a message to a Pub/Sub topic (v1 REST ``topics.publish``) through the request path.

A redelivered event publishes again under the same ``outcome_id``, which lets consumers drop the
repeat: publishing is retried like every Google API call, and its errors classified the same way.
"""

import base64
from collections.abc import Mapping
from typing import Protocol

from vertex_trigger.google.api_calls import ApiCalls
from vertex_trigger.google.http import Requester

SERVICE = "Pub/Sub"


class Publisher(Protocol):
    """Publishes one message to a Pub/Sub topic."""

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> str:
        """Publish and return the message id."""


class PubsubPublisher:
    """Pub/Sub v1 REST ``topics.publish`` through an HTTP requester (credentialed or not)."""

    def __init__(self, session: Requester, base_url: str, calls: ApiCalls) -> None:
        """Publish through ``session`` to ``base_url`` (production or ``http://EMULATOR``)."""
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._calls = calls

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> str:
        """Publish one message and return its id."""
        message = {"data": base64.b64encode(data).decode("ascii"), "attributes": dict(attributes)}
        response = self._calls.send(
            self._session,
            "POST",
            f"{self._base_url}/v1/{topic}:publish",
            service=SERVICE,
            action=f"publish to {topic}",
            json={"messages": [message]},
        ).response
        return str(response.json().get("messageIds", ["?"])[0])
