"""Send a run's outcome: publish it to Pub/Sub (REST) and post its text to a webhook.

Both retry like the Vertex AI calls (429, 5xx, timeouts) inside the event's one time budget, then
raise TransientError; an answer an operator must fix (401, 403, 404: a grant, a topic, a hook)
raises DeploymentError; any other 4xx rejects the event. A redelivery reads the run again and
publishes under the same ``outcome_id``, which lets consumers drop the repeat.
"""

import base64
import copy
from collections.abc import Mapping
from typing import Any, Protocol

from vertex_trigger.api_errors import Fix, fix_for, read_error
from vertex_trigger.errors import DeploymentError, RejectedEvent
from vertex_trigger.http import HttpConnectionError, HttpTimeoutError, Requester, Response
from vertex_trigger.retrying import Budget, Retrier, RetryPolicy


class Publisher(Protocol):
    """Publishes one message to a Pub/Sub topic."""

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> str:
        """Publish and return the message id."""

    def with_budget(self, budget: Budget) -> "Publisher":
        """Return the same publisher with every call drawing on ``budget`` (one event's time)."""


class _Sender:
    """Sends requests with retries, in an event's budget (or one of its own per call)."""

    secret_urls = False  # True: connection errors must not quote the URL (a webhook's is secret)

    def __init__(self, session: Requester, retry: RetryPolicy) -> None:
        self._session = session
        self._retrier = Retrier(retry)
        self._budget: Budget | None = None

    def with_budget(self, budget: Budget) -> Any:
        """Return a copy whose calls all draw on ``budget``."""
        budgeted = copy.copy(self)
        budgeted._budget = budget
        return budgeted

    def _send(self, url: str, body: Any, what: str) -> Response:
        """POST JSON; return a 2xx answer, else raise what would fix the error."""
        answer = self._retrier.send(
            lambda timeout: self._attempt(url, body, timeout),
            what,
            self._budget or self._retrier.budget(),
        )
        response = answer.response
        if response.status >= 400:
            error = read_error(response)
            message = f"{what} answered {error.describe()}"
            if fix_for(error) is Fix.DEPLOYMENT:
                raise DeploymentError(message)
            raise RejectedEvent(message)
        return response


    def _attempt(self, url: str, body: Any, timeout: float) -> Response:
        """POST once; with secret URLs, a connection error is retold without the URL."""
        try:
            return self._session.request("POST", url, json=body, timeout=timeout)
        except HttpTimeoutError:
            if not self.secret_urls:
                raise
            raise HttpTimeoutError("no answer within the timeout") from None
        except HttpConnectionError:
            if not self.secret_urls:
                raise
            raise HttpConnectionError("cannot connect") from None


class PubsubPublisher(_Sender):
    """Pub/Sub v1 REST ``topics.publish`` through an HTTP requester (credentialed or not)."""

    def __init__(self, session: Requester, base_url: str, retry: RetryPolicy) -> None:
        """Publish through ``session`` to ``base_url`` (production or ``http://EMULATOR``)."""
        super().__init__(session, retry)
        self._base_url = base_url.rstrip("/")

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> str:
        """Publish one message and return its id."""
        message = {"data": base64.b64encode(data).decode("ascii"), "attributes": dict(attributes)}
        url = f"{self._base_url}/v1/{topic}:publish"
        response = self._send(url, {"messages": [message]}, f"Pub/Sub publish to {topic}")
        return str(response.json().get("messageIds", ["?"])[0])


class WebhookPoster(_Sender):
    """Posts Slack-compatible ``{"text": ...}`` JSON to each route's webhook URL."""

    secret_urls = True

    def __init__(
        self, session: Requester, urls: Mapping[str, str], retry: RetryPolicy
    ) -> None:
        """Post through ``session``: one without Google credentials (the URLs are not Google)."""
        super().__init__(session, retry)
        self._urls = dict(urls)

    def post(self, route: str, text: str) -> None:
        """Post the text; the URL is a secret, so errors name the route, never the URL."""
        url = self._urls.get(route)
        if url is None:
            raise DeploymentError(f"route {route!r} has no webhook URL in this instance")
        self._send(url, {"text": text}, f"webhook of route {route!r}")
