"""The Eventarc-like sender redelivers every non-2xx and timeout, bounded, and counts outcomes."""

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cloudevents.http import CloudEvent

from local.eventarc_sender import (
    TIMEOUT,
    Delivery,
    Mode,
    Outcome,
    RetryPolicy,
    deliver_all,
)

FAST = RetryPolicy(min_backoff=0.001, max_backoff=0.01, max_attempts=10, request_timeout=2.0)


class ScriptedServer:
    """A real HTTP server answering each event id with a scripted sequence of statuses."""

    def __init__(self, script: dict[str, list[int | float]]) -> None:
        self.script = {key: list(values) for key, values in script.items()}
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                event_id = self.headers.get("ce-id", "")
                with outer.lock:
                    outer.received.append((event_id, dict(self.headers), body))
                    queue = outer.script.get(event_id, [])
                    step = queue.pop(0) if queue else 200
                if isinstance(step, float):  # a hang: sleep, then answer 200 too late
                    time.sleep(step)
                    step = 200
                self.send_response(step)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server_factory():
    servers = []

    def make(script):
        server = ScriptedServer(script)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def event(event_id: str, data: object = None) -> CloudEvent:
    attributes = {"id": event_id, "source": "//storage.googleapis.com/b", "type": "t.finalized"}
    return CloudEvent(attributes, data if data is not None else {"bucket": "b", "name": event_id})


def test_non_2xx_is_redelivered_until_acked(server_factory):
    server = server_factory({"a": [503, 429, 500], "b": [400], "c": []})
    report = deliver_all([Delivery(server.url, event(i)) for i in "abc"], FAST, senders=3)
    assert [r.statuses for r in report.results] == [(503, 429, 500, 200), (400, 200), (200,)]
    assert report.outcomes() == {"acked": 3}
    assert report.attempts() == 7
    assert report.redelivered() == 2
    assert sorted(e for e, _, _ in server.received) == ["a"] * 4 + ["b"] * 2 + ["c"]


def test_attempts_are_bounded():
    policy = RetryPolicy(min_backoff=0.001, max_backoff=0.002, max_attempts=3, request_timeout=2.0)
    # Port 9 (discard) on loopback is closed: every attempt is a connection error.
    report = deliver_all([Delivery("http://127.0.0.1:9/", event("x"))], policy, senders=1)
    (result,) = report.results
    assert result.outcome is Outcome.GAVE_UP
    assert result.statuses == ("connection-error",) * 3


def test_age_is_bounded(server_factory):
    server = server_factory({"x": [503] * 100})
    policy = RetryPolicy(min_backoff=0.05, max_backoff=0.05, max_age=0.2, request_timeout=2.0)
    (result,) = deliver_all([Delivery(server.url, event("x"))], policy, senders=1).results
    assert result.outcome is Outcome.GAVE_UP
    assert 1 <= result.attempts < policy.max_attempts  # the age ended it, not the count
    assert set(result.statuses) == {503}


def test_timeout_is_redelivered(server_factory):
    server = server_factory({"slow": [1.0]})
    policy = RetryPolicy(min_backoff=0.001, max_backoff=0.01, max_attempts=5, request_timeout=0.3)
    (result,) = deliver_all([Delivery(server.url, event("slow"))], policy, senders=1).results
    # The hang answers too late; the redelivery gets the script's next answer, a 200.
    assert result.statuses[0] == TIMEOUT
    assert result.statuses[-1] == 200
    assert result.outcome is Outcome.ACKED


def test_binary_mode_sends_ce_headers_and_json_body(server_factory):
    server = server_factory({})
    deliver_all([Delivery(server.url, event("m", {"name": "n"}))], FAST, senders=1)
    (_, headers, body) = server.received[0]
    lowered = {k.lower(): v for k, v in headers.items()}
    assert lowered["ce-id"] == "m"
    assert lowered["ce-type"] == "t.finalized"
    assert json.loads(body) == {"name": "n"}


def test_structured_mode_sends_the_whole_event_as_json(server_factory):
    server = server_factory({})
    deliver_all([Delivery(server.url, event("s"), Mode.STRUCTURED)], FAST, senders=1)
    (_, headers, body) = server.received[0]
    lowered = {k.lower(): v for k, v in headers.items()}
    assert lowered["content-type"] == "application/cloudevents+json"
    assert json.loads(body)["id"] == "s"


def test_backoff_doubles_and_is_capped():
    policy = RetryPolicy(min_backoff=1.0, max_backoff=8.0)
    rng = random.Random(1)
    ceilings = [1, 2, 4, 8, 8, 8]
    delays = [policy.backoff(n, rng) for n in range(1, 7)]
    assert all(c / 2 <= d <= c for c, d in zip(ceilings, delays, strict=True))
