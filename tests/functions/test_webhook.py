"""The webhook poster over HTTPS: Slack's escaping, no redirect, a bounded answer, a secret URL.

Against the tests' loopback HTTPS receiver (a self-signed certificate the client is told to trust,
as the functions are through SSL_CERT_FILE), through the one request path.
"""

import time
import traceback
from collections.abc import Iterator

import pytest
from vertex_trigger.errors import DeploymentError, TransientError
from vertex_trigger.google.api_calls import ApiCalls
from vertex_trigger.google.http import HttpClient
from vertex_trigger.google.retries import Retrier, RetryPolicy
from vertex_trigger.google.webhook import ANSWER_LIMIT, WebhookPoster, slack_escaped

from tests.functions.helpers import Certificate, WebhookReceiver
from tests.functions.launcher_helpers import FakeClock

POLICY = RetryPolicy(initial_delay=0.01, max_delay=0.02, deadline=2.0, request_timeout=1.0)


@pytest.fixture
def receiver(certificate: Certificate) -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver(certificate)
    yield hook
    hook.stop()


def poster(certificate: Certificate, url: str) -> WebhookPoster:
    clock = FakeClock()  # the backoff's waits pass at once, and count against the budget
    calls = ApiCalls(Retrier(POLICY, sleep=clock.sleep, clock=lambda: clock.now))
    return WebhookPoster(HttpClient(ssl_context=certificate.trusting()), {"r": url}, calls)


# What a writer to the data bucket controls ends up in the text: an object's name, a run's error.
HOSTILE = "run x FAILED for gs://b/<!channel> <https://evil.example|the report> & <@U0123>"


def test_slack_control_characters_are_escaped() -> None:
    assert slack_escaped(HOSTILE) == (
        "run x FAILED for gs://b/&lt;!channel&gt; &lt;https://evil.example|the report&gt; "
        "&amp; &lt;@U0123&gt;"
    )
    assert slack_escaped("&lt;") == "&amp;lt;"  # & first: text that looks escaped stays text
    assert slack_escaped("plain text: no change") == "plain text: no change"


def test_the_posted_text_can_neither_mention_nor_link(
    receiver: WebhookReceiver, certificate: Certificate
) -> None:
    poster(certificate, receiver.url).post("r", HOSTILE)
    [body] = receiver.bodies
    assert body == {"text": slack_escaped(HOSTILE)}
    assert "<" not in body["text"] and ">" not in body["text"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_a_delivery_and_is_not_followed(
    receiver: WebhookReceiver, certificate: Certificate, status: int
) -> None:
    elsewhere = f"{receiver.url}/MOVED-SECRET"
    receiver.answers[:] = [(status, {"Location": elsewhere}, b"")]
    with pytest.raises(DeploymentError) as caught:
        poster(certificate, receiver.url).post("r", "text")
    assert str(caught.value) == (
        f"webhook of route 'r' refused to post: HTTP {status}, a redirect, which is not "
        "followed for POST: nothing was done; the URL must be the endpoint itself"
    )
    assert len(receiver.bodies) == 1  # one POST: the redirect was not followed
    assert "SECRET" not in str(caught.value) and "XXXX" not in str(caught.value)


def test_a_long_answer_is_read_only_up_to_the_limit(
    receiver: WebhookReceiver, certificate: Certificate
) -> None:
    receiver.answers[:] = [(200, {}, b"o" * (ANSWER_LIMIT * 512))]
    poster(certificate, receiver.url).post("r", "text")  # delivered: 2xx, the rest unread
    receiver.answers[:] = [(500, {}, b"e" * (ANSWER_LIMIT * 512))]
    with pytest.raises(DeploymentError) as caught:
        poster(certificate, receiver.url).post("r", "text")
    assert str(caught.value) == (
        f"webhook of route 'r' refused to post: HTTP 500 with an answer over {ANSWER_LIMIT} "
        "bytes, not a webhook's"
    )
    assert len(receiver.bodies) == 2
    # The client hung up after the limit: the receiver could not write either 32 MiB answer
    # (more than loopback's buffers hold), even while the test holds the error and its frames.
    deadline = time.monotonic() + 10
    while receiver.cut < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert receiver.cut == 2


# Held here so that no traceback line of the tests' own code quotes it.
MALFORMED = "https://[T0SECRET/hooks/B0SECRET"
UNREACHABLE = "https://127.0.0.1:9/hooks/T0SECRET"  # nothing listens on port 9


def test_a_malformed_url_is_in_no_message_and_no_traceback(certificate: Certificate) -> None:
    with pytest.raises(DeploymentError) as caught:
        poster(certificate, MALFORMED).post("r", "text")
    assert str(caught.value) == "webhook of route 'r' cannot post: its URL is malformed"
    printed = "".join(traceback.format_exception(caught.value))
    assert "SECRET" not in printed


def test_an_unreachable_url_is_retold_without_it(certificate: Certificate) -> None:
    with pytest.raises(TransientError) as caught:
        poster(certificate, UNREACHABLE).post("r", "text")
    printed = "".join(traceback.format_exception(caught.value))
    assert "HttpConnectionError: cannot connect" in printed
    assert "SECRET" not in printed and "/hooks/" not in printed
