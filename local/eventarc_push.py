"""Eventarc's Pub/Sub transport, locally: the push endpoint between the emulator and a function.

An Eventarc trigger on a topic is a push subscription whose endpoint wraps each push
(`{"subscription", "message"}`) in a `google.cloud.pubsub.topic.v1.messagePublished` CloudEvent
(id = messageId, time = publishTime, source = the topic, data = MessagePublishedData) and sends it
to the function in binary mode. This adapter does that for one topic and answers the emulator
with the function's own status: a non-2xx is a nack, so the emulator's redelivery (retry policy,
then dead-letter topic) is what retries, as in production. One JSON line per push on stdout.

    python -m local.eventarc_push --topic projects/P/topics/T --target http://127.0.0.1:8082/
        # prints: eventarc push adapter listening on http://127.0.0.1:PORT/
"""

from __future__ import annotations

import argparse
import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from local.cloud_event_http import post_binary
from triggers_cli.eventarc import message_published_event

# Eventarc's subscriptions let a function run up to the push deadline's 600 s maximum.
FUNCTION_TIMEOUT = 600.0


@dataclass(frozen=True)
class Forwarded:
    """One push and how the function answered it (0: no answer; then the adapter says 502)."""

    message_id: str
    subscription: str
    attempt: int
    status: int


class EventarcPushAdapter:
    """An HTTP push endpoint for one topic, forwarding each push to `target` as a CloudEvent."""

    def __init__(
        self,
        topic: str,
        target: str,
        port: int = 0,
        timeout: float = FUNCTION_TIMEOUT,
        on_forward: Callable[[Forwarded], None] | None = None,
    ) -> None:
        self.topic = topic
        self.target = target
        self.timeout = timeout
        self.on_forward = on_forward
        self.forwarded: list[Forwarded] = []
        self._attempts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def handle(self, body: bytes) -> int:
        """Forward one push; return the status to answer the emulator with."""
        try:
            push = json.loads(body)
            event = message_published_event(push, self.topic)
        except (ValueError, AttributeError):
            return HTTPStatus.BAD_REQUEST
        try:
            status = post_binary(self.target, event, self.timeout).status_code
        except requests.RequestException:
            status = 0
        self._record(event["id"], str(push.get("subscription")), status)
        return status or HTTPStatus.BAD_GATEWAY

    def _record(self, message_id: str, subscription: str, status: int) -> None:
        with self._lock:
            self._attempts[message_id] += 1
            forwarded = Forwarded(message_id, subscription, self._attempts[message_id], status)
            self.forwarded.append(forwarded)
        if self.on_forward:
            self.on_forward(forwarded)

    def statuses(self, message_id: str) -> list[int]:
        """Return the function's answer to each delivery of a message, in order."""
        with self._lock:
            return [f.status for f in self.forwarded if f.message_id == message_id]

    def start(self) -> EventarcPushAdapter:
        """Serve in a background thread; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self._server.serve_forever()

    def __enter__(self) -> EventarcPushAdapter:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def _handler_for(adapter: EventarcPushAdapter) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(adapter.handle(body))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass  # one JSON line per push instead (on_forward)

    return Handler


def log_forwarded(forwarded: Forwarded) -> None:
    """Print one JSON line per push (the adapter's log when run as a program)."""
    print(json.dumps(asdict(forwarded)), flush=True)


def forwarded_in_log(log: Path, message_id: str) -> Forwarded | None:
    """Return the first delivery of a message in a log written by `log_forwarded`, if any."""
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        if line.startswith("{") and (record := json.loads(line))["message_id"] == message_id:
            return Forwarded(**record)
    return None


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted, printing the address line first, then one line per push."""
    parser = argparse.ArgumentParser(prog="python -m local.eventarc_push", description=__doc__)
    parser.add_argument("--topic", required=True, help="the trigger's topic (the event source)")
    parser.add_argument("--target", required=True, help="URL of the CloudEvent function")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    adapter = EventarcPushAdapter(args.topic, args.target, args.port, on_forward=log_forwarded)
    print(f"eventarc push adapter listening on {adapter.url}", flush=True)
    try:
        adapter.serve_forever()
    except KeyboardInterrupt:
        adapter.stop()


if __name__ == "__main__":
    main()
