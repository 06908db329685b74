"""Burst: 1,000 objects within seconds against Vertex's create quota, then the same as 10 batches.

The Vertex emulator enforces the create quota (60 creates a minute per region, Vertex's default);
on_object_finalized runs under functions-framework's server with 10 threads (the Terraform default
of 10 instances); `local/eventarc_sender.py` delivers every event at once from many senders and
redelivers each non-2xx with Eventarc's backoff. Phase 1 sends N finalize events for N objects of a
single-object route: every run must be created exactly once, however many 429s it meets. Phase 2
uploads the same N as part files of 10 folders, each with a `_SUCCESS` marker, to
gcp-storage-emulator and sends all N + 10 events, shuffled: exactly 10 runs.

Time is scaled to keep the wall time sane: the quota's "minute" is `--window` seconds (6 by
default), and Eventarc's backoff (10 s to 600 s), the function's retry budget and the retention
are scaled by the same factor, so the run has the shape of the real one at a tenth of its length.
Wall time is reported against the quota's minimum for N creates at that scale, which is the ratio
the real burst would show.

    .venv/bin/python -m benchmarks.burst [--objects 1000] [--quota 60] [--window 6]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from benchmarks.events import storage_event, storage_object
from benchmarks.fault_storm import create_status_counts, decision_counts
from benchmarks.stack import Emulator, dumps, parameter_values, start_emulator_process, upload
from local.eventarc_sender import Delivery, DeliveryReport, RetryPolicy, deliver_all
from local.function_server import FunctionServer, start_function_server
from local.processes import stop_process
from local.storage_emulator_process import start_storage_emulator_process

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "tests" / "data" / "reliability" / "probe_pipeline.yaml"
BUCKET = "burst-data"
MINUTE = 60.0
MARKER = "_SUCCESS"
BATCHES = 10


@dataclass(frozen=True)
class Scale:
    """Vertex's quota and the time scale: `window` seconds stand for one minute."""

    quota: int = 60
    window: float = 6.0

    @property
    def factor(self) -> float:
        """How much shorter than real time every delay is."""
        return self.window / MINUTE

    def minimum_seconds(self, creates: int) -> float:
        """Return the least time N creates take under the quota (the last one's earliest start)."""
        return ((creates - 1) // self.quota) * self.window

    def eventarc(self) -> RetryPolicy:
        """Eventarc's redelivery (10 s to 600 s backoff, 24 h retention) on this time scale."""
        return RetryPolicy(
            min_backoff=10 * self.factor,
            max_backoff=600 * self.factor,
            max_attempts=10_000,
            max_age=24 * 3600 * self.factor,
            request_timeout=300.0,  # queued behind the 10 threads: not an Eventarc timeout
        )

    def triggers_yaml(self) -> dict:
        """Return the functions' config: the shipped retry budget (1 s to 10 s, 45 s), scaled."""
        seconds = lambda value: f"{value * self.factor:g}s"  # noqa: E731 - a local shorthand
        return {
            "project": "reliability-project",
            "region": "us-central1",
            "pipeline_root": "gs://burst-pipelines/runs",
            "retry": {"initial_delay": seconds(1), "max_delay": seconds(10),
                      "deadline": seconds(45), "request_timeout": "20s"},
            "routes": [
                {"name": "burst-objects", "event": "object_finalized", "bucket": BUCKET,
                 "prefix": "objects/", "suffix": ".csv", "template": str(TEMPLATE),
                 "parameters": {"data_uri": "{uri}", "generation": "{generation}"}},
                {"name": "burst-batches", "event": "object_finalized", "bucket": BUCKET,
                 "prefix": "batches/", "suffix": ".csv", "template": str(TEMPLATE),
                 "batch": {"complete_when": {"marker": MARKER}},
                 "parameters": {"data_uri": "{batch_uri}", "generation": "{batch_objects}"}},
            ],
        }  # fmt: skip


@dataclass
class BurstStack:
    """Storage emulator, Vertex emulator with the quota on, and on_object_finalized."""

    storage_url: str
    emulator: Emulator
    server: FunctionServer


@contextmanager
def burst_stack(scale: Scale, threads: int = 10) -> Iterator[BurstStack]:
    """Start the three servers (each its own process); stop them all on exit."""
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="burst-") as state:
        storage_url, storage = start_storage_emulator_process()
        stack.callback(stop_process, storage)
        emulator = start_emulator_process(Path(state) / "vertex")
        stack.callback(emulator.stop)
        emulator.set_create_quota(scale.quota, window_seconds=scale.window)
        config = Path(state) / "triggers.yaml"
        config.write_text(yaml.safe_dump(scale.triggers_yaml(), sort_keys=False))
        env = {"TRIGGERS_CONFIG": str(config), "GOOGLE_CLOUD_PROJECT": "reliability-project",
               "VERTEX_AI_EMULATOR_HOST": emulator.host, "STORAGE_EMULATOR_HOST": storage_url}
        function = start_function_server("on_object_finalized", env, threads=threads)
        yield BurstStack(storage_url, emulator, stack.enter_context(function))  # fmt: skip


@dataclass
class BurstResult:
    """Figures and the exact-count verdict of one phase."""

    phase: str
    report: DeliveryReport
    expected: int
    runs: int
    minimum_seconds: float
    cpu_seconds: float
    lost: list = field(default_factory=list)
    duplicated: list = field(default_factory=list)
    decisions: dict = field(default_factory=dict)
    create_statuses: dict = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        """Tell whether every expected run exists once, nothing else, every event acknowledged."""
        gave_up = self.report.outcomes().get("gave-up", 0)
        return self.runs == self.expected and not self.lost and not self.duplicated and not gave_up

    def figures(self) -> dict:
        """Return the figures to print."""
        runs = max(self.runs, 1)
        wall = self.report.wall_seconds
        minimum = self.minimum_seconds
        return {
            "phase": self.phase,
            "runs": self.runs,
            "expected_runs": self.expected,
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
            "exact": self.exact,
            "events": len(self.report.results),
            "invocations": self.report.attempts(),
            "invocations_per_run": round(self.report.attempts() / runs, 2),
            "wall_seconds": round(wall, 1),
            "quota_minimum_seconds": round(self.minimum_seconds, 1),
            "wall_over_minimum": round(wall / minimum, 2) if minimum else None,
            "function_cpu_seconds_per_run": round(self.cpu_seconds / runs, 4),
            "function_decisions": self.decisions,
            "vertex_create_statuses": self.create_statuses,
        }  # fmt: skip


def object_deliveries(url: str, count: int, seed: int) -> tuple[list[Delivery], set[str]]:
    """One finalize event per object (no duplicates: the burst alone meets the quota), shuffled."""
    deliveries, expected = [], set()
    for n in range(count):
        name = f"objects/part-{n:05d}.csv"
        data = storage_object(BUCKET, name, 1_700_000_000_000_000 + n)
        deliveries.append(Delivery(url, storage_event(data, f"burst-{seed}-{n}", BUCKET, name)))
        expected.add(f"gs://{BUCKET}/{name}")
    random.Random(seed).shuffle(deliveries)
    return deliveries, expected


def batch_deliveries(stack: BurstStack, count: int, seed: int) -> tuple[list[Delivery], set[str]]:
    """Upload `count` part files in BATCHES folders, then their markers; return the events."""
    deliveries, expected = [], set()
    for n in range(count + BATCHES):
        folder = f"batches/export-{n % BATCHES:02d}/"
        name = folder + (MARKER if n >= count else f"part-{n:05d}.csv")
        generation = upload(stack.storage_url, BUCKET, name, b"sqft,price\n1,2\n")
        data = storage_object(BUCKET, name, generation)
        event = storage_event(data, f"b-{seed}-{n}", BUCKET, name)
        deliveries.append(Delivery(stack.server.url, event))
        expected.add(f"gs://{BUCKET}/{folder}")
    random.Random(seed).shuffle(deliveries)
    return deliveries, expected  # fmt: skip


def run_phase(
    stack: BurstStack,
    phase: str,
    deliveries: list[Delivery],
    expected: set[str],
    *,
    scale: Scale,
    senders: int,
) -> BurstResult:
    """Deliver every event at once, then compare the route's runs with the expected data URIs."""
    route = "burst-objects" if phase == "objects" else "burst-batches"
    since = len(stack.emulator.requests_received())
    logged = len(stack.server.log_records())
    cpu = tree_cpu_seconds(stack.server.process.pid)
    report = deliver_all(deliveries, scale.eventarc(), senders=senders)
    cpu = tree_cpu_seconds(stack.server.process.pid) - cpu
    jobs = stack.emulator.list_runs(f'labels.trigger-route="{route}"')
    found = Counter(parameter_values(j).get("data_uri") for j in jobs)
    result = BurstResult(
        phase, report, len(expected), len(jobs), scale.minimum_seconds(len(expected)), cpu
    )
    result.lost = sorted(expected - set(found))
    result.duplicated = sorted(u for u, n in found.items() if u not in expected or n > 1)
    result.decisions = decision_counts(
        stack.server.wait_for_records(logged + report.attempts(), 10)[logged:]
    )
    result.create_statuses = create_status_counts(stack.emulator, since)
    return result


def tree_cpu_seconds(pid: int) -> float:
    """Return the user + system CPU seconds of a process and its live descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        child = int(stat.parent.name)
        parents[child] = int(fields[1])
        times[child] = (int(fields[11]) + int(fields[12])) / tick
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [c for c, p in parents.items() if p == parent and c not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(p, 0.0) for p in tree)


def run_burst(args: argparse.Namespace, report=print) -> list[BurstResult]:
    """Run the object burst, then the batch burst, on one stack."""
    scale = Scale(args.quota, args.window)
    with burst_stack(scale, args.threads) as stack:
        deliveries, expected = object_deliveries(stack.server.url, args.objects, args.seed)
        results = [
            run_phase(stack, "objects", deliveries, expected, scale=scale, senders=args.senders)
        ]
        report(dumps(results[-1].figures()))
        time.sleep(scale.window)  # start the batches with a fresh quota window
        deliveries, expected = batch_deliveries(stack, args.objects, args.seed)
        results.append(
            run_phase(stack, "batches", deliveries, expected, scale=scale, senders=args.senders)
        )
        report(dumps(results[-1].figures()))
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the burst's size and scale from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--quota", type=int, default=60, help="creates per minute per region")
    parser.add_argument("--window", type=float, default=6.0, help="seconds standing for a minute")
    parser.add_argument("--senders", type=int, default=100, help="events in flight at once")
    parser.add_argument("--threads", type=int, default=10, help="function threads (instances)")
    parser.add_argument("--seed", type=int, default=5)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run both phases, print their figures, exit non-zero unless both are exact."""
    results = run_burst(parse_args(argv), report=lambda line: print(line, flush=True))
    return 0 if all(r.exact for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
