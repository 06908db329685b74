"""Eventarc-like delivery: POST CloudEvents in binary mode and redeliver every failure with backoff.

Eventarc (with retries enabled) redelivers an event whose delivery got a non-2xx answer or timed
out, with exponential backoff between 10 s and 600 s, until the retry window closes. This driver
does the same against a local functions-framework server, with the delays scaled down through
`RetryPolicy` so that thousands of deliveries fit in a benchmark, and counts every outcome.
"""

from __future__ import annotations

import enum
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests
from cloudevents.http import CloudEvent

from local.cloud_event_http import encode as encode_event

TIMEOUT = "timeout"
CONNECTION_ERROR = "connection-error"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and for how long a failed delivery is retried (Eventarc's defaults, scalable)."""

    min_backoff: float = 10.0
    max_backoff: float = 600.0
    max_attempts: int = 1000
    max_age: float = 7 * 24 * 3600.0
    request_timeout: float = 60.0

    def backoff(self, failures: int, rng: random.Random) -> float:
        """Return the delay after `failures` failed attempts: doubling, capped, jittered."""
        ceiling = min(self.max_backoff, self.min_backoff * 2 ** (failures - 1))
        return rng.uniform(ceiling / 2, ceiling)


class Mode(enum.Enum):
    """CloudEvents HTTP content mode."""

    BINARY = "binary"
    STRUCTURED = "structured"


class Outcome(enum.Enum):
    """How a delivery ended: acknowledged by a 2xx, or abandoned when the policy ran out."""

    ACKED = "acked"
    GAVE_UP = "gave-up"


@dataclass(frozen=True)
class Delivery:
    """One event to deliver to one URL."""

    url: str
    event: CloudEvent
    mode: Mode = Mode.BINARY


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one delivery: every attempt's status (int or TIMEOUT/...) and latency."""

    delivery: Delivery
    outcome: Outcome
    statuses: tuple[int | str, ...]
    latencies: tuple[float, ...]

    @property
    def attempts(self) -> int:
        """Count the HTTP attempts made."""
        return len(self.statuses)


@dataclass
class DeliveryReport:
    """All results of a run, with the counts a benchmark prints."""

    results: list[DeliveryResult] = field(default_factory=list)
    wall_seconds: float = 0.0

    def outcomes(self) -> Counter[str]:
        """Count deliveries per final outcome."""
        return Counter(r.outcome.value for r in self.results)

    def statuses(self) -> Counter[str]:
        """Count attempts per HTTP status (or TIMEOUT / CONNECTION_ERROR)."""
        return Counter(str(s) for r in self.results for s in r.statuses)

    def attempts(self) -> int:
        """Count HTTP attempts, first deliveries and redeliveries together."""
        return sum(r.attempts for r in self.results)

    def redelivered(self) -> int:
        """Count deliveries that needed more than one attempt."""
        return sum(1 for r in self.results if r.attempts > 1)

    def summary(self) -> dict[str, object]:
        """Return the counts as a flat dict, for printing."""
        return {
            "deliveries": len(self.results),
            "attempts": self.attempts(),
            "redelivered": self.redelivered(),
            "outcomes": dict(self.outcomes()),
            "attempt_statuses": dict(sorted(self.statuses().items())),
            "wall_seconds": round(self.wall_seconds, 2),
        }


def encode(delivery: Delivery) -> tuple[dict[str, str], bytes]:
    """HTTP headers and body for a delivery, as the `cloudevents` client builds them."""
    return encode_event(delivery.event, structured=delivery.mode is Mode.STRUCTURED)


def post_once(
    session: requests.Session, delivery: Delivery, timeout: float
) -> tuple[int | str, float]:
    """One HTTP attempt: its status (or TIMEOUT / CONNECTION_ERROR) and its latency in seconds."""
    headers, body = encode(delivery)
    started = time.perf_counter()
    try:
        response = session.post(delivery.url, headers=headers, data=body, timeout=timeout)
        status: int | str = response.status_code
    except requests.Timeout:
        status = TIMEOUT
    except requests.ConnectionError:
        status = CONNECTION_ERROR
    return status, time.perf_counter() - started


def is_ack(status: int | str) -> bool:
    """Eventarc counts only a 2xx as delivered; everything else is redelivered."""
    return isinstance(status, int) and 200 <= status < 300


def deliver(
    session: requests.Session,
    delivery: Delivery,
    policy: RetryPolicy,
    rng: random.Random,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryResult:
    """Deliver until a 2xx, or until the policy's attempts or age run out."""
    statuses: list[int | str] = []
    latencies: list[float] = []
    deadline = time.monotonic() + policy.max_age
    while True:
        status, latency = post_once(session, delivery, policy.request_timeout)
        statuses.append(status)
        latencies.append(latency)
        if is_ack(status):
            return DeliveryResult(delivery, Outcome.ACKED, tuple(statuses), tuple(latencies))
        delay = policy.backoff(len(statuses), rng)
        if len(statuses) >= policy.max_attempts or time.monotonic() + delay > deadline:
            return DeliveryResult(delivery, Outcome.GAVE_UP, tuple(statuses), tuple(latencies))
        sleep(delay)


class _SenderPool:
    """Per-thread HTTP sessions and random generators, so senders share no connection."""

    def __init__(self, seed: int) -> None:
        self._local = threading.local()
        self._seed = seed
        self._next = 0
        self._lock = threading.Lock()

    def session(self) -> requests.Session:
        """Return the calling thread's session."""
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def rng(self) -> random.Random:
        """Return the calling thread's seeded random generator (for backoff jitter)."""
        if not hasattr(self._local, "rng"):
            with self._lock:
                self._next += 1
                self._local.rng = random.Random(self._seed * 1000 + self._next)
        return self._local.rng


def deliver_all(
    deliveries: Iterable[Delivery],
    policy: RetryPolicy,
    senders: int = 8,
    seed: int = 0,
) -> DeliveryReport:
    """Deliver everything from `senders` concurrent threads; results keep the input order."""
    pool = _SenderPool(seed)
    items: Sequence[Delivery] = list(deliveries)

    def send(delivery: Delivery) -> DeliveryResult:
        return deliver(pool.session(), delivery, policy, pool.rng())

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=senders, thread_name_prefix="sender") as executor:
        results = list(executor.map(send, items))
    return DeliveryReport(results, time.perf_counter() - started)
