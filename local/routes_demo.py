"""`make demo CONFIG=...`: your routes once each, on the local stack.

Each object route gets the sample file (SAMPLE=) under its prefix, named with its suffix (a batch
route gets it as a part file, then what completes its folder); each drift route gets a canonical
alert its `match` takes, published to the Pub/Sub emulator; a run_ended route is not triggered
(its upstream's end launches it). Every run the demo triggers is followed to its end.
Exits 0 when every run SUCCEEDED, 1 otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import requests
from vertex_trigger.public import Config, EventKind, Route

from local.demo import RUN_APPEARS_TIMEOUT, RUN_FINISHES_TIMEOUT, SUCCEEDED, Console
from local.processes import ProcessGroup, StartupError
from local.progress import DecisionLog, Job, RunMonitor, job_id, short_state
from local.routes import example_of, routes_banner, upstream_ends
from local.stack import PYTHON, REPO, StackEndpoints, StackSettings, start_stack

SAMPLE_NAME = "demo-sample"


class RoutesDemo:
    """Trigger each route once against a running stack and follow its run."""

    def __init__(
        self, settings: StackSettings, endpoints: StackEndpoints, config: Config, say: Console
    ) -> None:
        self.settings = settings
        self.endpoints = endpoints
        self.config = config
        self.say = say
        self.monitor = RunMonitor(endpoints.vertex_url, settings.parent, say)
        logs = [endpoints.logs / "on_object_finalized.log", endpoints.logs / "on_drift_alert.log"]
        self.decisions = DecisionLog(logs, say)
        self.runs: list[tuple[str, Job]] = []

    def trigger(self, route: Route, sample: Path | None) -> None:
        """Trigger one route and follow its run; a route that cannot be triggered is said so."""
        if route.event is EventKind.RUN_ENDED:
            self.say(f"{route.name}: launched when {upstream_ends(route)} only, skipped")
        elif route.event is EventKind.DRIFT_ALERT:
            self.follow(route, lambda: self.send_alert(route))
        elif sample is None:
            self.say(f"{route.name}: no SAMPLE= file to drop, skipped")
        elif route.batch is not None and route.batch.rule.value == "quiet":
            self.say(f"{route.name}: a quiet batch is launched by the sweeper only, skipped")
        else:
            self.follow(route, lambda: self.drop(route, sample))

    def follow(self, route: Route, action: Callable[[], None]) -> None:
        known = {job["name"] for job in self.monitor.jobs()}
        action()
        job = self.monitor.wait_for_new_run(known, RUN_APPEARS_TIMEOUT, self.decisions)
        job = self.monitor.wait_until_done(job["name"], RUN_FINISHES_TIMEOUT, self.decisions)
        self.decisions()
        self.runs.append((route.name, job))

    def drop(self, route: Route, sample: Path) -> None:
        """Copy the sample where the route watches (a batch: a part file, then completion)."""
        folder = f"{self.settings.buckets / route.bucket}/{route.prefix}"  # a prefix may be a/b-
        if route.batch is None:
            target = Path(f"{folder}{SAMPLE_NAME}{route.suffix}")
            self.say(f"{route.name}: dropping {sample} as gs://{route.bucket}/"
                     f"{route.prefix}{SAMPLE_NAME}{route.suffix}")  # fmt: skip
            _copy(sample, target)
            return
        batch = Path(f"{folder}{SAMPLE_NAME}")
        count = max(1, route.batch.min_objects)
        for part in range(count):
            _copy(sample, batch / f"part-{part:05d}{route.suffix}")
        self.say(f"{route.name}: {count} part file(s) in gs://{route.bucket}/{route.prefix}"
                 f"{SAMPLE_NAME}/")  # fmt: skip
        if route.batch.control:
            # The marker (or manifest) must land after the parts, as a writer's would.
            self.decisions()
            marker = batch / route.batch.control
            names = [
                f"{route.prefix}{SAMPLE_NAME}/part-{p:05d}{route.suffix}" for p in range(count)
            ]
            marker.write_text("\n".join(names) + "\n")

    def send_alert(self, route: Route) -> None:
        """Publish a canonical alert the route's `match` takes (local.send_alert)."""
        fallback = f"projects/{self.config.project}/locations/{self.config.region}/models/my-model"
        model = example_of(route.match.get("model", "*"), fallback)
        deviation = max(0.5, (route.min_deviation or 0.0) + 0.1)
        command = [PYTHON, "-m", "local.send_alert", "--emulator", self.endpoints.pubsub_host,
                   "--topic", self.settings.topic, "--model", model,
                   "--feature", f"demo_feature={deviation:g}"]  # fmt: skip
        for key, glob in route.policy_labels.items():
            command += ["--form", "incident", "--label", f"{key}={example_of(glob, 'x')}"]
        self.say(f"{route.name}: sending a drift alert for {model}")
        subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True)


def _copy(sample: Path, target: Path) -> None:
    """Copy through a hidden name, so the local bucket fires once, for the whole file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    hidden = target.with_name(f".{target.name}")
    shutil.copyfile(sample, hidden)
    hidden.replace(target)


def run(
    settings: StackSettings,
    config: Config,
    sample: Path | None,
    stopping: Callable[[], None],
) -> int:
    """Run every route of ``config`` once; return the exit code."""
    say = Console()
    group = ProcessGroup(settings.root / "logs")
    try:
        say(f"starting the local stack with {config.path}")
        endpoints = start_stack(group, settings)
        print(routes_banner(config, settings.buckets, endpoints.pubsub_host), flush=True)
        demo = RoutesDemo(settings, endpoints, config, say)
        for route in config.routes:
            demo.trigger(route, sample)
        print()
        for route, job in demo.runs:
            print(f"{route:<24} {job_id(job):<40} {short_state(job['state'])}")
        failed = [job_id(job) for _, job in demo.runs if job["state"] != SUCCEEDED]
        if failed or not demo.runs:
            say(f"demo failed: {', '.join(failed) or 'no run was launched'}")
            return 1
        say(f"demo finished: {len(demo.runs)} run(s) SUCCEEDED")
        return 0
    except (StartupError, TimeoutError, subprocess.CalledProcessError,
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
