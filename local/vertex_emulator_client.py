"""Talk to a running Vertex AI emulator: the v1 list and get API and its /emulator/ controls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests


@dataclass
class VertexEmulatorClient:
    """The emulator at `url`, seen from one project and region."""

    url: str
    project: str
    region: str = "us-central1"

    @property
    def host(self) -> str:
        """Return host:port, the value for VERTEX_AI_EMULATOR_HOST."""
        return self.url.removeprefix("http://")

    @property
    def jobs_url(self) -> str:
        """Return the pipelineJobs collection of the project and region."""
        return f"{self.url}/v1/projects/{self.project}/locations/{self.region}/pipelineJobs"

    def add_fault(self, fault: dict[str, Any]) -> None:
        """Queue a fault (`{"kind": "status"|"hang", ...}`) for the next creates."""
        requests.post(f"{self.url}/emulator/faults", json=fault, timeout=10).raise_for_status()

    def set_create_quota(
        self, creates_per_minute: int, retry_info: bool = False, window_seconds: float = 60.0
    ) -> None:
        """Answer 429 RESOURCE_EXHAUSTED beyond `creates_per_minute` creates per region."""
        quota = {"creates_per_minute": creates_per_minute, "retry_info": retry_info,
                 "window_seconds": window_seconds}  # fmt: skip
        requests.post(f"{self.url}/emulator/quota", json=quota, timeout=10).raise_for_status()

    def clear_create_quota(self) -> None:
        """Let creates through without a quota again (the default)."""
        requests.delete(f"{self.url}/emulator/quota", timeout=10).raise_for_status()

    def fail_task(self, task: str, count: int = 1, message: str = "") -> None:
        """Make the next `count` runs that have task `task` fail it (an executing emulator)."""
        fault: dict[str, Any] = {"task": task, "count": count}
        if message:
            fault["message"] = message
        requests.post(f"{self.url}/emulator/task-faults", json=fault, timeout=10).raise_for_status()

    def set_clock_scale(self, scale: float) -> None:
        """Report times so that durations look `scale` times longer (1: as they are)."""
        body = {"scale": scale}
        requests.post(f"{self.url}/emulator/clock", json=body, timeout=10).raise_for_status()

    def clear_faults(self) -> None:
        """Drop every queued fault (creates, cancels, lists and tasks)."""
        requests.delete(f"{self.url}/emulator/faults", timeout=10).raise_for_status()

    def requests_received(self) -> list[dict[str, Any]]:
        """Return every create request received, in order."""
        response = requests.get(f"{self.url}/emulator/requests", timeout=30)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        """Forget every job and request."""
        requests.post(f"{self.url}/emulator/reset", timeout=10).raise_for_status()

    def list_runs(
        self, filter_: str = "", page_size: int = 1000, order_by: str = ""
    ) -> list[dict[str, Any]]:
        """List every PipelineJob through the Vertex v1 list API, following page tokens."""
        jobs: list[dict[str, Any]] = []
        token = ""
        while True:
            params = {"filter": filter_, "orderBy": order_by, "pageSize": page_size,
                      "pageToken": token}  # fmt: skip
            response = requests.get(self.jobs_url, params=params, timeout=60)
            response.raise_for_status()
            page = response.json()
            jobs.extend(page.get("pipelineJobs", []))
            token = page.get("nextPageToken", "")
            if not token:
                return jobs

    def end_run(
        self,
        job_id: str,
        state: str,
        message: str = "",
        tasks: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """End a run of a `--no-execute` emulator in `state` (FAILED with `message` as error).

        `tasks`: `[{"taskName", "outputs": {"parameters": {...}, "artifacts": {NAME: [{"uri",
        "schemaTitle", "metadata"}]}}}]`, shown as the run's task details with their outputs.
        """
        name = f"projects/{self.project}/locations/{self.region}/pipelineJobs/{job_id}"
        body: dict[str, Any] = {"name": name, "state": state, "message": message}
        if tasks is not None:
            body["tasks"] = tasks
        response = requests.post(f"{self.url}/emulator/state", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def get_run(self, job_id: str) -> dict[str, Any]:
        """Return one PipelineJob by id."""
        response = requests.get(f"{self.jobs_url}/{job_id}", timeout=10)
        response.raise_for_status()
        return response.json()
