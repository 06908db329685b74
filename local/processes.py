"""Start child processes (in their own sessions for a stack), wait until they serve, stop them."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

REPO = Path(__file__).resolve().parents[1]
_ANNOUNCED = re.compile(r"listening on (\S+)")


class StartupError(RuntimeError):
    """A service did not come up; the message names it and quotes its log."""


@dataclass
class _Signals:
    """Whether a stop signal must wait (a process is being started) and whether one came."""

    held: bool = False
    pending: bool = False


_SIGNALS = _Signals()
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    """Interrupt the program (as Ctrl-C does), unless a process is being started: then later."""
    if _SIGNALS.held:
        _SIGNALS.pending = True
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def _held() -> Iterator[None]:
    """Let a stop signal interrupt only after the process started is recorded (never leaked)."""
    _SIGNALS.held = True
    try:
        yield
    finally:
        _SIGNALS.held = False
    if _SIGNALS.pending:
        _SIGNALS.pending = False
        raise KeyboardInterrupt


@contextlib.contextmanager
def stopped_by_signals() -> Iterator[Callable[[], None]]:
    """Make SIGTERM (a CI timeout, `kill`) stop the program as Ctrl-C does, through `finally`.

    Yields ``stopping()``, to call before cleaning up: further signals are then ignored, so a
    second Ctrl-C or SIGTERM cannot cut the stop of the processes short. SIGINT is set
    explicitly because a shell starting a program in the background leaves it ignored.
    """
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    for sig in STOP_SIGNALS:
        signal.signal(sig, _on_stop_signal)

    def stopping() -> None:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)

    try:
        yield stopping
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@dataclass
class Service:
    """One child process with its log file."""

    name: str
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, lines: int = 20) -> str:
        """Return the last lines of the log (for error messages)."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def check_alive(self) -> None:
        """Raise StartupError if the process has exited."""
        if self.process.poll() is not None:
            raise StartupError(
                f"{self.name} exited with code {self.process.returncode}:\n{self.log_tail()}"
            )


@dataclass
class ProcessGroup:
    """Every process started for a stack; `stop()` ends them all (also after a failure)."""

    log_dir: Path
    services: list[Service] = field(default_factory=list)

    def start(
        self, name: str, command: list[str], env: dict[str, str], cwd: Path | None = None
    ) -> Service:
        """Start a command with stdout and stderr to `log_dir/NAME.log`."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("w") as log, _held():
            process = subprocess.Popen(
                command,
                cwd=cwd,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # so stop() reaches its children (kfp.local's tasks)
            )
            service = Service(name, process, log_path)
            self.services.append(service)
        return service

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM every process group, then SIGKILL what is still alive after `grace`."""
        _end(list(reversed(self.services)), grace)
        self.services.clear()

    def discard(self, service: Service, grace: float = 5.0) -> None:
        """Stop one service (a failed launch about to be retried) and forget it."""
        _end([service], grace)
        self.services.remove(service)


def _end(services: list[Service], grace: float) -> None:
    """SIGTERM the services' process groups, then SIGKILL what is still alive after `grace`."""
    for service in services:
        _signal_group(service.process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for service in services:
        with contextlib.suppress(subprocess.TimeoutExpired):
            service.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        _signal_group(service.process, signal.SIGKILL)  # its children too, even if it exited
        service.process.wait()


def _signal_group(process: subprocess.Popen, sig: signal.Signals) -> None:
    """Signal a process's whole session; ignore one that is already gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def wait_for_line(service: Service, pattern: str, timeout: float = 60.0) -> re.Match[str]:
    """Wait until the service's log has a line matching `pattern`; return the match."""
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in service.log_path.read_text(errors="replace").splitlines():
            if match := regex.search(line):
                return match
        service.check_alive()
        time.sleep(0.1)
    raise StartupError(
        f"{service.name} did not print {pattern!r} in {timeout:.0f}s:\n{service.log_tail()}"
    )


def wait_for_port(service: Service, port: int, timeout: float = 60.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        service.check_alive()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise StartupError(
        f"{service.name} is not listening on port {port} after {timeout:.0f}s:\n"
        f"{service.log_tail()}"
    )


def stop_process(process: subprocess.Popen, grace: float = 10.0) -> None:
    """Terminate a child and wait for it; kill it if it is still running after `grace`."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_announcing(
    command: list[str], name: str, cwd: Path = REPO
) -> tuple[str, subprocess.Popen[str]]:
    """Start a server whose first stdout line is `... listening on URL`; return URL and process.

    For servers started outside a ProcessGroup (benchmarks): stdout is a pipe, read on.
    """
    process = subprocess.Popen(
        command, cwd=cwd, text=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    line = process.stdout.readline() if process.stdout else ""
    match = _ANNOUNCED.search(line)
    if not match:
        process.kill()
        process.wait()
        raise StartupError(f"{name} did not start: {line!r}")
    # Keep draining stdout so the server never blocks on a full pipe.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    return match.group(1), process
