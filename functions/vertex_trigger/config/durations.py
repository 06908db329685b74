"""Parse human durations such as ``90s``, ``15m``, ``6h`` or ``1d`` into seconds."""

import math
import re

from vertex_trigger.errors import excerpt

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")


def parse_duration(value: object) -> float:
    """Return seconds for a number of seconds or a ``<number><unit>`` string; raise ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 30s, 15m, 6h or 1d, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value) if abs(value) < 2**1024 else math.inf  # float() overflows above
    else:
        match = _PATTERN.match(str(value))
        if not match:
            raise ValueError(f"expected a duration such as 30s, 15m, 6h or 1d, got {value!r}")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if not 0 < seconds < math.inf:
        raise ValueError(f"a duration must be positive and finite, got {excerpt(value)}")
    return seconds


def short_duration(seconds: float) -> str:
    """Return ``6h02m``, ``4m05s`` or ``12s`` (whole seconds, rounded down)."""
    whole = max(int(seconds), 0)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
