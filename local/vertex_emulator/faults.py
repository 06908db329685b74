"""Fault injection for create requests (emulator-only, for tests of retry paths)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import Enum
from typing import Any

from local.vertex_emulator.errors import ApiError, invalid_argument


class FaultKind(Enum):
    """What a fault does to a create request."""

    STATUS = "status"
    HANG = "hang"


@dataclass
class Fault:
    """One queued fault; `remaining` counts the creates it still applies to."""

    kind: FaultKind
    remaining: int
    status: int = 503
    seconds: float = 0.0
    message: str = ""


def parse_fault(body: Any) -> Fault:
    """Parse `{"kind": "status", "status": 503, "count": 2}` or `{"kind": "hang", "seconds": 5}`."""
    if not isinstance(body, dict):
        raise invalid_argument("fault must be a JSON object")
    try:
        kind = FaultKind(body.get("kind"))
    except ValueError as err:
        kinds = ", ".join(k.value for k in FaultKind)
        raise invalid_argument(f"fault kind {body.get('kind')!r} is not one of {kinds}") from err
    count = body.get("count", 1)
    if not isinstance(count, int) or count < 1:
        raise invalid_argument(f"fault count must be a positive integer, got {count!r}")
    if kind is FaultKind.STATUS:
        status = body.get("status")
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise invalid_argument(f"fault status must be an HTTP error 400-599, got {status!r}")
        return Fault(kind, count, status=status, message=str(body.get("message", "")))
    seconds = body.get("seconds")
    if not isinstance(seconds, int | float) or seconds < 0:
        raise invalid_argument(f"fault seconds must be a non-negative number, got {seconds!r}")
    return Fault(kind, count, seconds=float(seconds))


class FaultInjector:
    """A FIFO of faults; each create consumes one application of the first fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Queue a fault."""
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._faults.clear()

    def take(self) -> Fault | None:
        """Consume one application of the first queued fault, if any."""
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.pop(0)
            return fault


def fault_error(fault: Fault) -> ApiError:
    """Build the error an injected status fault answers with."""
    message = fault.message or f"Injected fault: the service answered {fault.status}."
    return ApiError(fault.status, message)
