"""A burst against the create quota: 429s are retried, then redelivered; nothing lost or doubled.

The end-to-end check of issue 11's quota item on a small scale (`make reliability` runs the full
1,000-object burst): the Vertex emulator enforces 20 creates per 2 s window, the function retries a
429 within its (scaled) budget and then fails so the sender, playing Eventarc, redelivers it.
"""

from argparse import Namespace

import pytest

from benchmarks.burst import BurstResult, run_burst

OBJECTS = 100


@pytest.fixture(scope="module")
def results() -> list[BurstResult]:
    args = Namespace(objects=OBJECTS, quota=20, window=2.0, senders=40, threads=10, seed=3)
    return run_burst(args, report=lambda line: None)


def test_every_object_gets_exactly_one_run_through_the_quota(results: list[BurstResult]) -> None:
    objects = results[0]
    assert objects.exact, objects.figures()
    assert (objects.runs, objects.lost, objects.duplicated) == (OBJECTS, [], [])
    assert objects.create_statuses["200"] == OBJECTS
    assert objects.create_statuses["429"] > 0  # the quota pushed back
    assert objects.decisions["launched"] == OBJECTS


def test_a_spent_retry_budget_fails_the_event_and_the_redelivery_launches_it(
    results: list[BurstResult],
) -> None:
    objects = results[0]
    assert objects.decisions.get("failed", 0) > 0
    # Each failed invocation (and nothing else) was redelivered.
    assert objects.report.attempts() - OBJECTS == objects.decisions["failed"]
    assert 0 < objects.report.redelivered() <= objects.decisions["failed"]
    assert objects.report.outcomes() == {"acked": OBJECTS}


def test_the_same_objects_as_ten_batches_give_ten_runs(results: list[BurstResult]) -> None:
    batches = results[1]
    assert batches.exact, batches.figures()
    assert batches.runs == 10
    assert batches.decisions == {"launched": 10, "duplicate": OBJECTS}
