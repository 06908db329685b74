"""`make up`: start the local stack and keep it running until Ctrl-C, printing how to use it."""

from __future__ import annotations

import signal
import sys
import time

from local.outcome_feed import OutcomeFeed
from local.processes import ProcessGroup, StartupError
from local.progress import DecisionLog, RunMonitor
from local.pubsub_rest import PubsubRest
from local.stack import REPO, StackEndpoints, StackSettings, start_stack

DEMO_ROOT = REPO / ".demo"


def usage(settings: StackSettings, endpoints: StackEndpoints) -> str:
    """Return the how-to printed once the stack is up."""
    incoming = (settings.buckets / "local-data" / "incoming").relative_to(REPO)
    exports = (settings.buckets / "local-data" / "exports" / "day-1").relative_to(REPO)
    scoring = (settings.buckets / "local-data" / "scoring" / "houses.csv").relative_to(REPO)
    pubsub, states, outcomes = settings.pubsub, settings.run_states, settings.outcomes
    pull = (
        f"curl -s -X POST -H 'content-type: application/json' -d '{{\"maxMessages\": 10}}' "
        f"http://{endpoints.pubsub_host}/v1/{pubsub.dead_letter_subscription}:pull"
    )
    return f"""
stack is up (logs in {endpoints.logs.relative_to(REPO)}, Ctrl-C stops everything)
  Vertex AI emulator   {endpoints.vertex_url}   (VERTEX_AI_EMULATOR_HOST={endpoints.vertex_host})
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
    on_run_state's outcomes -> {outcomes.topic} -> pull subscription {outcomes.subscription}
      (printed below as they arrive)

drop a file (the prices-arrival route watches gs://local-data/incoming/*.csv):
  .venv/bin/python -m pipelines.synthetic --rows 400 --seed 1 --out {incoming}/prices-0002.csv
  (each training run that succeeds launches a scoring run, score-after-train, which scores
  gs://local-data/scoring/houses.csv: write it first)
  .venv/bin/python -m pipelines.synthetic --rows 50 --seed 5 --out {scoring}
send a drift alert (the prices-drift route retrains on gs://local-data/training/latest.csv):
  .venv/bin/python -m pipelines.synthetic --rows 400 --seed 2 --shift 0.5 \\
      --out {(settings.buckets / "local-data" / "training" / "latest.csv").relative_to(REPO)}
  PUBSUB_EMULATOR_HOST={endpoints.pubsub_host} .venv/bin/python -m local.send_alert \\
      --model projects/local-project/locations/us-central1/models/house-prices --feature sqft=0.5
  (one retraining per model per hour: a second alert within the route's cooldown is a duplicate)
write an export (the prices-export route trains once per folder, when _SUCCESS lands):
  .venv/bin/python -m pipelines.synthetic --rows 200 --seed 3 --out {exports}/part-00000.csv
  .venv/bin/python -m pipelines.synthetic --rows 200 --seed 4 --out {exports}/part-00001.csv
  echo > {exports}/_SUCCESS       (write the marker last: the batch is complete once it exists)
run the sweeper (Cloud Scheduler calls it in production):
  curl -s -X POST {endpoints.sweep_url}
the operator's command line (docs/cli.md), with this stack's emulators:
  export VERTEX_AI_EMULATOR_HOST={endpoints.vertex_host} \\
      STORAGE_EMULATOR_HOST={endpoints.storage_url} PUBSUB_EMULATOR_HOST={endpoints.pubsub_host}
  .venv/bin/vertex-triggers status --watch               (the runs, by their trigger labels)
  .venv/bin/vertex-triggers status --chain JOB            (one chain of runs, from its first)
  .venv/bin/vertex-triggers explain JOB --check-vertex    (what a run's end launches)
  .venv/bin/vertex-triggers explain gs://local-data/incoming/prices-0002.csv
  .venv/bin/vertex-triggers backfill --route prices-arrival --dry-run
  .venv/bin/vertex-triggers replay --subscription {pubsub.dead_letter_subscription} --dry-run
pause a route, drop a file while it is paused (its event is skipped), then resume it:
  .venv/bin/vertex-triggers pause prices-arrival --reason "trying pause"
  .venv/bin/python -m pipelines.synthetic --rows 400 --seed 5 --out {incoming}/prices-0003.csv
  .venv/bin/vertex-triggers status                       (shows the paused route)
  .venv/bin/vertex-triggers resume prices-arrival --catch-up   (launches prices-0003.csv once)
  (or --skip-missed: nothing that arrived while paused is launched, now or by the sweeper)
run a job again under a new id (JOB from `status`; --dry-run prints the request, creates nothing):
  .venv/bin/vertex-triggers rerun JOB --dry-run
  .venv/bin/vertex-triggers rerun JOB
read dead letters (pulled, not acknowledged):
  {pull}
"""


def main() -> int:
    """Start the stack, print usage, then report runs and decisions until interrupted."""
    # Ctrl-C and SIGTERM both unwind through `finally`, which stops every process; SIGINT is set
    # explicitly because a shell starting us in the background leaves it ignored.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    settings = StackSettings(root=DEMO_ROOT)
    group = ProcessGroup(settings.root / "logs")
    try:
        endpoints = start_stack(group, settings)
        print(usage(settings, endpoints), flush=True)
        monitor = RunMonitor(endpoints.vertex_url, settings.parent)
        decisions = DecisionLog(
            [endpoints.logs / "on_object_finalized.log", endpoints.logs / "on_drift_alert.log"]
        )
        outcomes = OutcomeFeed(PubsubRest(endpoints.pubsub_host), settings.outcomes.subscription)
        monitor.poll()  # runs kept from an earlier session are shown once
        while True:
            for service in group.services:
                service.check_alive()
            decisions()
            monitor.poll()
            outcomes()
            time.sleep(0.5)
    except StartupError as err:
        print(f"stack failed: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        group.stop()
        print("stopped every process of the stack", flush=True)


if __name__ == "__main__":
    sys.exit(main())
