"""Run pending PipelineJobs one at a time, each in a kfp.local subprocess, updating their state."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from local.vertex_emulator.store import JobStore, now_rfc3339, write_json_atomically
from local.vertex_emulator.task_details import FAILED_PRECONDITION, job_detail
from local.vertex_emulator.task_faults import TaskFaults

REPO_ROOT = Path(__file__).resolve().parents[2]
POLL_SECONDS = 0.2
ACTIVE = {"PIPELINE_STATE_QUEUED", "PIPELINE_STATE_PENDING", "PIPELINE_STATE_RUNNING"}
RUNNABLE = {"PIPELINE_STATE_PENDING", "PIPELINE_STATE_CANCELLING"}


class PipelineExecutor:
    """A worker thread that executes queued jobs in order; cancel kills the running subprocess."""

    def __init__(
        self,
        store: JobStore,
        runs_dir: Path,
        task_faults: TaskFaults | None = None,
        *,
        isolated: bool = False,
    ) -> None:
        self.store = store
        self.runs_dir = Path(runs_dir)
        self.task_faults = task_faults or TaskFaults()
        self.isolated = isolated  # each component in its own venv (kfp.local's use_venv)
        self._queue: queue.Queue[str] = queue.Queue()
        self._stop = threading.Event()
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._work, name="vertex-emulator-executor", daemon=True
        )

    def start(self) -> None:
        """Re-queue jobs left unfinished by a previous emulator process, then start working."""
        recover_interrupted(self.store)
        for name in self.store.names_in_states(ACTIVE):
            self._queue.put(name)
        self._thread.start()

    def submit(self, name: str) -> None:
        """Queue a newly created job."""
        self._queue.put(name)

    def cancel(self, name: str) -> None:
        """Ask for a running job to be killed (a queued one is skipped when its turn comes)."""
        with self._lock:
            self._cancelled.add(name)

    def stop(self) -> None:
        """Stop the worker, killing a run in progress (it is re-queued on the next start)."""
        self._stop.set()
        self._thread.join(timeout=10)

    def _is_cancelled(self, name: str) -> bool:
        with self._lock:
            return name in self._cancelled

    def _work(self) -> None:
        """Take jobs off the queue until stopped."""
        while not self._stop.is_set():
            try:
                name = self._queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            job = self.store.get(name)
            if job is None or job["state"] not in RUNNABLE:
                continue
            if self._is_cancelled(name) or job["state"] == "PIPELINE_STATE_CANCELLING":
                self.store.update(name, mark_cancelled)
                continue
            self._execute(job)

    def _execute(self, job: dict[str, Any]) -> None:
        """Run one job to its end state."""
        name = job["name"]
        if "pipelineSpec" not in job:
            error = _template_error(job)
            self.store.update(name, lambda j: _finish(j, "PIPELINE_STATE_FAILED", [], error))
            return
        run_dir = self.runs_dir / name.replace("/", "~")
        faults = self.task_faults.take_for(job["pipelineSpec"])
        _prepare_run_dir(run_dir, job, faults, self.isolated)
        self.store.update(name, _mark_running)
        process = _spawn(run_dir)
        outcome = self._watch(name, process, run_dir)
        tasks = _read_tasks(run_dir)
        # A cancel that came while the run was finishing discards its result: the run was
        # cancelled mid-run, as the caller asked, whatever it had just written.
        if outcome == "cancelled" or (outcome == "finished" and self._is_cancelled(name)):
            self.store.update(name, lambda j: _finish(j, "PIPELINE_STATE_CANCELLED", tasks, None))
        elif outcome == "stopped":
            self.store.update(name, _reset_to_pending)
        else:
            result = _read_json(run_dir / "result.json") or {"state": "FAILED", "failedTasks": []}
            state = f"PIPELINE_STATE_{result['state']}"
            error = None if result["state"] == "SUCCEEDED" else _run_error(result, tasks)
            self.store.update(name, lambda j: _finish(j, state, tasks, error))

    def _watch(self, name: str, process: subprocess.Popen, run_dir: Path) -> str:
        """Mirror task progress into the job until the process ends, is cancelled, or we stop."""
        seen: list[dict[str, Any]] | None = None
        while True:
            finished = process.poll() is not None
            tasks = _read_tasks(run_dir)
            if tasks != seen:
                seen = tasks
                self.store.update(name, lambda j, t=tasks: _show_progress(j, t))
            if finished:
                return "finished"
            if self._is_cancelled(name) or self._stop.is_set():
                _kill(process)
                return "cancelled" if self._is_cancelled(name) else "stopped"
            self._stop.wait(POLL_SECONDS)


def recover_interrupted(store: JobStore) -> None:
    """After a restart nothing is running: cancelling jobs end CANCELLED, running ones PENDING."""
    for name in store.names_in_states({"PIPELINE_STATE_CANCELLING"}):
        store.update(name, mark_cancelled)
    for name in store.names_in_states({"PIPELINE_STATE_RUNNING"}):
        store.update(name, _reset_to_pending)


def _prepare_run_dir(
    run_dir: Path, job: dict[str, Any], fail_tasks: dict[str, str], isolated: bool = False
) -> None:
    """Write the request the subprocess reads, clearing leftovers of an interrupted attempt.

    `fail_tasks` (task name -> message) are the task faults this run took: it fails them.
    """
    for leftover in ("progress.json", "result.json"):
        (run_dir / leftover).unlink(missing_ok=True)
    request = {
        "pipelineSpec": job["pipelineSpec"],
        "parameterValues": job.get("runtimeConfig", {}).get("parameterValues", {}),
        "failTasks": fail_tasks,
        "isolated": isolated,
    }
    write_json_atomically(run_dir / "request.json", request)


def _spawn(run_dir: Path) -> subprocess.Popen:
    """Start the kfp.local runner in its own session (so a cancel kills its whole tree).

    It runs in the emulator's working directory, so relative paths in parameters (a local model
    registry, say) mean the same thing in every run.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    log = (run_dir / "log.txt").open("w")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "local.vertex_emulator.run_pipeline", str(run_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    finally:
        log.close()


def _kill(process: subprocess.Popen) -> None:
    """Kill the runner and every task process it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _read_json(path: Path) -> Any:
    """Read a JSON file the subprocess wrote atomically, or None if it is not there yet."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def _read_tasks(run_dir: Path) -> list[dict[str, Any]]:
    """Return the task records reported so far."""
    progress = _read_json(run_dir / "progress.json") or {}
    return progress.get("tasks", [])


def _run_error(result: dict[str, Any], tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """Describe a failed run the way Vertex does: the failed tasks, then their last log lines."""
    failed = result.get("failedTasks") or []
    if not failed:
        return {"code": FAILED_PRECONDITION, "message": result.get("message", "The run failed.")}
    reasons = "; ".join(f"{t['taskName']}: {t['reason']}" for t in tasks if t.get("reason"))
    message = (
        f"The DAG failed because some tasks failed. The failed tasks are: [{', '.join(failed)}]."
    )
    return {"code": FAILED_PRECONDITION, "message": f"{message} {reasons}".strip()}


def _template_error(job: dict[str, Any]) -> dict[str, Any]:
    """Explain why a templateUri-only job cannot run here."""
    return {
        "code": FAILED_PRECONDITION,
        "message": f"The emulator cannot fetch templateUri {job.get('templateUri')!r}; "
        "send the compiled pipeline as pipelineSpec to run it locally.",
    }


def _show_progress(job: dict[str, Any], tasks: list[dict[str, Any]]) -> None:
    job["jobDetail"] = job_detail(job, tasks, "RUNNING")


def _mark_running(job: dict[str, Any]) -> None:
    job["state"] = "PIPELINE_STATE_RUNNING"
    job["startTime"] = now_rfc3339()
    job["jobDetail"] = job_detail(job, [], "RUNNING")


def _reset_to_pending(job: dict[str, Any]) -> None:
    job["state"] = "PIPELINE_STATE_PENDING"
    for field in ("startTime", "jobDetail"):
        job.pop(field, None)


def mark_cancelled(job: dict[str, Any]) -> None:
    """End a job as CANCELLED, as Vertex records it."""
    job["state"] = "PIPELINE_STATE_CANCELLED"
    job["endTime"] = now_rfc3339()
    job["error"] = {"code": 1, "message": "CANCELED"}


def mark_ended(
    job: dict[str, Any], state: str, message: str = "", tasks: list[dict[str, Any]] | None = None
) -> None:
    """End a job in `state` without running it (the state control); FAILED gets `message`.

    `tasks` are progress records as a run reports them (`taskName`, `outputs` with `parameters`
    and `artifacts`, optionally `state`): they become the run's task details, outputs included.
    """
    stamp = now_rfc3339()
    ran = [{"state": "SUCCEEDED", "startTime": stamp, "endTime": stamp, **t} for t in tasks or []]
    error = {"code": FAILED_PRECONDITION, "message": message or "The run failed."}
    _finish(job, state, ran, error if state == "PIPELINE_STATE_FAILED" else None)


def _finish(job: dict[str, Any], state: str, tasks: list, error: dict[str, Any] | None) -> None:
    """Set the end state, end time, error and final task details."""
    job["state"] = state
    job["endTime"] = now_rfc3339()
    job.setdefault("startTime", job["endTime"])
    if error:
        job["error"] = error
    if state == "PIPELINE_STATE_CANCELLED":
        job["error"] = {"code": 1, "message": "CANCELED"}
        tasks = [t if t["state"] != "RUNNING" else {**t, "state": "CANCELLED"} for t in tasks]
    job["jobDetail"] = job_detail(job, tasks, state.removeprefix("PIPELINE_STATE_"))
