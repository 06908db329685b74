"""Fault storm: thousands of object events and drift alerts, duplicated, under Vertex faults.

Through functions-framework's real server and the Vertex emulator: deliveries come from several
concurrent senders, 30% of object deliveries are duplicates (same generation), the emulator answers
a share of creates with 429/503/500 and makes some hang past the function's client timeout, and
every non-2xx is redelivered with backoff as Eventarc does. The storm passes when the runs listed
through the Vertex list API are exactly the unique eligible objects (none lost, none duplicated),
and exactly one live run per model for the drift alerts, whose times straddle a cooldown window
boundary so racing alerts create runs in two windows and the later ones are cancelled.

    .venv/bin/python -m benchmarks.fault_storm --deliveries 10000
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from benchmarks.events import drift_alert, pubsub_data, pubsub_event, storage_event, storage_object
from benchmarks.stack import DATA_BUCKET, Stack, dumps, parameter_values, running_stack
from local.eventarc_sender import Delivery, DeliveryReport, Mode, RetryPolicy, deliver_all
from local.vertex_emulator_client import VertexEmulatorClient

# Eventarc's 10 s .. 600 s backoff, scaled down 200x so a storm takes minutes, not days.
STORM_POLICY = RetryPolicy(
    min_backoff=0.05, max_backoff=3.0, max_attempts=100, max_age=900.0, request_timeout=60.0
)
FAULT_STATUSES = (429, 503, 500)


def storm_faults(status_rate: float, hang_rate: float, hang_seconds: float) -> list[dict]:
    """Return probabilistic emulator faults: 429/503/500 sharing `status_rate`, plus hangs."""
    share = status_rate / len(FAULT_STATUSES)
    faults = [{"kind": "status", "status": s, "rate": share} for s in FAULT_STATUSES]
    if hang_rate > 0:
        faults.append({"kind": "hang", "seconds": hang_seconds, "rate": hang_rate})
    return faults


def outage(creates: int) -> dict:
    """Return a fault making the next `creates` creates answer 503 (queued faults apply first)."""
    return {"kind": "status", "status": 503, "count": creates}


@dataclass
class ObjectStorm:
    """Deliveries to make and the runs they must produce: (data_uri, generation) per object."""

    deliveries: list[Delivery] = field(default_factory=list)
    expected_runs: set[tuple[str, int]] = field(default_factory=set)
    unique_objects: int = 0
    duplicates: int = 0


def _object_name(rng: random.Random, index: int) -> tuple[str, str, bool]:
    """Pick a (bucket, name, eligible) for the i-th unique object; about 1 in 4 is not eligible."""
    kind = rng.randrange(14)
    if kind == 0:
        return DATA_BUCKET, f"incoming/notes-{index}.txt", False  # wrong suffix
    if kind == 1:
        return DATA_BUCKET, f"archive/prices-{index}.csv", False  # outside the prefix
    if kind == 2:
        return "reliability-pipelines", f"runs/{index}/metrics.csv", False  # other bucket
    if kind == 3 and index % 2:
        return DATA_BUCKET, f"incoming/folder-{index}/", False  # folder placeholder
    return DATA_BUCKET, f"incoming/prices-{index}.csv", True


def plan_object_storm(total: int, duplicate_share: float = 0.3, seed: int = 7) -> ObjectStorm:
    """Plan `total` object deliveries of which `duplicate_share` repeat an earlier object event."""
    rng = random.Random(seed)
    storm = ObjectStorm()
    storm.duplicates = round(total * duplicate_share)
    storm.unique_objects = total - storm.duplicates
    originals: list[Delivery] = []
    for index in range(storm.unique_objects):
        bucket, name, eligible = _object_name(rng, index // 2)
        # Every second object is a new generation of the previous name: a new run, not a duplicate.
        generation = 1_700_000_000_000_000 + index
        wire_generation: int | str = generation if rng.random() < 0.2 else str(generation)
        data = storage_object(bucket, name, wire_generation, size=rng.choice([352, "352"]))
        event = storage_event(data, f"obj-{seed}-{index}", bucket, name)
        mode = Mode.STRUCTURED if rng.random() < 0.1 else Mode.BINARY
        originals.append(Delivery("", event, mode))
        if eligible:
            storm.expected_runs.add((f"gs://{bucket}/{name}", generation))
    storm.deliveries = _with_duplicates(rng, originals, storm.duplicates)
    return storm


def _duplicate(rng: random.Random, original: Delivery, n: int) -> Delivery:
    """Repeat an object event: same event id (a redelivery) or a new id (a second notification)."""
    if rng.random() < 0.5:
        return original
    attributes = dict(original.event.get_attributes())
    attributes["id"] = f"{attributes['id']}-again-{n}"
    return Delivery("", type(original.event)(attributes, original.event.data), original.mode)


def _with_duplicates(rng: random.Random, originals: list[Delivery], count: int) -> list:
    """Shuffle the originals and add `count` duplicates; a third land right beside their original.

    Adjacent copies are in flight at the same moment from two senders, which is the race the
    deterministic job id and 409 handling must close.
    """
    keyed = [(rng.random(), delivery) for delivery in originals]
    for n in range(count):
        original_key, original = keyed[rng.randrange(len(originals))]
        key = original_key + 1e-9 if n % 3 == 0 else rng.random()
        keyed.append((key, _duplicate(rng, original, n)))
    keyed.sort(key=lambda pair: pair[0])
    return [delivery for _, delivery in keyed]


# The storm's cooldown is 1 day, so windows are epoch-aligned UTC days: these two instants are
# 0.2 s apart but in different windows, which gives racing alerts different job ids.
BEFORE_BOUNDARY = "2026-11-25T23:59:59.900Z"
AFTER_BOUNDARY = "2026-11-26T00:00:00.100Z"
CANCELLED_STATES = frozenset({"PIPELINE_STATE_CANCELLED", "PIPELINE_STATE_CANCELLING"})


def plan_drift_storm(models: int, alerts_per_model: int, seed: int = 11) -> tuple[list, set[str]]:
    """Plan repeated alerts (distinct messages plus redeliveries) for each model, shuffled.

    Half of each model's alerts are timed just before a cooldown window boundary, half just after.
    """
    rng = random.Random(seed)
    deliveries: list[Delivery] = []
    names = {
        f"projects/reliability-project/locations/us-central1/models/m{i}" for i in range(models)
    }
    for model in sorted(names):
        for n in range(alerts_per_model):
            message_id = f"msg-{seed}-{model.rsplit('/', 1)[1]}-{n}"
            time_ = BEFORE_BOUNDARY if n % 2 == 0 else AFTER_BOUNDARY
            alert = drift_alert(model, deviation=0.3 + rng.random())
            data = pubsub_data(alert, message_id, publish_time=time_)
            delivery = Delivery("", pubsub_event(data, message_id, time=time_))
            deliveries.extend([delivery] * rng.choice([1, 1, 2]))  # some redelivered by Pub/Sub
    rng.shuffle(deliveries)
    return deliveries, names


def _aimed(deliveries: list[Delivery], url: str) -> list[Delivery]:
    """Point deliveries at a server URL."""
    return [Delivery(url, d.event, d.mode) for d in deliveries]


@dataclass
class StormResult:
    """Figures and the exact-count verdict of one storm."""

    kind: str
    report: DeliveryReport
    expected: int
    runs: int
    missing: list = field(default_factory=list)
    unexpected: list = field(default_factory=list)
    decisions: dict = field(default_factory=dict)
    create_statuses: dict = field(default_factory=dict)
    cancelled: int = 0

    @property
    def exact(self) -> bool:
        """Tell whether runs equal expectations exactly and every delivery was acknowledged."""
        gave_up = self.report.outcomes().get("gave-up", 0)
        return (
            self.runs == self.expected and not self.missing and not self.unexpected and not gave_up
        )

    def figures(self) -> dict:
        """Return the figures to print."""
        return {
            "storm": self.kind,
            "runs": self.runs,
            "expected_runs": self.expected,
            "exact": self.exact,
            "cancelled_runs": self.cancelled,
            "missing": self.missing[:5],
            "unexpected": self.unexpected[:5],
            "function_decisions": self.decisions,
            "vertex_create_statuses": self.create_statuses,
            **self.report.summary(),
        }


def create_status_counts(emulator: VertexEmulatorClient, since: int) -> dict:
    """Count the emulator's answers to create requests received after index `since`."""
    return dict(Counter(str(r.get("status")) for r in emulator.requests_received()[since:]))


def decision_counts(records: list[dict]) -> dict:
    """Count the functions' logged decisions."""
    return dict(Counter(str(r.get("decision")) for r in records if "decision" in r))


def run_object_storm(
    stack: Stack, storm: ObjectStorm, senders: int, policy: RetryPolicy
) -> StormResult:
    """Deliver the object storm and compare the listed runs with the eligible objects."""
    since = len(stack.emulator.requests_received())
    logged = len(stack.objects.log_records())
    report = deliver_all(_aimed(storm.deliveries, stack.objects.url), policy, senders=senders)
    jobs = stack.emulator.list_runs('labels.trigger-kind="object"')
    found = Counter((parameter_values(j).get("data_uri"), _int(parameter_values(j))) for j in jobs)
    result = StormResult("object", report, len(storm.expected_runs), len(jobs))
    result.missing = sorted(storm.expected_runs - set(found))
    result.unexpected = sorted(k for k, n in found.items() if k not in storm.expected_runs or n > 1)
    result.decisions = decision_counts(
        stack.objects.wait_for_records(logged + report.attempts(), 10)[logged:]
    )
    result.create_statuses = create_status_counts(stack.emulator, since)
    return result


def _int(values: dict) -> int | None:
    """Return the run's generation parameter as an int (Vertex JSON may carry it as a float)."""
    value = values.get("generation")
    return int(value) if isinstance(value, int | float | str) else None


def run_drift_storm(
    stack: Stack, deliveries: list, models: set[str], senders: int, policy: RetryPolicy
) -> StormResult:
    """Deliver the drift storm and check there is exactly one live run per model."""
    since = len(stack.emulator.requests_received())
    logged = len(stack.drift.log_records())
    report = deliver_all(_aimed(deliveries, stack.drift.url), policy, senders=senders)
    jobs = stack.emulator.list_runs('labels.trigger-kind="drift"')
    # Runs that lost the cooldown race were cancelled; only live ones count as retrainings.
    live = [j for j in jobs if j.get("state") not in CANCELLED_STATES]
    found = Counter(parameter_values(j).get("model") for j in live)
    result = StormResult("drift", report, len(models), len(live))
    result.cancelled = len(jobs) - len(live)
    result.missing = sorted(models - set(found))
    result.unexpected = sorted(m for m, n in found.items() if m not in models or n > 1)
    result.decisions = decision_counts(
        stack.drift.wait_for_records(logged + report.attempts(), 10)[logged:]
    )
    result.create_statuses = create_status_counts(stack.emulator, since)
    return result


def run_storms(args: argparse.Namespace, report=print) -> list[StormResult]:
    """Run the object storm then the drift storm on one stack, with faults injected throughout."""
    storm = plan_object_storm(args.deliveries, args.duplicate_share, args.seed)
    drift, models = plan_drift_storm(args.models, args.alerts_per_model, args.seed)
    with running_stack(threads=args.threads) as stack:
        for fault in storm_faults(args.fault_rate, args.hang_rate, args.hang_seconds):
            stack.emulator.add_fault(fault)
        # Each storm opens with an outage: every create fails until `outage` of them have, so the
        # first events exhaust the function's retry budget and Eventarc must redeliver them.
        stack.emulator.add_fault(outage(args.outage))
        results = [run_object_storm(stack, storm, args.senders, STORM_POLICY)]
        report(dumps(results[-1].figures()))
        # The emulator's list copies every job it holds; start the drift storm from an empty one
        # (the object runs are counted already) so thousands of cooldown lookups stay cheap.
        stack.emulator.reset()
        for fault in storm_faults(args.fault_rate, args.hang_rate, args.hang_seconds):
            stack.emulator.add_fault(fault)
        stack.emulator.add_fault(outage(args.outage))
        results.append(run_drift_storm(stack, drift, models, args.senders, STORM_POLICY))
        report(dumps(results[-1].figures()))
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the storm's size and fault mix from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--duplicate-share", type=float, default=0.3)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--threads", type=int, default=None, help="functions-framework THREADS")
    parser.add_argument("--fault-rate", type=float, default=0.25, help="share of creates failing")
    parser.add_argument("--outage", type=int, default=100, help="503s in a row opening each storm")
    parser.add_argument("--hang-rate", type=float, default=0.002)
    parser.add_argument("--hang-seconds", type=float, default=3.0)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--alerts-per-model", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the storms, print their figures, exit non-zero unless both are exact."""
    args = parse_args(argv)
    started = time.perf_counter()
    results = run_storms(args, report=lambda line: print(line, flush=True))
    print(f"total wall: {time.perf_counter() - started:.1f} s")
    return 0 if all(r.exact for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
