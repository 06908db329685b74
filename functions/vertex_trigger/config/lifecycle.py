"""Route keys for runs once launched: ``overlap``, ``max_duration`` and ``retry_failed``.

Each parser returns the frozen setting or raises SettingError naming the key below the route; the
loader turns that into a ConfigError naming the file and the route (docs/configuration.md).
"""

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vertex_trigger.config.durations import parse_duration
from vertex_trigger.config.notify import SettingError

OVERLAP = "overlap"
MAX_DURATION = "max_duration"
RETRY_FAILED = "retry_failed"
KEYS = frozenset({OVERLAP, MAX_DURATION, RETRY_FAILED})
# A retry's id is the first attempt's with ``-attempt-N``: ten attempts keep ids short and bound
# how often one broken input is run.
MAX_ATTEMPTS = 10


class OverlapScope(enum.StrEnum):
    """Which live runs a new launch overlaps with."""

    SAME_SOURCE = "same_source"  # the run's trigger-source: one object name, folder or model
    ROUTE = "route"  # any live run of the route


class OverlapAction(enum.StrEnum):
    """What a launch does while an overlapping run is live."""

    QUEUE = "queue"  # deferred (429): redelivered until the live run ends
    SKIP = "skip"  # acknowledged, naming the live run
    REPLACE = "replace"  # launched; the older live runs are cancelled, the newest survives


@dataclass(frozen=True)
class Overlap:
    """A route's ``overlap: {with, then}``."""

    scope: OverlapScope
    action: OverlapAction

    def describe(self) -> str:
        """Return the setting as written: ``overlap {with: same_source, then: replace}``."""
        return f"overlap {{with: {self.scope}, then: {self.action}}}"


@dataclass(frozen=True)
class RetryFailed:
    """A route's ``retry_failed: {attempts, after}``: runs in all, and the wait before a retry."""

    attempts: int  # the first run counts: 2 means one retry
    after: float = 0.0  # seconds after the failure; 0: on_run_state retries at once


def parse_overlap(value: Any) -> Overlap:
    """Return the route's overlap policy; ``with`` defaults to ``same_source``."""
    if not isinstance(value, Mapping):
        raise SettingError(OVERLAP, f"expected {{with: ..., then: ...}}, got {value!r}")
    unknown = sorted(str(key) for key in value if key not in ("with", "then"))
    if unknown:
        raise SettingError(f"{OVERLAP}.{unknown[0]}", "unknown key (allowed: then, with)")
    scope = _choice(OverlapScope, f"{OVERLAP}.with", value.get("with", OverlapScope.SAME_SOURCE))
    if "then" not in value:
        raise SettingError(f"{OVERLAP}.then", "missing: queue, skip or replace")
    return Overlap(scope, _choice(OverlapAction, f"{OVERLAP}.then", value["then"]))


def parse_max_duration(value: Any) -> float:
    """Return the watchdog's limit in seconds."""
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise SettingError(MAX_DURATION, str(exc)) from None


def parse_retry_failed(value: Any) -> RetryFailed:
    """Return how often and how soon a failed run is launched again."""
    if not isinstance(value, Mapping):
        raise SettingError(
            RETRY_FAILED, f"expected {{attempts: N, after: DURATION}}, got {value!r}"
        )
    unknown = sorted(str(key) for key in value if key not in ("attempts", "after"))
    if unknown:
        raise SettingError(f"{RETRY_FAILED}.{unknown[0]}", "unknown key (allowed: after, attempts)")
    attempts = value.get("attempts")
    if isinstance(attempts, bool) or not isinstance(attempts, int):
        raise SettingError(
            f"{RETRY_FAILED}.attempts",
            f"expected a whole number from 2 to {MAX_ATTEMPTS} (the first run counts), "
            f"got {attempts!r}",
        )
    if not 2 <= attempts <= MAX_ATTEMPTS:
        raise SettingError(
            f"{RETRY_FAILED}.attempts",
            f"expected 2 to {MAX_ATTEMPTS} (runs in all, the first one included), got {attempts}",
        )
    if value.get("after") is None:
        return RetryFailed(attempts)
    try:
        return RetryFailed(attempts, parse_duration(value["after"]))
    except ValueError as exc:
        raise SettingError(f"{RETRY_FAILED}.after", str(exc)) from None


def _choice(kind: type[enum.StrEnum], key: str, value: Any) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = " or ".join(member.value for member in kind)
        raise SettingError(key, f"expected {allowed}, got {value!r}") from None
