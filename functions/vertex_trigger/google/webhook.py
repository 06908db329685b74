"""Post Slack-compatible ``{"text": ...}`` JSON to a route's webhook, through the request path.

Not a Google API, but answered alike (retry 429 and 5xx; 401/403/404 name the deployment), so it
shares the one request path. It is sent without Google credentials, and its URL is a secret:
messages name the route, never the URL.
"""

from collections.abc import Mapping

from vertex_trigger.errors import DeploymentError
from vertex_trigger.google.api_calls import ApiCalls
from vertex_trigger.google.http import Requester


class WebhookPoster:
    """Posts a text to each route's webhook URL."""

    def __init__(self, session: Requester, urls: Mapping[str, str], calls: ApiCalls) -> None:
        """Post through ``session``: one without Google credentials (the URLs are not Google)."""
        self._session = session
        self._urls = dict(urls)
        self._calls = calls

    def post(self, route: str, text: str) -> None:
        """Post the text; the URL is a secret, so errors name the route, never the URL."""
        url = self._urls.get(route)
        if url is None:
            raise DeploymentError(f"route {route!r} has no webhook URL in this instance")
        self._calls.send(
            self._session,
            "POST",
            url,
            service=f"webhook of route {route!r}",
            action="post",
            secret_url=True,
            json={"text": text},
        )
