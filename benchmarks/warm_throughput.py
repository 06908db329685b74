"""Warm throughput of one instance, ours vs the documented sample's shape, and a template change.

Both functions run under the same functions-framework server (one gunicorn worker), read the same
gs:// template from gcp-storage-emulator and create jobs on the same Vertex emulator (execute off).
Events go over HTTP in binary mode. Figures: events/s and p50/p99 latency with one sender and with
several, the ratio between the two implementations measured in the same run, the first event after
a new template generation against the warm median, and each worker's peak RSS.

    .venv/bin/python -m benchmarks.warm_throughput
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import yaml

from benchmarks.events import storage_event, storage_object
from benchmarks.stack import (
    CONFIG,
    DATA_BUCKET,
    PROJECT,
    ROOT,
    dumps,
    start_emulator_process,
    upload,
)
from local.eventarc_sender import Delivery, DeliveryReport, RetryPolicy, deliver_all
from local.function_server import FunctionServer, start_function_server
from local.storage_emulator_process import start_storage_emulator_process

TEMPLATE_BUCKET = "reliability-templates"
TEMPLATE_NAME = "probe_pipeline.yaml"
TEMPLATE_SOURCE = ROOT / "tests" / "data" / "reliability" / TEMPLATE_NAME
PIPELINE_ROOT = "gs://reliability-pipelines/runs"
ONE_SHOT = RetryPolicy(max_attempts=1, request_timeout=120.0)


def gcs_config(directory: Path) -> Path:
    """Write the reliability config with the object route reading its template from gs://."""
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config.pop("retry", None)  # the defaults: this benchmark injects no faults
    routes = [r for r in config["routes"] if r["event"] == "object_finalized"]
    for route in routes:
        route["template"] = f"gs://{TEMPLATE_BUCKET}/{TEMPLATE_NAME}"
    config["routes"] = routes
    path = directory / "triggers.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def events(url: str, tag: str, count: int) -> list[Delivery]:
    """Return `count` finalize events for distinct eligible objects."""
    deliveries = []
    for n in range(count):
        name = f"incoming/{tag}-{n}.csv"
        data = storage_object(DATA_BUCKET, name, str(1_700_000_000_000_000 + n))
        deliveries.append(Delivery(url, storage_event(data, f"{tag}-{n}", DATA_BUCKET, name)))
    return deliveries


def stats(report: DeliveryReport) -> dict[str, float]:
    """Return events/s and latency percentiles of a one-attempt-each run (all must be 2xx)."""
    failed = report.outcomes().get("gave-up", 0)
    if failed:
        raise RuntimeError(f"{failed} deliveries failed: {report.summary()}")
    latencies = sorted(r.latencies[0] for r in report.results)
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "events": len(latencies),
        "events_per_s": round(len(latencies) / report.wall_seconds, 1),
        "p50_ms": round(quantiles[49] * 1000, 2),
        "p99_ms": round(quantiles[98] * 1000, 2),
    }


def peak_rss_mib(server: FunctionServer) -> float:
    """Return the peak RSS (VmHWM) of the server's gunicorn worker, the process handling events."""
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    worker = children[0] if children else str(pid)
    for line in Path(f"/proc/{worker}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def throughput(server: FunctionServer, tag: str, args: argparse.Namespace) -> dict:
    """Warm the server up, then measure one sender and several senders."""
    deliver_all(events(server.url, f"{tag}-warmup", args.warmup), ONE_SHOT, senders=1)
    serial = deliver_all(events(server.url, f"{tag}-serial", args.events), ONE_SHOT, senders=1)
    parallel = deliver_all(
        events(server.url, f"{tag}-parallel", args.events), ONE_SHOT, senders=args.senders
    )
    return {
        "one_sender": stats(serial),
        f"{args.senders}_senders": stats(parallel),
        "worker_peak_rss_mib": peak_rss_mib(server),
    }


def template_change(server: FunctionServer, storage_url: str, rounds: int) -> dict:
    """Time the first event after each new template generation against warm events between."""
    source = TEMPLATE_SOURCE.read_bytes()
    first, warm = [], []
    for n in range(rounds):
        # A new generation with different bytes: the cache must notice and re-read it.
        upload(storage_url, TEMPLATE_BUCKET, TEMPLATE_NAME, source + f"\n# rev {n}\n".encode())
        after = deliver_all(events(server.url, f"change-{n}", 1), ONE_SHOT, senders=1)
        first.append(stats_single(after))
        steady = deliver_all(events(server.url, f"steady-{n}", 9), ONE_SHOT, senders=1)
        warm.extend(r.latencies[0] for r in steady.results)
    first_ms, warm_ms = statistics.median(first) * 1000, statistics.median(warm) * 1000
    return {
        "rounds": rounds,
        "first_event_after_change_ms": round(first_ms, 2),
        "warm_event_ms": round(warm_ms, 2),
        "ratio": round(first_ms / warm_ms, 2),
    }


def stats_single(report: DeliveryReport) -> float:
    """Return the latency of a single acknowledged delivery."""
    (result,) = report.results
    if result.outcome.value != "acked":
        raise RuntimeError(f"delivery failed: {result.statuses}")
    return result.latencies[0]


def ratio(ours: dict, sample: dict, key: str) -> dict:
    """Return ours/sample for throughput and latencies of one measurement."""
    return {
        "events_per_s_x": round(ours[key]["events_per_s"] / sample[key]["events_per_s"], 2),
        "p50_x": round(ours[key]["p50_ms"] / sample[key]["p50_ms"], 3),
        "p99_x": round(ours[key]["p99_ms"] / sample[key]["p99_ms"], 3),
    }


def run(args: argparse.Namespace) -> dict:
    """Start the emulators and both functions, measure, return every figure."""
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="warm-bench-")))
        storage_url, storage = start_storage_emulator_process()
        stack.callback(storage.kill)
        vertex = start_emulator_process(work / "vertex")
        stack.callback(vertex.stop)
        upload(storage_url, TEMPLATE_BUCKET, TEMPLATE_NAME, TEMPLATE_SOURCE.read_bytes())
        # The sample's submit() creates the pipeline-root bucket when missing; have it exist.
        upload(storage_url, PIPELINE_ROOT.split("/")[2], "runs/.keep", b"keep")
        env = {
            "TRIGGERS_CONFIG": str(gcs_config(work)),
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "VERTEX_AI_EMULATOR_HOST": vertex.host,
            "STORAGE_EMULATOR_HOST": storage_url,
            "SAMPLE_TEMPLATE": f"gs://{TEMPLATE_BUCKET}/{TEMPLATE_NAME}",
            "SAMPLE_PIPELINE_ROOT": PIPELINE_ROOT,
        }
        ours = stack.enter_context(start_function_server("on_object_finalized", env))
        sample_dir = ROOT / "benchmarks" / "sample_shape"
        sample = stack.enter_context(start_function_server("run_pipeline", env, sample_dir))
        figures = {"ours": throughput(ours, "ours", args)}
        figures["sample_shape"] = throughput(sample, "sample", args)
        figures["ours_vs_sample"] = {
            key: ratio(figures["ours"], figures["sample_shape"], key)
            for key in ("one_sender", f"{args.senders}_senders")
        }
        figures["template_change"] = template_change(ours, storage_url, args.change_rounds)
        return figures


def main(argv: list[str] | None = None) -> int:
    """Measure and print the figures as JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=300, help="events per measurement")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--change-rounds", type=int, default=5)
    figures = run(parser.parse_args(argv))
    for key, value in figures.items():
        print(f"{key}: {dumps(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
