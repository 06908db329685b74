"""A loopback gRPC server for `google.pubsub.v1.Publisher/Publish`, the stand-in for Pub/Sub here.

The Pub/Sub emulator cannot be installed on this machine, so the real `PublisherClient` (through
PUBSUB_EMULATOR_HOST) talks to this server instead. It validates like the service does (topic
name, existing topic, empty messages, attribute limits), assigns message ids and publish times,
records every accepted message, and can hand each one to a callback: synchronously, before the
Publish call answers, so a test sees the delivery as soon as `publish` returns (`local.pubsub_push`
makes the callback an Eventarc-style push to a CloudEvent function). It can also fail the next
calls with a given gRPC status, for retry tests.

    python -m local.pubsub_publish_server --port 0 --topic projects/p/topics/drift-alerts \
        [--push-url http://127.0.0.1:8081/]
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent import futures
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
from google.protobuf import timestamp_pb2
from google.pubsub_v1.types import PublishRequest, PublishResponse, PubsubMessage

SERVICE = "google.pubsub.v1.Publisher"
TOPIC_NAME = re.compile(r"projects/([^/]+)/topics/([^/]+)")
# Pub/Sub's resource id rule: a letter first, 3 to 255 characters of this set.
RESOURCE_ID = re.compile(r"[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}")
MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_KEY_BYTES = 256
MAX_ATTRIBUTE_VALUE_BYTES = 1024
MAX_REQUEST_BYTES = 10_000_000


@dataclass(frozen=True)
class ReceivedMessage:
    """One accepted message, as a subscriber would see it."""

    topic: str
    data: bytes
    attributes: dict[str, str]
    message_id: str
    publish_time: datetime
    ordering_key: str


class PublishRejectedError(Exception):
    """A Publish call the real service would refuse, with the status it would answer."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_topic(topic: str, known_topics: frozenset[str] | None) -> None:
    """Raise PublishRejectedError as Pub/Sub would for a malformed or unknown topic."""
    match = TOPIC_NAME.fullmatch(topic)
    if not match or not RESOURCE_ID.fullmatch(match.group(2)):
        raise PublishRejectedError(
            grpc.StatusCode.INVALID_ARGUMENT, f"Invalid [topics] name: (name={topic})"
        )
    if known_topics is not None and topic not in known_topics:
        raise PublishRejectedError(grpc.StatusCode.NOT_FOUND, f"Topic not found: {topic}")


def check_message(message: PubsubMessage) -> None:
    """Raise PublishRejectedError as Pub/Sub would for an empty message or bad attributes."""
    if not message.data and not message.attributes:
        raise PublishRejectedError(
            grpc.StatusCode.INVALID_ARGUMENT, "Message must have data or at least one attribute"
        )
    if len(message.attributes) > MAX_ATTRIBUTES:
        raise PublishRejectedError(
            grpc.StatusCode.INVALID_ARGUMENT, f"More than {MAX_ATTRIBUTES} attributes"
        )
    for key, value in message.attributes.items():
        if not key or len(key.encode()) > MAX_ATTRIBUTE_KEY_BYTES:
            raise PublishRejectedError(
                grpc.StatusCode.INVALID_ARGUMENT, f"Bad attribute key {key!r}"
            )
        if key.startswith("goog"):
            raise PublishRejectedError(
                grpc.StatusCode.INVALID_ARGUMENT, f"Attribute key {key!r} is reserved"
            )
        if len(value.encode()) > MAX_ATTRIBUTE_VALUE_BYTES:
            raise PublishRejectedError(
                grpc.StatusCode.INVALID_ARGUMENT, f"Attribute {key!r} value is too long"
            )


class PublishServer:
    """The Publisher service on 127.0.0.1; `host` is the value for PUBSUB_EMULATOR_HOST."""

    def __init__(
        self,
        topics: Iterable[str] | None = None,
        on_message: Callable[[ReceivedMessage], None] | None = None,
        port: int = 0,
    ) -> None:
        self.known_topics = frozenset(topics) if topics is not None else None
        self.on_message = on_message
        self.messages: list[ReceivedMessage] = []
        self._faults: list[tuple[grpc.StatusCode, str]] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handler = grpc.unary_unary_rpc_method_handler(
            self._publish,
            request_deserializer=PublishRequest.deserialize,
            response_serializer=PublishResponse.serialize,
        )
        self._server.add_generic_rpc_handlers(
            [grpc.method_handlers_generic_handler(SERVICE, {"Publish": handler})]
        )
        self.port = self._server.add_insecure_port(f"127.0.0.1:{port}")
        self.host = f"127.0.0.1:{self.port}"

    def start(self) -> PublishServer:
        """Start serving; returns self."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving, letting calls in flight finish for up to a second."""
        self._server.stop(grace=1).wait()

    def wait(self) -> None:
        """Block until the server stops."""
        self._server.wait_for_termination()

    def __enter__(self) -> PublishServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def fail_next(self, code: grpc.StatusCode, count: int = 1) -> None:
        """Make the next `count` Publish calls fail with this status, accepting nothing."""
        with self._lock:
            self._faults.extend([(code, f"injected {code.name}")] * count)

    def _publish(self, request: PublishRequest, context: grpc.ServicerContext) -> PublishResponse:
        try:
            accepted = self._accept(request)
        except PublishRejectedError as rejected:
            context.abort(rejected.code, str(rejected))
        for message in accepted:
            if self.on_message:
                self.on_message(message)
        return PublishResponse(message_ids=[message.message_id for message in accepted])

    def _accept(self, request: PublishRequest) -> list[ReceivedMessage]:
        with self._lock:
            if self._faults:
                raise PublishRejectedError(*self._faults.pop(0))
            check_topic(request.topic, self.known_topics)
            if not request.messages:
                raise PublishRejectedError(grpc.StatusCode.INVALID_ARGUMENT, "No messages")
            if PublishRequest.pb(request).ByteSize() > MAX_REQUEST_BYTES:
                raise PublishRejectedError(grpc.StatusCode.INVALID_ARGUMENT, "Request too large")
            for message in request.messages:
                check_message(message)
            now = datetime.now(UTC)
            accepted = [
                ReceivedMessage(
                    topic=request.topic,
                    data=message.data,
                    attributes=dict(message.attributes),
                    message_id=str(next(self._ids)),
                    publish_time=now,
                    ordering_key=message.ordering_key,
                )
                for message in request.messages
            ]
            self.messages.extend(accepted)
            return accepted


def publish_time_text(message: ReceivedMessage) -> str:
    """Return the publish time in the RFC 3339 form Pub/Sub uses (via protobuf's Timestamp)."""
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(message.publish_time)
    return stamp.ToJsonString()


def log_message(message: ReceivedMessage) -> None:
    """Print one JSON line per accepted message (the server's log when run as a program)."""
    record = {
        "topic": message.topic,
        "message_id": message.message_id,
        "attributes": message.attributes,
        "data": message.data.decode("utf-8", errors="replace"),
    }
    print(json.dumps(record), flush=True)


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted, printing the address line first, then one line per message."""
    parser = argparse.ArgumentParser(prog="python -m local.pubsub_publish_server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--topic", action="append", help="accept only these topics (repeatable; default: any)"
    )
    parser.add_argument("--push-url", help="deliver each message as a CloudEvent to this URL")
    args = parser.parse_args(argv)
    callbacks = [log_message]
    if args.push_url:
        from local.pubsub_push import push_to

        callbacks.append(push_to(args.push_url))

    def on_message(message: ReceivedMessage) -> None:
        for callback in callbacks:
            callback(message)

    server = PublishServer(topics=args.topic, on_message=on_message, port=args.port).start()
    print(f"pubsub publish server listening on {server.host}", flush=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        server.stop()
        sys.exit(0)


if __name__ == "__main__":
    main()
