"""Fault injection for create requests (emulator-only, for tests of retry paths)."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from local.vertex_emulator.errors import ApiError, invalid_argument


class FaultKind(Enum):
    """What a fault does to a create request."""

    STATUS = "status"
    HANG = "hang"


@dataclass
class Fault:
    """One queued fault; `remaining` counts the creates it still applies to.

    A fault with a `rate` is not queued: it applies to each create with that probability until
    the faults are cleared (long storms need a steady random share of failures, not a burst).
    """

    kind: FaultKind
    remaining: int
    status: int = 503
    seconds: float = 0.0
    message: str = ""
    rate: float | None = None
    error_status: str = ""  # the google.rpc.Code name; default: the usual one for `status`
    details: list[Any] = field(default_factory=list)  # error.details, e.g. a RetryInfo
    retry_after: str = ""  # a Retry-After header


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
    rate = _parse_rate(body)
    if kind is FaultKind.STATUS:
        status = body.get("status")
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise invalid_argument(f"fault status must be an HTTP error 400-599, got {status!r}")
        message = str(body.get("message", ""))
        return Fault(kind, count, status=status, message=message, rate=rate, **_extras(body))
    seconds = body.get("seconds")
    if not isinstance(seconds, int | float) or seconds < 0:
        raise invalid_argument(f"fault seconds must be a non-negative number, got {seconds!r}")
    return Fault(kind, count, seconds=float(seconds), rate=rate)


def _parse_rate(body: dict[str, Any]) -> float | None:
    """Read the optional `rate` (0 < rate <= 1); it excludes `count`."""
    rate = body.get("rate")
    if rate is None:
        return None
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 1:
        raise invalid_argument(f"fault rate must be a number in (0, 1], got {rate!r}")
    if "count" in body:
        raise invalid_argument("a fault takes either count or rate, not both")
    return float(rate)


def _extras(body: dict[str, Any]) -> dict[str, Any]:
    """Read the optional `error_status` (e.g. ABORTED), `details` and `retry_after` of a fault."""
    error_status = body.get("error_status", "")
    details = body.get("details", [])
    retry_after = body.get("retry_after", "")
    if not isinstance(error_status, str) or not (error_status == "" or error_status.isupper()):
        raise invalid_argument(
            f"fault error_status must be a google.rpc.Code name, got {error_status!r}"
        )
    if not isinstance(details, list) or not all(
        isinstance(d, dict) and "@type" in d for d in details
    ):
        raise invalid_argument("fault details must be a list of objects with an '@type'")
    if not isinstance(retry_after, str):
        raise invalid_argument(
            f"fault retry_after must be a header value string, got {retry_after!r}"
        )
    return {"error_status": error_status, "details": details, "retry_after": retry_after}


class FaultInjector:
    """A FIFO of faults, each create consuming one application of the first; then rate faults."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._random: list[Fault] = []
        self._rng = rng or random.Random()

    def add(self, fault: Fault) -> None:
        """Queue a counted fault, or keep a rate fault until cleared."""
        with self._lock:
            (self._faults if fault.rate is None else self._random).append(fault)

    def clear(self) -> None:
        """Drop every fault, counted or rate."""
        with self._lock:
            self._faults.clear()
            self._random.clear()

    def take(self) -> Fault | None:
        """Consume the first queued fault; without one, draw each rate fault in turn."""
        with self._lock:
            if not self._faults:
                return next((f for f in self._random if self._rng.random() < f.rate), None)
            fault = self._faults[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.pop(0)
            return fault


def fault_error(fault: Fault) -> ApiError:
    """Build the error an injected status fault answers with."""
    message = fault.message or f"Injected fault: the service answered {fault.status}."
    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
    return ApiError(
        fault.status, message, fault.error_status or None, details=fault.details, headers=headers
    )
