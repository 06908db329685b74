"""Pace creates to a rate, so a backfill stays inside Vertex AI's create quota."""

import re
import time
from collections.abc import Callable

# Vertex AI allows 60 PipelineJob creates per minute per region by default; live events share
# that quota, so a backfill takes half unless told otherwise.
DEFAULT_RATE = "30/min"
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|min|h))?\s*$")
_PER = {"s": 1.0, "min": 60.0, "h": 3600.0}


def per_second(text: str) -> float:
    """Parse ``N``, ``N/s``, ``N/min`` or ``N/h`` (a bare N is per minute); raise ValueError."""
    match = _RATE.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"expected a rate such as 30/min, 1/s or 600/h, got {text!r}")
    return float(match.group(1)) / _PER[match.group(2) or "min"]


class Pacer:
    """Spaces creates at least ``1/rate`` seconds apart (the first goes at once)."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Allow ``rate`` creates per second."""
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._last: float | None = None

    def wait(self) -> float:
        """Sleep until the next create may go; return how long it slept."""
        if self._last is None:
            return 0.0
        pause = max(0.0, self._last + self.interval - self._clock())
        if pause:
            self._sleep(pause)
        return pause

    def spent(self) -> None:
        """Note that a create went now."""
        self._last = self._clock()
