"""Probabilistic faults: a steady share of creates fails until the faults are cleared."""

import random

import requests

from local.vertex_emulator.faults import FaultInjector, FaultKind, parse_fault
from tests.emulator.helpers import body_for, create


def test_rate_fault_applies_with_its_probability_until_cleared():
    injector = FaultInjector(random.Random(4))
    injector.add(parse_fault({"kind": "status", "status": 503, "rate": 0.25}))
    taken = [injector.take() for _ in range(4000)]
    faulted = sum(1 for fault in taken if fault is not None)
    assert 800 < faulted < 1200  # binomial(4000, 0.25): mean 1000, sd 27
    assert {fault.status for fault in taken if fault} == {503}
    injector.clear()
    assert injector.take() is None


def test_counted_faults_apply_before_rate_faults():
    injector = FaultInjector(random.Random(1))
    injector.add(parse_fault({"kind": "hang", "seconds": 2, "rate": 1.0}))
    injector.add(parse_fault({"kind": "status", "status": 429, "count": 2}))
    kinds = [injector.take().kind for _ in range(4)]
    assert kinds == [FaultKind.STATUS, FaultKind.STATUS, FaultKind.HANG, FaultKind.HANG]


def test_rate_fault_over_http_fails_every_create_at_rate_one(recorder, specs):
    fault = {"kind": "status", "status": 500, "rate": 1.0}
    assert requests.post(f"{recorder.url}/emulator/faults", json=fault, timeout=10).ok
    statuses = [
        create(recorder, f"run-{n}", body_for(specs["tiny"], a=1)).status_code for n in range(3)
    ]
    assert statuses == [500, 500, 500]
    assert requests.delete(f"{recorder.url}/emulator/faults", timeout=10).ok
    assert create(recorder, "run-9", body_for(specs["tiny"], a=1)).status_code == 200


def test_bad_rates_are_rejected_with_a_message(recorder):
    url = f"{recorder.url}/emulator/faults"
    for rate in (0, 1.5, "half", True):
        response = requests.post(
            url, json={"kind": "status", "status": 503, "rate": rate}, timeout=10
        )
        assert response.status_code == 400
        assert response.json()["error"]["message"] == (
            f"fault rate must be a number in (0, 1], got {rate!r}"
        )
    both = requests.post(
        url, json={"kind": "status", "status": 503, "rate": 0.5, "count": 2}, timeout=10
    )
    assert both.json()["error"]["message"] == "a fault takes either count or rate, not both"
