"""Fixtures shared by every test folder."""

from tests.pubsub_fixtures import pubsub, pubsub_emulator, pubsub_topic  # noqa: F401
