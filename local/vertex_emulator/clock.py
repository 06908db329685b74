"""A scaled clock: the emulator reports job times so that durations look `scale` times longer.

Every instant the API reports (`createTime`, `startTime`, `endTime`, `updateTime`) is mapped to
`now - (now - t) * scale`: order is kept (lists sort and filter alike), durations between any two
instants grow by `scale`, and "now" stays the callers' wall clock. So a run that has been live
6 real seconds reads as live 6 hours at scale 3600: the sweeper's watchdog (`max_duration: 6h`)
can act on it in a test or `make up`, against the functions' own, unscaled clock. Scale 1 (the
default) reports times as stored. Filters (`create_time<"..."`) apply to the reported times.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from local.vertex_emulator.errors import invalid_argument
from local.vertex_emulator.store import Job

TIME_FIELDS = ("createTime", "startTime", "endTime", "updateTime")
STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


def parse_scale(body: Any) -> float:
    """Parse `{"scale": 3600}` (a positive number)."""
    scale = body.get("scale") if isinstance(body, dict) else None
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not scale > 0:
        raise invalid_argument(f"clock scale must be a positive number, got {scale!r}")
    return float(scale)


class ScaledClock:
    """How the emulator reports time: `scale` reported seconds per real second, ending now."""

    def __init__(self, scale: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._scale = scale

    @property
    def scale(self) -> float:
        """Return the reported seconds per real second."""
        with self._lock:
            return self._scale

    def set(self, scale: float) -> None:
        """Change the scale (times already reported are not revised)."""
        with self._lock:
            self._scale = scale

    def viewer(self, now: datetime | None = None) -> Viewer:
        """Return the mapping of stored jobs to reported jobs as of `now` (one per request)."""
        return Viewer(self.scale, now or datetime.now(UTC))


class Viewer:
    """Maps stored jobs to what the API reports at one instant."""

    def __init__(self, scale: float, now: datetime) -> None:
        self.scale = scale
        self.now = now

    def __call__(self, job: Job) -> Job:
        """Return `job` with its times scaled (the same object at scale 1; else a shallow copy)."""
        if self.scale == 1.0:
            return job
        seen = dict(job)
        for field in TIME_FIELDS:
            if isinstance(seen.get(field), str):
                seen[field] = self._reported(seen[field])
        return seen

    def _reported(self, stamp: str) -> str:
        moment = datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)
        return (self.now - (self.now - moment) * self.scale).strftime(STAMP)
