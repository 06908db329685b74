"""A small fault storm: duplicates and injected Vertex faults still give exactly one run each."""

from collections import Counter

import pytest

from benchmarks.fault_storm import (
    AFTER_BOUNDARY,
    BEFORE_BOUNDARY,
    FAULT_STATUSES,
    STORM_POLICY,
    outage,
    plan_drift_storm,
    plan_object_storm,
    run_drift_storm,
    run_object_storm,
    storm_faults,
)


@pytest.fixture(scope="module")
def faulty_stack(stack):
    # An outage first (60 creates in a row answer 503: the first events exhaust the function's 2 s
    # retry budget and are redelivered), then 25% of creates fail with 429/503/500 and 1% hang
    # 1.5 s, past the function's 1 s client timeout.
    for fault in storm_faults(status_rate=0.25, hang_rate=0.01, hang_seconds=1.5):
        stack.emulator.add_fault(fault)
    stack.emulator.add_fault(outage(60))
    yield stack
    stack.emulator.clear_faults()


def test_plan_has_the_requested_duplicates():
    storm = plan_object_storm(500, duplicate_share=0.3, seed=3)
    assert len(storm.deliveries) == 500
    assert storm.duplicates == 150
    identities = {
        (d.event.data["bucket"], d.event.data["name"], str(d.event.data["generation"]))
        for d in storm.deliveries
    }
    assert len(identities) == storm.unique_objects == 350
    assert 0 < len(storm.expected_runs) < storm.unique_objects


def test_drift_plan_straddles_a_cooldown_window_boundary():
    deliveries, models = plan_drift_storm(models=10, alerts_per_model=6, seed=5)
    alerts = {d.event["id"]: d.event for d in deliveries}  # redeliveries repeat an event
    assert len(alerts) == 60 and len(models) == 10
    per_model_and_time = Counter(
        (event_id.rsplit("-", 1)[0], event["time"]) for event_id, event in alerts.items()
    )
    assert set(per_model_and_time.values()) == {3}
    assert {time for _, time in per_model_and_time} == {BEFORE_BOUNDARY, AFTER_BOUNDARY}
    assert all(e["time"] == e.data["message"]["publishTime"] for e in alerts.values())


def test_object_storm_gives_exactly_one_run_per_eligible_object(faulty_stack):
    storm = plan_object_storm(500, duplicate_share=0.3, seed=3)
    result = run_object_storm(faulty_stack, storm, senders=6, policy=STORM_POLICY)
    assert result.missing == []
    assert result.unexpected == []
    assert result.runs == len(storm.expected_runs)
    assert result.report.outcomes() == {"acked": 500}
    injected = sum(result.create_statuses.get(str(s), 0) for s in FAULT_STATUSES)
    assert injected > 0, result.create_statuses
    assert result.report.redelivered() > 0
    assert result.decisions["failed"] > 0
    assert_one_log_line_per_attempt(result)


def test_drift_storm_gives_exactly_one_live_run_per_model(faulty_stack):
    deliveries, models = plan_drift_storm(models=10, alerts_per_model=6, seed=5)
    faulty_stack.emulator.add_fault(outage(60))
    result = run_drift_storm(faulty_stack, deliveries, models, senders=6, policy=STORM_POLICY)
    assert result.missing == []
    assert result.unexpected == []
    assert result.runs == 10
    assert result.report.outcomes() == {"acked": len(deliveries)}
    assert_one_log_line_per_attempt(result)


def assert_one_log_line_per_attempt(result):
    """Every failed attempt logged `failed`; every delivery's last attempt logged its outcome."""
    decisions = dict(result.decisions)
    assert decisions.pop("failed", 0) == result.report.attempts() - len(result.report.results)
    assert sum(decisions.values()) == len(result.report.results), result.decisions
