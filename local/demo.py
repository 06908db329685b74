"""`make demo`: the whole loop on this machine, through the same code paths as in production.

Data lands in the local bucket -> on_object_finalized launches a training run on the Vertex AI
emulator; its end launches the scoring run after it (run_ended route score-after-train: batch_score
with the trained model's URI); the data drifts -> the drift check publishes an alert to the Pub/Sub
emulator, which pushes it (through the Eventarc adapter) -> on_drift_alert launches a retraining
run, whose gate keeps or replaces the champion; a file without the target column lands -> its run
fails, on purpose, and launches no scoring; an export of three part files and its _SUCCESS marker
-> one run for the batch; the sweeper finds nothing missed. Each run's end reaches on_run_state
(the Vertex emulator's state log entries, pushed like a log sink's), which publishes an outcome
message naming the file or alert that started the run; the demo prints each one as it arrives.
Ends with one summary row per run and `vertex-triggers status` (the runs as the operator's command
line lists them, the scoring run under the training run that launched it, then that chain alone
with `--chain`); stops every process it started (also on Ctrl-C or failure); exits 0 when every
run ended as expected (the bad file's FAILED included) and 1 otherwise.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from vertex_trigger.public import ConfigError

from local.eventarc_push import forwarded_in_log
from local.function_server import FUNCTIONS_DIR
from local.outcome_feed import OutcomeFeed
from local.processes import ProcessGroup, StartupError, stopped_by_signals
from local.progress import DecisionLog, Job, RunMonitor, job_id
from local.pubsub_rest import PubsubRest
from local.routes import read_routes, start_up_check
from local.stack import PYTHON, REPO, StackEndpoints, StackSettings, start_stack
from local.wait_objects import wait_until_mirrored
from pipelines.champion_gate import ChampionStatus

DEMO_ROOT = REPO / ".demo"
DEMO_CONFIG = (FUNCTIONS_DIR / "triggers.yaml").resolve()
# functions/triggers.yaml passes `registry_uri: .demo/registry`, relative to the emulator's cwd.
REGISTRY = DEMO_ROOT / "registry"
MODEL = "projects/local-project/locations/us-central1/models/house-prices"
DATA_BUCKET = "local-data"
RUN_APPEARS_TIMEOUT = 60.0
RUN_FINISHES_TIMEOUT = 240.0
OUTCOME_TIMEOUT = 60.0
# The operator's command line, installed into the venv beside this Python by make's venv step.
VERTEX_TRIGGERS = Path(PYTHON).with_name("vertex-triggers")
SUCCEEDED = "PIPELINE_STATE_SUCCEEDED"
FAILED = "PIPELINE_STATE_FAILED"
# functions/triggers.yaml's run_ended route, and the houses it scores after each training run.
SCORING_ROUTE = "score-after-train"
SCORING_DATA = "scoring/houses.csv"


@dataclass(frozen=True)
class SummaryRow:
    """One line of the closing table."""

    trigger: str
    job: str
    state: str
    metrics: str
    decision: str
    model: str
    outcome: str = "-"


class Console:
    """Prints lines stamped with the seconds since the demo started."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, text: str) -> None:
        """Print one stamped line."""
        print(f"[{time.monotonic() - self.started:6.1f}s] {text}", flush=True)


def reset_demo_state(root: Path) -> None:
    """Forget the previous demo (runs, buckets, registry, logs, Pub/Sub) so each starts clean."""
    for name in ("vertex", "buckets", "registry", "logs", "pubsub"):
        shutil.rmtree(root / name, ignore_errors=True)


def generate_prices(path: Path, seed: int, shift: float | None = None, rows: int = 400) -> None:
    """Write synthetic house prices with the pipelines' generator (straight into the bucket)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    command = [PYTHON, "-m", "pipelines.synthetic", "--rows", str(rows), "--seed", str(seed),
               "--out", str(path)]  # fmt: skip
    if shift is not None:
        command += ["--shift", str(shift)]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True)


def generate_without_column(path: Path, seed: int, column: str) -> None:
    """Write synthetic house prices without one column (the target: the run must fail on it)."""
    generate_prices(path, seed)
    with path.open(newline="") as source:
        rows = [{k: v for k, v in row.items() if k != column} for row in csv.DictReader(source)]
    # Written under a hidden name first: the local bucket never fires for it, only for the rename.
    hidden = path.with_name(f".{path.name}")
    with hidden.open("w", newline="") as target:
        writer = csv.DictWriter(target, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    hidden.replace(path)


def champion() -> dict[str, Any] | None:
    """Return the registry's champion pointer, if a model was promoted."""
    path = REGISTRY / "champion.json"
    return json.loads(path.read_text()) if path.exists() else None


def metrics_of(job: Job) -> dict[str, float]:
    """Return the challenger's test metrics (rmse, mae, r2): its `metrics` Metrics artifact."""
    found: dict[str, float] = {}
    for task in job.get("jobDetail", {}).get("taskDetails", []):
        # Only the output named `metrics`: score-champion's `champion_metrics` is the champion's.
        for artifact in task.get("outputs", {}).get("metrics", {}).get("artifacts", []):
            if artifact.get("schemaTitle") == "system.Metrics":
                found.update(artifact.get("metadata", {}))
    return found


def task_outputs(job: Job, task_name: str) -> dict[str, Any] | None:
    """Return a task's output parameters by name, or None when the run has no such task."""
    for task in job.get("jobDetail", {}).get("taskDetails", []):
        if task["taskName"] == task_name:
            metadata = task.get("execution", {}).get("metadata", {})
            return {k.removeprefix("output:"): v for k, v in metadata.items()
                    if k.startswith("output:")}  # fmt: skip
    return None


def scoring_text(job: Job) -> str:
    """Say what a batch_score run scored: its `summary` Metrics artifact."""
    for task in job.get("jobDetail", {}).get("taskDetails", []):
        for artifact in task.get("outputs", {}).get("summary", {}).get("artifacts", []):
            found = artifact.get("metadata", {})
            if "rows" in found:
                low, high = found["min_predicted_price"], found["max_predicted_price"]
                return f"scored {int(found['rows'])} rows, predicted {low:,.0f}-{high:,.0f}"
    return "-"


def gate_decision(job: Job) -> str:
    """Return the champion/challenger gate's output (promote | keep-champion)."""
    outputs = task_outputs(job, "gate")
    return "-" if outputs is None else str(outputs.get("Output", "?"))


def gate_text(job: Job, metrics: dict[str, float]) -> str:
    """Say what the gate decided, and against what: the champion scored on the same split."""
    decision = gate_decision(job)
    champion = task_outputs(job, "score-champion") or {}
    status = champion.get("status")
    if decision == "-" or "rmse" not in metrics or status is None:
        return decision
    if status == ChampionStatus.ABSENT:
        return f"{decision} (no champion yet)"
    version = f"champion v{int(champion['version'])}" if champion.get("version") else "champion"
    if status == ChampionStatus.UNUSABLE:
        return f"{decision} ({version} unusable: {champion.get('detail', '?')})"
    return (f"{decision} (challenger rmse {metrics['rmse']:,.0f} vs {version} "
            f"{float(champion['rmse']):,.0f} on the same test split)")  # fmt: skip


def chain_decision(function: str, entry: dict[str, Any]) -> bool:
    """Tell whether to print a decision line.

    Every launching function's; of on_run_state (a line per state change of every run), only what
    a run's end decided for the scoring route.
    """
    if function != "on_run_state":
        return True
    own = entry["decision"] == "reported" or entry.get("reason", "").endswith("not an end state")
    return entry.get("route") == SCORING_ROUTE and not own


def summary_row(trigger: str, job: Job) -> SummaryRow:
    """Summarize a finished run."""
    if job.get("labels", {}).get("trigger-kind") == "run":  # a scoring run: no training metrics
        return SummaryRow(trigger, job_id(job), job["state"], scoring_text(job), "-", "-")
    metrics = metrics_of(job)
    shown = ", ".join(f"{k}={metrics[k]:,.3f}" if k == "r2" else f"{k}={metrics[k]:,.0f}"
                      for k in ("rmse", "r2") if k in metrics) or "-"  # fmt: skip
    current = champion()
    model = f"v{current['version']}: {current['model_uri']}" if current else "-"
    return SummaryRow(
        trigger, job_id(job), job["state"], shown, gate_text(job, metrics), model
    )


def print_table(rows: list[SummaryRow]) -> None:
    """Print the summary as an aligned table."""
    header = SummaryRow("trigger", "job id", "Vertex state", "metrics", "gate", "champion model",
                        "outcome message")  # fmt: skip
    table = [header, *rows]
    widths = [max(len(getattr(r, f)) for r in table) for f in SummaryRow.__dataclass_fields__]
    for index, row in enumerate(table):
        cells = [
            getattr(row, f).ljust(w)
            for f, w in zip(SummaryRow.__dataclass_fields__, widths, strict=True)
        ]
        print(" | ".join(cells).rstrip())
        if index == 0:
            print("-+-".join("-" * w for w in widths))


class Demo:
    """The scripted story, step by step, against a running stack."""

    def __init__(self, settings: StackSettings, endpoints: StackEndpoints, say: Console) -> None:
        self.settings = settings
        self.endpoints = endpoints
        self.say = say
        self.monitor = RunMonitor(endpoints.vertex_url, settings.parent, say)
        logs = [endpoints.logs / "on_object_finalized.log", endpoints.logs / "on_drift_alert.log",
                endpoints.logs / "on_run_state.log"]  # fmt: skip
        self.decisions = DecisionLog(logs, say, shown=chain_decision)
        pubsub = PubsubRest(endpoints.pubsub_host)
        self.outcomes = OutcomeFeed(pubsub, settings.outcomes.subscription, say)
        self.rows: list[SummaryRow] = []
        self.unexpected: list[str] = []

    def tick(self) -> None:
        """Print what happened meanwhile: decision lines and outcome messages."""
        self.decisions()
        self.outcomes()

    def follow(self, trigger: str, action: Callable[[], None], expect: str = SUCCEEDED) -> Job:
        """Do `action`, follow the run it causes to its end and to its outcome message."""
        known = {job["name"] for job in self.monitor.jobs()}
        action()
        job = self.monitor.wait_for_new_run(known, RUN_APPEARS_TIMEOUT, self.tick)
        return self.until_reported(trigger, job, expect)

    def until_reported(self, trigger: str, job: Job, expect: str = SUCCEEDED) -> Job:
        """Follow a run to its end and its outcome message; keep its summary row."""
        job = self.monitor.wait_until_done(job["name"], RUN_FINISHES_TIMEOUT, self.tick)
        self.decisions()
        outcome = self.outcomes.wait_for(job_id(job), OUTCOME_TIMEOUT, self.decisions)
        self.rows.append(dataclasses.replace(summary_row(trigger, job), outcome=outcome["state"]))
        if job["state"] != expect:
            self.unexpected.append(f"{job_id(job)} ended {job['state']}, expected {expect}")
        if f"PIPELINE_STATE_{outcome['state']}" != job["state"]:
            self.unexpected.append(f"{job_id(job)}: outcome {outcome['state']}, run {job['state']}")
        return job

    def data_arrives(self) -> Job:
        """Step 1: a new CSV lands under incoming/ (houses to score wait under scoring/)."""
        scoring = self.settings.buckets / DATA_BUCKET / SCORING_DATA
        generate_without_column(scoring, 5, "price")
        wait_until_mirrored(self.endpoints.storage_url, DATA_BUCKET, SCORING_DATA,
                            scoring.read_bytes())  # fmt: skip
        self.say(f"  (houses to score wait in gs://{DATA_BUCKET}/{SCORING_DATA})")
        name = "incoming/prices-0001.csv"
        self.say(f"step 1: new data lands in gs://{DATA_BUCKET}/{name}")
        path = self.settings.buckets / DATA_BUCKET / name
        return self.follow(f"object gs://{DATA_BUCKET}/{name}", lambda: generate_prices(path, 7))

    def scoring_follows(self, training: Job) -> Job:
        """Step 1b: the training run's end launched the scoring run after it, with its model."""
        upstream = job_id(training)
        self.say(f"step 1b: {upstream} ended; its end launches {SCORING_ROUTE} (run_ended) with "
                 "the trained model's URI")  # fmt: skip
        deadline = time.monotonic() + RUN_APPEARS_TIMEOUT
        while not (runs := self.runs_after(upstream)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {SCORING_ROUTE} run after {upstream}")
            self.tick()
            time.sleep(0.3)
        model_uri = runs[0]["runtimeConfig"]["parameterValues"]["model_uri"]
        self.say(f"  {job_id(runs[0])}: model_uri {model_uri}")
        return self.until_reported(f"after {upstream}", runs[0])

    def no_scoring_after(self, failed: Job) -> None:
        """Check a failed training run launched no scoring (the route runs after SUCCEEDED)."""
        if self.runs_after(job_id(failed)):
            self.unexpected.append(f"{job_id(failed)} FAILED and still launched {SCORING_ROUTE}")

    def runs_after(self, upstream: str) -> list[Job]:
        """Return the runs a run's end launched (their trigger-upstream label names it)."""
        return [job for job in self.monitor.jobs()
                if job.get("labels", {}).get("trigger-upstream") == upstream]  # fmt: skip

    def data_drifts(self) -> Job:
        """Step 2: drifted data becomes the training data; the drift check raises an alert."""
        name = "training/latest.csv"
        self.say(f"step 2: drifted data (shift 0.5) written to gs://{DATA_BUCKET}/{name}")
        path = self.settings.buckets / DATA_BUCKET / name
        generate_prices(path, 8, shift=0.5)
        wait_until_mirrored(self.endpoints.storage_url, DATA_BUCKET, name, path.read_bytes())
        self.decisions()
        return self.follow(f"drift alert on {MODEL.rsplit('/', 1)[-1]}", lambda: self.alert(name))

    def bad_data_arrives(self) -> Job:
        """Step 3: a CSV without the target column lands; its run fails, and says why."""
        name = "incoming/prices-0002.csv"
        self.say(f"step 3: a file without the 'price' column lands in gs://{DATA_BUCKET}/{name} "
                 "(this run is meant to fail)")  # fmt: skip
        path = self.settings.buckets / DATA_BUCKET / name
        return self.follow(
            f"object gs://{DATA_BUCKET}/{name}",
            lambda: generate_without_column(path, 9, "price"),
            expect=FAILED,
        )

    def export_arrives(self) -> Job:
        """Step 4: an export writes three part files, then its marker: one run for the batch."""
        folder = "exports/2026-12-01/"
        self.say(f"step 4: an export writes 3 part files to gs://{DATA_BUCKET}/{folder}")
        for part, seed in enumerate((21, 22, 23)):
            path = self.settings.buckets / DATA_BUCKET / f"{folder}part-{part:05d}.csv"
            generate_prices(path, seed, rows=200)
            # The marker means "complete": it must not land before the parts are in the bucket.
            name = f"{folder}{path.name}"
            wait_until_mirrored(self.endpoints.storage_url, DATA_BUCKET, name, path.read_bytes())
        self.decisions()
        marker = self.settings.buckets / DATA_BUCKET / f"{folder}_SUCCESS"
        self.say(f"  then its marker gs://{DATA_BUCKET}/{folder}_SUCCESS")
        # One byte: gcp-storage-emulator refuses an empty upload (Spark's markers are empty).
        return self.follow(f"batch gs://{DATA_BUCKET}/{folder}", lambda: marker.write_text("\n"))

    def sweep(self) -> None:
        """Step 5: the sweeper (Cloud Scheduler's call) looks for what events missed."""
        self.say("step 5: the sweeper looks back 2 h for objects, batches and training runs' ends "
                 "without their run")  # fmt: skip
        summary = requests.post(self.endpoints.sweep_url, timeout=120).json()
        counts = {k: summary[k] for k in ("launched", "duplicate", "skipped") if summary[k]}
        self.say(f"  sweep: {counts} (every object, batch and chain link already has its run)")
        if summary["launched"] or summary["failed"]:
            self.unexpected.append(f"the sweep found something to do: {counts}")

    def alert(self, name: str) -> None:
        """Run the drift check on the new data; it publishes the alert."""
        self.run_drift_check(f"gs://{DATA_BUCKET}/{name}")

    def run_drift_check(self, data_uri: str) -> None:
        """Compare the drifted data with the champion's baseline and publish to Pub/Sub."""
        current = champion()
        if current is None:
            raise RuntimeError("no champion in the registry: the first run promoted nothing")
        command = [PYTHON, "-m", "pipelines.drift", "check", data_uri,
                   "--baseline", current["baseline_uri"], "--model", MODEL,
                   "--threshold", "0.1", "--publish", self.settings.topic]  # fmt: skip
        self.say(f"  drift check: {data_uri} against {current['baseline_uri']}")
        env = {
            "STORAGE_EMULATOR_HOST": self.endpoints.storage_url,
            "PUBSUB_EMULATOR_HOST": self.endpoints.pubsub_host,
            "GOOGLE_CLOUD_PROJECT": self.settings.project,
        }
        result = subprocess.run(
            command,
            cwd=REPO,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        for line in result.stderr.strip().splitlines():
            self.say(f"    {line}")
        if result.returncode != 0:
            raise RuntimeError(f"drift check exited {result.returncode}")
        report = json.loads(result.stdout)
        if not report.get("drifted"):
            raise RuntimeError("the drift check found no drift in the shifted data")
        published = report.get("published") or {}
        self.say(
            f"  alert published to the Pub/Sub emulator ({self.endpoints.pubsub_host}): "
            f"message {published.get('message_id')} on {published.get('topic')}"
        )
        self.show_push(str(published.get("message_id")))

    def print_status(self, chain: str = "") -> None:
        """End as an operator would: `vertex-triggers status`, then the scoring run's chain."""
        self.vertex_triggers(["--since", "1h"], "every run the routes made, by its labels; "
                             "a chained run under the run whose end launched it")  # fmt: skip
        if chain:
            print(flush=True)
            self.vertex_triggers(["--chain", chain], "one chain, from its first run")

    def vertex_triggers(self, options: list[str], what: str) -> None:
        """Run `vertex-triggers status OPTIONS` against the stack; print its table."""
        command = [str(VERTEX_TRIGGERS), "status", "--config", str(self.settings.triggers_config),
                   *options]  # fmt: skip
        self.say(f"$ vertex-triggers status {' '.join(options)}   ({what})")
        # Vertex AI for the runs, Cloud Storage for the routes' pauses (the config's `state`).
        env = {**os.environ, "VERTEX_AI_EMULATOR_HOST": self.endpoints.vertex_host,
               "STORAGE_EMULATOR_HOST": self.endpoints.storage_url}  # fmt: skip
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        print(result.stdout, end="", flush=True)
        if result.returncode != 0:
            self.unexpected.append(f"vertex-triggers status exited {result.returncode}: "
                                   f"{result.stderr.strip()}")  # fmt: skip

    def show_push(self, message_id: str) -> None:
        """Show the emulator's push of the message reaching on_drift_alert (the adapter's log)."""
        log = self.endpoints.logs / "eventarc-push.log"
        deadline = time.monotonic() + RUN_APPEARS_TIMEOUT
        while (pushed := forwarded_in_log(log, message_id)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the Pub/Sub emulator did not push message {message_id}")
            time.sleep(0.2)
        self.say(
            f"  Pub/Sub emulator pushed message {pushed.message_id} "
            f"({pushed.subscription}, delivery {pushed.attempt}) through the Eventarc adapter "
            f"to on_drift_alert: HTTP {pushed.status}"
        )


def run(settings: StackSettings, stopping: Callable[[], None] = lambda: None) -> int:
    """Run the demo; return the process exit code (``stopping`` is called before the cleanup)."""
    say = Console()
    reset_demo_state(settings.root)
    group = ProcessGroup(settings.root / "logs")
    try:
        say("starting: Pub/Sub emulator, storage emulator, Vertex AI emulator, the four "
            "functions, Eventarc push adapters, local bucket")
        endpoints = start_stack(group, settings)
        say(f"stack up (logs in {endpoints.logs.relative_to(REPO)})")
        demo = Demo(settings, endpoints, say)
        first = demo.data_arrives()
        scoring: Job | None = None
        if first["state"] == SUCCEEDED:
            scoring = demo.scoring_follows(first)
            demo.data_drifts()
            demo.no_scoring_after(demo.bad_data_arrives())
            demo.export_arrives()
            demo.sweep()
        print()
        print_table(demo.rows)
        print()
        demo.print_status(job_id(scoring) if scoring else "")
        if demo.unexpected or len(demo.rows) < 5:
            say(f"demo failed: {'; '.join(demo.unexpected) or 'a step did not run'}")
            return 1
        say("demo finished: every run ended as expected (the file without prices FAILED, "
            "as meant, and launched no scoring), the training run's end launched one scoring "
            "run with its model, and each end was reported")
        return 0
    except (StartupError, TimeoutError, RuntimeError, subprocess.CalledProcessError,
            requests.RequestException) as err:  # fmt: skip
        say(f"demo failed: {err}")
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        stopping()
        group.stop()
        say("stopped every process the demo started")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the command line (``--help`` prints this and starts nothing)."""
    parser = argparse.ArgumentParser(
        prog="python -m local.demo", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument(
        "--config", type=Path, default=Path(os.environ.get("TRIGGERS_CONFIG") or DEMO_CONFIG),
        help="a routes file of yours: each route triggered once (default: $TRIGGERS_CONFIG, "
        "else functions/triggers.yaml and the house-prices story)",
    )  # fmt: skip
    parser.add_argument(
        "--sample", type=Path,
        help="with --config: the file dropped where each object route watches",
    )  # fmt: skip
    parser.add_argument("--root", type=Path, help="where the stack keeps its files "
                        "(default: .demo; a routes file of yours: .demo/yours)")  # fmt: skip
    parser.add_argument(
        "--isolated", action="store_true",
        help="run each component in its own venv with only its packages_to_install",
    )  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, make SIGTERM stop it as Ctrl-C does (so cleanup runs), run the demo."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with stopped_by_signals() as stopping:
        if args.config.resolve() == DEMO_CONFIG:
            root = (args.root or DEMO_ROOT).resolve()
            return run(StackSettings(root=root, isolated=args.isolated), stopping)
        from local import routes_demo

        try:
            config = read_routes(args.config)
        except ConfigError as err:
            print(f"make demo: {err}", file=sys.stderr)
            return 1
        problem, _ = start_up_check(config)
        if problem:
            print(f"make demo: the functions would not start: {problem}", file=sys.stderr)
            return 1
        root = (args.root or DEMO_ROOT / "yours").resolve()
        reset_demo_state(root)
        settings = StackSettings.for_routes(root, args.config, isolated=args.isolated)
        return routes_demo.run(settings, config, args.sample, stopping)


if __name__ == "__main__":
    sys.exit(main())
