"""The topics and subscriptions of the stack, as terraform/ and Eventarc make them.

For each function's Pub/Sub trigger (`on_drift_alert` on the drift topic, `on_run_state` on the
run-states topic the Vertex AI emulator's state log entries go to):
- the topic, with a push subscription standing for the function's Eventarc trigger (endpoint: a
  `local.eventarc_push` adapter), carrying the dead-letter policy that Terraform's
  `dead_letter_setup_commands` attach, and a retry policy;
- the dead-letter topic, with the pull subscription that keeps what it receives.
And the run outcomes topic `on_run_state` publishes to, with a pull subscription to watch it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from local.pubsub_rest import DeadLetterPolicy, PubsubRest, RetryPolicy

# terraform/variables.tf's default dead_letter_max_delivery_attempts.
MAX_DELIVERY_ATTEMPTS = 15
# Eventarc backs off from 10 s to 600 s; scaled down so a local redelivery takes seconds.
LOCAL_RETRY = RetryPolicy(minimum_backoff=1.0, maximum_backoff=10.0)
# For a push the ack deadline is the request timeout: 600 s, the maximum, lets a function run.
PUSH_ACK_DEADLINE = 600
# terraform/pubsub.tf: the dead-letter keeping subscription's ack_deadline_seconds.
DEAD_LETTER_ACK_DEADLINE = 60


@dataclass(frozen=True)
class TriggerDelivery:
    """Names and policies of one trigger's Pub/Sub resources (the drift alerts' by default)."""

    project: str
    topic_id: str = "drift-alerts"
    function: str = "on-drift-alert"  # names the push subscription, as Eventarc's name the trigger
    max_delivery_attempts: int = MAX_DELIVERY_ATTEMPTS
    retry: RetryPolicy = field(default=LOCAL_RETRY)

    @property
    def topic(self) -> str:
        """The topic the trigger listens to."""
        return f"projects/{self.project}/topics/{self.topic_id}"

    @property
    def push_subscription(self) -> str:
        """The push subscription standing for the function's Eventarc trigger."""
        return f"projects/{self.project}/subscriptions/{self.topic_id}-{self.function}"

    @property
    def dead_letter_topic(self) -> str:
        """Where a message goes after max_delivery_attempts failed pushes."""
        return f"projects/{self.project}/topics/{self.topic_id}-dead-letter"

    @property
    def dead_letter_subscription(self) -> str:
        """The pull subscription keeping dead letters for an operator (or a replay)."""
        return f"projects/{self.project}/subscriptions/{self.topic_id}-dead-letter-keep"

    def create(self, pubsub: PubsubRest, push_endpoint: str) -> None:
        """Create both topics and both subscriptions, pushing to `push_endpoint`."""
        pubsub.create_topic(self.topic)
        pubsub.create_topic(self.dead_letter_topic)
        pubsub.create_subscription(
            self.dead_letter_subscription,
            self.dead_letter_topic,
            ack_deadline=DEAD_LETTER_ACK_DEADLINE,
        )
        pubsub.create_subscription(
            self.push_subscription,
            self.topic,
            push_endpoint=push_endpoint,
            ack_deadline=PUSH_ACK_DEADLINE,
            dead_letter=DeadLetterPolicy(self.dead_letter_topic, self.max_delivery_attempts),
            retry=self.retry,
        )


@dataclass(frozen=True)
class OutcomesTopic:
    """The topic on_run_state publishes run outcomes to (`outcomes_topic`), and a watch on it."""

    project: str
    topic_id: str = "run-outcomes"

    @property
    def topic(self) -> str:
        """The outcomes topic."""
        return f"projects/{self.project}/topics/{self.topic_id}"

    @property
    def subscription(self) -> str:
        """A pull subscription seeing every outcome (what a consumer of the topic would have)."""
        return f"projects/{self.project}/subscriptions/{self.topic_id}-watch"

    def create(self, pubsub: PubsubRest) -> None:
        """Create the topic and its watching subscription."""
        pubsub.create_topic(self.topic)
        pubsub.create_subscription(self.subscription, self.topic)
