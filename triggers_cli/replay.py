"""``replay``: hand dead-lettered messages to the handler of the function they failed in.

Each message becomes the CloudEvent Eventarc would have delivered and goes through the same
``serve`` and handler as in the function. Only a message whose outcome is final (launched,
duplicate, skipped, rejected; reported for run states) is acknowledged; one that fails again, or
is deferred, is handed back to the subscription for a later replay.
"""

import argparse
import base64
import contextlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Protocol

from cloudevents.http import CloudEvent
from vertex_trigger.public import Decision, Outcome, Services, serve

from triggers_cli.arguments import Commands, add_function, subcommand
from triggers_cli.dry_run import dry_run_services, would
from triggers_cli.environment import cli_environment, cli_services
from triggers_cli.eventarc import FINALIZED, message_published_event, object_finalized_event
from triggers_cli.functions import Function
from triggers_cli.output import print_json, table

FINAL = frozenset(
    {Decision.LAUNCHED, Decision.DUPLICATE, Decision.SKIPPED, Decision.REJECTED, Decision.REPORTED}
)
# Pub/Sub adds these when it forwards a message to a dead-letter topic.
DEAD_LETTER_PREFIX = "CloudPubSubDeadLetterSource"
SOURCE_SUBSCRIPTION = f"{DEAD_LETTER_PREFIX}Subscription"
SOURCE_PROJECT = f"{DEAD_LETTER_PREFIX}SubscriptionProject"
SOURCE_PUBLISH_TIME = f"{DEAD_LETTER_PREFIX}TopicPublishTime"
PULL_BATCH = 100
LEFT = "left"  # the decision shown for a message no handler was given
COLUMNS = ("message", "function", "decision", "route", "job", "acknowledged", "reason")


@dataclass(frozen=True)
class Received:
    """One pulled message."""

    ack_id: str
    message_id: str
    publish_time: str
    data: bytes
    attributes: Mapping[str, str]


class Subscriber(Protocol):
    """The pull subscription calls replay makes."""

    def pull(self, subscription: str, max_messages: int) -> list[Received]:
        """Return up to ``max_messages`` waiting messages (possibly none)."""

    def acknowledge(self, subscription: str, ack_ids: list[str]) -> None:
        """Acknowledge: the messages are done."""

    def release(self, subscription: str, ack_ids: list[str]) -> None:
        """Hand the messages back at once (ack deadline 0): they wait for the next replay."""


@dataclass(frozen=True)
class Replayed:
    """What became of one message."""

    message_id: str
    function: str
    decision: str
    route: str
    job: str
    reason: str
    acknowledged: bool


ServicesFor = Callable[[Function], Services]


def function_of(received: Received, forced: Function | None) -> Function | None:
    """Return the function a message dead-lettered from: ``--function``, else its subscription.

    The subscription an Eventarc trigger pulls through is named after its trigger, whose name
    Cloud Functions derives from the function's (Terraform names them PREFIX-drift-alert, ...;
    the local stack drift-alerts-on-drift-alert, ...), so the name in dashes identifies it.
    """
    if forced is not None:
        return forced
    source = received.attributes.get(SOURCE_SUBSCRIPTION, "")
    found = [f for f in Function if f.resource_name in source]
    return found[0] if len(found) == 1 else None


def cloud_event_of(received: Received, function: Function, topic: str) -> CloudEvent:
    """Return the CloudEvent the function got for this message, as Eventarc delivers it."""
    original = {
        k: v for k, v in received.attributes.items() if not k.startswith(DEAD_LETTER_PREFIX)
    }
    # The dead-letter copy has a new publish time; the event's time (a cooldown window) is the
    # original's, which Pub/Sub keeps in an attribute.
    published = received.attributes.get(SOURCE_PUBLISH_TIME) or received.publish_time
    if function is Function.OBJECT_FINALIZED:
        return _storage_event(received, published)
    message = {
        "data": base64.b64encode(received.data).decode("ascii"),
        "attributes": original,
        "messageId": received.message_id,
        "publishTime": published,
    }
    return message_published_event({"subscription": _source(received), "message": message}, topic)


def _storage_event(received: Received, published: str) -> CloudEvent:
    """Rebuild the finalize event from a message whose data is the StorageObjectData.

    The job id depends on bucket, name and generation only, so the run is the one the first
    delivery would have made; the message id and the original publish time stand in for the rest.
    """
    try:
        data = json.loads(received.data)
    except ValueError:
        data = None
    if not isinstance(data, dict):  # the handler rejects it, in its own words
        attributes = {"type": FINALIZED, "source": "//storage.googleapis.com/",
                      "id": received.message_id, "time": published}  # fmt: skip
        return CloudEvent(attributes, received.data)
    return object_finalized_event(data, received.message_id, published)


def _source(received: Received) -> str | None:
    name = received.attributes.get(SOURCE_SUBSCRIPTION)
    project = received.attributes.get(SOURCE_PROJECT)
    return f"projects/{project}/subscriptions/{name}" if name and project else name


def replay_one(
    received: Received, function: Function | None, services_for: ServicesFor, topic: str
) -> tuple[Outcome | None, str]:
    """Dispatch one message through its function's handler; return the outcome (or why not)."""
    if function is None:
        return None, (
            f"cannot tell which function it dead-lettered from ({SOURCE_SUBSCRIPTION}="
            f"{received.attributes.get(SOURCE_SUBSCRIPTION, '')!r}): pass --function"
        )
    logged: list[Outcome] = []
    event = cloud_event_of(received, function, topic)
    # What the platform would see raised (failed, deferred) was logged by serve first.
    with contextlib.suppress(Exception):
        serve(function.handler, event, services_for(function), log=logged.append)
    return logged[-1], ""


def replay(
    subscriber: Subscriber,
    subscription: str,
    *,
    topic: str,
    services_for: ServicesFor,
    forced: Function | None = None,
    max_messages: int = 100,
    acknowledge: bool = True,
) -> Iterator[Replayed]:
    """Replay up to ``max_messages``; acknowledge the final ones, hand the rest back at the end."""
    seen: set[str] = set()
    kept: list[str] = []
    try:
        for received in _pulled(subscriber, subscription, max_messages, seen):
            function = function_of(received, forced)
            outcome, why_not = replay_one(received, function, services_for, topic)
            final = outcome is not None and outcome.decision in FINAL
            if final and acknowledge:
                subscriber.acknowledge(subscription, [received.ack_id])
            else:
                kept.append(received.ack_id)
            yield _replayed(received, function, outcome, why_not, acked=final and acknowledge)
    finally:  # also on Ctrl-C: what is not acknowledged comes back at once, not at its deadline
        subscriber.release(subscription, kept)


def _pulled(
    subscriber: Subscriber, subscription: str, max_messages: int, seen: set[str]
) -> Iterator[Received]:
    """Yield messages until ``max_messages``, an empty pull, or one seen before comes back."""
    count = 0
    while count < max_messages:
        batch = subscriber.pull(subscription, min(PULL_BATCH, max_messages - count))
        if not batch:
            return
        for received in batch:
            if received.message_id in seen:  # redelivered within this replay: it went round
                subscriber.release(subscription, [m.ack_id for m in batch[batch.index(received) :]])
                return
            seen.add(received.message_id)
            count += 1
            yield received


def _replayed(
    received: Received,
    function: Function | None,
    outcome: Outcome | None,
    why_not: str,
    *,
    acked: bool,
) -> Replayed:
    if outcome is None:
        return Replayed(received.message_id, "", LEFT, "", "", why_not, False)
    return Replayed(
        received.message_id,
        function.value if function else "",
        outcome.decision.value,
        outcome.route,
        outcome.job,
        outcome.reason,
        acked,
    )


class PubsubSubscriber:
    """Synchronous pull through google-cloud-pubsub (ADC, or $PUBSUB_EMULATOR_HOST by itself)."""

    def __init__(self, timeout: float = 10.0) -> None:
        """Connect; a pull that finds nothing within ``timeout`` seconds is an empty pull."""
        from google.cloud import pubsub_v1  # the replay's own dependency: gRPC loads only here

        self._client = pubsub_v1.SubscriberClient()
        self._timeout = timeout

    def topic_of(self, subscription: str) -> str:
        """Return the topic a subscription reads (the dead-letter topic)."""
        return str(self._client.get_subscription(subscription=subscription).topic)

    def pull(self, subscription: str, max_messages: int) -> list[Received]:
        """Return up to ``max_messages`` waiting messages, [] when none came within the timeout."""
        from google.api_core.exceptions import DeadlineExceeded

        request = {"subscription": subscription, "max_messages": max_messages}
        try:
            response = self._client.pull(request=request, timeout=self._timeout)
        except DeadlineExceeded:
            return []
        return [
            Received(
                ack_id=item.ack_id,
                message_id=item.message.message_id,
                publish_time=item.message.publish_time.rfc3339(),
                data=item.message.data,
                attributes=dict(item.message.attributes),
            )
            for item in response.received_messages
        ]

    def acknowledge(self, subscription: str, ack_ids: list[str]) -> None:
        """Acknowledge the messages."""
        if ack_ids:
            self._client.acknowledge(request={"subscription": subscription, "ack_ids": ack_ids})

    def release(self, subscription: str, ack_ids: list[str]) -> None:
        """Set the messages' ack deadline to 0: redelivered at once, to the next replay."""
        if ack_ids:
            request = {"subscription": subscription, "ack_ids": ack_ids, "ack_deadline_seconds": 0}
            self._client.modify_ack_deadline(request=request)


def register(commands: Commands) -> None:
    """Add ``replay``."""
    parser = subcommand(
        commands, "replay", run, "hand dead-lettered messages to their function's handler again"
    )
    parser.add_argument("--subscription", required=True, help="projects/P/subscriptions/S")
    add_function(
        parser,
        "the function the messages dead-lettered from (default: told by each message's "
        f"{SOURCE_SUBSCRIPTION} attribute)",
    )
    parser.add_argument("--max", type=int, default=100, help="at most this many (default 100)")
    parser.add_argument(
        "--wait", type=float, default=10.0, metavar="SECONDS",
        help="how long a pull waits for a message before the replay ends (default 10)",
    )  # fmt: skip
    parser.add_argument(
        "--dry-run", action="store_true", help="decide only: create and acknowledge nothing"
    )


def run(args: argparse.Namespace) -> int:
    """Replay, print one line per message as it goes and a table at the end (also on Ctrl-C)."""
    subscriber = PubsubSubscriber(args.wait)

    @cache
    def services_for(function: Function) -> Services:
        services = cli_services(cli_environment(args.config, function.value))
        # A run's end writes a line per run_ended route it launches; its own line, the one shown,
        # says what followed it ("followed by route ... launched ..."), so those lines are dropped.
        services = replace(services, log=lambda outcome: None)
        return dry_run_services(services, read_vertex=True)[0] if args.dry_run else services

    rows: list[dict[str, str]] = []
    interrupted = False
    try:
        for replayed in replay(
            subscriber, args.subscription, topic=subscriber.topic_of(args.subscription),
            services_for=services_for, forced=args.function, max_messages=args.max,
            acknowledge=not args.dry_run,
        ):  # fmt: skip
            rows.append(_row(replayed, args.dry_run))
            if not args.json:
                print(f"message {replayed.message_id}: {rows[-1]['decision']}", flush=True)
    except KeyboardInterrupt:
        interrupted = True
    left = sum(1 for row in rows if row["acknowledged"] != "yes")
    if args.json:
        print_json({"subscription": args.subscription, "messages": rows, "left": left})
    else:
        print(table(rows, COLUMNS) if rows else f"{args.subscription}: no messages waiting")
        print(f"\n{len(rows) - left} acknowledged, {left} left in {args.subscription}"
              + (" (interrupted)" if interrupted else ""))  # fmt: skip
    return 130 if interrupted else (1 if left and not args.dry_run else 0)


def _row(replayed: Replayed, dry_run: bool) -> dict[str, str]:
    decision = (
        would(Decision(replayed.decision))
        if dry_run and replayed.decision != LEFT
        else replayed.decision
    )
    return {
        "message": replayed.message_id,
        "function": replayed.function,
        "decision": decision,
        "route": replayed.route,
        "job": replayed.job,
        "acknowledged": "yes" if replayed.acknowledged else "no",
        "reason": replayed.reason,
    }
