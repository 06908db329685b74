"""Hostile CloudEvents over real HTTP: no 5xx, no run from a malformed event, a reason for each."""

import pytest
from hypothesis import HealthCheck, given, settings

from benchmarks.hostile import Expect, HostileRunner, load_corpus, server_answers
from benchmarks.hostile_strategies import FAMILIES

CORPUS = load_corpus()


def corpus_params():
    return [pytest.param(event, id=event.name) for event in CORPUS]


@pytest.fixture(scope="module")
def runner(stack):
    return HostileRunner(stack)


def test_corpus_is_large_and_covers_both_functions():
    assert len(CORPUS) >= 70
    assert {event.target for event in CORPUS} == {"object", "drift"}
    assert {event.expect for event in CORPUS} == set(Expect)
    assert max(len(event.body) for event in CORPUS) > 1024 * 1024


@pytest.mark.parametrize("event", corpus_params())
def test_corpus_event(runner, event):
    verdict = runner.send(event)
    assert verdict.problems == []


def check_family(runner, strategy):
    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(event=strategy())
    def check(event):
        verdict = runner.send(event)
        assert verdict.problems == []

    check()


@pytest.mark.parametrize("family", FAMILIES)
def test_generated_events(runner, family):
    check_family(runner, FAMILIES[family])


def test_servers_still_answer_after_the_hostile_events(stack, runner):
    assert server_answers(stack)
    assert stack.objects.alive()
    assert stack.drift.alive()
