"""The drift alerts' topics and subscriptions, as terraform/pubsub.tf and Eventarc make them.

- the drift topic, with a push subscription standing for on_drift_alert's Eventarc trigger
  (endpoint: the `local.eventarc_push` adapter), carrying the dead-letter policy that Terraform's
  `dead_letter_setup_commands` attach, and a retry policy;
- the dead-letter topic, with the pull subscription that keeps what it receives.
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
class DriftDelivery:
    """Names and policies of the drift alerts' Pub/Sub resources in one project."""

    project: str
    topic_id: str = "drift-alerts"
    max_delivery_attempts: int = MAX_DELIVERY_ATTEMPTS
    retry: RetryPolicy = field(default=LOCAL_RETRY)

    @property
    def topic(self) -> str:
        """The topic drift alerts are published to."""
        return f"projects/{self.project}/topics/{self.topic_id}"

    @property
    def push_subscription(self) -> str:
        """The push subscription standing for on_drift_alert's Eventarc trigger."""
        return f"projects/{self.project}/subscriptions/{self.topic_id}-on-drift-alert"

    @property
    def dead_letter_topic(self) -> str:
        """Where an alert goes after max_delivery_attempts failed pushes."""
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
