"""Run a function under functions-framework's own server (gunicorn) on an ephemeral port.

The server's stdout (the function's structured log lines) is collected so a caller can read, per
event, the decision and reason the function logged. The demo, the benchmarks and the tests all
start functions through this module.
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
from typing import NoReturn

import requests
from cloudevents.http import CloudEvent

from local.cloud_event_http import post_binary, post_structured
from local.processes import stop_process

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"
# gunicorn logs its bound address at info level; with --port 0 this is how the port is learnt.
LISTENING = re.compile(r"Listening at: (http://[\d.]+:\d+)")
# Unbuffered so log lines arrive as they are written; info level so gunicorn logs LISTENING.
SERVER_ENV = {"PYTHONUNBUFFERED": "1", "GUNICORN_LOG_LEVEL": "info"}


def functions_framework_command(
    target: str, signature: str = "cloudevent", python: str = sys.executable
) -> list[str]:
    """Return the command serving `target` (CloudEvent or `http` signature) on 127.0.0.1:0."""
    return [python, "-m", "functions_framework", "--target", target,
            "--signature-type", signature, "--host", "127.0.0.1", "--port", "0"]  # fmt: skip


@dataclass
class FunctionServer:
    """A running functions-framework process and everything it printed."""

    url: str
    process: subprocess.Popen[str]
    stdout_lines: list[str] = field(default_factory=list)
    stderr_lines: list[str] = field(default_factory=list)
    target: str = ""
    _pumps: list[threading.Thread] = field(default_factory=list)
    _listening: threading.Event = field(default_factory=threading.Event)

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

    def log_for(self, event_id: str, timeout: float = 10.0) -> dict:
        """Return the first structured log line for `event_id`, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while True:
            for record in self.log_records():
                if record.get("event_id") == event_id:
                    return record
            if time.monotonic() > deadline:
                stderr = "\n".join(self.stderr_lines)
                raise AssertionError(f"no log line for {event_id}; stderr: {stderr}")
            time.sleep(0.02)

    def entries_for(self, event_id: str) -> list[dict]:
        """Return every structured log line seen so far for `event_id`."""
        return [record for record in self.log_records() if record.get("event_id") == event_id]

    def nth_entry_for(self, event_id: str, count: int, timeout: float = 10.0) -> dict:
        """Return the `count`-th log line of `event_id` (a redelivery's), waiting for it.

        A thread reads the server's stdout: the line may arrive after the HTTP answer.
        """
        deadline = time.monotonic() + timeout
        while len(lines := self.entries_for(event_id)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(lines)} log line(s) for {event_id}, {count} expected")
            time.sleep(0.02)
        return lines[count - 1]

    def send(self, event: CloudEvent, mode: str = "binary") -> requests.Response:
        """Post a CloudEvent to the server in binary or structured mode."""
        post = post_binary if mode == "binary" else post_structured
        return post(self.url, event)

    def wait_ready(self, timeout: float = 60.0) -> FunctionServer:
        """Wait until the server listens and answers HTTP; raise RuntimeError quoting stderr."""
        deadline = time.monotonic() + timeout
        while not self._listening.wait(0.05):
            if not self.alive() or time.monotonic() > deadline:
                self._failed_to_start()
        if not _wait_ready(self.url, self.process):
            self._failed_to_start()
        return self

    def _failed_to_start(self) -> NoReturn:
        """Stop the server, let the pumps drain its output, raise naming the target."""
        self.stop()
        for pump in self._pumps:
            pump.join(timeout=5)
        raise RuntimeError(
            f"functions-framework --target {self.target} did not start:\n"
            + "\n".join(self.stderr_lines[-60:])
        )

    def alive(self) -> bool:
        """Tell whether the process is still running."""
        return self.process.poll() is None

    def stop(self) -> None:
        """Stop the server and wait for it."""
        stop_process(self.process)

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


def launch_function_server(
    target: str,
    env: Mapping[str, str],
    source_dir: Path = FUNCTIONS_DIR,
    threads: int | None = None,
    signature: str = "cloudevent",
    *,
    python: str = sys.executable,
) -> FunctionServer:
    """Start `functions-framework --target TARGET` on 127.0.0.1:0 without waiting for it.

    ``python`` is the interpreter (and so the environment) it runs in: this one by default.
    """
    full_env = {**os.environ, **env, **SERVER_ENV}
    if threads:
        full_env["THREADS"] = str(threads)
    process = subprocess.Popen(
        functions_framework_command(target, signature, python),
        cwd=source_dir,
        env=full_env,
        text=True,
        encoding="utf-8",
        errors="replace",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    server = FunctionServer("", process, target=target)

    def watch(line: str) -> None:
        match = LISTENING.search(line)
        if match and not server._listening.is_set():
            server.url = match.group(1) + "/"
            server._listening.set()

    server._pumps = [
        threading.Thread(target=_pump, args=(process.stdout, server.stdout_lines), daemon=True),
        threading.Thread(
            target=_pump, args=(process.stderr, server.stderr_lines, watch), daemon=True
        ),
    ]
    for pump in server._pumps:
        pump.start()
    return server


def start_function_server(
    target: str,
    env: Mapping[str, str],
    source_dir: Path = FUNCTIONS_DIR,
    threads: int | None = None,
    startup_timeout: float = 60.0,
    *,
    signature: str = "cloudevent",
) -> FunctionServer:
    """Start `functions-framework --target TARGET` on 127.0.0.1:0 and wait until it answers."""
    server = launch_function_server(target, env, source_dir, threads, signature)
    return server.wait_ready(startup_timeout)


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
