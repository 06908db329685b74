"""Task faults: the next runs that reach a named task fail it (emulator-only, for retry tests).

As a preempted node or a quota blip would, so that a retry of the run can succeed.

`{"task": "ingest", "count": 1, "message": "..."}` makes the next run whose pipeline has a task
`ingest` fail it without running it: the task's state is FAILED, its error the message, and the run
FAILED as Vertex reports a failed task. Each run that takes the fault uses one of `count`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from local.vertex_emulator.errors import invalid_argument

DEFAULT_MESSAGE = "RuntimeError: injected task fault: the task's node was preempted"


@dataclass
class TaskFault:
    """One task to fail in the next `remaining` runs that have it."""

    task: str
    remaining: int
    message: str = DEFAULT_MESSAGE


def parse_task_fault(body: Any) -> TaskFault:
    """Parse `{"task": NAME[, "count": 1, "message": TEXT]}`."""
    if not isinstance(body, dict):
        raise invalid_argument("task fault must be a JSON object")
    unknown = sorted(set(body) - {"task", "count", "message"})
    if unknown:
        raise invalid_argument(f"task fault: unknown field {unknown[0]!r}")
    task, count = body.get("task"), body.get("count", 1)
    if not isinstance(task, str) or not task:
        raise invalid_argument(f"task fault task must be a task name, got {task!r}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise invalid_argument(f"task fault count must be a positive integer, got {count!r}")
    message = body.get("message", DEFAULT_MESSAGE)
    if not isinstance(message, str) or not message:
        raise invalid_argument(f"task fault message must be text, got {message!r}")
    return TaskFault(task, count, message)


class TaskFaults:
    """The task faults waiting for runs, taken by the executor as each run starts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[TaskFault] = []

    def add(self, fault: TaskFault) -> None:
        """Queue a fault."""
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        """Drop every fault."""
        with self._lock:
            self._faults.clear()

    def take_for(self, spec: dict[str, Any]) -> dict[str, str]:
        """Return task name -> message for this run's faults, using one count of each."""
        tasks = set(task_names(spec))
        taken: dict[str, str] = {}
        with self._lock:
            for fault in self._faults:
                if fault.task in tasks and fault.task not in taken:
                    taken[fault.task] = fault.message
                    fault.remaining -= 1
            self._faults = [f for f in self._faults if f.remaining > 0]
        return taken


def task_names(spec: dict[str, Any]) -> Iterator[str]:
    """Yield the name of every task of a compiled spec (the root's and each component's DAG)."""
    components = [spec.get("root") or {}, *(spec.get("components") or {}).values()]
    for component in components:
        yield from ((component or {}).get("dag") or {}).get("tasks") or {}
