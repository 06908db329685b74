"""Follow runs on the Vertex AI emulator and the functions' decision lines; print what changes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.vertex_emulator_client import VertexEmulatorClient

Job = dict[str, Any]
FINAL_STATES = {"PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED", "PIPELINE_STATE_CANCELLED"}


def short_state(state: str) -> str:
    """PIPELINE_STATE_RUNNING -> RUNNING."""
    return state.removeprefix("PIPELINE_STATE_")


def job_id(job: Job) -> str:
    """Return the last segment of a job's resource name."""
    return job["name"].rsplit("/", 1)[-1]


def task_states(job: Job) -> dict[str, str]:
    """Return task name -> state, without the root (pipeline) task."""
    details = job.get("jobDetail", {}).get("taskDetails", [])
    return {t["taskName"]: t["state"] for t in details if "parentTaskId" in t}


@dataclass
class RunMonitor:
    """Poll the emulator's list of runs; report new runs, state changes and task changes."""

    vertex_url: str
    parent: str
    say: Callable[[str], None] = print
    _seen: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

    def jobs(self) -> list[Job]:
        """Return every run under the parent, oldest first (all pages: `make up` keeps runs)."""
        project, _, region = self.parent.removeprefix("projects/").partition("/locations/")
        client = VertexEmulatorClient(self.vertex_url, project, region)
        return client.list_runs(order_by="create_time")

    def poll(self) -> list[Job]:
        """Fetch runs once and print what changed since the last poll."""
        jobs = self.jobs()
        for job in jobs:
            self._report(job)
        return jobs

    def _report(self, job: Job) -> None:
        """Print a run's state change and the tasks that changed state."""
        state, tasks = short_state(job["state"]), task_states(job)
        old_state, old_tasks = self._seen.get(job["name"], ("", {}))
        if job["name"] not in self._seen:
            labels = job.get("labels", {})
            self.say(f"  run {job_id(job)} created by {labels.get('trigger-route', '?')} "
                     f"({labels.get('trigger-kind', '?')})")  # fmt: skip
        for task, task_state in tasks.items():
            if old_tasks.get(task) != task_state:
                self.say(f"  run {job_id(job)}: task {task} {task_state}")
        if state != old_state:
            message = f"  run {job_id(job)}: {job['state']}"
            if job.get("error"):
                message += f" ({job['error'].get('message', '')})"
            self.say(message)
        self._seen[job["name"]] = (state, tasks)

    def wait_for_new_run(self, known: set[str], timeout: float, tick: Callable[[], None]) -> Job:
        """Wait until a run not in `known` exists; return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for job in self.poll():
                if job["name"] not in known:
                    return job
            tick()
            time.sleep(0.3)
        raise TimeoutError(f"no new run appeared within {timeout:.0f}s")

    def wait_until_done(self, name: str, timeout: float, tick: Callable[[], None]) -> Job:
        """Wait until the run reaches a final state; return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for job in self.poll():
                if job["name"] == name and job["state"] in FINAL_STATES:
                    return job
            tick()
            time.sleep(0.3)
        raise TimeoutError(f"run {name} did not finish within {timeout:.0f}s")


@dataclass
class DecisionLog:
    """Follow the functions' structured log files and print each decision line once."""

    paths: list[Path]
    say: Callable[[str], None] = print
    # Which lines of which function to print (default: all); every line is still returned.
    shown: Callable[[str, dict[str, Any]], bool] = lambda function, entry: True
    _offsets: dict[Path, int] = field(default_factory=dict)

    def __call__(self) -> list[dict[str, Any]]:
        """Print and return the decision lines written since the last call."""
        entries = []
        for path in self.paths:
            for entry in self._new_entries(path):
                entries.append(entry)
                if self.shown(path.stem, entry):
                    self.say(_describe(path.stem, entry))
        return entries

    def _new_entries(self, path: Path) -> list[dict[str, Any]]:
        """Read complete new lines and keep the JSON ones that carry a decision."""
        if not path.exists():
            return []
        with path.open("rb") as handle:
            handle.seek(self._offsets.get(path, 0))
            chunk = handle.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offsets[path] = self._offsets.get(path, 0) + len(complete)
        entries = []
        for line in complete.decode(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and "decision" in entry:
                entries.append(entry)
        return entries


def _describe(function: str, entry: dict[str, Any]) -> str:
    """Format one decision line for the console."""
    text = f"  {function}: {entry['decision']}"
    if entry.get("job"):
        text += f" {entry['job'].rsplit('/', 1)[-1]}"
    if entry.get("reason"):
        text += f" ({entry['reason']})"
    return text
