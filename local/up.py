"""`make up`: start the local stack with a routes file and keep it running until stopped.

Prints what each route watches and how to trigger it; Ctrl-C and SIGTERM stop every process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from vertex_trigger.public import Config, ConfigError

from local.function_server import FUNCTIONS_DIR
from local.outcome_feed import OutcomeFeed
from local.processes import ProcessGroup, StartupError, stopped_by_signals
from local.progress import DecisionLog, RunMonitor
from local.pubsub_rest import PubsubRest
from local.routes import read_routes, routes_banner, start_up_check
from local.stack import REPO, StackEndpoints, StackSettings, start_stack

DEMO_ROOT = REPO / ".demo"
DEMO_CONFIG = (FUNCTIONS_DIR / "triggers.yaml").resolve()


def usage(settings: StackSettings, endpoints: StackEndpoints, config: Config) -> str:
    """Return the how-to printed once the stack is up: the services, then each route's trigger."""
    pubsub, states, outcomes = settings.pubsub, settings.run_states, settings.outcomes
    pull = (
        f"curl -s -X POST -H 'content-type: application/json' -d '{{\"maxMessages\": 10}}' "
        f"http://{endpoints.pubsub_host}/v1/{pubsub.dead_letter_subscription}:pull"
    )
    outcome_lines = (
        f"    on_run_state's outcomes -> {outcomes.topic} -> pull subscription "
        f"{outcomes.subscription}\n      (printed below as they arrive)"
        if outcomes
        else "    (the routes set no outcomes_topic: on_run_state publishes no outcomes)"
    )
    isolated = " (each component in its own venv)" if settings.isolated else ""
    return f"""
stack is up (logs in {shown(endpoints.logs)}, Ctrl-C or SIGTERM stops everything)
  Vertex AI emulator   {endpoints.vertex_url}{isolated}
    (VERTEX_AI_EMULATOR_HOST={endpoints.vertex_host})
  storage emulator     {endpoints.storage_url}
  on_object_finalized  {endpoints.object_function_url}
  on_drift_alert       {endpoints.drift_function_url}
  on_run_state         {endpoints.run_state_function_url}
  sweep                {endpoints.sweep_url}   (POST: launch what events missed)
  Pub/Sub emulator     {endpoints.pubsub_host}   (PUBSUB_EMULATOR_HOST={endpoints.pubsub_host})
    topic {pubsub.topic} -> push subscription {pubsub.push_subscription}
      -> Eventarc adapter {endpoints.push_adapter_url} -> on_drift_alert
    after {pubsub.max_delivery_attempts} failed pushes -> {pubsub.dead_letter_topic}
      -> pull subscription {pubsub.dead_letter_subscription}
    Vertex AI emulator's run state entries -> {states.topic}
      -> push subscription {states.push_subscription}
      -> Eventarc adapter {endpoints.run_state_adapter_url} -> on_run_state
{outcome_lines}

{routes_banner(config, settings.buckets, endpoints.pubsub_host)}
  (a bucket is the folder {shown(settings.buckets)}/BUCKET: a file written there is a new object)
{demo_data(settings) if settings.triggers_config == DEMO_CONFIG else ""}
run the sweeper (Cloud Scheduler calls it in production):
  curl -s -X POST {endpoints.sweep_url}
the operator's command line (docs/cli.md), with this stack's emulators:
  export VERTEX_AI_EMULATOR_HOST={endpoints.vertex_host} \\
      STORAGE_EMULATOR_HOST={endpoints.storage_url} PUBSUB_EMULATOR_HOST={endpoints.pubsub_host}
  .venv/bin/vertex-triggers status --config {shown(settings.triggers_config)} --watch
  .venv/bin/vertex-triggers status --config {shown(settings.triggers_config)} --chain JOB
      (one chain of runs, from its first: run_ended routes)
  .venv/bin/vertex-triggers explain --config {shown(settings.triggers_config)} gs://BUCKET/OBJECT
  .venv/bin/vertex-triggers explain --config {shown(settings.triggers_config)} JOB --check-vertex
      (what a run's end launches)
pause a route (its events are skipped while paused; needs the routes file's `state`), resume it:
  .venv/bin/vertex-triggers pause --config {shown(settings.triggers_config)} ROUTE \\
      --reason "trying pause"
  .venv/bin/vertex-triggers resume --config {shown(settings.triggers_config)} ROUTE --catch-up
  (--catch-up launches once each object that arrived while paused; --skip-missed launches none)
run a job again under a new id (JOB from `status`; --dry-run prints the request, creates nothing):
  .venv/bin/vertex-triggers rerun --config {shown(settings.triggers_config)} JOB --dry-run
read dead letters (pulled, not acknowledged):
  {pull}
"""


def demo_data(settings: StackSettings) -> str:
    """Return the demo's own data commands (functions/triggers.yaml's house-prices routes)."""
    incoming = shown(settings.buckets / "local-data" / "incoming")
    exports = shown(settings.buckets / "local-data" / "exports" / "day-1")
    training = shown(settings.buckets / "local-data" / "training" / "latest.csv")
    scoring = shown(settings.buckets / "local-data" / "scoring" / "houses.csv")
    return f"""
with the demo's data (house prices from pipelines.synthetic):
  .venv/bin/python -m pipelines.synthetic --rows 400 --seed 1 --out {incoming}/prices-0002.csv
    (each training run that succeeds launches a scoring run, score-after-train, which scores
    gs://local-data/scoring/houses.csv: write it first)
  .venv/bin/python -m pipelines.synthetic --rows 50 --seed 5 --out {scoring}
  .venv/bin/python -m pipelines.synthetic --rows 400 --seed 2 --shift 0.5 --out {training}
    (then send the alert above: prices-drift retrains on it, once per model per hour)
  .venv/bin/python -m pipelines.synthetic --rows 200 --seed 3 --out {exports}/part-00000.csv
  echo > {exports}/_SUCCESS       (write the marker last: the batch is complete once it exists)
"""


def shown(path: Path) -> str:
    """Return a path relative to the working directory when it lies below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the command line (``--help`` prints this and starts nothing)."""
    parser = argparse.ArgumentParser(
        prog="python -m local.up",
        description="`make up`: start the local stack with a routes file and keep it running "
        "until Ctrl-C or SIGTERM, printing what each route watches and how to trigger it.",
    )
    parser.add_argument(
        "--config", type=Path,
        default=Path(os.environ.get("TRIGGERS_CONFIG") or DEMO_CONFIG),
        help="the routes file (default: $TRIGGERS_CONFIG, else functions/triggers.yaml)",
    )  # fmt: skip
    parser.add_argument(
        "--root", type=Path, default=DEMO_ROOT,
        help="where the stack keeps runs, buckets and logs (default: .demo)",
    )  # fmt: skip
    parser.add_argument(
        "--isolated", action="store_true",
        help="run each component in its own venv with only its packages_to_install (slower; "
        "catches a missing package as Vertex AI would)",
    )  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the stack, print usage, then report runs and decisions until interrupted."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = read_routes(args.config)
    except ConfigError as err:
        print(f"make up: {err}", file=sys.stderr)
        return 1
    problem, warnings = start_up_check(config)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if problem:
        print(f"make up: the functions would not start: {problem}", file=sys.stderr)
        return 1
    settings = StackSettings.for_routes(args.root.resolve(), args.config, isolated=args.isolated)
    with stopped_by_signals() as stopping:
        group = ProcessGroup(settings.root / "logs")
        try:
            endpoints = start_stack(group, settings)
            print(usage(settings, endpoints, config), flush=True)
            watch(group, settings, endpoints)
        except StartupError as err:
            print(f"stack failed: {err}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 0
        finally:
            stopping()
            group.stop()
            print("stopped every process of the stack", flush=True)
    return 0


def watch(group: ProcessGroup, settings: StackSettings, endpoints: StackEndpoints) -> None:
    """Report runs, decisions and outcomes until interrupted (or a service dies)."""
    monitor = RunMonitor(endpoints.vertex_url, settings.parent)
    decisions = DecisionLog(
        [endpoints.logs / "on_object_finalized.log", endpoints.logs / "on_drift_alert.log"]
    )
    feed = None
    if settings.outcomes is not None:
        feed = OutcomeFeed(PubsubRest(endpoints.pubsub_host), settings.outcomes.subscription)
    monitor.poll()  # runs kept from an earlier session are shown once
    while True:
        for service in group.services:
            service.check_alive()
        decisions()
        monitor.poll()
        if feed is not None:
            feed()
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
