"""Job and request records kept in memory and mirrored to a state folder (survives restarts)."""

from __future__ import annotations

import copy
import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Job = dict[str, Any]
StateObserver = Callable[[Job], None]


def now_rfc3339() -> str:
    """Return the current UTC time as RFC 3339 with microseconds (sortable as text)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_json_atomically(path: Path, data: Any) -> None:
    """Write JSON so a reader (or a crash) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


# What a state observer sees of a job: everything but the spec and the task details.
OUTLINE_FIELDS = ("name", "displayName", "state", "labels", "createTime", "startTime", "endTime",
                  "updateTime", "error")  # fmt: skip


def _outline(job: Job) -> Job:
    """Return a copy of a job's outline fields (cheap: the spec can be megabytes)."""
    return copy.deepcopy({key: job[key] for key in OUTLINE_FIELDS if key in job})


class JobStore:
    """Thread-safe PipelineJob records, one JSON file per job under `state_dir/jobs`."""

    def __init__(self, state_dir: Path, on_state_change: StateObserver | None = None) -> None:
        self.state_dir = Path(state_dir)
        # Called with the job's outline (no spec) after each state change, creation included,
        # outside the lock: the observer may be slow (it publishes the job's log entry).
        self.on_state_change = on_state_change
        self.jobs_dir = self.state_dir / "jobs"
        self.requests_path = self.state_dir / "requests.jsonl"
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._load()

    def _load(self) -> None:
        """Read every stored job back into memory."""
        for path in sorted(self.jobs_dir.glob("**/*.json")):
            job = json.loads(path.read_text())
            self._jobs[job["name"]] = job

    def _path(self, name: str) -> Path:
        """Map a resource name to its file."""
        return self.jobs_dir / (name.replace("/", "~") + ".json")

    def insert(self, job: Job) -> bool:
        """Store a new job; return False when the name is taken."""
        with self._lock:
            if job["name"] in self._jobs:
                return False
            self._jobs[job["name"]] = job
            write_json_atomically(self._path(job["name"]), job)
            created = _outline(job)
        self._state_changed(created)
        return True

    def get(self, name: str) -> Job | None:
        """Return a copy of one job, or None."""
        with self._lock:
            job = self._jobs.get(name)
            return copy.deepcopy(job) if job is not None else None

    def update(self, name: str, change: Callable[[Job], None]) -> Job:
        """Apply `change` to a job under the lock, stamp updateTime, persist, return a copy."""
        with self._lock:
            job = self._jobs[name]
            before = job.get("state")
            change(job)
            job["updateTime"] = now_rfc3339()
            write_json_atomically(self._path(name), job)
            changed = copy.deepcopy(job)
        if changed.get("state") != before:
            self._state_changed(_outline(changed))
        return changed

    def _state_changed(self, job: Job) -> None:
        if self.on_state_change is not None:
            self.on_state_change(job)

    def list(
        self,
        parent: str,
        keep: Callable[[Job], bool] = lambda job: True,
        pick: Callable[[list[Job]], list[Job]] = lambda jobs: jobs,
    ) -> list[Job]:
        """Return copies of the jobs under a parent that `keep` accepts and `pick` chooses."""
        prefix = parent + "/pipelineJobs/"
        with self._lock:
            # Filter, order and page before copying: copying every stored spec made list slow.
            kept = [j for name, j in self._jobs.items() if name.startswith(prefix) and keep(j)]
            return [copy.deepcopy(job) for job in pick(kept)]

    def delete(self, name: str) -> None:
        """Forget one job (its run folder stays: outputs are not the job record)."""
        with self._lock:
            self._jobs.pop(name, None)
            self._path(name).unlink(missing_ok=True)

    def names_in_states(self, states: set[str]) -> list[str]:
        """Return names of jobs in any of `states`, oldest first."""
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.get("state") in states]
            return [j["name"] for j in sorted(jobs, key=lambda j: j["createTime"])]

    def record_request(self, entry: dict[str, Any]) -> None:
        """Append one create request to the request log."""
        with self._lock:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            with self.requests_path.open("a") as out:
                out.write(json.dumps(entry) + "\n")

    def requests(self) -> list[dict[str, Any]]:
        """Return the create requests received, in order."""
        with self._lock:
            if not self.requests_path.exists():
                return []
            return [json.loads(line) for line in self.requests_path.read_text().splitlines()]

    def reset(self) -> None:
        """Forget every job and request."""
        with self._lock:
            for name in list(self._jobs):
                self._path(name).unlink(missing_ok=True)
            self._jobs.clear()
            self.requests_path.unlink(missing_ok=True)
