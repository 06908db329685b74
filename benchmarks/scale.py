"""Scale: what an event costs as its folder grows, and a sweep as the bucket's history grows.

Against the Cloud Storage JSON API stand-in of ``local/storage_stand_in.py`` (in its own process),
which counts list calls, items listed and metadata reads, and the Vertex AI emulator (execute off).
The functions' own handlers run in this process (``serve`` for events, ``sweep``), through the
functions' own HTTP client, exactly as an instance runs them; what is measured is what they ask
of Cloud Storage, so functions-framework's HTTP framing is left out.

1. Sweeps over a bucket history of each size (one object a minute, named
   ``incoming/YYYY/MM/DD/HH/part-N.csv``), with and without ``partitions``: list calls, items,
   wall time, this process's peak RSS, and whether every recent object (none has a run) launched.
2. Batch folders of each size, for ``marker``, ``manifest`` and ``min_objects``: the parts are
   written one by one, each event delivered after its object (as Eventarc delivers), then the
   marker or manifest last, as exports write them. Per event: list calls, items listed, metadata
   reads; and exactly one run per folder.
3. A 12,000-part export (and a manifest naming 12,000 objects) written whole, then every event
   delivered shuffled, as a backlog arrives: it launches exactly once, with exact counts.

Each table prints the ratio of the largest case to the smallest per row.

    .venv/bin/python -m benchmarks.scale [--parts 100,1000,10000] [--export 12000]
                                         [--history 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from benchmarks.events import storage_event, storage_object
from benchmarks.stack import Emulator, start_emulator_process
from local.storage_stand_in import StorageStandIn, start_storage_stand_in_process
from triggers_cli.eventarc import rfc3339_millis

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "tests" / "data" / "reliability" / "probe_pipeline.yaml"
BUCKET = "scale-data"
MIN_OBJECTS = 10
LOOKBACK_MINUTES = 120
PATTERN = "%Y/%m/%d/%H/"  # under incoming/
BATCH_PARAMETERS = {"data_uri": "{batch_uri}", "generation": "{batch_objects}",
                    "reason": "{batch_bytes} bytes"}  # fmt: skip
RULES = {
    "marker": {"marker": "_SUCCESS"},
    "manifest": {"manifest": "manifest.json"},
    "min_objects": {"min_objects": MIN_OBJECTS},
}


def batch_routes() -> list[dict[str, Any]]:
    """One route per rule, each under its own prefix."""
    return [
        {"name": rule.replace("_", "-"), "event": "object_finalized", "bucket": BUCKET,
         "prefix": f"{rule}/", "suffix": "" if rule == "manifest" else ".csv",
         "template": str(TEMPLATE), "batch": {"complete_when": when},
         "parameters": BATCH_PARAMETERS}
        for rule, when in RULES.items()
    ]  # fmt: skip


def sweep_route(name: str, bucket: str, partitions: bool) -> dict[str, Any]:
    route = {"name": name, "event": "object_finalized", "bucket": bucket, "prefix": "incoming/",
             "suffix": ".csv", "template": str(TEMPLATE), "sweep_lookback": f"{LOOKBACK_MINUTES}m",
             "parameters": {"data_uri": "{uri}", "object_name": "{name}"}}  # fmt: skip
    if partitions:
        route["partitions"] = "incoming/" + PATTERN
    return route


def write_config(directory: Path, routes: list[dict[str, Any]], **top: Any) -> Path:
    document = {
        "project": "reliability-project",
        "region": "us-central1",
        "pipeline_root": "gs://scale-pipelines/runs",
        # Generous: the largest listings must not be cut short on a loaded machine.
        "retry": {"initial_delay": "0.1s", "max_delay": "1s", "deadline": "300s",
                  "request_timeout": "60s"},
        **top,
        "routes": routes,
    }
    path = directory / f"scale-{len(list(directory.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


# --- the stack --------------------------------------------------------------------------------


@dataclass
class Stack:
    """The stand-in and the emulator, and the functions' services built against them."""

    storage: StorageStandIn
    vertex: Emulator
    directory: Path

    def services(self, routes: list[dict[str, Any]], **top: Any) -> Any:
        from vertex_trigger.public import Environment, build_services

        env = Environment(write_config(self.directory, routes, **top),
                          vertex_emulator_host=self.vertex.host,
                          storage_emulator_host=self.storage.url)  # fmt: skip
        return build_services(env)

    def runs(self, route: str) -> list[dict[str, Any]]:
        return self.vertex.list_runs(f'labels.trigger-route="{route}"')


@contextmanager
def running_stack() -> Iterator[Stack]:
    """Start the stand-in and the emulator, each in its own process; stop both on exit."""
    storage = start_storage_stand_in_process()
    try:
        with tempfile.TemporaryDirectory(prefix="scale-") as directory:
            vertex = start_emulator_process(Path(directory))
            try:
                yield Stack(storage, vertex, Path(directory))
            finally:
                vertex.stop()
    finally:
        storage.stop()


# --- 2. batch folders, event by event ---------------------------------------------------------


@dataclass
class FolderResult:
    """One folder's events: what each asked of Cloud Storage, and the runs it got."""

    rule: str
    parts: int
    expected_objects: int  # {batch_objects} the run must have
    events: list[dict[str, int]] = field(default_factory=list)  # counts per event, in order
    decided: list[str] = field(default_factory=list)  # each event's decision, in order
    runs: int = 0
    batch_objects: int | None = None
    wall: float = 0.0

    @property
    def decisions(self) -> Counter[str]:
        """Return how many events got each decision."""
        return Counter(self.decided)

    def mean(self, key: str) -> float:
        return sum(e[key] for e in self.events) / len(self.events)

    @property
    def exact(self) -> bool:
        return self.runs == 1 and self.batch_objects == self.expected_objects

    def launching(self) -> dict[str, int]:
        """Return what the event that launched the batch asked of Cloud Storage (zeros: none)."""
        if "launched" not in self.decided:
            return {"items_listed": 0, "list_calls": 0}
        return self.events[self.decided.index("launched")]


def event_for(written: dict[str, Any], number: int) -> Any:
    """Return a written object's finalize event, with its real generation and creation time."""
    data = storage_object(BUCKET, written["name"], written["generation"], written["size"])
    data["timeCreated"] = data["updated"] = written["timeCreated"]
    return storage_event(data, f"scale-{number}-{written['generation']}", BUCKET, written["name"])


def deliver(stack: Stack, services: Any, event: Any, result: FolderResult) -> None:
    """Handle one event; record its decision and what it asked of Cloud Storage."""
    from vertex_trigger.public import handle_object_event, serve

    stack.storage.reset_counts()
    lines: list[Any] = []
    started = time.perf_counter()
    with contextlib.suppress(Exception):  # raised for redelivery: its line is the decision
        serve(handle_object_event, event, services, log=lines.append)
    result.wall += time.perf_counter() - started
    result.events.append(stack.storage.counts())
    result.decided.append(lines[-1].decision.value)


def run_folder(stack: Stack, services: Any, rule: str, parts: int) -> FolderResult:
    """Write a folder's parts one by one, each event after its object, then its control."""
    folder = f"{rule}/{parts}-parts/"
    # min_objects launches on the event that brings the count to N: N objects exist then.
    result = FolderResult(rule, parts, MIN_OBJECTS if rule == "min_objects" else parts)
    names = [f"{folder}part-{n:05d}.csv" for n in range(parts)]
    for number, name in enumerate(names):
        written = stack.storage.upload(BUCKET, name, b"a,b\n1,2\n")
        deliver(stack, services, event_for(written, number), result)
    if rule == "marker":
        written = stack.storage.upload(BUCKET, f"{folder}_SUCCESS", b"\n")
        deliver(stack, services, event_for(written, parts), result)
    elif rule == "manifest":
        manifest = "\n".join(name.rsplit("/", 1)[1] for name in names).encode()
        written = stack.storage.upload(BUCKET, f"{folder}manifest.json", manifest)
        deliver(stack, services, event_for(written, parts), result)
    return _with_runs(stack, rule, folder, result)


def _with_runs(stack: Stack, rule: str, folder: str, result: FolderResult) -> FolderResult:
    source = f"gs://{BUCKET}/{folder}"
    runs = [r for r in stack.runs(rule.replace("_", "-")) if r.get("displayName") == source]
    result.runs = len(runs)
    if runs:
        values = runs[0].get("runtimeConfig", {}).get("parameterValues", {})
        result.batch_objects = int(values.get("generation", -1))
    return result


# --- 3. an export written whole, its events shuffled --------------------------------------------


def run_backlog(stack: Stack, services: Any, rule: str, parts: int, seed: int) -> FolderResult:
    """Write ``parts`` objects and the control at once, then deliver every event shuffled."""
    folder = f"{rule}/backlog-{parts}/"
    base = datetime.now(UTC) - timedelta(minutes=5)
    objects = []
    for n in range(parts):
        created = base + timedelta(milliseconds=n)
        objects.append({"name": f"{folder}part-{n:05d}.csv", "size": 8,
                        "generation": int(created.timestamp() * 1e6),
                        "timeCreated": rfc3339_millis(created)})  # fmt: skip
    stack.storage.add_objects(BUCKET, objects)
    written = [{**o, "size": str(o["size"]), "generation": str(o["generation"])} for o in objects]
    if rule == "marker":
        written.append(stack.storage.upload(BUCKET, f"{folder}_SUCCESS", b"\n"))
    else:
        names = "\n".join(o["name"] for o in objects).encode()
        written.append(stack.storage.upload(BUCKET, f"{folder}manifest.json", names))
    random.Random(seed).shuffle(written)
    result = FolderResult(rule, parts, parts)
    for number, obj in enumerate(written):
        deliver(stack, services, event_for(obj, number), result)
    return _with_runs(stack, rule, folder, result)


# --- 1. sweeps over a bucket's history --------------------------------------------------------


@dataclass
class SweepResult:
    """One sweep of one route: what it read, how long it took, what it launched."""

    history: int
    partitions: bool
    recent: int
    counts: dict[str, int]
    wall: float
    launched: int
    runs: int
    warnings: list[str]
    peak_rss_mib: float
    failed: int

    @property
    def exact(self) -> bool:
        return self.launched == self.recent == self.runs and not self.failed


def run_sweeps(stack: Stack, history: int) -> list[SweepResult]:
    """Make a history of ``history`` objects, then sweep it without and with partitions."""
    from vertex_trigger.public import sweep

    bucket = f"history-{history}"
    newest = datetime.now(UTC) - timedelta(minutes=30, seconds=30)
    stack.storage.add_history(bucket, "incoming/", history, every_seconds=60, end=newest,
                              pattern=PATTERN)  # fmt: skip
    results = []
    for partitions in (False, True):
        name = "dated" if partitions else "plain"
        # Time enough for the largest history without partitions: its figures, not its limit.
        services = stack.services([sweep_route(name, bucket, partitions)], sweep_deadline="1h")
        stack.vertex.reset()
        stack.storage.reset_counts()
        warnings: list[str] = []
        recent = _in_lookback(history, newest, datetime.now(UTC))
        started = time.perf_counter()
        summary = sweep(services, log=_ignored, report=_ignored,
                        warn=lambda _, message, seen=warnings: seen.append(message))  # fmt: skip
        wall = time.perf_counter() - started
        results.append(SweepResult(
            history, partitions, recent, stack.storage.counts(), wall, summary["launched"],
            len(stack.runs(name)), warnings, _peak_rss_mib(), summary["failed"]))  # fmt: skip
    stack.storage.drop(bucket)
    return results


def _in_lookback(history: int, newest: datetime, now: datetime) -> int:
    """Return how many of the history's objects (one a minute up to ``newest``) are recent."""
    since = now - timedelta(minutes=LOOKBACK_MINUTES)
    return sum(1 for n in range(min(history, LOOKBACK_MINUTES + 1))
               if newest - timedelta(minutes=n) >= since)  # fmt: skip


def _ignored(*_: Any) -> None:
    pass


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the whole run and its tables -------------------------------------------------------------


@dataclass
class ScaleResults:
    folders: list[FolderResult]
    backlogs: list[FolderResult]
    sweeps: list[SweepResult]

    @property
    def exact(self) -> bool:
        return all(r.exact for r in [*self.folders, *self.backlogs, *self.sweeps])


def run_scale(
    parts: list[int], export: int, history: list[int], report: Callable[[str], None] = print,
    seed: int = 7,
) -> ScaleResults:
    """Run the three parts; report each table as it is done."""
    with running_stack() as stack:
        # Sweeps first, smallest history first: this process's peak RSS after each is the most
        # any sweep so far needed, nothing else having run yet.
        sweeps = [result for size in sorted(history) for result in run_sweeps(stack, size)]
        if sweeps:
            report(sweep_table(sweeps))
        services = stack.services(batch_routes())
        folders = [run_folder(stack, services, rule, n) for rule in RULES for n in parts]
        if folders:
            report(folder_table(folders))
        backlogs = [run_backlog(stack, services, rule, export, seed)
                    for rule in ("marker", "manifest") if export]  # fmt: skip
        if backlogs:
            report(backlog_table(backlogs))
    return ScaleResults(folders, backlogs, sweeps)


Row = tuple[str, str, dict[int, float]]


def folder_table(results: list[FolderResult]) -> str:
    """Return the batch folders' table: one row per rule and figure, one column per size."""
    sizes = sorted({r.parts for r in results})
    figures: list[tuple[str, Callable[[FolderResult], float]]] = [
        ("events", lambda r: len(r.events)),
        ("list calls per event", lambda r: r.mean("list_calls")),
        ("items listed per event", lambda r: r.mean("items_listed")),
        ("metadata reads per event", lambda r: r.mean("metadata_reads")),
        ("items the launching event listed", lambda r: r.launching()["items_listed"]),
        ("list calls of the launching event", lambda r: r.launching()["list_calls"]),
        ("most items any other event listed", _others_max),
        ("ms per event", lambda r: 1000 * r.wall / len(r.events)),
        ("runs (one per folder)", lambda r: r.runs),
        ("{batch_objects} of the run", lambda r: r.batch_objects or 0),
    ]
    rows: list[Row] = []
    for rule in RULES:
        by_size = {r.parts: r for r in results if r.rule == rule}
        rows += [(rule, name, _per_size(by_size, figure)) for name, figure in figures]
    return _table(["rule", "per folder of N parts"], rows, sizes)


def _others_max(result: FolderResult) -> float:
    """Return the most items an event listed, the one that launched aside."""
    launched = result.decided.index("launched") if "launched" in result.decided else -1
    return max((e["items_listed"] for n, e in enumerate(result.events) if n != launched), default=0)


def backlog_table(results: list[FolderResult]) -> str:
    lines = ["| export written whole, events shuffled | parts | events | runs | launched | "
             "duplicate | other | {batch_objects} | list calls | items listed | exact |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in results:
        other = sum(v for k, v in r.decisions.items() if k not in ("launched", "duplicate"))
        lines.append(
            f"| {r.rule} | {r.parts:,} | {len(r.events):,} | {r.runs} | "
            f"{r.decisions['launched']} | {r.decisions['duplicate']:,} | {other} | "
            f"{r.batch_objects or 0:,} | {sum(e['list_calls'] for e in r.events):,} | "
            f"{sum(e['items_listed'] for e in r.events):,} | {'yes' if r.exact else 'NO'} |"
        )
    return "\n".join(lines)


def sweep_table(results: list[SweepResult]) -> str:
    """Return the sweeps' table: one row per figure, with and without partitions."""
    sizes = sorted({r.history for r in results})
    figures: list[tuple[str, Callable[[SweepResult], float]]] = [
        ("list calls", lambda r: r.counts["list_calls"]),
        ("items listed", lambda r: r.counts["items_listed"]),
        ("wall time, s", lambda r: r.wall),
        ("recent objects (no run yet)", lambda r: r.recent),
        ("recent objects launched", lambda r: r.launched),
        ("WARNING lines", lambda r: len(r.warnings)),
        ("peak RSS of the process, MiB", lambda r: r.peak_rss_mib),
    ]
    rows: list[Row] = []
    for partitions in (False, True):
        by_size = {r.history: r for r in results if r.partitions is partitions}
        what = "with partitions" if partitions else "without partitions"
        rows += [(what, name, _per_size(by_size, figure)) for name, figure in figures]
    text = _table(["sweep", "over N objects of history"], rows, sizes)
    warnings = sorted({w for r in results for w in r.warnings})
    return text + ("\n\nWARNING lines:\n" + "\n".join(warnings) if warnings else "")


def _per_size(by_size: dict[int, Any], figure: Callable[[Any], float]) -> dict[int, float]:
    return {size: figure(result) for size, result in by_size.items()}


def _table(columns: list[str], rows: list[Row], sizes: list[int]) -> str:
    """Return a markdown table: a column per size, then the ratio of the largest to the smallest."""
    header = [*columns, *(f"{n:,}" for n in sizes), f"ratio {sizes[-1]:,}/{sizes[0]:,}"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for group, what, values in rows:
        cells = [_figure(values.get(n, 0)) for n in sizes]
        first, last = values.get(sizes[0], 0), values.get(sizes[-1], 0)
        ratio = f"{last / first:.2f}x" if first else ("1.00x" if not last else "-")
        lines.append("| " + " | ".join([group, what, *cells, ratio]) + " |")
    return "\n".join(lines)


def _figure(value: float) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.3f}" if value < 10 else f"{value:,.1f}"


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--parts", type=_sizes, default=[100, 1_000, 10_000],
                        help="folder sizes (comma-separated)")
    parser.add_argument("--export", type=int, default=12_000, help="parts of the shuffled export")
    parser.add_argument("--history", type=_sizes, default=[10_000, 100_000, 1_000_000],
                        help="objects of history the sweeps read (comma-separated)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--functions", type=Path, default=None,
                        help="measure another checkout's functions/ (e.g. main's, for a before)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run, print the tables; exit non-zero unless every folder ran once, every sweep whole."""
    args = parse_args(argv)
    if args.functions:  # before vertex_trigger is first imported: that copy is the one used
        sys.path.insert(0, str(args.functions.resolve()))
    results = run_scale(args.parts, args.export, args.history, seed=args.seed,
                        report=lambda text: print(text + "\n", flush=True))
    print("exact" if results.exact else "NOT EXACT", flush=True)
    return 0 if results.exact else 1


if __name__ == "__main__":
    sys.exit(main())
