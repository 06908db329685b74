"""Run a function under functions-framework's own server (gunicorn) on an ephemeral port.

The server's stdout (the function's structured log lines) is collected so a caller can read, per
event, the decision and reason the function logged.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"
# gunicorn logs its bound address at info level; with --port 0 this is how the port is learnt.
_LISTENING = re.compile(r"Listening at: (http://[\d.]+:\d+)")


@dataclass
class FunctionServer:
    """A running functions-framework process and everything it printed."""

    url: str
    process: subprocess.Popen[str]
    stdout_lines: list[str] = field(default_factory=list)
    stderr_lines: list[str] = field(default_factory=list)

    def log_records(self) -> list[dict]:
        """Return every stdout line that is a JSON object (the function's structured logs)."""
        records = []
        for line in list(self.stdout_lines):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records

    def wait_for_records(self, count: int, timeout: float = 30.0) -> list[dict]:
        """Wait until at least `count` structured log lines arrived (the pipe lags), return all."""
        deadline = time.monotonic() + timeout
        records = self.log_records()
        while len(records) < count and time.monotonic() < deadline:
            time.sleep(0.05)
            records = self.log_records()
        return records

    def alive(self) -> bool:
        """Tell whether the process is still running."""
        return self.process.poll() is None

    def stop(self) -> None:
        """Stop the server and wait for it."""
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> FunctionServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _pump(stream, sink: list[str], on_line=None) -> None:
    """Copy a pipe into a list, line by line, until it closes."""
    for line in stream:
        sink.append(line.rstrip("\n"))
        if on_line:
            on_line(line)


def start_function_server(
    target: str,
    env: Mapping[str, str],
    source_dir: Path = FUNCTIONS_DIR,
    threads: int | None = None,
    startup_timeout: float = 60.0,
) -> FunctionServer:
    """Start `functions-framework --target TARGET` on 127.0.0.1:0 and wait until it listens."""
    command = [
        sys.executable,
        "-m",
        "functions_framework",
        "--target",
        target,
        "--signature-type",
        "cloudevent",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
    ]
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1", "GUNICORN_LOG_LEVEL": "info"}
    if threads:
        full_env["THREADS"] = str(threads)
    process = subprocess.Popen(
        command,
        cwd=source_dir,
        env=full_env,
        text=True,
        encoding="utf-8",
        errors="replace",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    found: list[str] = []
    listening = threading.Event()

    def watch(line: str) -> None:
        match = _LISTENING.search(line)
        if match:
            found.append(match.group(1))
            listening.set()

    server = FunctionServer("", process)
    threading.Thread(target=_pump, args=(process.stdout, server.stdout_lines), daemon=True).start()
    threading.Thread(
        target=_pump, args=(process.stderr, server.stderr_lines, watch), daemon=True
    ).start()
    if not listening.wait(startup_timeout) or not _wait_ready(found[0], process):
        server.stop()
        raise RuntimeError(
            f"functions-framework --target {target} did not start:\n"
            + "\n".join(server.stderr_lines[-30:])
        )
    server.url = found[0] + "/"
    return server


def _wait_ready(url: str, process: subprocess.Popen[str], timeout: float = 30.0) -> bool:
    """Wait until the server answers HTTP (any status) or the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            requests.get(url, timeout=2)
            return True
        except requests.ConnectionError:
            time.sleep(0.05)
    return False
