"""A local Vertex AI Pipelines emulator (PipelineJobs over v1 REST, executed with kfp.local)."""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType

from local.vertex_emulator.clock import ScaledClock
from local.vertex_emulator.executor import PipelineExecutor, recover_interrupted
from local.vertex_emulator.faults import FaultInjector
from local.vertex_emulator.quota import CreateQuota, QuotaSettings
from local.vertex_emulator.server import make_server
from local.vertex_emulator.service import PipelineService
from local.vertex_emulator.state_log import StateLogPublisher
from local.vertex_emulator.store import JobStore

__all__ = ["Emulator", "QuotaSettings", "start_emulator"]


class Emulator:
    """A running emulator: `.host` (for VERTEX_AI_EMULATOR_HOST), `.url`, `.stop()`."""

    def __init__(
        self,
        state_dir: Path,
        host: str,
        port: int,
        execute: bool,
        state_log: StateLogPublisher | None = None,
        *,
        quota: QuotaSettings | None = None,
        clock_scale: float = 1.0,
        isolated: bool = False,
    ) -> None:
        state_dir = Path(state_dir).resolve()
        self.state_log = state_log
        self.store = JobStore(state_dir, on_state_change=state_log)
        self.executor = (
            PipelineExecutor(self.store, state_dir / "runs", isolated=isolated) if execute else None
        )
        if self.executor is None:
            recover_interrupted(self.store)  # a killed emulator may have left RUNNING jobs
        self.service = PipelineService(
            self.store,
            self.executor,
            FaultInjector(),
            quota=CreateQuota(quota),
            clock=ScaledClock(clock_scale),
        )
        self._server = make_server(host, port, self.service)
        bound_host, bound_port = self._server.server_address[:2]
        self.host = f"{bound_host}:{bound_port}"
        self.url = f"http://{self.host}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="vertex-emulator-http", daemon=True
        )

    def start(self) -> Emulator:
        """Start executing and serving."""
        if self.executor is not None:
            self.executor.start()
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread (the CLI)."""
        if self.executor is not None:
            self.executor.start()
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving and executing; a run in progress is picked up again on the next start."""
        self._server.shutdown()
        self._server.server_close()
        if self.executor is not None:
            self.executor.stop()
        if self.state_log is not None:
            self.state_log.stop()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_emulator(
    state_dir: str | Path,
    port: int = 0,
    execute: bool = True,
    host: str = "127.0.0.1",
    state_log: StateLogPublisher | None = None,
    *,
    quota: QuotaSettings | None = None,
    clock_scale: float = 1.0,
    isolated: bool = False,
) -> Emulator:
    """Start an emulator in this process on a background thread and return its handle.

    With `state_log` (a StateLogPublisher), every job state change is published as the log
    entry a Vertex AI log sink would forward; with `quota`, creates beyond it answer 429; with
    `clock_scale`, reported durations are that many times longer (local/vertex_emulator/clock.py);
    `isolated`, each component runs in its own venv with only the packages it declares.
    """
    emulator = Emulator(
        Path(state_dir), host, port, execute, state_log, quota=quota, clock_scale=clock_scale,
        isolated=isolated,
    )  # fmt: skip
    return emulator.start()
