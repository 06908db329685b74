"""Post Slack-compatible ``{"text": ...}`` JSON to a route's webhook, through the request path.

Not a Google API, but answered alike (retry 429 and 5xx; 401/403/404 name the deployment), so it
shares the one request path. It is sent without Google credentials, and its URL is a secret:
messages name the route, never the URL. A redirect is not a delivery (the request path refuses
it), and the answer is read only up to ANSWER_LIMIT bytes.
"""

from collections.abc import Mapping

from vertex_trigger.errors import DeploymentError
from vertex_trigger.google.api_calls import ApiCalls
from vertex_trigger.google.http import BodyTooLargeError, Requester

# Slack answers "ok"; a hook answering more is not read further (a URL that points at a page).
ANSWER_LIMIT = 64 * 1024
# Slack's mrkdwn "escaping text": these three are its control characters, & first.
SLACK_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))


def slack_escaped(text: str) -> str:
    """Return text with &, < and > escaped, so no part of it is a mention, a link or a command."""
    for character, entity in SLACK_ESCAPES:
        text = text.replace(character, entity)
    return text


class WebhookPoster:
    """Posts a text to each route's webhook URL."""

    def __init__(self, session: Requester, urls: Mapping[str, str], calls: ApiCalls) -> None:
        """Post through ``session``: one without Google credentials (the URLs are not Google)."""
        self._session = session
        self._urls = dict(urls)
        self._calls = calls

    def post(self, route: str, text: str) -> None:
        """Post the text, escaped; the URL is a secret, so errors name the route, never the URL.

        The text carries what an event's writer chose (an object's name, a run's error): escaped,
        it can neither ping ``<!channel>`` nor plant a disguised ``<https://...|link>``.
        """
        url = self._urls.get(route)
        if url is None:
            raise DeploymentError(f"route {route!r} has no webhook URL in this instance")
        service = f"webhook of route {route!r}"
        try:
            self._calls.send(
                self._session,
                "POST",
                url,
                service=service,
                action="post",
                secret_url=True,
                json={"text": slack_escaped(text)},
                max_body=ANSWER_LIMIT,
            )
        except BodyTooLargeError as exc:
            if 200 <= exc.status < 300:
                return  # delivered; the rest of a long answer is not read
            raise DeploymentError(
                f"{service} refused to post: HTTP {exc.status} with an answer over "
                f"{ANSWER_LIMIT} bytes, not a webhook's"
            ) from None
