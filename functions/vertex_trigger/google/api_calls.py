"""The one request path to Google's APIs: retried within the event's budget, then classified.

Every client (Vertex AI, Cloud Storage, Pub/Sub, Artifact Registry, the webhook poster) sends
through ``ApiCalls.send``. A transient answer (429, 5xx, 409 ``ABORTED``, a timeout, a lost
connection, a refused token) is retried with backoff while the event's budget allows, then raised
as TransientError; any other error answer is raised as what fixes it: DeploymentError when an
operator must act (IAM, project, location, KMS key, a URL that redirects), RejectedEvent when the
request itself, which carries the event's content, is wrong. Statuses a caller reads itself are
handed back to it.

The budget is the event's, set once by ``spending`` around the event's handling: every call of
every client made inside it draws on the same time, and a call outside any event gets its own.
"""

import contextlib
from collections.abc import Collection, Iterator
from contextvars import ContextVar
from typing import Any

from vertex_trigger.errors import DeploymentError, RejectedEvent
from vertex_trigger.google.api_errors import Fix, fix_for, read_error
from vertex_trigger.google.http import HttpConnectionError, HttpTimeoutError, Requester, Response
from vertex_trigger.google.retries import Answer, Budget, Retrier

REDIRECTS = range(300, 400)
# Each thread (functions-framework serves each event on one) starts with no budget of its own.
_EVENT_BUDGET: ContextVar[Budget | None] = ContextVar("event_budget", default=None)


@contextlib.contextmanager
def spending(budget: Budget) -> Iterator[Budget]:
    """Make every Google API call inside the block draw on ``budget`` (one event's time)."""
    token = _EVENT_BUDGET.set(budget)
    try:
        yield budget
    finally:
        _EVENT_BUDGET.reset(token)


class ApiCalls:
    """Sends requests with retries inside the current budget and raises what fixes an error."""

    def __init__(self, retrier: Retrier) -> None:
        """Retry through ``retrier`` (its policy's backoff; its clock and sleep, for tests)."""
        self._retrier = retrier

    def budget(self) -> Budget:
        """Return a new budget that starts now (for the start-up, or one sweep candidate)."""
        return self._retrier.budget()

    def send(
        self,
        session: Requester,
        method: str,
        url: str,
        *,
        service: str,
        action: str,
        handled: Collection[int] = (),
        deployment_only: bool = False,
        secret_url: bool = False,
        **request: Any,
    ) -> Answer:
        """Send until an answer a retry would not change; raise for an error not ``handled``.

        Messages name the call: "{service} refused to {action}: HTTP 403 ...". ``deployment_only``:
        every error answer is the deployment's (a template is part of it). ``secret_url``: a
        connection error is retold without the URL (a webhook's URL is a credential).
        """
        try:
            answer = self._retrier.send(
                lambda timeout: _attempt(
                    session, method, url, timeout, secret_url=secret_url, **request
                ),
                f"{service} {method}",  # "Vertex AI POST failed 3 time(s) ...": stable wording
                _EVENT_BUDGET.get() or self._retrier.budget(),
            )
        except ValueError:  # a URL the client cannot send to: the deployment's
            if not secret_url:
                raise
            raise DeploymentError(f"{service} cannot {action}: its URL is malformed") from None
        status = answer.response.status
        if status in REDIRECTS and status not in handled:
            # A redirect is not an answer: a POST is never followed (it would be resent, or
            # turned into a GET), a GET only so far. Location is not quoted: it may be secret.
            raise DeploymentError(
                f"{service} refused to {action}: HTTP {status}, a redirect, which is not "
                f"followed for {method}: nothing was done; the URL must be the endpoint itself"
            )
        if status >= 400 and status not in handled:
            raise_for(answer.response, service, action, deployment_only=deployment_only)
        return answer


def raise_for(
    response: Response, service: str, action: str, *, deployment_only: bool = False
) -> None:
    """Raise DeploymentError or RejectedEvent for an error answer, by what would fix it."""
    error = read_error(response)
    message = f"{service} refused to {action}: {error.describe()}"
    if deployment_only or fix_for(error) is Fix.DEPLOYMENT:
        raise DeploymentError(message)
    raise RejectedEvent(message)


def _attempt(
    session: Requester,
    method: str,
    url: str,
    timeout: float,
    *,
    secret_url: bool,
    **request: Any,
) -> Response:
    """Send once; with a secret URL, a connection error is retold without it."""
    try:
        return session.request(method, url, timeout=timeout, **request)
    except HttpTimeoutError:
        if not secret_url:
            raise
        raise HttpTimeoutError("no answer within the timeout") from None
    except HttpConnectionError:
        if not secret_url:
            raise
        raise HttpConnectionError("cannot connect") from None
