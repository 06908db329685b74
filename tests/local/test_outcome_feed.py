"""The demo's outcome feed: pulls the outcomes topic, prints each outcome once, drops repeats."""

import json

import pytest

from local.outcome_feed import OutcomeFeed, outcome_line
from tests.pubsub_fixtures import TopicTap

SUCCEEDED = {
    "outcome_id": "prices-arrival-0123/SUCCEEDED", "job": "prices-arrival-0123",
    "state": "SUCCEEDED", "route": "prices-arrival", "trigger_kind": "object",
    "source": "gs://local-data/incoming/prices-0001.csv#1", "event_id": "42", "error": None,
}  # fmt: skip
FAILED = {**SUCCEEDED, "outcome_id": "prices-arrival-0456/FAILED", "job": "prices-arrival-0456",
          "state": "FAILED", "error": "ingest: missing column price"}  # fmt: skip


def publish(tap: TopicTap, outcome: dict) -> None:
    tap.rest.publish(tap.topic, json.dumps(outcome).encode(), {"state": outcome["state"]})


def test_outcome_lines_name_run_state_source_event_and_error() -> None:
    assert outcome_line(SUCCEEDED) == (
        "run prices-arrival-0123 SUCCEEDED for gs://local-data/incoming/prices-0001.csv#1 "
        "(event 42)"
    )
    assert outcome_line(FAILED).endswith("(event 42): ingest: missing column price")
    chained = {**SUCCEEDED, "job": "score-after-train-0789", "upstream": "prices-arrival-0123"}
    assert outcome_line(chained) == (
        "run score-after-train-0789 SUCCEEDED for gs://local-data/incoming/prices-0001.csv#1 "
        "(event 42) after run prices-arrival-0123"
    )


def test_each_outcome_is_printed_once_and_repeats_are_dropped(pubsub_topic: TopicTap) -> None:
    printed: list[str] = []
    feed = OutcomeFeed(pubsub_topic.rest, pubsub_topic.subscription, printed.append)
    for outcome in (SUCCEEDED, SUCCEEDED, FAILED):  # a redelivered end publishes twice
        publish(pubsub_topic, outcome)
    assert feed.wait_for("prices-arrival-0456", timeout=30)["error"] == FAILED["error"]
    feed.wait_for("prices-arrival-0123", timeout=30)
    for _ in range(5):
        feed()  # whatever was still on its way is pulled and dropped
    assert sorted(printed) == sorted(f"  outcome: {outcome_line(o)}" for o in (SUCCEEDED, FAILED))
    assert pubsub_topic.pending() == []


def test_waiting_for_an_outcome_that_never_comes_says_which_run(pubsub_topic: TopicTap) -> None:
    feed = OutcomeFeed(pubsub_topic.rest, pubsub_topic.subscription, lambda _: None)
    with pytest.raises(TimeoutError, match="no outcome message for run nowhere-0 within 0s"):
        feed.wait_for("nowhere-0", timeout=0.3)
