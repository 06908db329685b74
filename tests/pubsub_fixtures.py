"""Google's Pub/Sub emulator for tests: one per session, a fresh topic (and a tap) per test.

The fixtures are registered in tests/conftest.py. A missing emulator or Java fails the test with
the message naming the package to install; nothing is skipped.
"""

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from local.pubsub_emulator import PubsubEmulator, running_pubsub_emulator
from local.pubsub_rest import PubsubRest, PulledMessage

_NAMES = itertools.count(1)


def unique_id(prefix: str) -> str:
    """Return a resource id no other test of this session uses (topics outlive their test)."""
    return f"{prefix}-{next(_NAMES)}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class TopicTap:
    """A topic and a pull subscription that sees everything published to it."""

    rest: PubsubRest
    topic: str
    subscription: str

    @classmethod
    def create(cls, rest: PubsubRest, project: str, prefix: str = "topic") -> "TopicTap":
        """Create a fresh topic in `project` and its tap."""
        topic_id = unique_id(prefix)
        topic = f"projects/{project}/topics/{topic_id}"
        subscription = f"projects/{project}/subscriptions/{topic_id}-tap"
        rest.create_topic(topic)
        rest.create_subscription(subscription, topic)
        return cls(rest, topic, subscription)

    def messages(self, count: int = 1) -> list[PulledMessage]:
        """Wait for `count` messages (acknowledging them) and return them."""
        return self.rest.wait_for_messages(self.subscription, count)

    def pending(self) -> list[PulledMessage]:
        """Return what waits now, without waiting."""
        return self.rest.pull(self.subscription)


@pytest.fixture(scope="session")
def pubsub_emulator(tmp_path_factory) -> Iterator[PubsubEmulator]:
    """Google's Cloud Pub/Sub emulator, started once for the session."""
    with running_pubsub_emulator(tmp_path_factory.mktemp("pubsub-emulator")) as emulator:
        yield emulator


@pytest.fixture
def pubsub(pubsub_emulator, monkeypatch) -> PubsubRest:
    """The emulator's REST API; PUBSUB_EMULATOR_HOST points google-cloud-pubsub at it too."""
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator.host)
    return pubsub_emulator.rest()


@pytest.fixture
def pubsub_topic(pubsub) -> TopicTap:
    """A fresh topic in project `test-project`, with a tap subscription."""
    return TopicTap.create(pubsub, "test-project")
